//! Terrain from elevation by Horn's method over the 3×3 cells, as GeoTrellis computes it
//! (`mapalgebra/focal/hillshade/SurfacePointCalculation.scala`, `Slope.scala`, `Aspect.scala`,
//! `Hillshade.scala`, `tobler/Tobler.scala`): a neighbour that is NaN (NoData or off the layer) takes the
//! centre's value, and a NaN centre gives NaN.
//!
//! With `p`, `q` the west–east and north–south gradients (`p = ((ne + 2e + se) − (nw + 2w + sw)) / 8·cw`,
//! `q = ((sw + 2s + se) − (nw + 2n + ne)) / 8·ch`) and `z` the z-factor, `tan(slope) = z·√(p² + q²)`.

use super::stats::{Target, Window};
use crate::error::Result;

/// Call `f(centre, p, q)` for every cell of the target, writing its result (NaN where the centre is).
fn horn(
    window: &Window,
    cell_width: f64,
    cell_height: f64,
    t: Target,
    out: &mut [f64],
    f: impl Fn(f64, f64) -> f64,
) -> Result<()> {
    t.check(window, 1, out)?;
    let (kx, ky) = (1.0 / (8.0 * cell_width), 1.0 / (8.0 * cell_height));
    let width = t.cols + 2;
    let row = |r: usize| {
        let at = r * window.cols + t.col0 - 1;
        &window.cells[at..at + width]
    };
    for y in 0..t.rows {
        let r = t.row0 + y;
        let (up, mid, down) = (row(r - 1), row(r), row(r + 1));
        let dst = &mut out[y * t.cols..(y + 1) * t.cols];
        for (x, o) in dst.iter_mut().enumerate() {
            let c = mid[x + 1];
            let g = |v: f64| if v.is_nan() { c } else { v };
            let (nw, n, ne) = (g(up[x]), g(up[x + 1]), g(up[x + 2]));
            let (w, e) = (g(mid[x]), g(mid[x + 2]));
            let (sw, s, se) = (g(down[x]), g(down[x + 1]), g(down[x + 2]));
            let p = ((ne + 2.0 * e + se) - (nw + 2.0 * w + sw)) * kx;
            let q = ((sw + 2.0 * s + se) - (nw + 2.0 * n + ne)) * ky;
            *o = if c.is_nan() { f64::NAN } else { f(p, q) };
        }
    }
    Ok(())
}

/// Slope in degrees, `atan(z·√(p² + q²))`.
///
/// # Errors
///
/// `Value` for a target (with its 1-cell border) outside the window or an `out` too small.
pub fn slope(
    window: &Window,
    cell_width: f64,
    cell_height: f64,
    z_factor: f64,
    t: Target,
    out: &mut [f64],
) -> Result<()> {
    horn(window, cell_width, cell_height, t, out, |p, q| {
        (z_factor * (p * p + q * q).sqrt()).atan().to_degrees()
    })
}

/// Aspect in degrees clockwise from north, `atan2(q, p) − 90°` in `[0, 360)`; −1 where the ground is
/// flat (both gradients within 1e-10, GeoTrellis ≥ 2.2). The z-factor does not change it.
///
/// # Errors
///
/// As [`slope`].
pub fn aspect(
    window: &Window,
    cell_width: f64,
    cell_height: f64,
    t: Target,
    out: &mut [f64],
) -> Result<()> {
    horn(window, cell_width, cell_height, t, out, |p, q| {
        if p.abs() <= 1e-10 && q.abs() <= 1e-10 {
            -1.0
        } else {
            (q.atan2(p).to_degrees() - 90.0).rem_euclid(360.0)
        }
    })
}

/// Hillshade `round(127·max(0, cos Z·cos S + sin Z·sin S·cos(A − aspect)))` for a sun at `azimuth`
/// degrees clockwise from north (`A = 90° − azimuth` counter-clockwise from east) and `altitude` degrees
/// (`Z = 90° − altitude` from the zenith). Written without trigonometry per cell:
/// `(cos Z + sin Z·z·(q·sin A − p·cos A)) / √(1 + z²(p² + q²))`.
///
/// # Errors
///
/// As [`slope`].
#[allow(clippy::too_many_arguments)]
pub fn hillshade(
    window: &Window,
    cell_width: f64,
    cell_height: f64,
    z_factor: f64,
    azimuth: f64,
    altitude: f64,
    t: Target,
    out: &mut [f64],
) -> Result<()> {
    let zenith = (90.0 - altitude).to_radians();
    let sun = (90.0 - azimuth).to_radians();
    let (cos_z, sin_z) = (zenith.cos(), zenith.sin());
    let (sa, ca) = (sin_z * z_factor * sun.sin(), sin_z * z_factor * sun.cos());
    let z2 = z_factor * z_factor;
    horn(window, cell_width, cell_height, t, out, |p, q| {
        let shade = (cos_z + q * sa - p * ca) / (1.0 + z2 * (p * p + q * q)).sqrt();
        (127.0 * shade.max(0.0)).round()
    })
}

