//! Which zlib-stream compressor is fastest at what ratio on tile cells (for the catalog writer's opt-in
//! fast compression). `cargo run --release -p geopyspark-engine --example deflate_levels`
//!
//! zlib itself (GeoTrellis' bytes, level 6) is measured end to end by bench/bench_catalog.py.
//!
//! Data: 64 tiles of 256×256 each of float32 smooth data plus noise (bench_catalog's tiles), int16
//! elevations, uint8 classes. Prints MB/s of input per core and the compressed size ratio.

use std::io::Write;
use std::time::Instant;

fn lcg(state: &mut u64) -> f64 {
    *state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    ((*state >> 11) as f64) / ((1u64 << 53) as f64)
}

fn normal(state: &mut u64) -> f64 {
    let (u, v) = (lcg(state).max(1e-12), lcg(state));
    (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
}

fn tiles(kind: &str) -> Vec<Vec<u8>> {
    let mut s = 42u64;
    (0..64)
        .map(|t| {
            let (c0, r0) = ((t % 8) * 256, (t / 8) * 256);
            let mut out = Vec::new();
            for y in 0..256 {
                for x in 0..256 {
                    let (fx, fy) = ((x + c0) as f64, (y + r0) as f64);
                    let smooth = (fx / 97.0).sin() * (fy / 53.0).cos() * 1000.0;
                    match kind {
                        "float32 smooth+noise" => out.extend(((smooth + normal(&mut s) * 5.0) as f32).to_le_bytes()),
                        "int16 elevation" => out.extend(((smooth + 1500.0 + normal(&mut s) * 0.5).round() as i16).to_le_bytes()),
                        _ => out.push(((smooth + 1000.0) / 250.0) as u8),
                    }
                }
            }
            out
        })
        .collect()
}

fn measure(name: &str, data: &[Vec<u8>], mut f: impl FnMut(&[u8]) -> Vec<u8>) {
    let input: usize = data.iter().map(Vec::len).sum();
    let mut best = f64::MAX;
    let mut out = 0;
    for _ in 0..3 {
        let t = Instant::now();
        out = data.iter().map(|d| f(d).len()).sum::<usize>();
        best = best.min(t.elapsed().as_secs_f64());
    }
    println!("  {name:24} {:8.1} MB/s  ratio {:.3}", input as f64 / 1e6 / best, out as f64 / input as f64);
}

fn main() {
    for kind in ["float32 smooth+noise", "int16 elevation", "uint8 classes"] {
        let data = tiles(kind);
        println!("{kind}:");
        for level in [1u32, 6] {
            measure(&format!("zlib-rs level {level}"), &data, |d| {
                let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::new(level));
                e.write_all(d).unwrap();
                e.finish().unwrap()
            });
        }
        for level in [1, 2, 4, 6] {
            let mut c = libdeflater::Compressor::new(libdeflater::CompressionLvl::new(level).unwrap());
            measure(&format!("libdeflate level {level}"), &data, |d| {
                let mut out = vec![0; c.zlib_compress_bound(d.len())];
                let n = c.zlib_compress(d, &mut out).unwrap();
                out.truncate(n);
                out
            });
        }
    }
}
