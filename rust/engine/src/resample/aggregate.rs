//! The aggregate methods (GeoTrellis `AggregateResample` and its `Average`, `Mode`, `Median`, `Max`,
//! `Min`): a destination cell centred on `(x, y)` with size `(w, h)` takes the source cells whose
//! *centres* lie within `[x − w/2, x + w/2] × [y − h/2, y + h/2]` (edges included), computed as
//! GeoTrellis' `xIndices`/`yIndices` do. A destination cell smaller than a source cell may contain no
//! source centre and is then NoData (GeoTrellis upsampling by more than 2 leaves such holes).
//!
//! NoData cells are skipped by every method; no data cell gives NoData. Average is the plain mean,
//! Median of an even count the mean of the two middle values, Mode the most frequent value with ties
//! going to the value that reached the top count first in row-major order (GeoTrellis' tie order is
//! its hash map's; this is GDAL's rule).

use super::{AreaMethod, SourceBand};

/// Source cells `lo..hi` along one axis (empty when `lo ≥ hi`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Window {
    lo: usize,
    hi: usize,
}

/// The window along an axis of `n` cells of size `cell` (`len = n·cell` long), for a destination cell
/// whose centre is `d` from the first source centre and whose half size is `half`.
#[inline(always)]
fn window(d: f64, half: f64, cell: f64, len: f64, n: usize) -> Window {
    let (before, after) = (d - half, d + half);
    let lo = if before > 0.0 { (before / cell).ceil() } else { 0.0 };
    let hi = if after < len { (after / cell).floor() } else { (n - 1) as f64 };
    if hi < lo || hi < 0.0 {
        return Window { lo: 0, hi: 0 };
    }
    // lo ≥ 0 here; both are clamped so that rounding at the far edge cannot index past the grid.
    Window {
        lo: (lo as usize).min(n),
        hi: (hi as usize + 1).min(n),
    }
}

#[inline(always)]
pub(super) fn window_x(b: &SourceBand, x: f64, half_w: f64) -> Window {
    window(x - b.xmin - b.cw / 2.0, half_w, b.cw, b.xmax - b.xmin, b.cols)
}

#[inline(always)]
pub(super) fn window_y(b: &SourceBand, y: f64, half_h: f64) -> Window {
    window(b.ymax - y - b.ch / 2.0, half_h, b.ch, b.ymax - b.ymin, b.rows)
}

/// The data cells of a window in row-major order.
#[inline(always)]
fn data<'b>(b: &'b SourceBand, wx: &Window, wy: &Window) -> impl Iterator<Item = f64> + 'b {
    let (cols, lo, hi) = (b.cols, wx.lo, wx.hi);
    (wy.lo..wy.hi)
        .flat_map(move |r| b.cells[r * cols + lo..r * cols + hi].iter().copied())
        .filter(|v| !v.is_nan())
}

#[inline(always)]
pub(super) fn average(b: &SourceBand, wx: &Window, wy: &Window) -> f64 {
    let (mut sum, mut count) = (0.0, 0u32);
    for v in data(b, wx, wy) {
        sum += v;
        count += 1;
    }
    if count > 0 {
        sum / count as f64
    } else {
        f64::NAN
    }
}

#[inline(always)]
pub(super) fn max(b: &SourceBand, wx: &Window, wy: &Window) -> f64 {
    data(b, wx, wy).fold(f64::NAN, |m, v| if m.is_nan() || v > m { v } else { m })
}

#[inline(always)]
pub(super) fn min(b: &SourceBand, wx: &Window, wy: &Window) -> f64 {
    data(b, wx, wy).fold(f64::NAN, |m, v| if m.is_nan() || v < m { v } else { m })
}

