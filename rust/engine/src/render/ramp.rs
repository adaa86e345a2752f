//! Colour ramps: `n` colours taken from a ramp as GeoTrellis' `ColorRamp.stops(n)` takes them. Fewer stops
//! than the ramp has pick evenly spaced colours; more stops interpolate each channel (R, G, B, A)
//! linearly between neighbouring colours in integer arithmetic, truncating toward zero.

use crate::error::{EngineError, Result};

/// `n` colours (`0xRRGGBBAA`) of the ramp `colors`.
///
/// # Errors
/// [`EngineError::Value`] for an empty ramp when colours are asked for.
pub fn stops(colors: &[u32], n: usize) -> Result<Vec<u32>> {
    if n == 0 {
        return Ok(Vec::new());
    }
    if colors.is_empty() {
        return Err(EngineError::Value("a colour ramp needs at least one colour".into()));
    }
    Ok(match n.cmp(&colors.len()) {
        std::cmp::Ordering::Equal => colors.to_vec(),
        std::cmp::Ordering::Less => spread(colors, n),
        std::cmp::Ordering::Greater => interpolate(colors, n),
    })
}

/// Evenly spaced colours: stop i takes colour `round(i * (len - 1) / (n - 1))` (rounding half up).
fn spread(colors: &[u32], n: usize) -> Vec<u32> {
    let last = (colors.len() - 1) as f64;
    let steps = n.saturating_sub(1).max(1) as f64;
    (0..n).map(|i| colors[(i as f64 * last / steps + 0.5).floor() as usize]).collect()
}

/// Channel-wise linear interpolation to `n` (> len) colours.
fn interpolate(colors: &[u32], n: usize) -> Vec<u32> {
    let mult = (colors.len() - 1) as i64;
    let denom = (n - 1) as i64;
    let channel = |c: u32, shift: u32| ((c >> shift) & 0xff) as i64;
    (0..n as i64)
        .map(|i| {
            let j = (i * mult / denom) as usize;
            let mut out = 0u32;
            for shift in [24, 16, 8, 0] {
                let start = channel(colors[j], shift);
                let v = if (j as i64) < mult {
                    let end = channel(colors[j + 1], shift);
                    start + (end - start) * ((i * mult) % denom) / denom
                } else {
                    start
                };
                out |= (v as u32 & 0xff) << shift;
            }
            out
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fewer_stops_pick_evenly() {
        let ramp: Vec<u32> = (0..10).collect();
        assert_eq!(stops(&ramp, 3).unwrap(), vec![0, 5, 9]); // 4.5 rounds up
        assert_eq!(stops(&ramp, 4).unwrap(), vec![0, 3, 6, 9]);
        assert_eq!(stops(&ramp, 1).unwrap(), vec![0]);
        assert_eq!(stops(&ramp, 10).unwrap(), ramp);
        assert!(stops(&ramp, 0).unwrap().is_empty());
    }

    #[test]
    fn more_stops_interpolate_each_channel() {
        // Black to white in 4 stops: 255 * 1/3 = 85, 255 * 2/3 = 170; alpha 0xff throughout.
        assert_eq!(
            stops(&[0x000000ff, 0xffffffff], 4).unwrap(),
            vec![0x000000ff, 0x555555ff, 0xaaaaaaff, 0xffffffff]
        );
        // A falling channel truncates toward zero: 200 + (100 - 200) * 1 / 3 = 200 - 33.
        assert_eq!(stops(&[0xc8000000, 0x64000000], 4).unwrap()[1] >> 24, 167);
        assert_eq!(stops(&[0x11223344], 3).unwrap(), vec![0x11223344; 3]);
        assert!(stops(&[], 3).is_err());
    }
}
