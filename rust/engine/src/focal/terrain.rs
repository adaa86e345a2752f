use super::stats::Window;
use crate::error::Result;
fn grads(w: &Window, cw: f64, ch: f64, y: usize, x: usize) -> Option<(f64, f64)> {
    let c = w.cells[y * w.cols + x];
    if c.is_nan() { return None; }
    let at = |dy: isize, dx: isize| { let (yy, xx) = (y as isize + dy, x as isize + dx);
        if yy < 0 || xx < 0 || yy >= w.rows as isize || xx >= w.cols as isize { return c; }
        let v = w.cells[yy as usize * w.cols + xx as usize]; if v.is_nan() { c } else { v } };
    let (nw, n, ne, ww, e, sw, s, se) = (at(-1,-1), at(-1,0), at(-1,1), at(0,-1), at(0,1), at(1,-1), at(1,0), at(1,1));
    Some((((ne + 2.0*e + se) - (nw + 2.0*ww + sw)) / (8.0*cw), ((sw + 2.0*s + se) - (nw + 2.0*n + ne)) / (8.0*ch)))
}
#[allow(clippy::too_many_arguments)]
fn each(w: &Window, cw: f64, ch: f64, r0: usize, c0: usize, tr: usize, tc: usize, out: &mut [f64], f: impl Fn(f64, f64) -> f64) -> Result<()> {
    for r in 0..tr { for c in 0..tc { out[r*tc+c] = match grads(w, cw, ch, r0+r, c0+c) { Some((x, y)) => f(x, y), None => f64::NAN }; } }
    Ok(())
}
#[allow(clippy::too_many_arguments)]
pub fn slope(w: &Window, cw: f64, ch: f64, z: f64, r0: usize, c0: usize, tr: usize, tc: usize, out: &mut [f64]) -> Result<()> {
    each(w, cw, ch, r0, c0, tr, tc, out, |x, y| (z * (x*x + y*y).sqrt()).atan().to_degrees())
}
#[allow(clippy::too_many_arguments)]
pub fn aspect(w: &Window, cw: f64, ch: f64, r0: usize, c0: usize, tr: usize, tc: usize, out: &mut [f64]) -> Result<()> {
    each(w, cw, ch, r0, c0, tr, tc, out, |x, y| if x.abs() <= 1e-10 && y.abs() <= 1e-10 { -1.0 } else { (y.atan2(x).to_degrees() - 90.0).rem_euclid(360.0) })
}
#[allow(clippy::too_many_arguments)]
pub fn hillshade(w: &Window, cw: f64, ch: f64, z: f64, az: f64, alt: f64, r0: usize, c0: usize, tr: usize, tc: usize, out: &mut [f64]) -> Result<()> {
    let zen = (90.0 - alt).to_radians(); let azr = (90.0 - az).to_radians();
    each(w, cw, ch, r0, c0, tr, tc, out, |x, y| { let s = (z * (x*x+y*y).sqrt()).atan(); let a = y.atan2(-x);
        (127.0 * (zen.cos()*s.cos() + zen.sin()*s.sin()*(azr - a).cos()).max(0.0)).round() })
}
#[allow(clippy::too_many_arguments)]
pub fn tobler(w: &Window, cw: f64, ch: f64, z: f64, r0: usize, c0: usize, tr: usize, tc: usize, out: &mut [f64]) -> Result<()> {
    each(w, cw, ch, r0, c0, tr, tc, out, |x, y| 6.0 * (-3.5 * ((z * (x*x+y*y).sqrt()) + 0.05).abs()).exp())
}
