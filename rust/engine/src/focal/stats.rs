//! Focal statistics over a window of working values (GeoTrellis `mapalgebra/focal/{Sum,Min,Max,Mean,
//! Median,Mode,StandardDeviation}.scala`): NaN cells (NoData, or off the layer) are not part of any
//! neighbourhood; a cell whose neighbourhood holds no data is NaN.
//!
//! * Square neighbourhoods: sums, means and moments from running column sums, so their cost does not
//!   depend on the extent; minima and maxima separably (columns, then rows).
//! * Other shapes: each cell reads its mask's runs of cells, row by row.
//! * Median and mode work on integer values (values truncated, GeoTrellis' `MedianModeCalculation`): the
//!   median of an even count is the mean of the two middle values truncated, a tie between modes is NaN.

use serde::Deserialize;

use super::neighborhood::{Mask, Neighborhood};
use crate::cell_type::CellType;
use crate::error::{EngineError, Result};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FocalStat {
    Sum,
    Min,
    Max,
    Mean,
    Median,
    Mode,
    /// The population standard deviation (÷ n).
    StandardDeviation,
    /// The population variance (÷ n).
    Variance,
}

/// One band of a buffered tile: `rows × cols` working values, row-major, NaN where a cell is NoData or
/// no tile provides it.
pub struct Window<'a> {
    pub cells: &'a [f64],
    pub rows: usize,
    pub cols: usize,
}

/// The cells a kernel computes: `rows × cols` cells from (`row0`, `col0`) of the window.
#[derive(Clone, Copy, Debug)]
pub struct Target {
    pub row0: usize,
    pub col0: usize,
    pub rows: usize,
    pub cols: usize,
}

impl Target {
    /// Check that the target and a `reach`-cell neighbourhood around it lie in the window, and that `out`
    /// holds the target.
    pub(crate) fn check(&self, window: &Window, reach: usize, out: &[f64]) -> Result<()> {
        if window.cells.len() != window.rows * window.cols {
            return Err(EngineError::Value(format!(
                "a {}×{} window needs {} cells, got {}",
                window.cols,
                window.rows,
                window.rows * window.cols,
                window.cells.len()
            )));
        }
        if self.row0 < reach
            || self.col0 < reach
            || self.row0 + self.rows + reach > window.rows
            || self.col0 + self.cols + reach > window.cols
        {
            return Err(EngineError::Value(format!(
                "a {}×{} target at ({}, {}) with a {reach}-cell neighbourhood leaves the {}×{} window",
                self.cols, self.rows, self.col0, self.row0, window.cols, window.rows
            )));
        }
        if out.len() < self.rows * self.cols {
            return Err(EngineError::Value(format!(
                "the output holds {} cells, the target {}",
                out.len(),
                self.rows * self.cols
            )));
        }
        Ok(())
    }
}

/// The cell type GeoTrellis gives a focal statistic of a tile of `input`: means, deviations and variances
/// are float64; sums, extremes, medians and modes keep the tile's type.
pub fn stat_cell_type(stat: FocalStat, input: &CellType) -> CellType {
    match stat {
        FocalStat::Mean | FocalStat::StandardDeviation | FocalStat::Variance => {
            CellType::parse("float64").expect("a built-in cell type")
        }
        _ => input.clone(),
    }
}

/// Compute `stat` over `neighborhood` for every cell of `target`, writing them row-major into `out`.
///
/// # Errors
///
/// `Value` for an invalid neighbourhood, or a target (with the neighbourhood around it) outside the
/// window, or an `out` too small.
pub fn focal_stat(
    window: &Window,
    stat: FocalStat,
    neighborhood: &Neighborhood,
    target: Target,
    out: &mut [f64],
) -> Result<()> {
    neighborhood.validate()?;
    let e = neighborhood.extent();
    target.check(window, e, out)?;
    match (stat, neighborhood) {
        (FocalStat::Median | FocalStat::Mode, _) => {
            integer_order_stat(window, stat, &neighborhood.mask(), target, out)
        }
        (FocalStat::Min | FocalStat::Max, Neighborhood::Square { extent }) => {
            square_extreme(window, stat == FocalStat::Min, *extent, target, out)
        }
        (_, Neighborhood::Square { extent }) => square_moments(window, stat, *extent, target, out),
        _ => masked(window, stat, &neighborhood.mask(), target, out),
    }
    Ok(())
}

