//! A PNG encoder for rendered tiles: 8-bit grey, grey+alpha, RGB, RGBA and palette images, one IDAT chunk
//! compressed with libdeflate. Rendered tiles are small (256×256) and flat-coloured, so a fast level with
//! one filter for the whole image beats a per-row filter search (`bench/bench_render.py` measures it).

use libdeflater::{CompressionLvl, Compressor};

use crate::error::{EngineError, Result};

/// How pixels are stored. Colours are `0xRRGGBBAA`.
#[derive(Clone, Debug, PartialEq)]
pub enum PngKind {
    /// One byte per pixel; `transparent` is the grey value shown fully transparent (tRNS).
    Grey { transparent: Option<u8> },
    /// Two bytes per pixel: grey, alpha.
    GreyAlpha,
    /// Three bytes per pixel; `transparent` is the colour shown fully transparent (tRNS).
    Rgb { transparent: Option<[u8; 3]> },
    /// Four bytes per pixel.
    Rgba,
    /// One palette index per pixel into at most 256 colours (alpha through tRNS).
    Palette { colors: Vec<u32> },
}

impl PngKind {
    fn bytes_per_pixel(&self) -> usize {
        match self {
            PngKind::Grey { .. } | PngKind::Palette { .. } => 1,
            PngKind::GreyAlpha => 2,
            PngKind::Rgb { .. } => 3,
            PngKind::Rgba => 4,
        }
    }

    fn color_type(&self) -> u8 {
        match self {
            PngKind::Grey { .. } => 0,
            PngKind::Rgb { .. } => 2,
            PngKind::Palette { .. } => 3,
            PngKind::GreyAlpha => 4,
            PngKind::Rgba => 6,
        }
    }
}

/// The scanline filter applied to every row (PNG filter types 0–4).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Filter {
    None = 0,
    Sub = 1,
    Up = 2,
    Average = 3,
    Paeth = 4,
}

impl Filter {
    pub fn parse(name: &str) -> Result<Filter> {
        Ok(match name.to_ascii_lowercase().as_str() {
            "none" => Filter::None,
            "sub" => Filter::Sub,
            "up" => Filter::Up,
            "average" => Filter::Average,
            "paeth" => Filter::Paeth,
            other => {
                return Err(EngineError::Value(format!(
                    "unknown PNG filter {other:?}; expected none, sub, up, average or paeth"
                )))
            }
        })
    }
}

/// Encoder settings: the zlib level (0–12, libdeflate's scale) and the row filter.
#[derive(Clone, Copy, Debug)]
pub struct PngOptions {
    pub level: i32,
    pub filter: Filter,
}

impl Default for PngOptions {
    /// Chosen from `bench/bench_render.py` on rendered 256×256 tiles: level 1 with Up compresses within a
    /// few percent of level 6 with Paeth at several times the speed.
    fn default() -> Self {
        PngOptions { level: 1, filter: Filter::Up }
    }
}

fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    let start = out.len();
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let crc = libdeflater::crc32(&out[start..]);
    out.extend_from_slice(&crc.to_be_bytes());
}

fn paeth(a: u8, b: u8, c: u8) -> u8 {
    let p = a as i16 + b as i16 - c as i16;
    let (pa, pb, pc) = ((p - a as i16).abs(), (p - b as i16).abs(), (p - c as i16).abs());
    if pa <= pb && pa <= pc {
        a
    } else if pb <= pc {
        b
    } else {
        c
    }
}

/// Append `row` filtered against `prev` (None for the first row) to `out`, filter byte first.
fn filter_row(out: &mut Vec<u8>, filter: Filter, bpp: usize, row: &[u8], prev: Option<&[u8]>) {
    out.push(filter as u8);
    let up = |i: usize| prev.map_or(0, |p| p[i]);
    match filter {
        Filter::None => out.extend_from_slice(row),
        Filter::Sub => out.extend(row.iter().enumerate().map(|(i, &x)| {
            x.wrapping_sub(if i >= bpp { row[i - bpp] } else { 0 })
        })),
        Filter::Up => match prev {
            Some(p) => out.extend(row.iter().zip(p).map(|(&x, &b)| x.wrapping_sub(b))),
            None => out.extend_from_slice(row),
        },
        Filter::Average => out.extend(row.iter().enumerate().map(|(i, &x)| {
            let a = if i >= bpp { row[i - bpp] as u16 } else { 0 };
            x.wrapping_sub(((a + up(i) as u16) / 2) as u8)
        })),
        Filter::Paeth => out.extend(row.iter().enumerate().map(|(i, &x)| {
            let (a, c) = if i >= bpp {
                (row[i - bpp], up(i - bpp))
            } else {
                (0, 0)
            };
            x.wrapping_sub(paeth(a, up(i), c))
        })),
    }
}

