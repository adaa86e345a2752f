//! Lanczos (GeoTrellis `LanczosResample`): radius 3 (as GDAL), a 6×6 window clamped to the grid like the
//! cubic kernels, weights `L(x − i)·L(y − j)` summed without renormalisation (as GeoTrellis does).
//! A NoData cell in the window gives NoData.

use super::bilinear::{clamp, position_x, position_y};
use super::cubic::separable;
use super::SourceBand;

const RADIUS: f64 = 3.0;

/// The Lanczos kernel, exactly 0 at the non-zero integers (so that resampling onto the same grid gives the
/// same cells; `sin(kπ)` would leave ~1e-17).
#[inline(always)]
fn lanczos(v: f64) -> f64 {
    if v == 0.0 {
        1.0
    } else if v.fract() == 0.0 || v.abs() >= RADIUS {
        0.0
    } else {
        let pi = std::f64::consts::PI;
        RADIUS * (pi * v).sin() * (v * (pi / RADIUS)).sin() / (pi * pi * v * v)
    }
}

#[derive(Clone, Copy, Debug)]
pub(super) struct Taps {
    idx: [usize; 6],
    w: [f64; 6],
}

#[inline(always)]
fn taps(n: usize, (lead, x): (isize, f64)) -> Taps {
    const OFFSETS: [isize; 6] = [-2, -1, 0, 1, 2, 3];
    Taps {
        idx: OFFSETS.map(|o| clamp(lead + o, n)),
        w: OFFSETS.map(|o| lanczos(x - o as f64)),
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

#[inline(always)]
pub(super) fn kernel(b: &SourceBand, tx: &Taps, ty: &Taps) -> f64 {
    separable(b, &tx.idx, &tx.w, &ty.idx, &ty.w)
}
