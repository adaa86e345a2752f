//! The approximate transform (GDAL's `GDALApproxTransform`): along a row of destination cell centres,
//! transform the ends and the middle exactly; where the middle's linear interpolation from the ends is
//! within the error threshold, interpolate the whole span, else split it in two and repeat. Per-cell cost
//! becomes an interpolation instead of a projection.

use crate::crs::Transformer;

/// Maps destination cell centres to source map coordinates.
pub struct RowMapper<'a> {
    transformer: &'a Transformer,
    /// The largest error accepted from interpolation, in source map units (0 = transform every cell).
    max_error: f64,
    exact: Vec<f64>,
}

/// Spans this short are transformed point by point.
const SHORT_SPAN: usize = 4;

impl<'a> RowMapper<'a> {
    pub fn new(transformer: &'a Transformer, max_error: f64) -> Self {
        RowMapper {
            transformer,
            max_error,
            exact: Vec::new(),
        }
    }

    /// Source coordinates of the destination points `(x0 + i·dx, y)` for `i < xs.len()`, into `xs`, `ys`
    /// (NaN where the transform fails).
    pub fn map_row(&mut self, x0: f64, dx: f64, y: f64, xs: &mut [f64], ys: &mut [f64]) {
        let n = xs.len();
        if n == 0 {
            return;
        }
        if self.transformer.is_identity() {
            xs.iter_mut().enumerate().for_each(|(i, x)| *x = x0 + i as f64 * dx);
            ys.fill(y);
            return;
        }
        if self.max_error <= 0.0 || n <= SHORT_SPAN {
            self.exact_span(x0, dx, y, 0, n, xs, ys);
            return;
        }
        // The ends of the row first; then each span [a, b] (both ends known) is interpolated or split.
        self.exact_span(x0, dx, y, 0, 1, xs, ys);
        self.exact_span(x0, dx, y, n - 1, n, xs, ys);
        let mut stack = vec![(0usize, n - 1)];
        while let Some((a, b)) = stack.pop() {
            if b - a < 2 {
                continue;
            }
            if b - a <= SHORT_SPAN {
                self.exact_span(x0, dx, y, a + 1, b, xs, ys);
                continue;
            }
            let m = (a + b) / 2;
            self.exact_span(x0, dx, y, m, m + 1, xs, ys);
            let t = (m - a) as f64 / (b - a) as f64;
            let ends_ok = [xs[a], ys[a], xs[b], ys[b], xs[m], ys[m]].iter().all(|v| v.is_finite());
            let close = ends_ok
                && (xs[a] + t * (xs[b] - xs[a]) - xs[m]).abs() <= self.max_error
                && (ys[a] + t * (ys[b] - ys[a]) - ys[m]).abs() <= self.max_error;
            if close {
                interpolate(xs, a, b);
                interpolate(ys, a, b);
            } else {
                stack.push((a, m));
                stack.push((m, b));
            }
        }
    }

    /// Points `start..end` of the row transformed exactly.
    #[allow(clippy::too_many_arguments)]
    fn exact_span(&mut self, x0: f64, dx: f64, y: f64, start: usize, end: usize, xs: &mut [f64], ys: &mut [f64]) {
        self.exact.clear();
        for i in start..end {
            self.exact.push(x0 + i as f64 * dx);
            self.exact.push(y);
        }
        self.transformer.transform(&mut self.exact);
        for (k, p) in self.exact.chunks_exact(2).enumerate() {
            xs[start + k] = p[0];
            ys[start + k] = p[1];
        }
    }
}

/// Fills `v[a+1..b]` on the line between `v[a]` and `v[b]` (the middle is overwritten with its interpolation,
/// which is within the threshold of its exact value).
fn interpolate(v: &mut [f64], a: usize, b: usize) {
    let (va, vb) = (v[a], v[b]);
    let step = (vb - va) / (b - a) as f64;
    for (k, x) in v[a + 1..b].iter_mut().enumerate() {
        *x = va + (k + 1) as f64 * step;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interpolated_rows_stay_within_the_threshold() {
        let t = Transformer::new("EPSG:3857", "EPSG:32633").unwrap();
        let n = 1000;
        let (x0, dx, y) = (1_400_000.0, 30.0, 6_000_000.0);
        let (mut xs, mut ys) = (vec![0.0; n], vec![0.0; n]);
        RowMapper::new(&t, 0.5).map_row(x0, dx, y, &mut xs, &mut ys);
        let (mut ex, mut ey) = (vec![0.0; n], vec![0.0; n]);
        RowMapper::new(&t, 0.0).map_row(x0, dx, y, &mut ex, &mut ey);
        let worst = (0..n)
            .map(|i| (xs[i] - ex[i]).abs().max((ys[i] - ey[i]).abs()))
            .fold(0.0, f64::max);
        assert!(worst <= 0.5, "{worst}");
        // And it did interpolate: some values differ from the exact ones.
        assert!(worst > 0.0);
    }

    #[test]
    fn failed_points_are_nan_and_do_not_spoil_the_rest() {
        // Web Mercator has no points beyond ±90° latitude.
        let t = Transformer::new("EPSG:4326", "EPSG:3857").unwrap();
        let n = 64;
        let (mut xs, mut ys) = (vec![0.0; n], vec![0.0; n]);
        RowMapper::new(&t, 0.1).map_row(-10.0, 0.5, 95.0, &mut xs, &mut ys);
        assert!(xs.iter().all(|v| v.is_nan()));
        RowMapper::new(&t, 0.1).map_row(-10.0, 0.5, 45.0, &mut xs, &mut ys);
        assert!(xs.iter().chain(ys.iter()).all(|v| v.is_finite()));
    }

    #[test]
    fn identity_is_the_grid_itself() {
        let t = Transformer::new("4326", "EPSG:4326").unwrap();
        let (mut xs, mut ys) = (vec![0.0; 3], vec![0.0; 3]);
        RowMapper::new(&t, 0.1).map_row(1.0, 0.5, 2.0, &mut xs, &mut ys);
        assert_eq!(xs, [1.0, 1.5, 2.0]);
        assert_eq!(ys, [2.0; 3]);
    }
}
