//! Which cells of a grid a shape covers, under the cell rules of GeoTrellis' `Rasterizer.Options` and
//! exactextract:
//!
//! - `Centre` (GeoTrellis `PixelIsPoint`, GDAL's default): a polygon covers the cells whose centre it
//!   contains (non-zero winding, so holes are holes);
//! - `AllTouched` (`PixelIsArea` with `includePartial`, GDAL's `ALL_TOUCHED` for polygon interiors): cells that
//!   share any area with a polygon;
//! - `Contained` (`PixelIsArea` without `includePartial`): cells wholly inside a polygon;
//! - `Fraction` (exactextract): each cell weighted by the fraction of its area inside the polygons.
//!
//! Lines cover every cell they pass through and points the cell holding them (a point on a cell's south or
//! east edge belongs to the next cell, as `MapKeyTransform`), under every rule but `Fraction`.
//!
//! Fractions are exact areas, computed in one sweep over the polygon edges (no per-cell clipping): for a
//! vertical line through a column, a cell's covered length is the sum, over the edges crossing above it, of
//! the signed part of the cell below the edge. Integrating that over the column's width splits each edge at
//! the grid lines into pieces within one cell; a piece adds `Δu · (r + 1 − v̄)` to its own cell and `Δu` to
//! every cell below it in the column (a running sum down the column), rings oriented so that exteriors add
//! and holes subtract. The work is proportional to the cells the edges cross plus the window's cells.

use super::geometry::{Coord, Polygon, Shape};
use crate::error::{EngineError, Result};

/// Cells of a grid: its upper-left corner, cell size and shape (row 0 is the northern row).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Grid {
    pub xmin: f64,
    pub ymax: f64,
    pub cell_width: f64,
    pub cell_height: f64,
    pub cols: usize,
    pub rows: usize,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CellRule {
    Centre,
    AllTouched,
    Contained,
    Fraction,
}

impl CellRule {
    /// GeoTrellis' `Rasterizer.Options(includePartial, sampleType)`.
    pub fn from_options(include_partial: bool, pixel_is_area: bool) -> CellRule {
        match (pixel_is_area, include_partial) {
            (false, _) => CellRule::Centre,
            (true, true) => CellRule::AllTouched,
            (true, false) => CellRule::Contained,
        }
    }

    /// `centre`, `all_touched`, `contained` or `fraction`.
    pub fn parse(name: &str) -> Result<CellRule> {
        Ok(match name {
            "centre" | "center" => CellRule::Centre,
            "all_touched" => CellRule::AllTouched,
            "contained" => CellRule::Contained,
            "fraction" => CellRule::Fraction,
            other => {
                return Err(EngineError::Value(format!(
                    "unknown cell rule {other:?}; expected 'centre', 'all_touched', 'contained' or 'fraction'"
                )))
            }
        })
    }
}

/// Covered fractions below this are rounding left over from edges that cancel (a column the polygon
/// enters and leaves); they are zero.
const ZERO: f64 = 1e-10;

/// The weights of a shape's cells in a window of a grid: 0 outside, 1 inside (or the covered fraction
/// under `Fraction`), row-major over `rows × cols` cells starting at cell (`col0`, `row0`) of the grid.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Coverage {
    pub col0: usize,
    pub row0: usize,
    pub cols: usize,
    pub rows: usize,
    pub weights: Vec<f64>,
}

impl Coverage {
    /// `(grid col, grid row, weight)` of every covered cell.
    pub fn cells(&self) -> impl Iterator<Item = (usize, usize, f64)> + '_ {
        self.weights
            .iter()
            .enumerate()
            .filter(|(_, w)| **w > 0.0)
            .map(|(i, w)| (self.col0 + i % self.cols, self.row0 + i / self.cols, *w))
    }
}