/// A reference value subtracted before summing squares, so that variances of large values with a small
/// spread keep their precision: the first data cell of the target.
fn reference(window: &Window, t: Target) -> f64 {
    (0..t.rows)
        .flat_map(|r| {
            let at = (t.row0 + r) * window.cols + t.col0;
            window.cells[at..at + t.cols].iter()
        })
        .copied()
        .find(|v| !v.is_nan())
        .unwrap_or(0.0)
}

/// The statistic from the count `n`, the sum `s` and the sum of squares `q` of values less `reference`.
#[inline]
fn from_moments(stat: FocalStat, n: f64, s: f64, q: f64, reference: f64) -> f64 {
    if n == 0.0 {
        return f64::NAN;
    }
    match stat {
        FocalStat::Sum => s + reference * n,
        FocalStat::Mean => s / n + reference,
        FocalStat::Variance => ((q - s * s / n) / n).max(0.0),
        _ => ((q - s * s / n) / n).max(0.0).sqrt(),
    }
}

/// Sum, mean, variance and standard deviation over a square: running sums down each column of the
/// count, the sum and the sum of squares, then sums of `2e + 1` column sums along each row.
fn square_moments(window: &Window, stat: FocalStat, e: usize, t: Target, out: &mut [f64]) {
    let width = t.cols + 2 * e;
    let reference = reference(window, t);
    let (mut n, mut s, mut q) = (vec![0.0; width], vec![0.0; width], vec![0.0; width]);
    let row = |r: usize| {
        let at = r * window.cols + t.col0 - e;
        &window.cells[at..at + width]
    };
    let add = |n: &mut [f64], s: &mut [f64], q: &mut [f64], cells: &[f64], sign: f64| {
        for i in 0..width {
            let v = cells[i];
            let ok = !v.is_nan();
            let d = if ok { v - reference } else { 0.0 };
            n[i] += sign * (ok as u8 as f64);
            s[i] += sign * d;
            q[i] += sign * d * d;
        }
    };
    for r in t.row0 - e..=t.row0 + e {
        add(&mut n, &mut s, &mut q, row(r), 1.0);
    }
    let k = 2 * e + 1;
    for y in 0..t.rows {
        let dst = &mut out[y * t.cols..(y + 1) * t.cols];
        if e <= 2 {
            // Few terms: sum them directly, with no running error.
            for (x, o) in dst.iter_mut().enumerate() {
                let (mut nn, mut ss, mut qq) = (0.0, 0.0, 0.0);
                for j in x..x + k {
                    nn += n[j];
                    ss += s[j];
                    qq += q[j];
                }
                *o = from_moments(stat, nn, ss, qq, reference);
            }
        } else {
            let (mut nn, mut ss, mut qq): (f64, f64, f64) = (
                n[..k].iter().sum(),
                s[..k].iter().sum(),
                q[..k].iter().sum(),
            );
            for x in 0..t.cols {
                if x > 0 {
                    nn += n[x + k - 1] - n[x - 1];
                    ss += s[x + k - 1] - s[x - 1];
                    qq += q[x + k - 1] - q[x - 1];
                }
                dst[x] = from_moments(stat, nn.round(), ss, qq, reference);
            }
        }
        if y + 1 == t.rows {
            break;
        }
        if y % 32 == 31 {
            // Start the column sums afresh now and then, so that rounding does not build up.
            for v in [&mut n, &mut s, &mut q] {
                v.fill(0.0);
            }
            for r in t.row0 + y + 1 - e..=t.row0 + y + 1 + e {
                add(&mut n, &mut s, &mut q, row(r), 1.0);
            }
        } else {
            add(&mut n, &mut s, &mut q, row(t.row0 + y - e), -1.0);
            add(&mut n, &mut s, &mut q, row(t.row0 + y + e + 1), 1.0);
        }
    }
}

