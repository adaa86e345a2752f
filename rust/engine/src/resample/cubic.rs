//! The cubic interpolations of GeoTrellis (`CubicResample` family): a window of source cells around the
//! point, its taps clamped to the grid (edge cells replicated), interpolated along each row and then
//! along the column of row results.
//! * `CubicConvolution` (`BicubicConvolutionResample`): 4×4 window, Catmull-Rom cubic convolution
//!   (a = −½), which is linear in the cells and so applied as separable weights.
//! * `CubicSpline` (`BicubicSplineResample`): 6×6 window, Akima's spline, whose slopes depend on the cells.
//!
//! No NoData handling beyond IEEE: a NoData (NaN) cell anywhere in the window gives NoData, as GeoTrellis'
//! floating path does.

use super::bilinear::{clamp, position_x, position_y};
use super::SourceBand;

#[derive(Clone, Copy, Debug)]
pub(super) struct ConvTaps {
    idx: [usize; 4],
    w: [f64; 4],
}

/// Catmull-Rom weights of the cells at offsets −1, 0, 1, 2 for a point at fraction `x` past offset 0.
#[inline(always)]
fn conv_weights(x: f64) -> [f64; 4] {
    let (x2, x3) = (x * x, x * x * x);
    [
        0.5 * (-x + 2.0 * x2 - x3),
        1.0 + 0.5 * (-5.0 * x2 + 3.0 * x3),
        0.5 * (x + 4.0 * x2 - 3.0 * x3),
        0.5 * (x3 - x2),
    ]
}

#[inline(always)]
fn conv_taps(n: usize, (lead, x): (isize, f64)) -> ConvTaps {
    ConvTaps {
        idx: [-1, 0, 1, 2].map(|o| clamp(lead + o, n)),
        w: conv_weights(x),
    }
}

#[inline(always)]
pub(super) fn conv_taps_x(b: &SourceBand, x: f64) -> ConvTaps {
    conv_taps(b.cols, position_x(b, x))
}

#[inline(always)]
pub(super) fn conv_taps_y(b: &SourceBand, y: f64) -> ConvTaps {
    conv_taps(b.rows, position_y(b, y))
}

#[inline(always)]
pub(super) fn convolution(b: &SourceBand, tx: &ConvTaps, ty: &ConvTaps) -> f64 {
    separable(b, &tx.idx, &tx.w, &ty.idx, &ty.w)
}

/// `Σ_rows wy · Σ_cols wx · cell`: a separable kernel over an N×N window.
#[inline(always)]
pub(super) fn separable<const N: usize>(
    b: &SourceBand,
    xi: &[usize; N],
    xw: &[f64; N],
    yi: &[usize; N],
    yw: &[f64; N],
) -> f64 {
    let mut acc = 0.0;
    for (r, wy) in yi.iter().zip(yw) {
        let row = &b.cells[r * b.cols..(r + 1) * b.cols];
        let mut s = 0.0;
        for (c, wx) in xi.iter().zip(xw) {
            s += row[*c] * wx;
        }
        acc += s * wy;
    }
    acc
}

#[derive(Clone, Copy, Debug)]
pub(super) struct SplineTaps {
    idx: [usize; 6],
    x: f64,
}

#[inline(always)]
fn spline_taps(n: usize, (lead, x): (isize, f64)) -> SplineTaps {
    SplineTaps {
        idx: [-2, -1, 0, 1, 2, 3].map(|o| clamp(lead + o, n)),
        x,
    }
}

#[inline(always)]
pub(super) fn spline_taps_x(b: &SourceBand, x: f64) -> SplineTaps {
    spline_taps(b.cols, position_x(b, x))
}

#[inline(always)]
pub(super) fn spline_taps_y(b: &SourceBand, y: f64) -> SplineTaps {
    spline_taps(b.rows, position_y(b, y))
}

/// Akima's spline through six equally spaced values, evaluated at fraction `x` between `p[2]` and `p[3]`.
/// Only the slopes at `p[2]` and `p[3]` enter, and they need the five differences of the six values, so
/// GeoTrellis' extrapolated end differences never matter here.
#[inline(always)]
fn akima(p: &[f64; 6], x: f64) -> f64 {
    let u = [p[1] - p[0], p[2] - p[1], p[3] - p[2], p[4] - p[3], p[5] - p[4]];
    // Slope at a point from the differences before (u[i], u[i+1]) and after (u[i+2], u[i+3]) it.
    let slope = |i: usize| {
        let a = (u[i + 3] - u[i + 2]).abs();
        let b = (u[i + 1] - u[i]).abs();
        if a + b != 0.0 {
            (a * u[i + 1] + b * u[i + 2]) / (a + b)
        } else {
            (u[i + 2] + u[i + 1]) / 2.0
        }
    };
    let (s2, s3) = (slope(0), slope(1));
    p[2] + s2 * x + (3.0 * u[2] - 2.0 * s2 - s3) * x * x + (s2 + s3 - 2.0 * u[2]) * x * x * x
}

#[inline(always)]
pub(super) fn spline(b: &SourceBand, tx: &SplineTaps, ty: &SplineTaps) -> f64 {
    let mut column = [0.0; 6];
    for (out, r) in column.iter_mut().zip(ty.idx) {
        let row = &b.cells[r * b.cols..(r + 1) * b.cols];
        *out = akima(&tx.idx.map(|c| row[c]), tx.x);
    }
    akima(&column, ty.x)
}
