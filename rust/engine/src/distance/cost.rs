//! Cost distance (GeoPySpark `cost_distance`, GeoTrellis `SimpleCostDistance` and the distributed
//! `IterativeCostDistance`): the least accumulated cost of reaching each cell from the start cells over a
//! friction surface, moving to the 8 neighbours. A step between cells of friction f1 and f2 costs
//! `resolution · d · (f1 + f2) / 2`, d = 1 or √2; cells whose friction is NoData or negative cannot be
//! entered; costs above `max_cost` are not kept. Start cells cost 0 even where their friction is impassable
//! (they then spread nowhere), as in GeoTrellis.
//!
//! One tile at a time: a Dijkstra search seeded by the tile's start cells and by the costs its neighbours
//! reached on their edge cells (cells just outside the tile, at row or column −1 or `rows`/`cols`). Tiles
//! exchange edges and search again until no cost changes; the result is the search over the whole raster.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

/// A cell just outside a tile, as its neighbour reached it: position relative to the tile, friction, cost.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EdgeCell {
    pub row: i64,
    pub col: i64,
    pub friction: f64,
    pub cost: f64,
}

#[derive(PartialEq)]
struct Queued {
    cost: f64,
    row: i64,
    col: i64,
    friction: f64,
}

impl Eq for Queued {}

impl Ord for Queued {
    fn cmp(&self, o: &Self) -> Ordering {
        // Min-heap on cost (costs are never NaN here).
        o.cost.total_cmp(&self.cost)
    }
}

impl PartialOrd for Queued {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}

fn passable(f: f64) -> bool {
    !f.is_nan() && f >= 0.0
}

const STEPS: [(i64, i64, f64); 8] = [
    (-1, 0, 1.0),
    (1, 0, 1.0),
    (0, -1, 1.0),
    (0, 1, 1.0),
    (-1, -1, std::f64::consts::SQRT_2),
    (-1, 1, std::f64::consts::SQRT_2),
    (1, -1, std::f64::consts::SQRT_2),
    (1, 1, std::f64::consts::SQRT_2),
];

/// Lower the costs of a `rows × cols` tile (`cost`, NaN = not reached) from its start cells (`starts`,
/// row-major indices) and its neighbours' edge cells. Returns whether any cost changed.
pub fn search_tile(
    friction: &[f64],
    cost: &mut [f64],
    rows: usize,
    cols: usize,
    starts: &[usize],
    edges: &[EdgeCell],
    resolution: f64,
    max_cost: f64,
) -> bool {
    let mut heap = BinaryHeap::new();
    let mut changed = false;
    for &i in starts {
        if !(cost[i] <= 0.0) {
            cost[i] = 0.0;
            changed = true;
        }
        heap.push(Queued { cost: 0.0, row: (i / cols) as i64, col: (i % cols) as i64, friction: friction[i] });
    }
    for e in edges {
        if passable(e.friction) && !e.cost.is_nan() {
            heap.push(Queued { cost: e.cost, row: e.row, col: e.col, friction: e.friction });
        }
    }
    let inside = |r: i64, c: i64| r >= 0 && c >= 0 && (r as usize) < rows && (c as usize) < cols;
    while let Some(q) = heap.pop() {
        if inside(q.row, q.col) {
            let here = cost[q.row as usize * cols + q.col as usize];
            if q.cost > here {
                continue; // a stale entry
            }
        }
        if !passable(q.friction) {
            continue;
        }
        for (dr, dc, d) in STEPS {
            let (r, c) = (q.row + dr, q.col + dc);
            if !inside(r, c) {
                continue;
            }
            let i = r as usize * cols + c as usize;
            let f = friction[i];
            if !passable(f) {
                continue;
            }
            let candidate = q.cost + resolution * d * (q.friction + f) / 2.0;
            if candidate <= max_cost && (cost[i].is_nan() || candidate < cost[i]) {
                cost[i] = candidate;
                changed = true;
                heap.push(Queued { cost: candidate, row: r, col: c, friction: f });
            }
        }
    }
    changed
}