/// The cells of `grid` that `shape` covers under `rule`, over the window of the grid its bounding box
/// touches (empty when it misses the grid).
///
/// # Errors
/// `Value` for `Fraction` over lines or points (they cover no area).
pub fn coverage(shape: &Shape, grid: &Grid, rule: CellRule) -> Result<Coverage> {
    if rule == CellRule::Fraction && !(shape.lines.is_empty() && shape.points.is_empty()) {
        return Err(EngineError::Value(
            "coverage fractions need polygons; lines and points cover no area".into(),
        ));
    }
    let Some(w) = window(shape, grid) else {
        return Ok(Coverage::default());
    };
    let mut weights = vec![0.0; w.cols * w.rows];
    let to_window = window_coords(grid, &w);
    let rings = window_rings(shape, grid, &w);
    match rule {
        CellRule::Centre => centre_runs(&rings, w.cols, w.rows, |r, c0, c1| {
            weights[r * w.cols + c0..r * w.cols + c1].fill(1.0);
        }),
        _ => {
            let fractions = fractions(&rings, w.cols, w.rows);
            for (out, f) in weights.iter_mut().zip(fractions) {
                *out = match rule {
                    CellRule::Fraction if f > ZERO => f.min(1.0),
                    CellRule::AllTouched if f > ZERO => 1.0,
                    CellRule::Contained if f >= 1.0 - ZERO => 1.0,
                    _ => 0.0,
                };
            }
        }
    }
    for line in &shape.lines {
        let line: Vec<Coord> = line.iter().copied().map(&to_window).collect();
        for seg in line.windows(2) {
            walk_segment(seg[0], seg[1], w.cols, w.rows, |c, r| weights[r * w.cols + c] = 1.0);
        }
        if let [only] = line[..] {
            mark_point(only, w.cols, w.rows, &mut weights);
        }
    }
    for &p in &shape.points {
        mark_point(to_window(p), w.cols, w.rows, &mut weights);
    }
    Ok(Coverage { col0: w.col0, row0: w.row0, cols: w.cols, rows: w.rows, weights })
}

/// A run of cells `[col0, col1)` of one grid row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Span {
    pub row: usize,
    pub col0: usize,
    pub col1: usize,
}

/// The cells of `grid` whose centres lie inside the shape's polygons (non-zero winding) as row spans, rows
/// in order: the centre rule of [`coverage`] without its per-cell weights, for kernels that fill or sum
/// whole runs. Lines and points are not included.
pub fn centre_spans(shape: &Shape, grid: &Grid) -> Vec<Span> {
    let Some(w) = window(shape, grid) else {
        return Vec::new();
    };
    let mut spans = Vec::new();
    centre_runs(&window_rings(shape, grid, &w), w.cols, w.rows, |r, c0, c1| {
        spans.push(Span { row: w.row0 + r, col0: w.col0 + c0, col1: w.col0 + c1 })
    });
    spans
}

/// The shape's polygon rings in window coordinates, each with the sign of its winding around the
/// polygon's inside.
fn window_rings(shape: &Shape, grid: &Grid, w: &Window) -> Vec<(Vec<Coord>, f64)> {
    let to_window = window_coords(grid, w);
    oriented_rings(&shape.polygons)
        .map(|(ring, sign)| (ring.iter().copied().map(&to_window).collect(), sign))
        .collect()
}

/// Grid coordinates → window coordinates (cells are unit squares, v down).
fn window_coords<'a>(grid: &'a Grid, w: &'a Window) -> impl Fn(Coord) -> Coord + 'a {
    move |[x, y]: Coord| -> Coord {
        ((x - grid.xmin) / grid.cell_width - w.col0 as f64, (grid.ymax - y) / grid.cell_height - w.row0 as f64).into()
    }
}

struct Window {
    col0: usize,
    row0: usize,
    cols: usize,
    rows: usize,
}

/// The cells of the grid that the shape's bounding box touches (closed on every side, so a point on the
/// grid's last line still finds its cell).
fn window(shape: &Shape, g: &Grid) -> Option<Window> {
    let b = shape.bbox()?;
    let c0 = ((b.xmin - g.xmin) / g.cell_width).floor().max(0.0);
    let c1 = ((b.xmax - g.xmin) / g.cell_width).floor().min(g.cols as f64 - 1.0);
    let r0 = ((g.ymax - b.ymax) / g.cell_height).floor().max(0.0);
    let r1 = ((g.ymax - b.ymin) / g.cell_height).floor().min(g.rows as f64 - 1.0);
    if !(c0 <= c1 && r0 <= r1) {
        return None;
    }
    Some(Window {
        col0: c0 as usize,
        row0: r0 as usize,
        cols: (c1 - c0) as usize + 1,
        rows: (r1 - r0) as usize + 1,
    })
}

