//! Euclidean distance (GeoPySpark `euclidean_distance`, GeoTrellis `EuclideanDistanceTile`): every cell
//! holds the distance from its centre to the nearest source point. GeoTrellis measures to the points of a
//! MultiPoint, and to the centres of the cells any other geometry burns (its rasterization with the default
//! options); those centres are found here on the grid of the keys the geometry's envelope covers.
//!
//! The nearest point is found in a k-d tree. For burned cells only the *edge* of the burned region can be
//! nearest to an unburned cell (a step towards the cell along an axis always brings a burned centre closer),
//! so the tree holds only burned cells with an unburned 4-neighbour, and burned cells themselves are 0.

use super::super::rasterize::cells::{coverage, CellRule, Coverage, Grid};
use super::super::rasterize::geometry::{Coord, Shape};
use crate::error::{EngineError, Result};

/// Source points in a k-d tree (built once, queried per cell).
pub struct NearestPoints {
    /// Points reordered so that each subtree is a contiguous range split at its median.
    points: Vec<Coord>,
}

impl NearestPoints {
    pub fn new(mut points: Vec<Coord>) -> NearestPoints {
        build(&mut points, 0);
        NearestPoints { points }
    }

    pub fn is_empty(&self) -> bool {
        self.points.is_empty()
    }

    /// The distance from `q` to the nearest point (infinite without points).
    pub fn distance(&self, q: Coord) -> f64 {
        let mut best = f64::INFINITY;
        nearest(&self.points, 0, q, &mut best);
        best.sqrt()
    }
}

fn build(points: &mut [Coord], depth: usize) {
    if points.len() <= 1 {
        return;
    }
    let axis = depth % 2;
    let mid = points.len() / 2;
    points.select_nth_unstable_by(mid, |a, b| a[axis].total_cmp(&b[axis]));
    let (left, right) = points.split_at_mut(mid);
    build(left, depth + 1);
    build(&mut right[1..], depth + 1);
}

fn nearest(points: &[Coord], depth: usize, q: Coord, best: &mut f64) {
    if points.is_empty() {
        return;
    }
    let mid = points.len() / 2;
    let p = points[mid];
    let (dx, dy) = (p[0] - q[0], p[1] - q[1]);
    *best = best.min(dx * dx + dy * dy);
    let axis = depth % 2;
    let diff = q[axis] - p[axis];
    let (near, far) = if diff < 0.0 {
        (&points[..mid], &points[mid + 1..])
    } else {
        (&points[mid + 1..], &points[..mid])
    };
    nearest(near, depth + 1, q, best);
    if diff * diff < *best {
        nearest(far, depth + 1, q, best);
    }
}

/// The centres of the cells of `grid` that `shape` burns (centre rule for polygons) and that have an
/// unburned 4-neighbour (or lie on the grid's border, where the neighbour is off the grid).
///
/// # Errors
/// Those of [`coverage`].
pub fn burned_edge_centres(shape: &Shape, grid: &Grid) -> Result<Vec<Coord>> {
    let cover = coverage(shape, grid, CellRule::Centre)?;
    let burned = |c: i64, r: i64| -> bool { is_burned(&cover, c, r) };
    Ok(cover
        .cells()
        .filter(|&(c, r, _)| {
            let (c, r) = (c as i64, r as i64);
            !(burned(c - 1, r) && burned(c + 1, r) && burned(c, r - 1) && burned(c, r + 1))
        })
        .map(|(c, r, _)| centre(grid, c, r))
        .collect())
}

fn is_burned(cover: &Coverage, c: i64, r: i64) -> bool {
    let (c, r) = (c - cover.col0 as i64, r - cover.row0 as i64);
    c >= 0
        && r >= 0
        && (c as usize) < cover.cols
        && (r as usize) < cover.rows
        && cover.weights[r as usize * cover.cols + c as usize] > 0.0
}

fn centre(grid: &Grid, c: usize, r: usize) -> Coord {
    [
        grid.xmin + (c as f64 + 0.5) * grid.cell_width,
        grid.ymax - (r as f64 + 0.5) * grid.cell_height,
    ]
}

/// The distance of every cell of `grid` (row-major) to the nearest source point; with `burned`, the cells
/// that shape burns are 0.
///
/// # Errors
/// `Value` when there are no source points.
pub fn distance_tile(points: &NearestPoints, grid: &Grid, burned: Option<&Shape>) -> Result<Vec<f64>> {
    if points.is_empty() {
        return Err(EngineError::Value("euclidean distance needs at least one source point".into()));
    }
    let mut out = vec![0.0; grid.cols * grid.rows];
    let zero = match burned {
        Some(shape) => Some(coverage(shape, grid, CellRule::Centre)?),
        None => None,
    };
    for r in 0..grid.rows {
        for c in 0..grid.cols {
            if zero.as_ref().is_some_and(|z| is_burned(z, c as i64, r as i64)) {
                continue;
            }
            out[r * grid.cols + c] = points.distance(centre(grid, c, r));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kd_tree_finds_the_nearest_point() {
        let pts: Vec<Coord> = (0..500).map(|i| [((i * 7919) % 1000) as f64 * 0.37, ((i * 104729) % 997) as f64 * 0.41]).collect();
        let tree = NearestPoints::new(pts.clone());
        for q in [[0.0, 0.0], [123.4, 56.7], [400.0, 400.0], [-50.0, 1000.0]] {
            let brute = pts.iter().map(|p| ((p[0] - q[0]).powi(2) + (p[1] - q[1]).powi(2)).sqrt()).fold(f64::INFINITY, f64::min);
            assert_eq!(tree.distance(q), brute);
        }
    }

    #[test]
    fn burned_regions_keep_only_their_edges() {
        let grid = Grid { xmin: 0.0, ymax: 10.0, cell_width: 1.0, cell_height: 1.0, cols: 10, rows: 10 };
        let square = Shape { polygons: vec![vec![vec![[2.0, 2.0], [8.0, 2.0], [8.0, 8.0], [2.0, 8.0]]]], ..Shape::default() };
        let edges = burned_edge_centres(&square, &grid).unwrap();
        assert_eq!(edges.len(), 20); // the 6 × 6 burned block's outer ring
        let d = distance_tile(&NearestPoints::new(edges), &grid, Some(&square)).unwrap();
        assert_eq!(d[5 * 10 + 5], 0.0);
        assert_eq!(d[0], (2.0f64 * 2.0 + 2.0 * 2.0).sqrt()); // (0.5, 9.5) to (2.5, 7.5)
    }
}