#[inline(always)]
pub(super) fn median(b: &SourceBand, wx: &Window, wy: &Window, scratch: &mut Vec<(f64, u32)>) -> f64 {
    scratch.clear();
    scratch.extend(data(b, wx, wy).map(|v| (v, 0)));
    let n = scratch.len();
    if n == 0 {
        return f64::NAN;
    }
    let mid = n / 2;
    let (lower, m, _) = scratch.select_nth_unstable_by(mid, |a, b| a.0.total_cmp(&b.0));
    let m = m.0;
    if n % 2 == 1 {
        return m;
    }
    let below = lower.iter().map(|p| p.0).fold(f64::NEG_INFINITY, f64::max);
    (below + m) / 2.0
}

#[inline(always)]
pub(super) fn mode(b: &SourceBand, wx: &Window, wy: &Window, scratch: &mut Vec<(f64, u32)>) -> f64 {
    scratch.clear();
    // + 0.0 turns −0 into +0: equal values must form one group.
    scratch.extend(data(b, wx, wy).zip(0u32..).map(|(v, i)| (v + 0.0, i)));
    if scratch.is_empty() {
        return f64::NAN;
    }
    scratch.sort_unstable_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    // A value reaches its final count at its last occurrence: among the most frequent values the winner
    // is the one whose last occurrence comes first.
    let (mut best, mut best_count, mut best_last) = (f64::NAN, 0usize, u32::MAX);
    let mut start = 0;
    while start < scratch.len() {
        let v = scratch[start].0;
        let mut end = start + 1;
        while end < scratch.len() && scratch[end].0 == v {
            end += 1;
        }
        let (count, last) = (end - start, scratch[end - 1].1);
        if count > best_count || (count == best_count && last < best_last) {
            (best, best_count, best_last) = (v, count, last);
        }
        start = end;
    }
    best
}

/// Aggregates one band over the source cells under destination cells (GeoTrellis' aggregate
/// resamplers). Holds a scratch buffer for Mode and Median so that no call allocates once it has grown.
#[derive(Clone, Debug)]
pub struct AreaSampler<'a> {
    band: SourceBand<'a>,
    method: AreaMethod,
    half_w: f64,
    half_h: f64,
    scratch: Vec<(f64, u32)>,
}

impl<'a> AreaSampler<'a> {
    /// `cell_w × cell_h` is the size of the destination cells that [`Self::sample_centre`] samples.
    pub fn new(band: SourceBand<'a>, method: AreaMethod, cell_w: f64, cell_h: f64) -> Self {
        AreaSampler {
            band,
            method,
            half_w: cell_w / 2.0,
            half_h: cell_h / 2.0,
            scratch: Vec::new(),
        }
    }

    /// The destination cell covering `[xmin, xmax] × [ymin, ymax]`; NaN when its centre is outside the
    /// source extent or it covers no data cell.
    #[inline]
    pub fn sample_area(&mut self, xmin: f64, ymin: f64, xmax: f64, ymax: f64) -> f64 {
        let (x, y) = ((xmin + xmax) / 2.0, (ymin + ymax) / 2.0);
        self.sample_with(x, y, (xmax - xmin) / 2.0, (ymax - ymin) / 2.0)
    }

    /// The destination cell centred on `(x, y)`, of the size given at construction (GeoTrellis'
    /// `resampleDouble(x, y)`).
    #[inline]
    pub fn sample_centre(&mut self, x: f64, y: f64) -> f64 {
        self.sample_with(x, y, self.half_w, self.half_h)
    }

    #[inline(always)]
    fn sample_with(&mut self, x: f64, y: f64, half_w: f64, half_h: f64) -> f64 {
        let b = &self.band;
        if !b.contains(x, y) {
            return f64::NAN;
        }
        let (wx, wy) = (window_x(b, x, half_w), window_y(b, y, half_h));
        match self.method {
            AreaMethod::Average => average(b, &wx, &wy),
            AreaMethod::Max => max(b, &wx, &wy),
            AreaMethod::Min => min(b, &wx, &wy),
            AreaMethod::Median => median(b, &wx, &wy, &mut self.scratch),
            AreaMethod::Mode => mode(b, &wx, &wy, &mut self.scratch),
        }
    }
}
