//! Bilinear (GeoTrellis `BilinearResample`), and the position of a point among the cell centres that the
//! cubic and Lanczos kernels share.
//!
//! The point is placed relative to the centres of the first and last cells: `lead` is the index of the
//! centre at or before it and `ratio` its fraction towards the next one. Before the first centre the
//! ratio is 1 with `lead = -1`; after the last it is 0 with `lead = n − 1`, so the edge cell carries the
//! whole weight (bilinear) or sits at offset 0 (cubic kernels, which clamp their taps to the edge).
//! NoData neighbours are left out and the weights of the others renormalised; all four NoData gives
//! NoData.

use super::nearest::GRID_EPSILON;
use super::SourceBand;

/// `(lead, ratio)` from the distances to the first centre (`d_low`, growing along the axis) and from the
/// last centre (`d_high`), as `resolveTopLeftCoordsAndRatios` computes them.
///
/// Deliberate difference: a position within 1e-7 cell of a centre (GeoTrellis' `GridExtent.epsilon`) is
/// taken as that centre, so that resampling onto the same grid returns the same cells; GeoTrellis'
/// arithmetic leaves weights of ~1e-11 there, which can move a float32 cell by one ulp.
#[inline(always)]
pub(super) fn position(d_low: f64, d_high: f64, cell: f64) -> (isize, f64) {
    let t = d_low / cell;
    let rounded = t.round();
    let t = if (t - rounded).abs() < GRID_EPSILON { rounded } else { t };
    let lead = t.floor();
    // The sign test on the snapped position: a point a hair before the first centre is on it.
    let ratio = if t < 0.0 {
        1.0
    } else if d_high < 0.0 {
        0.0
    } else {
        t - lead
    };
    (lead as isize, ratio)
}

#[inline(always)]
pub(super) fn position_x(b: &SourceBand, x: f64) -> (isize, f64) {
    let first = b.xmin + b.cw / 2.0;
    let last = b.xmax - b.cw / 2.0;
    position(x - first, last - x, b.cw)
}

#[inline(always)]
pub(super) fn position_y(b: &SourceBand, y: f64) -> (isize, f64) {
    let first = b.ymax - b.ch / 2.0;
    let last = b.ymin + b.ch / 2.0;
    position(first - y, y - last, b.ch)
}

/// Index `i` clamped to `0..n` (the cubic kernels' edge replication).
#[inline(always)]
pub(super) fn clamp(i: isize, n: usize) -> usize {
    i.clamp(0, n as isize - 1) as usize
}

/// The two taps along one axis. A tap outside the grid always has weight 0; its index is clamped so that
/// it can be read (a weight-0 data cell adds nothing, a NoData one is skipped anyway).
#[derive(Clone, Copy, Debug)]
pub(super) struct Taps {
    idx: [usize; 2],
    w: [f64; 2],
}

#[inline(always)]
fn taps(n: usize, (lead, ratio): (isize, f64)) -> Taps {
    let inv = 1.0 - ratio;
    Taps {
        idx: [clamp(lead, n), clamp(lead + 1, n)],
        // 1 − inv rather than ratio: the weight GeoTrellis computes.
        w: [inv, 1.0 - inv],
    }
}

#[inline(always)]
pub(super) fn taps_x(b: &SourceBand, x: f64) -> Taps {
    taps(b.cols, position_x(b, x))
}

#[inline(always)]
pub(super) fn taps_y(b: &SourceBand, y: f64) -> Taps {
    taps(b.rows, position_y(b, y))
}

/// Weighted mean of the data cells among the four neighbours (NaN when none has weight).
#[inline(always)]
pub(super) fn kernel(b: &SourceBand, tx: &Taps, ty: &Taps) -> f64 {
    let mut acc = 0.0;
    let mut div = 0.0;
    for (r, wy) in ty.idx.iter().zip(ty.w) {
        let row = &b.cells[r * b.cols..(r + 1) * b.cols];
        for (c, wx) in tx.idx.iter().zip(tx.w) {
            let z = row[*c];
            if !z.is_nan() {
                let m = wx * wy;
                div += m;
                acc += z * m;
            }
        }
    }
    acc / div
}