/// Minimum or maximum over a square, separably: over `2e + 1` rows for each column, then over `2e + 1`
/// of those along the row. NaN stands in as +∞ for a minimum (−∞ for a maximum).
fn square_extreme(window: &Window, min: bool, e: usize, t: Target, out: &mut [f64]) {
    let width = t.cols + 2 * e;
    let empty = if min {
        f64::INFINITY
    } else {
        f64::NEG_INFINITY
    };
    let pick = |a: f64, b: f64| if min { a.min(b) } else { a.max(b) };
    let mut column = vec![empty; width];
    for y in 0..t.rows {
        column.fill(empty);
        for r in t.row0 + y - e..=t.row0 + y + e {
            let at = r * window.cols + t.col0 - e;
            for (c, &v) in column.iter_mut().zip(&window.cells[at..at + width]) {
                // f64::min/max ignore a NaN operand: a NoData cell leaves the extreme as it is.
                *c = pick(*c, v);
            }
        }
        let dst = &mut out[y * t.cols..(y + 1) * t.cols];
        for (x, o) in dst.iter_mut().enumerate() {
            let v = column[x..x + 2 * e + 1]
                .iter()
                .fold(empty, |a, &b| pick(a, b));
            *o = if v == empty { f64::NAN } else { v };
        }
    }
}

/// Sum, mean, moments and extremes over any mask, cell by cell along its runs.
fn masked(window: &Window, stat: FocalStat, mask: &Mask, t: Target, out: &mut [f64]) {
    let e = mask.extent as isize;
    let reference = reference(window, t);
    let min = stat == FocalStat::Min;
    let extreme = matches!(stat, FocalStat::Min | FocalStat::Max);
    let empty = if min {
        f64::INFINITY
    } else {
        f64::NEG_INFINITY
    };
    for y in 0..t.rows {
        for x in 0..t.cols {
            let (cy, cx) = ((t.row0 + y) as isize, (t.col0 + x) as isize);
            let (mut n, mut s, mut q, mut m) = (0.0, 0.0, 0.0, empty);
            for (i, runs) in mask.rows.iter().enumerate() {
                let r = (cy + i as isize - e) as usize * window.cols;
                for &(a, b) in runs {
                    let cells = &window.cells[r + (cx + a) as usize..=r + (cx + b) as usize];
                    for &v in cells {
                        if v.is_nan() {
                            continue;
                        }
                        n += 1.0;
                        if extreme {
                            m = if min { m.min(v) } else { m.max(v) };
                        } else {
                            let d = v - reference;
                            s += d;
                            q += d * d;
                        }
                    }
                }
            }
            out[y * t.cols + x] = if extreme {
                if n == 0.0 {
                    f64::NAN
                } else {
                    m
                }
            } else {
                from_moments(stat, n, s, q, reference)
            };
        }
    }
}

/// The median of 9 values by a sorting network (19 compare-exchanges, no branches).
#[inline]
fn median9(mut p: [f64; 9]) -> f64 {
    let mut op = |a: usize, b: usize| {
        let (lo, hi) = (p[a].min(p[b]), p[a].max(p[b]));
        p[a] = lo;
        p[b] = hi;
    };
    for (a, b) in [
        (1, 2),
        (4, 5),
        (7, 8),
        (0, 1),
        (3, 4),
        (6, 7),
        (1, 2),
        (4, 5),
        (7, 8),
        (0, 3),
        (5, 8),
        (4, 7),
        (3, 6),
        (1, 4),
        (2, 5),
        (4, 7),
        (4, 2),
        (6, 4),
        (4, 2),
    ] {
        op(a, b);
    }
    p[4]
}