/// Tobler's hiking speed in km/h from elevation: `6·exp(−3.5·|tan(slope) + 0.05|)`.
///
/// # Errors
///
/// As [`slope`].
pub fn tobler(
    window: &Window,
    cell_width: f64,
    cell_height: f64,
    z_factor: f64,
    t: Target,
    out: &mut [f64],
) -> Result<()> {
    horn(window, cell_width, cell_height, t, out, |p, q| {
        6.0 * (-3.5 * (z_factor * (p * p + q * q).sqrt() + 0.05).abs()).exp()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::focal::stats::tests::close;

    /// The trigonometric formulas of the GeoTrellis sources, cell by cell.
    fn reference(
        cells: &[f64],
        rows: usize,
        cols: usize,
        z: f64,
        az: f64,
        alt: f64,
    ) -> Vec<[f64; 4]> {
        let at = |r: isize, c: isize, centre: f64| {
            let v = if r < 0 || c < 0 || r >= rows as isize || c >= cols as isize {
                f64::NAN
            } else {
                cells[r as usize * cols + c as usize]
            };
            if v.is_nan() {
                centre
            } else {
                v
            }
        };
        let mut out = Vec::new();
        for r in 1..rows as isize - 1 {
            for c in 1..cols as isize - 1 {
                let centre = cells[r as usize * cols + c as usize];
                let g = |dr, dc| at(r + dr, c + dc, centre);
                let p = ((g(-1, 1) + 2.0 * g(0, 1) + g(1, 1))
                    - (g(-1, -1) + 2.0 * g(0, -1) + g(1, -1)))
                    / 8.0
                    / 10.0;
                let q = ((g(1, -1) + 2.0 * g(1, 0) + g(1, 1))
                    - (g(-1, -1) + 2.0 * g(-1, 0) + g(-1, 1)))
                    / 8.0
                    / 20.0;
                if centre.is_nan() {
                    out.push([f64::NAN; 4]);
                    continue;
                }
                let s = (z * p.hypot(q)).atan();
                let aspect = if p.abs() <= 1e-10 && q.abs() <= 1e-10 {
                    -1.0
                } else {
                    (q.atan2(p).to_degrees() - 90.0).rem_euclid(360.0)
                };
                let (zen, sun) = ((90.0 - alt).to_radians(), (90.0 - az).to_radians());
                let a = q.atan2(-p);
                let shade = zen.cos() * s.cos() + zen.sin() * s.sin() * (sun - a).cos();
                out.push([
                    s.to_degrees(),
                    aspect,
                    (127.0 * shade.max(0.0)).round(),
                    6.0 * (-3.5 * (s.tan() + 0.05).abs()).exp(),
                ]);
            }
        }
        out
    }

    #[test]
    fn horn_terrain_equals_the_trigonometric_formulas() {
        let (rows, cols) = (12, 15);
        let mut cells: Vec<f64> = (0..rows * cols)
            .map(|i| {
                let (r, c) = ((i / cols) as f64, (i % cols) as f64);
                100.0 + 7.0 * (c / 3.0).sin() * (r / 2.0).cos() + 0.3 * r * c
            })
            .collect();
        for i in [17, 40, 41, 100] {
            cells[i] = f64::NAN;
        }
        // A flat patch for aspect's −1.
        for r in 7..11 {
            for c in 9..14 {
                cells[r * cols + c] = 50.0;
            }
        }
        let w = Window {
            cells: &cells,
            rows,
            cols,
        };
        let t = Target {
            row0: 1,
            col0: 1,
            rows: rows - 2,
            cols: cols - 2,
        };
        let n = t.rows * t.cols;
        let (mut s, mut a, mut h, mut tb) =
            (vec![0.0; n], vec![0.0; n], vec![0.0; n], vec![0.0; n]);
        slope(&w, 10.0, 20.0, 1.7, t, &mut s).unwrap();
        aspect(&w, 10.0, 20.0, t, &mut a).unwrap();
        hillshade(&w, 10.0, 20.0, 1.7, 99.0, 33.0, t, &mut h).unwrap();
        tobler(&w, 10.0, 20.0, 1.7, t, &mut tb).unwrap();
        let want = reference(&cells, rows, cols, 1.7, 99.0, 33.0);
        assert!(a.iter().any(|&v| v == -1.0));
        for (i, wv) in want.iter().enumerate() {
            assert!(
                close(s[i], wv[0], 1e-12),
                "slope {i}: {} vs {}",
                s[i],
                wv[0]
            );
            assert!(
                close(a[i], wv[1], 1e-9),
                "aspect {i}: {} vs {}",
                a[i],
                wv[1]
            );
            assert!(
                close(h[i], wv[2], 0.0) || (h[i] - wv[2]).abs() == 1.0,
                "hillshade {i}"
            );
            assert!(
                close(tb[i], wv[3], 1e-12),
                "tobler {i}: {} vs {}",
                tb[i],
                wv[3]
            );
        }
    }

    #[test]
    fn flat_ground_faces_the_sun_height() {
        let cells = vec![3.0; 25];
        let w = Window {
            cells: &cells,
            rows: 5,
            cols: 5,
        };
        let t = Target {
            row0: 1,
            col0: 1,
            rows: 3,
            cols: 3,
        };
        let mut out = vec![0.0; 9];
        hillshade(&w, 1.0, 1.0, 1.0, 315.0, 45.0, t, &mut out).unwrap();
        assert!(out.iter().all(|&v| v == 90.0)); // round(127 · sin 45°)
        slope(&w, 1.0, 1.0, 1.0, t, &mut out).unwrap();
        assert!(out.iter().all(|&v| v == 0.0));
        assert!(slope(&w, 1.0, 1.0, 1.0, Target { row0: 0, ..t }, &mut out).is_err());
    }
}