/// Each ring with the sign that makes it add inside exteriors and subtract inside holes, whatever the
/// direction its vertices go round. Rings without area are dropped.
fn oriented_rings(polygons: &[Polygon]) -> impl Iterator<Item = (&Vec<Coord>, f64)> {
    polygons.iter().flat_map(|polygon| {
        polygon.iter().enumerate().filter_map(|(k, ring)| {
            let a = shoelace(ring);
            if a == 0.0 || !a.is_finite() {
                return None;
            }
            // In window coordinates (v points down) a counter-clockwise ring winds −1 around its inside.
            let exterior = if a > 0.0 { -1.0 } else { 1.0 };
            Some((ring, if k == 0 { exterior } else { -exterior }))
        })
    })
}

fn shoelace(ring: &[Coord]) -> f64 {
    edges(ring).map(|([x0, y0], [x1, y1])| x0 * y1 - x1 * y0).sum::<f64>() / 2.0
}

/// The edges of a ring, closing it when its last vertex is not its first.
fn edges(ring: &[Coord]) -> impl Iterator<Item = (Coord, Coord)> + '_ {
    let n = ring.len();
    (0..n).map(move |i| (ring[i], ring[(i + 1) % n])).filter(|(a, b)| a != b)
}

/// Signed covered area of every cell of a `cols × rows` window (cells are unit squares).
fn fractions(rings: &[(Vec<Coord>, f64)], cols: usize, rows: usize) -> Vec<f64> {
    let mut own = vec![0.0; cols * rows];
    let mut below = vec![0.0; cols * rows];
    let mut above_window = vec![0.0; cols];
    let mut cuts = Vec::new();
    let (wc, wr) = (cols as f64, rows as f64);
    for (ring, sign) in rings {
        for ([u0, v0], [u1, v1]) in edges(ring) {
            let du = u1 - u0;
            if du == 0.0 {
                continue; // vertical edges cover no width
            }
            // The part of the edge over the window's columns.
            let (mut t_lo, mut t_hi) = ((0.0 - u0) / du, (wc - u0) / du);
            if t_lo > t_hi {
                std::mem::swap(&mut t_lo, &mut t_hi);
            }
            let (t_lo, t_hi) = (t_lo.max(0.0), t_hi.min(1.0));
            if t_lo >= t_hi {
                continue;
            }
            cuts.clear();
            cuts.extend([t_lo, t_hi]);
            let at = |t: f64| (u0 + du * t, v0 + (v1 - v0) * t);
            let ((ua, va), (ub, vb)) = (at(t_lo), at(t_hi));
            for k in (ua.min(ub).ceil() as i64)..=(ua.max(ub).floor() as i64) {
                cuts.push((k as f64 - u0) / du);
            }
            if v1 != v0 {
                let lo = va.min(vb).ceil().max(0.0) as i64;
                let hi = va.max(vb).floor().min(wr) as i64;
                for k in lo..=hi {
                    cuts.push((k as f64 - v0) / (v1 - v0));
                }
            }
            cuts.retain(|t| (t_lo..=t_hi).contains(t));
            cuts.sort_by(f64::total_cmp);
            for pair in cuts.windows(2) {
                let (ta, tb) = (pair[0], pair[1]);
                if tb <= ta {
                    continue;
                }
                let ((pa_u, pa_v), (pb_u, pb_v)) = (at(ta), at(tb));
                let (um, vm) = ((pa_u + pb_u) / 2.0, (pa_v + pb_v) / 2.0);
                let c = (um.floor().max(0.0) as usize).min(cols - 1);
                let width = (pb_u - pa_u) * sign;
                let r = vm.floor();
                if r < 0.0 {
                    above_window[c] += width;
                } else if r < wr {
                    let i = r as usize * cols + c;
                    own[i] += width * (r + 1.0 - vm);
                    below[i] += width;
                }
            }
        }
    }
    for c in 0..cols {
        let mut running = above_window[c];
        for r in 0..rows {
            let i = r * cols + c;
            own[i] += running;
            running += below[i];
        }
    }
    own
}