/// Median or mode of the truncated values of each cell's neighbourhood.
fn integer_order_stat(window: &Window, stat: FocalStat, mask: &Mask, t: Target, out: &mut [f64]) {
    if stat == FocalStat::Median && mask.len() > 25 && sliding_median(window, mask, t, out) {
        return;
    }
    let e = mask.extent as isize;
    let square3 = stat == FocalStat::Median && mask.extent == 1 && mask.len() == 9;
    let mut values: Vec<f64> = Vec::with_capacity(mask.len());
    for y in 0..t.rows {
        for x in 0..t.cols {
            let (cy, cx) = ((t.row0 + y) as isize, (t.col0 + x) as isize);
            if square3 {
                // The common 3×3 median: a sorting network when all nine cells hold data.
                let mut p = [0.0; 9];
                for (k, v) in p.iter_mut().enumerate() {
                    let r = (cy + k as isize / 3 - 1) as usize;
                    *v = window.cells[r * window.cols + (cx + k as isize % 3 - 1) as usize];
                }
                if p.iter().all(|v| !v.is_nan()) {
                    out[y * t.cols + x] = median9(p.map(f64::trunc));
                    continue;
                }
            }
            values.clear();
            for (i, runs) in mask.rows.iter().enumerate() {
                let r = (cy + i as isize - e) as usize * window.cols;
                for &(a, b) in runs {
                    let cells = &window.cells[r + (cx + a) as usize..=r + (cx + b) as usize];
                    values.extend(cells.iter().filter(|v| !v.is_nan()).map(|v| v.trunc()));
                }
            }
            out[y * t.cols + x] = if stat == FocalStat::Median {
                median(&mut values)
            } else {
                mode(&mut values)
            };
        }
    }
}

/// Bins a sliding histogram may have: larger integer ranges fall back to sorting each neighbourhood.
const MAX_BINS: usize = 1 << 16;

/// The median by a histogram of truncated values sliding along each row (Huang's algorithm): moving one
/// cell east removes the cells that leave each row run of the mask and adds those that enter, and the
/// median's bin moves by the counts that crossed it, so a cell costs about the mask's height, not its
/// size. Returns false, computing nothing, when the target's values span more than [`MAX_BINS`].
fn sliding_median(window: &Window, mask: &Mask, t: Target, out: &mut [f64]) -> bool {
    let e = mask.extent;
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for r in t.row0 - e..t.row0 + t.rows + e {
        let at = r * window.cols + t.col0 - e;
        for &v in &window.cells[at..at + t.cols + 2 * e] {
            if !v.is_nan() {
                lo = lo.min(v.trunc());
                hi = hi.max(v.trunc());
            }
        }
    }
    if lo > hi {
        out[..t.rows * t.cols].fill(f64::NAN);
        return true;
    }
    if hi - lo >= MAX_BINS as f64 {
        return false;
    }
    let mut hist = vec![0u32; (hi - lo) as usize + 1];
    let bin = |v: f64| (v.trunc() - lo) as usize;
    for y in 0..t.rows {
        hist.fill(0);
        let (mut n, mut m, mut below) = (0usize, 0usize, 0usize);
        let cy = t.row0 + y;
        for x in 0..t.cols {
            let cx = t.col0 + x;
            for (i, runs) in mask.rows.iter().enumerate() {
                let r = (cy + i - e) * window.cols;
                for &(a, b) in runs {
                    let (a, b) = ((cx as isize + a) as usize, (cx as isize + b) as usize);
                    if x == 0 {
                        for &v in &window.cells[r + a..=r + b] {
                            if !v.is_nan() {
                                hist[bin(v)] += 1;
                                n += 1;
                                below += (bin(v) < m) as usize;
                            }
                        }
                    } else {
                        // Slide east: the cell west of the run leaves, the run's last cell enters.
                        let gone = window.cells[r + a - 1];
                        if !gone.is_nan() {
                            hist[bin(gone)] -= 1;
                            n -= 1;
                            below -= (bin(gone) < m) as usize;
                        }
                        let new = window.cells[r + b];
                        if !new.is_nan() {
                            hist[bin(new)] += 1;
                            n += 1;
                            below += (bin(new) < m) as usize;
                        }
                    }
                }
            }
            if n == 0 {
                out[y * t.cols + x] = f64::NAN;
                continue;
            }
            // Move `m` to the bin of the value of rank (n - 1) / 2: `below` counts the values under it.
            let rank = (n - 1) / 2;
            while below > rank {
                m -= 1;
                below -= hist[m] as usize;
            }
            while below + hist[m] as usize <= rank {
                below += hist[m] as usize;
                m += 1;
            }
            let lower = lo + m as f64;
            out[y * t.cols + x] = if n % 2 == 1 || below + (hist[m] as usize) > rank + 1 {
                lower // odd count, or both middle values in this bin
            } else {
                let mut next = m + 1;
                while hist[next] == 0 {
                    next += 1;
                }
                ((lower + lo + next as f64) / 2.0).trunc()
            };
        }
    }
    true
}