/// The edge cells of a tile as its neighbour at (`dx`, `dy`) sees them (dx east, dy south): the tile's
/// cells next to that neighbour, positioned just outside the neighbour's own grid.
pub fn edge_for_neighbour(
    friction: &[f64],
    cost: &[f64],
    rows: usize,
    cols: usize,
    dx: i64,
    dy: i64,
) -> Vec<EdgeCell> {
    let (rows_i, cols_i) = (rows as i64, cols as i64);
    // Our cells adjacent to the neighbour, in our coordinates.
    let our_rows: Vec<i64> = match dy {
        -1 => vec![0],
        1 => vec![rows_i - 1],
        _ => (0..rows_i).collect(),
    };
    let our_cols: Vec<i64> = match dx {
        -1 => vec![0],
        1 => vec![cols_i - 1],
        _ => (0..cols_i).collect(),
    };
    let mut out = Vec::new();
    for &r in &our_rows {
        for &c in &our_cols {
            let i = r as usize * cols + c as usize;
            if cost[i].is_nan() {
                continue;
            }
            // In the neighbour's coordinates our tile is shifted by (−dy·rows, −dx·cols).
            out.push(EdgeCell { row: r - dy * rows_i, col: c - dx * cols_i, friction: friction[i], cost: cost[i] });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Plain Dijkstra over a whole grid, the reference.
    fn whole(friction: &[f64], rows: usize, cols: usize, starts: &[usize], max_cost: f64) -> Vec<f64> {
        let mut cost = vec![f64::NAN; rows * cols];
        search_tile(friction, &mut cost, rows, cols, starts, &[], 1.0, max_cost);
        cost
    }

    #[test]
    fn tiles_exchanging_edges_equal_one_search() {
        let (rows, cols) = (12, 12);
        let friction: Vec<f64> = (0..rows * cols)
            .map(|i| if i % 17 == 5 { f64::NAN } else { 1.0 + ((i * 7919) % 13) as f64 / 4.0 })
            .collect();
        let starts = [3 * cols + 2, 10 * cols + 9];
        let want = whole(&friction, rows, cols, &starts, 40.0);
        // Four 6 × 6 tiles.
        let t = 6;
        let tile_of = |grid: &[f64], tr: usize, tc: usize| -> Vec<f64> {
            (0..t * t).map(|k| grid[(tr * t + k / t) * cols + tc * t + k % t]).collect()
        };
        let frictions: Vec<Vec<f64>> = (0..4).map(|k| tile_of(&friction, k / 2, k % 2)).collect();
        let mut costs = vec![vec![f64::NAN; t * t]; 4];
        let mut first = true;
        loop {
            let mut any = false;
            let snapshot = costs.clone();
            for k in 0..4 {
                let (tr, tc) = ((k / 2) as i64, (k % 2) as i64);
                let starts: Vec<usize> = if first {
                    starts.iter().filter(|&&i| (i / cols) as i64 / 6 == tr && (i % cols) as i64 / 6 == tc)
                        .map(|&i| (i / cols % t) * t + i % cols % t).collect()
                } else {
                    Vec::new()
                };
                let mut edges = Vec::new();
                for n in 0..4 {
                    let (nr, nc) = ((n / 2) as i64, (n % 2) as i64);
                    if n != k {
                        edges.extend(edge_for_neighbour(&frictions[n], &snapshot[n], t, t, tc - nc, tr - nr));
                    }
                }
                any |= search_tile(&frictions[k], &mut costs[k], t, t, &starts, &edges, 1.0, 40.0);
            }
            first = false;
            if !any {
                break;
            }
        }
        for r in 0..rows {
            for c in 0..cols {
                let got = costs[(r / t) * 2 + c / t][(r % t) * t + c % t];
                let w = want[r * cols + c];
                assert!(got == w || (got.is_nan() && w.is_nan()) || (got - w).abs() < 1e-9, "{r},{c}: {got} vs {w}");
            }
        }
    }
}