/// 1 where a cell's centre is inside the rings (non-zero winding), by one scanline per row of centres.
/// Calls `emit(row, col0, col1)` for each run of cells of a `cols × rows` window whose centres the rings
/// wind around (non-zero rule): each edge adds its winding step at the first cell centre at or right of
/// where it crosses a row's centre line; the crossings, sorted, delimit the runs (the cost is the
/// crossings, not the window's area).
fn centre_runs(rings: &[(Vec<Coord>, f64)], cols: usize, rows: usize, mut emit: impl FnMut(usize, usize, usize)) {
    let mut crossings: Vec<(u32, u32, i32)> = Vec::new();
    for (ring, sign) in rings {
        for ([u0, v0], [u1, v1]) in edges(ring) {
            if v0 == v1 {
                continue;
            }
            let (vmin, vmax) = (v0.min(v1), v0.max(v1));
            // Rows whose centre line v = r + 0.5 lies in [vmin, vmax).
            let first = (vmin - 0.5).ceil().max(0.0);
            let end = (vmax - 0.5).ceil().min(rows as f64);
            let step = if (v1 > v0) == (*sign > 0.0) { 1 } else { -1 };
            let mut r = first;
            while r < end {
                let u = u0 + (r + 0.5 - v0) * (u1 - u0) / (v1 - v0);
                let c = (u - 0.5).ceil().clamp(0.0, cols as f64);
                crossings.push((r as u32, c as u32, step));
                r += 1.0;
            }
        }
    }
    // Grouped by row with a counting sort, then each row's few crossings sorted by column: a comparison
    // sort of all the (row, column) pairs took most of the time of burning a tile.
    let mut row_start = vec![0usize; rows + 1];
    for &(r, _, _) in &crossings {
        row_start[r as usize + 1] += 1;
    }
    for r in 0..rows {
        row_start[r + 1] += row_start[r];
    }
    let mut next = row_start.clone();
    let mut by_row = vec![(0u32, 0i32); crossings.len()];
    for &(r, c, step) in &crossings {
        by_row[next[r as usize]] = (c, step);
        next[r as usize] += 1;
    }
    for row in 0..rows {
        let line = &mut by_row[row_start[row]..row_start[row + 1]];
        line.sort_unstable_by_key(|&(c, _)| c);
        let mut winding = 0;
        let mut i = 0;
        while i < line.len() {
            let c = line[i].0;
            while i < line.len() && line[i].0 == c {
                winding += line[i].1;
                i += 1;
            }
            let next = if i < line.len() { line[i].0 } else { cols as u32 };
            if winding != 0 && next > c {
                emit(row, c as usize, next as usize);
            }
        }
    }
}

fn mark_point([u, v]: Coord, cols: usize, rows: usize, out: &mut [f64]) {
    let (c, r) = (u.floor(), v.floor());
    if c >= 0.0 && r >= 0.0 && c < cols as f64 && r < rows as f64 {
        out[r as usize * cols + c as usize] = 1.0;
    }
}

