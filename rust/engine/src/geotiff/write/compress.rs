//! Segment codecs (TIFF Compression tag values) and the two TIFF predictors.

use std::io::Write;

use crate::error::{EngineError, Result};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compression {
    None,
    /// zlib stream (TIFF code 8, "Adobe deflate"); level 0–9, GeoTrellis and GDAL use 6.
    Deflate { level: u32 },
    /// TIFF LZW (code 5): MSB-first codes with TIFF's early code-size switch.
    Lzw,
    /// Zstandard (code 50000, as libtiff/GDAL); level 1–22, GDAL's default is 9.
    Zstd { level: i32 },
}

impl Compression {
    pub fn tiff_code(self) -> u16 {
        match self {
            Compression::None => 1,
            Compression::Deflate { .. } => 8,
            Compression::Lzw => 5,
            Compression::Zstd { .. } => 50000,
        }
    }

    pub fn encode(self, raw: Vec<u8>) -> Result<Vec<u8>> {
        let fail = |e: &dyn std::fmt::Display| EngineError::Internal(format!("GeoTIFF encoder {self:?}: {e}"));
        match self {
            Compression::None => Ok(raw),
            Compression::Deflate { level } => {
                let mut enc = flate2::write::ZlibEncoder::new(
                    Vec::with_capacity(raw.len() / 2 + 64),
                    flate2::Compression::new(level),
                );
                enc.write_all(&raw).map_err(|e| fail(&e))?;
                enc.finish().map_err(|e| fail(&e))
            }
            Compression::Lzw => weezl::encode::Encoder::with_tiff_size_switch(weezl::BitOrder::Msb, 8)
                .encode(&raw)
                .map_err(|e| fail(&e)),
            Compression::Zstd { level } => zstd::bulk::compress(&raw, level).map_err(|e| fail(&e)),
        }
    }
}

/// TIFF Predictor tag values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Predictor {
    None = 1,
    /// Horizontal differencing of integer samples.
    Horizontal = 2,
    /// The floating point predictor: bytes of each row split into planes (most significant first), then
    /// differenced.
    FloatingPoint = 3,
}

/// Applies `predictor` in place to a segment of `rows` rows of `row_samples` samples each
/// (`samples_per_pixel` interleaved), each sample `sample_bytes` little-endian bytes.
pub fn apply_predictor(
    predictor: Predictor,
    data: &mut [u8],
    rows: usize,
    row_samples: usize,
    samples_per_pixel: usize,
    sample_bytes: usize,
) {
    let row_len = row_samples * sample_bytes;
    debug_assert_eq!(data.len(), rows * row_len);
    match predictor {
        Predictor::None => {}
        Predictor::Horizontal => {
            for row in data.chunks_exact_mut(row_len) {
                match sample_bytes {
                    1 => diff_row::<1>(row, samples_per_pixel),
                    2 => diff_row::<2>(row, samples_per_pixel),
                    4 => diff_row::<4>(row, samples_per_pixel),
                    _ => diff_row::<8>(row, samples_per_pixel),
                }
            }
        }
        Predictor::FloatingPoint => {
            let mut planes = vec![0u8; row_len];
            for row in data.chunks_exact_mut(row_len) {
                for (i, value) in row.chunks_exact(sample_bytes).enumerate() {
                    for (b, byte) in value.iter().enumerate() {
                        // Little-endian input: byte b goes to plane (sample_bytes - 1 - b).
                        planes[(sample_bytes - 1 - b) * row_samples + i] = *byte;
                    }
                }
                for j in (samples_per_pixel..row_len).rev() {
                    planes[j] = planes[j].wrapping_sub(planes[j - samples_per_pixel]);
                }
                row.copy_from_slice(&planes);
            }
        }
    }
}

/// Horizontal differencing of one row of N-byte little-endian integers, in place, from the end.
fn diff_row<const N: usize>(row: &mut [u8], stride: usize) {
    let read = |row: &[u8], i: usize| -> u64 {
        let mut b = [0u8; 8];
        b[..N].copy_from_slice(&row[i * N..i * N + N]);
        u64::from_le_bytes(b)
    };
    let count = row.len() / N;
    for i in (stride..count).rev() {
        let d = read(row, i).wrapping_sub(read(row, i - stride));
        row[i * N..i * N + N].copy_from_slice(&d.to_le_bytes()[..N]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn sample() -> Vec<u8> {
        (0..10_000u32).flat_map(|i| ((i / 7) as f32).to_le_bytes()).collect()
    }

    #[test]
    fn write_deflate_round_trips() {
        let raw = sample();
        let z = Compression::Deflate { level: 6 }.encode(raw.clone()).unwrap();
        assert!(z.len() < raw.len());
        let mut back = Vec::new();
        flate2::read::ZlibDecoder::new(&z[..]).read_to_end(&mut back).unwrap();
        assert_eq!(back, raw);
    }

    #[test]
    fn write_lzw_round_trips_with_tiff_decoder() {
        let raw = sample();
        let z = Compression::Lzw.encode(raw.clone()).unwrap();
        let back = weezl::decode::Decoder::with_tiff_size_switch(weezl::BitOrder::Msb, 8)
            .decode(&z)
            .unwrap();
        assert_eq!(back, raw);
    }

    #[test]
    fn write_zstd_round_trips() {
        let raw = sample();
        let z = Compression::Zstd { level: 9 }.encode(raw.clone()).unwrap();
        assert_eq!(zstd::bulk::decompress(&z, raw.len()).unwrap(), raw);
    }

    #[test]
    fn write_horizontal_predictor_differences_per_sample() {
        // Two rows of 3 pixels × 2 samples, u16.
        let vals: [u16; 12] = [1, 10, 3, 13, 6, 19, 100, 0, 90, 5, 95, 1];
        let mut data: Vec<u8> = vals.iter().flat_map(|v| v.to_le_bytes()).collect();
        apply_predictor(Predictor::Horizontal, &mut data, 2, 6, 2, 2);
        let got: Vec<u16> = data.chunks(2).map(|c| u16::from_le_bytes([c[0], c[1]])).collect();
        assert_eq!(got, vec![1, 10, 2, 3, 3, 6, 100, 0, 65526, 5, 5, 65532]);
    }

    #[test]
    fn write_floating_point_predictor_inverts() {
        let vals = [1.5f32, -2.25, 1e10, 0.0];
        let mut data: Vec<u8> = vals.iter().flat_map(|v| v.to_le_bytes()).collect();
        apply_predictor(Predictor::FloatingPoint, &mut data, 1, 4, 1, 4);
        // Undo as a reader does: cumulative sum, then planes back to values.
        for j in 1..data.len() {
            data[j] = data[j].wrapping_add(data[j - 1]);
        }
        let back: Vec<f32> = (0..4)
            .map(|i| f32::from_be_bytes([data[i], data[4 + i], data[8 + i], data[12 + i]]))
            .collect();
        assert_eq!(back, vals);
    }
}