fn sort_small(v: &mut [f64]) {
    // Insertion sort: the fastest for the few values of small neighbourhoods (no NaN here).
    for i in 1..v.len() {
        let x = v[i];
        let mut j = i;
        while j > 0 && v[j - 1] > x {
            v[j] = v[j - 1];
            j -= 1;
        }
        v[j] = x;
    }
}

fn median(v: &mut [f64]) -> f64 {
    let n = v.len();
    if n == 0 {
        return f64::NAN;
    }
    let upper = if n <= 32 {
        sort_small(v);
        v[n / 2]
    } else {
        *v.select_nth_unstable_by(n / 2, f64::total_cmp).1
    };
    if n % 2 == 1 {
        return upper;
    }
    // The largest value below the upper middle one (sorted already for small counts).
    let lower = if n <= 32 {
        v[n / 2 - 1]
    } else {
        v[..n / 2].iter().copied().fold(f64::NEG_INFINITY, f64::max)
    };
    ((lower + upper) / 2.0).trunc()
}

fn mode(v: &mut [f64]) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    if v.len() <= 32 {
        sort_small(v);
    } else {
        v.sort_unstable_by(f64::total_cmp);
    }
    let (mut best, mut best_count, mut tie) = (f64::NAN, 0usize, false);
    let mut i = 0;
    while i < v.len() {
        let mut j = i + 1;
        while j < v.len() && v[j] == v[i] {
            j += 1;
        }
        let count = j - i;
        if count > best_count {
            (best, best_count, tie) = (v[i], count, false);
        } else if count == best_count {
            tie = true;
        }
        i = j;
    }
    if tie {
        f64::NAN
    } else {
        best
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The statistic by definition, on the gathered values of each cell's neighbourhood.
    pub(crate) fn brute(w: &Window, stat: FocalStat, n: &Neighborhood, t: Target) -> Vec<f64> {
        let offsets = n.mask().offsets();
        let mut out = Vec::new();
        for y in 0..t.rows {
            for x in 0..t.cols {
                let mut v: Vec<f64> = offsets
                    .iter()
                    .map(|&(dx, dy)| {
                        let (r, c) = ((t.row0 + y) as isize + dy, (t.col0 + x) as isize + dx);
                        w.cells[r as usize * w.cols + c as usize]
                    })
                    .filter(|v| !v.is_nan())
                    .collect();
                let k = v.len() as f64;
                let mean = v.iter().sum::<f64>() / k;
                let var = v.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / k;
                out.push(if v.is_empty() {
                    f64::NAN
                } else {
                    match stat {
                        FocalStat::Sum => v.iter().sum(),
                        FocalStat::Min => v.iter().copied().fold(f64::INFINITY, f64::min),
                        FocalStat::Max => v.iter().copied().fold(f64::NEG_INFINITY, f64::max),
                        FocalStat::Mean => mean,
                        FocalStat::Variance => var,
                        FocalStat::StandardDeviation => var.sqrt(),
                        FocalStat::Median | FocalStat::Mode => {
                            v.iter_mut().for_each(|x| *x = x.trunc());
                            v.sort_by(f64::total_cmp);
                            let m = v.len();
                            if stat == FocalStat::Median {
                                if m % 2 == 1 {
                                    v[m / 2]
                                } else {
                                    ((v[m / 2 - 1] + v[m / 2]) / 2.0).trunc()
                                }
                            } else {
                                let count = |x: f64| v.iter().filter(|&&y| y == x).count();
                                let best = v.iter().map(|&x| count(x)).max().unwrap();
                                let mut modes: Vec<f64> =
                                    v.iter().copied().filter(|&x| count(x) == best).collect();
                                modes.dedup();
                                if modes.len() == 1 {
                                    modes[0]
                                } else {
                                    f64::NAN
                                }
                            }
                        }
                    }
                });
            }
        }
        out
    }

    pub(crate) fn close(a: f64, b: f64, tol: f64) -> bool {
        (a.is_nan() && b.is_nan()) || (a - b).abs() <= tol * (1.0 + b.abs())
    }

    const STATS: [FocalStat; 8] = [
        FocalStat::Sum,
        FocalStat::Min,
        FocalStat::Max,
        FocalStat::Mean,
        FocalStat::Median,
        FocalStat::Mode,
        FocalStat::StandardDeviation,
        FocalStat::Variance,
    ];

    fn shapes() -> Vec<Neighborhood> {
        vec![
            Neighborhood::Square { extent: 0 },
            Neighborhood::Square { extent: 1 },
            Neighborhood::Square { extent: 2 },
            Neighborhood::Square { extent: 4 },
            Neighborhood::Circle { radius: 2.5 },
            Neighborhood::Nesw { extent: 3 },
            Neighborhood::Wedge {
                radius: 3.0,
                start_angle: 300.0,
                end_angle: 60.0,
            },
            Neighborhood::Annulus {
                inner_radius: 1.5,
                outer_radius: 3.0,
            },
        ]
    }

    fn check_all(cells: &[f64], rows: usize, cols: usize) {
        let w = Window { cells, rows, cols };
        for n in shapes() {
            let e = n.extent();
            if 2 * e + 1 > rows.min(cols) {
                continue;
            }
            // Targets anywhere the neighbourhood fits: not only at (e, e).
            let t = Target {
                row0: e,
                col0: e + (cols - 2 * e - 1) / 3,
                rows: rows - 2 * e,
                cols: cols - 2 * e - (cols - 2 * e - 1) / 3,
            };
            for stat in STATS {
                let mut out = vec![0.0; t.rows * t.cols];
                focal_stat(&w, stat, &n, t, &mut out).unwrap();
                let want = brute(&w, stat, &n, t);
                for (i, (a, b)) in out.iter().zip(&want).enumerate() {
                    assert!(close(*a, *b, 1e-9), "{stat:?} {n:?} cell {i}: {a} vs {b}");
                }
            }
        }
    }

    proptest! {
        #[test]
        fn every_stat_and_shape_equals_its_definition(
            rows in 9usize..20, cols in 9usize..24, seed in any::<u64>(), ints in any::<bool>(),
            holes in 0usize..40, offset in -1000.0f64..1000.0,
        ) {
            let mut state = seed | 1;
            let mut next = || { state ^= state << 13; state ^= state >> 7; state ^= state << 17; state };
            let mut cells: Vec<f64> = (0..rows * cols)
                .map(|_| {
                    let u = (next() % 10_000) as f64 / 100.0;
                    if ints { (u / 10.0).floor() } else { u + offset }
                })
                .collect();
            for _ in 0..holes {
                let i = (next() as usize) % cells.len();
                cells[i] = f64::NAN;
            }
            check_all(&cells, rows, cols);
        }
    }

    #[test]
    fn geotrellis_facts() {
        let w = |cells: &[f64]| Window {
            cells: &cells.to_vec().leak()[..],
            rows: 3,
            cols: 3,
        };
        let t = Target {
            row0: 1,
            col0: 1,
            rows: 1,
            cols: 1,
        };
        let one = |cells: &[f64], stat| {
            let mut out = [0.0];
            focal_stat(
                &w(cells),
                stat,
                &Neighborhood::Square { extent: 1 },
                t,
                &mut out,
            )
            .unwrap();
            out[0]
        };
        let nan = f64::NAN;
        // An even count: the integer mean of the two middle values, truncated.
        assert_eq!(
            one(
                &[1.0, 2.0, 4.0, 7.0, nan, nan, nan, nan, nan],
                FocalStat::Median
            ),
            3.0
        );
        assert_eq!(
            one(
                &[1.9, 2.9, 3.9, nan, nan, nan, nan, nan, nan],
                FocalStat::Median
            ),
            2.0
        );
        // A tie between modes is NoData; a single mode wins.
        assert!(one(
            &[1.0, 1.0, 2.0, 2.0, nan, nan, nan, nan, nan],
            FocalStat::Mode
        )
        .is_nan());
        assert_eq!(
            one(
                &[1.0, 1.0, 2.0, 2.0, 2.0, nan, nan, nan, nan],
                FocalStat::Mode
            ),
            2.0
        );
        // No data at all: NoData; variance is the population's.
        assert!(one(&[nan; 9], FocalStat::Sum).is_nan());
        assert_eq!(
            one(
                &[1.0, 3.0, nan, nan, nan, nan, nan, nan, nan],
                FocalStat::Variance
            ),
            1.0
        );
    }

    #[test]
    fn large_values_keep_their_variance() {
        let cells: Vec<f64> = (0..400).map(|i| 1e9 + (i % 7) as f64 * 0.01).collect();
        let w = Window {
            cells: &cells,
            rows: 20,
            cols: 20,
        };
        let t = Target {
            row0: 3,
            col0: 3,
            rows: 14,
            cols: 14,
        };
        let mut out = vec![0.0; 196];
        focal_stat(
            &w,
            FocalStat::Variance,
            &Neighborhood::Square { extent: 3 },
            t,
            &mut out,
        )
        .unwrap();
        let want = brute(
            &w,
            FocalStat::Variance,
            &Neighborhood::Square { extent: 3 },
            t,
        );
        for (a, b) in out.iter().zip(&want) {
            assert!((a - b).abs() < 1e-9, "{a} vs {b}");
        }
    }

    #[test]
    fn targets_outside_the_window_are_errors() {
        let cells = vec![0.0; 25];
        let w = Window {
            cells: &cells,
            rows: 5,
            cols: 5,
        };
        let mut out = vec![0.0; 25];
        let t = Target {
            row0: 0,
            col0: 0,
            rows: 5,
            cols: 5,
        };
        let err = focal_stat(
            &w,
            FocalStat::Sum,
            &Neighborhood::Square { extent: 1 },
            t,
            &mut out,
        );
        assert!(matches!(err, Err(EngineError::Value(_))));
        let t = Target {
            row0: 1,
            col0: 1,
            rows: 3,
            cols: 3,
        };
        assert!(focal_stat(
            &w,
            FocalStat::Sum,
            &Neighborhood::Square { extent: 1 },
            t,
            &mut out[..4]
        )
        .is_err());
    }
}