/// Visit every cell of a `cols × rows` window that the segment passes through (a grid traversal after
/// clipping the segment to the window).
fn walk_segment(a: Coord, b: Coord, cols: usize, rows: usize, mut visit: impl FnMut(usize, usize)) {
    let (du, dv) = (b[0] - a[0], b[1] - a[1]);
    let (mut t0, mut t1) = (0.0f64, 1.0f64);
    for (p, q) in [(-du, a[0]), (du, cols as f64 - a[0]), (-dv, a[1]), (dv, rows as f64 - a[1])] {
        if p == 0.0 {
            if q < 0.0 {
                return;
            }
        } else {
            let t = q / p;
            if p < 0.0 {
                t0 = t0.max(t);
            } else {
                t1 = t1.min(t);
            }
        }
    }
    if t0 > t1 {
        return;
    }
    let (ua, va) = (a[0] + du * t0, a[1] + dv * t0);
    let (ub, vb) = (a[0] + du * t1, a[1] + dv * t1);
    let clamp_c = |u: f64| (u.floor().max(0.0) as usize).min(cols - 1);
    let clamp_r = |v: f64| (v.floor().max(0.0) as usize).min(rows - 1);
    let (mut c, mut r) = (clamp_c(ua), clamp_r(va));
    let (end_c, end_r) = (clamp_c(ub), clamp_r(vb));
    let (su, sv) = (ub - ua, vb - va);
    let step_c: i64 = if su > 0.0 { 1 } else { -1 };
    let step_r: i64 = if sv > 0.0 { 1 } else { -1 };
    let next = |pos: f64, s: f64, cell: usize| -> (f64, f64) {
        if s == 0.0 {
            return (f64::INFINITY, f64::INFINITY);
        }
        let boundary = if s > 0.0 { cell as f64 + 1.0 } else { cell as f64 };
        ((boundary - pos) / s, 1.0 / s.abs())
    };
    let (mut t_c, dt_c) = next(ua, su, c);
    let (mut t_r, dt_r) = next(va, sv, r);
    visit(c, r);
    for _ in 0..(cols + rows + 2) {
        if c == end_c && r == end_r {
            break;
        }
        if t_c < t_r {
            c = (c as i64 + step_c).clamp(0, cols as i64 - 1) as usize;
            t_c += dt_c;
        } else {
            r = (r as i64 + step_r).clamp(0, rows as i64 - 1) as usize;
            t_r += dt_r;
        }
        visit(c, r);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit_grid(n: usize) -> Grid {
        Grid { xmin: 0.0, ymax: n as f64, cell_width: 1.0, cell_height: 1.0, cols: n, rows: n }
    }

    fn poly(rings: &[&[Coord]]) -> Shape {
        Shape { polygons: vec![rings.iter().map(|r| r.to_vec()).collect()], ..Shape::default() }
    }

    fn dense(c: &Coverage, g: &Grid) -> Vec<f64> {
        let mut out = vec![0.0; g.cols * g.rows];
        for (col, row, w) in c.cells() {
            out[row * g.cols + col] = w;
        }
        out
    }

    /// Area of the polygon inside one cell by clipping (Sutherland–Hodgman), the slow reference.
    fn clipped_area(ring: &[Coord], x0: f64, y0: f64) -> f64 {
        let mut pts = ring.to_vec();
        let planes: [(usize, f64, bool); 4] = [(0, x0, true), (0, x0 + 1.0, false), (1, y0, true), (1, y0 + 1.0, false)];
        for (axis, at, keep_above) in planes {
            let inside = |p: &Coord| if keep_above { p[axis] >= at } else { p[axis] <= at };
            let mut out = Vec::new();
            for i in 0..pts.len() {
                let (a, b) = (pts[i], pts[(i + 1) % pts.len()]);
                if inside(&a) {
                    out.push(a);
                }
                if inside(&a) != inside(&b) {
                    let t = (at - a[axis]) / (b[axis] - a[axis]);
                    out.push([a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t]);
                }
            }
            pts = out;
            if pts.is_empty() {
                return 0.0;
            }
        }
        shoelace(&pts).abs()
    }

    #[test]
    fn fractions_equal_clipped_areas() {
        // A convex and a concave ring, in both orientations, against per-cell clipping.
        let rings: [&[Coord]; 2] = [
            &[[0.3, 0.2], [4.7, 1.1], [3.9, 4.6], [1.2, 3.3]],
            &[[0.5, 0.5], [5.5, 0.7], [5.2, 5.1], [3.1, 2.2], [0.9, 5.4]],
        ];
        let g = unit_grid(6);
        for ring in rings {
            for reversed in [false, true] {
                let mut r = ring.to_vec();
                if reversed {
                    r.reverse();
                }
                let c = coverage(&poly(&[&r]), &g, CellRule::Fraction).unwrap();
                let got = dense(&c, &g);
                for row in 0..6 {
                    for col in 0..6 {
                        // Grid row 0 is y in [5, 6]; clipping a concave ring to a convex cell keeps its area.
                        let want = clipped_area(&r, col as f64, 5.0 - row as f64);
                        assert!((got[row * 6 + col] - want).abs() < 1e-12, "cell {col},{row}");
                    }
                }
                let total: f64 = got.iter().sum();
                assert!((total - shoelace(&r).abs()).abs() < 1e-9, "total {total}");
            }
        }
    }

    #[test]
    fn holes_subtract_and_rules_agree() {
        let outer: &[Coord] = &[[0.0, 0.0], [6.0, 0.0], [6.0, 6.0], [0.0, 6.0]];
        let hole: &[Coord] = &[[2.0, 2.0], [2.0, 4.0], [4.0, 4.0], [4.0, 2.0]];
        let shape = poly(&[outer, hole]);
        let g = unit_grid(6);
        let f = dense(&coverage(&shape, &g, CellRule::Fraction).unwrap(), &g);
        assert_eq!(f.iter().sum::<f64>(), 32.0);
        let centre = dense(&coverage(&shape, &g, CellRule::Centre).unwrap(), &g);
        assert_eq!(centre, f);
        // Partly covered cells: a square shifted by half a cell.
        let half: &[Coord] = &[[0.5, 0.5], [2.5, 0.5], [2.5, 2.5], [0.5, 2.5]];
        let touched = coverage(&poly(&[half]), &g, CellRule::AllTouched).unwrap();
        assert_eq!(touched.cells().count(), 9);
        assert_eq!(coverage(&poly(&[half]), &g, CellRule::Contained).unwrap().cells().count(), 1);
        assert_eq!(coverage(&poly(&[half]), &g, CellRule::Centre).unwrap().cells().count(), 4);
        // Larger than the grid: every cell fully covered, through the carry from above the window.
        let big: &[Coord] = &[[-10.0, -10.0], [20.0, -9.0], [21.0, 20.0], [-9.0, 21.0]];
        let all = dense(&coverage(&poly(&[big]), &g, CellRule::Fraction).unwrap(), &g);
        assert!(all.iter().all(|w| (*w - 1.0).abs() < 1e-12));
    }

    #[test]
    fn lines_and_points() {
        let g = unit_grid(4);
        let shape = Shape {
            lines: vec![vec![[0.5, 3.5], [3.5, 0.5]]],
            points: vec![[1.0, 1.0], [9.0, 9.0]],
            ..Shape::default()
        };
        let c = coverage(&shape, &g, CellRule::Centre).unwrap();
        let cells: Vec<_> = c.cells().map(|(c, r, _)| (c, r)).collect();
        // The diagonal crosses corners: the traversal takes one side at each (7 cells); the point (1, 1)
        // lies on the corner of four cells and belongs to the south-east one (col 1, row 3).
        assert!(cells.contains(&(0, 0)) && cells.contains(&(3, 3)) && cells.contains(&(1, 3)));
        assert!(coverage(&shape, &g, CellRule::Fraction).is_err());
    }

    /// Non-zero winding number of a point, the slow reference of the centre rule.
    fn winding(rings: &[Vec<Coord>], [x, y]: Coord) -> i32 {
        let mut w = 0;
        for ring in rings {
            for i in 0..ring.len() {
                let ([x0, y0], [x1, y1]) = (ring[i], ring[(i + 1) % ring.len()]);
                let side = (x1 - x0) * (y - y0) - (x - x0) * (y1 - y0);
                if y0 <= y && y1 > y && side > 0.0 {
                    w += 1;
                } else if y1 <= y && y0 > y && side < 0.0 {
                    w -= 1;
                }
            }
        }
        w
    }

    #[test]
    fn centre_spans_are_the_cells_whose_centres_are_inside() {
        // Star-shaped rings (some clockwise), a hole, and a second polygon overlapping the first.
        let star = |cx: f64, cy: f64, r: f64, n: usize, phase: f64, cw: bool| -> Vec<Coord> {
            let mut ring: Vec<Coord> = (0..n)
                .map(|k| {
                    let a = phase + k as f64 * std::f64::consts::TAU / n as f64;
                    let rr = r * (0.55 + 0.45 * ((k * 7919 % 13) as f64 / 12.0));
                    [cx + rr * a.cos(), cy + rr * a.sin()]
                })
                .collect();
            if cw {
                ring.reverse();
            }
            ring
        };
        let g = Grid { xmin: -3.3, ymax: 40.7, cell_width: 0.9, cell_height: 1.1, cols: 48, rows: 40 };
        for (i, cw) in [(0, false), (1, true), (2, false)] {
            let outer = star(18.0 + i as f64, 18.0, 16.0, 17 + i, 0.3 * i as f64, cw);
            let hole = star(17.0, 19.0, 5.0, 9, 0.1, !cw);
            let other = star(30.0, 10.0, 9.0, 11, 0.7, cw);
            let shape = Shape { polygons: vec![vec![outer.clone(), hole.clone()], vec![other.clone()]], ..Shape::default() };
            let mut want = vec![false; g.cols * g.rows];
            for r in 0..g.rows {
                for c in 0..g.cols {
                    let p = [g.xmin + (c as f64 + 0.5) * g.cell_width, g.ymax - (r as f64 + 0.5) * g.cell_height];
                    // Holes subtract from their own polygon only; polygons union.
                    let in_first = winding(&[outer.clone(), hole.clone()], p) != 0;
                    want[r * g.cols + c] = in_first || winding(&[other.clone()], p) != 0;
                }
            }
            let mut got = vec![false; g.cols * g.rows];
            for s in centre_spans(&shape, &g) {
                assert!(s.col0 < s.col1 && s.col1 <= g.cols && s.row < g.rows, "{s:?}");
                got[s.row * g.cols + s.col0..s.row * g.cols + s.col1].iter_mut().for_each(|x| *x = true);
            }
            assert_eq!(got, want, "case {i}");
            let dense_centre: Vec<bool> = dense(&coverage(&shape, &g, CellRule::Centre).unwrap(), &g).iter().map(|w| *w > 0.0).collect();
            assert_eq!(dense_centre, want, "coverage, case {i}");
        }
    }
}