/// Encode `pixels` (row-major samples as `kind` stores them) as a PNG file.
///
/// # Errors
/// [`EngineError::Value`] when the sizes disagree, the image is empty, a palette has no or over 256
/// colours, or the level is outside 0–12.
pub fn encode(width: usize, height: usize, kind: &PngKind, pixels: &[u8], options: PngOptions) -> Result<Vec<u8>> {
    let bpp = kind.bytes_per_pixel();
    if width == 0 || height == 0 || width > u32::MAX as usize / 8 || height > u32::MAX as usize {
        return Err(EngineError::Value(format!("cannot encode a {width}×{height} PNG")));
    }
    if pixels.len() != width * height * bpp {
        return Err(EngineError::Value(format!(
            "a {width}×{height} PNG of {bpp} byte(s) per pixel needs {} bytes, got {}",
            width * height * bpp,
            pixels.len()
        )));
    }
    if !(0..=12).contains(&options.level) {
        return Err(EngineError::Value(format!("PNG compression level {} is outside 0..=12", options.level)));
    }
    let mut out = Vec::with_capacity(pixels.len() / 4 + 1024);
    out.extend_from_slice(b"\x89PNG\r\n\x1a\n");
    let mut ihdr = Vec::with_capacity(13);
    ihdr.extend_from_slice(&(width as u32).to_be_bytes());
    ihdr.extend_from_slice(&(height as u32).to_be_bytes());
    ihdr.extend_from_slice(&[8, kind.color_type(), 0, 0, 0]);
    chunk(&mut out, b"IHDR", &ihdr);
    match kind {
        PngKind::Palette { colors } => {
            if colors.is_empty() || colors.len() > 256 {
                return Err(EngineError::Value(format!(
                    "a PNG palette holds 1 to 256 colours, got {}",
                    colors.len()
                )));
            }
            let plte: Vec<u8> = colors.iter().flat_map(|c| [(c >> 24) as u8, (c >> 16) as u8, (c >> 8) as u8]).collect();
            chunk(&mut out, b"PLTE", &plte);
            // tRNS lists alphas up to the last colour that is not opaque.
            let alphas: Vec<u8> = colors.iter().map(|c| *c as u8).collect();
            if let Some(last) = alphas.iter().rposition(|&a| a != 255) {
                chunk(&mut out, b"tRNS", &alphas[..=last]);
            }
        }
        PngKind::Grey { transparent: Some(g) } => chunk(&mut out, b"tRNS", &[0, *g]),
        PngKind::Rgb { transparent: Some([r, g, b]) } => chunk(&mut out, b"tRNS", &[0, *r, 0, *g, 0, *b]),
        _ => {}
    }
    let stride = width * bpp;
    let mut filtered = Vec::with_capacity((stride + 1) * height);
    let mut prev: Option<&[u8]> = None;
    for row in pixels.chunks_exact(stride) {
        filter_row(&mut filtered, options.filter, bpp, row, prev);
        prev = Some(row);
    }
    let level = CompressionLvl::new(options.level).map_err(|_| EngineError::Value("bad PNG level".into()))?;
    let mut compressor = Compressor::new(level);
    let mut idat = vec![0u8; compressor.zlib_compress_bound(filtered.len())];
    let n = compressor
        .zlib_compress(&filtered, &mut idat)
        .map_err(|e| EngineError::Internal(format!("zlib compression of a PNG failed: {e:?}")))?;
    idat.truncate(n);
    chunk(&mut out, b"IDAT", &idat);
    chunk(&mut out, b"IEND", &[]);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A minimal decoder for the images `encode` writes (one IDAT, 8-bit samples).
    pub(crate) fn decode(png: &[u8]) -> (usize, usize, u8, Vec<u8>, Vec<(String, Vec<u8>)>) {
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        let mut pos = 8;
        let mut chunks = Vec::new();
        while pos < png.len() {
            let len = u32::from_be_bytes(png[pos..pos + 4].try_into().unwrap()) as usize;
            let kind = String::from_utf8(png[pos + 4..pos + 8].to_vec()).unwrap();
            let data = png[pos + 8..pos + 8 + len].to_vec();
            let crc = u32::from_be_bytes(png[pos + 8 + len..pos + 12 + len].try_into().unwrap());
            assert_eq!(crc, libdeflater::crc32(&png[pos + 4..pos + 8 + len]), "{kind} crc");
            chunks.push((kind, data));
            pos += 12 + len;
        }
        let ihdr = &chunks[0].1;
        let w = u32::from_be_bytes(ihdr[0..4].try_into().unwrap()) as usize;
        let h = u32::from_be_bytes(ihdr[4..8].try_into().unwrap()) as usize;
        let ct = ihdr[9];
        let bpp = match ct {
            0 | 3 => 1,
            4 => 2,
            2 => 3,
            _ => 4,
        };
        let idat = &chunks.iter().find(|c| c.0 == "IDAT").unwrap().1;
        let mut raw = vec![0u8; (w * bpp + 1) * h];
        libdeflater::Decompressor::new().zlib_decompress(idat, &mut raw).unwrap();
        let mut out = vec![0u8; w * bpp * h];
        for y in 0..h {
            let f = raw[y * (w * bpp + 1)];
            for i in 0..w * bpp {
                let x = raw[y * (w * bpp + 1) + 1 + i];
                let a = if i >= bpp { out[y * w * bpp + i - bpp] } else { 0 };
                let b = if y > 0 { out[(y - 1) * w * bpp + i] } else { 0 };
                let c = if y > 0 && i >= bpp { out[(y - 1) * w * bpp + i - bpp] } else { 0 };
                out[y * w * bpp + i] = x.wrapping_add(match f {
                    0 => 0,
                    1 => a,
                    2 => b,
                    3 => ((a as u16 + b as u16) / 2) as u8,
                    4 => paeth(a, b, c),
                    _ => panic!("filter {f}"),
                });
            }
        }
        (w, h, ct, out, chunks)
    }

    #[test]
    fn every_filter_and_kind_round_trips() {
        let (w, h) = (7, 5);
        for (kind, bpp) in [
            (PngKind::Grey { transparent: Some(3) }, 1),
            (PngKind::GreyAlpha, 2),
            (PngKind::Rgb { transparent: None }, 3),
            (PngKind::Rgba, 4),
            (PngKind::Palette { colors: vec![0xff0000ff, 0x00ff0080, 0x0000ffff] }, 1),
        ] {
            let pixels: Vec<u8> = (0..w * h * bpp).map(|i| ((i * 37 + i / 3) % 251) as u8 % if bpp == 1 { 3 } else { 255 }).collect();
            for filter in [Filter::None, Filter::Sub, Filter::Up, Filter::Average, Filter::Paeth] {
                for level in [0, 1, 6, 12] {
                    let png = encode(w, h, &kind, &pixels, PngOptions { level, filter }).unwrap();
                    let (dw, dh, ct, got, chunks) = decode(&png);
                    assert_eq!((dw, dh, ct), (w, h, kind.color_type()));
                    assert_eq!(got, pixels, "{kind:?} {filter:?} {level}");
                    assert_eq!(chunks.last().unwrap().0, "IEND");
                }
            }
        }
    }

    #[test]
    fn transparency_chunks() {
        let png = encode(1, 1, &PngKind::Palette { colors: vec![0x00000000, 0x102030ff] }, &[1], PngOptions::default()).unwrap();
        let chunks = decode(&png).4;
        assert_eq!(chunks[1], ("PLTE".into(), vec![0, 0, 0, 0x10, 0x20, 0x30]));
        assert_eq!(chunks[2], ("tRNS".into(), vec![0]));
        let png = encode(1, 1, &PngKind::Rgb { transparent: Some([1, 2, 3]) }, &[1, 2, 3], PngOptions::default()).unwrap();
        assert_eq!(decode(&png).4[1], ("tRNS".into(), vec![0, 1, 0, 2, 0, 3]));
    }

    #[test]
    fn bad_sizes() {
        assert!(encode(0, 1, &PngKind::Rgba, &[], PngOptions::default()).is_err());
        assert!(encode(2, 1, &PngKind::Rgba, &[0; 7], PngOptions::default()).is_err());
        assert!(encode(1, 1, &PngKind::Palette { colors: vec![] }, &[0], PngOptions::default()).is_err());
        assert!(encode(1, 1, &PngKind::Rgba, &[0; 4], PngOptions { level: 13, filter: Filter::Up }).is_err());
    }
}
