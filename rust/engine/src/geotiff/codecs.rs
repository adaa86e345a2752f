//! Segment decoders for the codecs of real-world COGs beyond libtiff's classic set: WebP (TIFF
//! Compression 50001), JPEG 2000 (34712), LERC (34887, plain or with the deflate or zstd pass that
//! GDAL records in the LercParameters tag) and LZMA (34925, the xz streams libtiff writes).
//!
//! Each decoder leaves the segment's samples in `out`, chunky and little-endian, `shape.rows` rows of
//! `shape.cols * shape.samples` samples, as `decode::decompress` expects (predictors are undone there,
//! after LZMA; the other codecs are never combined with a predictor by GDAL). A decoded image larger
//! than the segment, or smaller than its rows, is an error: a header can never make us allocate more
//! than a segment's worth of cells.

use std::io::Read;

use super::decode::SegmentShape;
use super::info::{ImageLayout, SampleKind};

/// LercParameters (tag 50674) second value: the extra compression of the LERC blob.
const LERC_ADD_NONE: u64 = 0;
const LERC_ADD_DEFLATE: u64 = 1;
const LERC_ADD_ZSTD: u64 = 2;

/// The decodable sample types of each codec (checked before any segment is read, so an
/// unsupported combination is a `NotImplementedError` naming it rather than a corrupt-data error).
pub fn check(layout: &ImageLayout) -> Result<(), String> {
    let name = layout.compression_name();
    let kind = layout.kind;
    let samples = if layout.planar { 1 } else { layout.bands };
    match layout.compression {
        1 | 5 | 8 | 32946 | 32773 | 50000 | 34925 => Ok(()),
        7 if kind == SampleKind::U8 => Ok(()),
        7 => Err(format!(
            "{}-bit JPEG compression is not supported (the JPEG decoder, zune-jpeg, reads 8-bit JPEG only)",
            kind.bits()
        )),
        50001 if kind == SampleKind::U8 && matches!(samples, 3 | 4) => Ok(()),
        50001 => Err(format!(
            "WebP compression of {samples} {}-bit sample(s) per pixel is not supported (WebP holds 8-bit RGB or RGBA)",
            kind.bits()
        )),
        34712 if matches!(kind, SampleKind::U8 | SampleKind::I8 | SampleKind::U16 | SampleKind::I16) => {
            Ok(())
        }
        34712 => Err(format!(
            "JPEG 2000 compression of {}-bit {kind:?} samples is not supported (8- and 16-bit integers only)",
            kind.bits()
        )),
        34887 => {
            let add = layout.lerc_parameters.get(1).copied().unwrap_or(LERC_ADD_NONE);
            if !matches!(add, LERC_ADD_NONE | LERC_ADD_DEFLATE | LERC_ADD_ZSTD) {
                return Err(format!(
                    "LERC with additional compression {add} (LercParameters tag) is not supported; \
                     0 (none), 1 (deflate) and 2 (zstd) are"
                ));
            }
            match kind {
                SampleKind::Bit | SampleKind::U64 | SampleKind::I64 => {
                    Err(format!("LERC compression of {}-bit {kind:?} samples is not supported", kind.bits()))
                }
                _ => Ok(()),
            }
        }
        c => Err(format!("compression {name} (TIFF Compression tag {c}) is not supported")),
    }
}

/// Copies the first `shape.rows` rows and `shape.cols` columns of a decoded `w`×`h` image of
/// `pixel_bytes` bytes per pixel into `out`, after checking that the image covers the segment.
fn crop(pixels: &[u8], w: usize, h: usize, pixel_bytes: usize, shape: &SegmentShape, out: &mut Vec<u8>) -> Result<(), String> {
    if w < shape.cols || h < shape.rows || pixels.len() < w * h * pixel_bytes {
        return Err(format!(
            "decoded image is {w}x{h}, the segment needs {}x{}",
            shape.cols, shape.rows
        ));
    }
    out.clear();
    let row = shape.cols * pixel_bytes;
    out.reserve(row * shape.rows);
    for r in 0..shape.rows {
        out.extend_from_slice(&pixels[r * w * pixel_bytes..][..row]);
    }
    Ok(())
}

/// The decoded image may not be larger than a full segment (tile, or strip of RowsPerStrip rows).
fn check_size(layout: &ImageLayout, w: usize, h: usize, shape: &SegmentShape, codec: &str) -> Result<(), String> {
    if w > layout.segment_cols || h > layout.segment_rows.max(shape.rows) || w < shape.cols || h < shape.rows {
        return Err(format!(
            "{codec} image is {w}x{h}, the segment is {}x{} ({} rows used)",
            layout.segment_cols, layout.segment_rows, shape.rows
        ));
    }
    Ok(())
}

/// WebP (50001): one lossy or lossless WebP image per segment, RGB or RGBA, as GDAL writes it. The
/// decoder (image-webp) upsamples lossy chroma bilinearly, as libwebp does by default.
pub fn webp(layout: &ImageLayout, data: &[u8], shape: &SegmentShape, out: &mut Vec<u8>) -> Result<(), String> {
    let mut dec = image_webp::WebPDecoder::new(std::io::Cursor::new(data))
        .map_err(|e| format!("corrupt WebP data: {e}"))?;
    if dec.is_animated() {
        return Err("an animated WebP image is not a raster segment".into());
    }
    let (w, h) = dec.dimensions();
    let (w, h) = (w as usize, h as usize);
    check_size(layout, w, h, shape, "WebP")?;
    let comps = if dec.has_alpha() { 4 } else { 3 };
    let size = dec
        .output_buffer_size()
        .filter(|&n| n == w * h * comps)
        .ok_or_else(|| format!("WebP image of {w}x{h} pixels has an unexpected buffer size"))?;
    let mut pixels = vec![0u8; size];
    dec.read_image(&mut pixels)
        .map_err(|e| format!("corrupt WebP data: {e}"))?;
    match (comps, shape.samples) {
        (a, b) if a == b => crop(&pixels, w, h, comps, shape, out),
        // RGB image for an RGBA segment: GDAL's writer drops an alpha that is opaque everywhere.
        (3, 4) => {
            let rgba: Vec<u8> = pixels
                .chunks_exact(3)
                .flat_map(|p| [p[0], p[1], p[2], 255])
                .collect();
            crop(&rgba, w, h, 4, shape, out)
        }
        (4, 3) => {
            let rgb: Vec<u8> = pixels.chunks_exact(4).flat_map(|p| [p[0], p[1], p[2]]).collect();
            crop(&rgb, w, h, 3, shape, out)
        }
        (a, b) => Err(format!("WebP image has {a} components, the segment {b}")),
    }
}

/// JPEG 2000 (34712): a J2K codestream (or a JP2 file) per segment. Components come back as they
/// are stored (palettes are not resolved); signed samples are shifted back from the decoder's
/// unsigned range.
///
/// hayro-jpeg2000 has indexing and `unwrap`s on paths that malformed codestreams can reach, so the
/// decoding runs under `catch_unwind`: a panic there is reported as corrupt data, never unwinds
/// into the caller (the crate holds no shared state that a panic could leave inconsistent).
pub fn jpeg2000(layout: &ImageLayout, data: &[u8], shape: &SegmentShape, out: &mut Vec<u8>) -> Result<(), String> {
    let run = || jpeg2000_inner(layout, data, shape, out);
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(run)) {
        Ok(r) => r,
        Err(_) => Err("corrupt JPEG 2000 data (the decoder failed)".into()),
    }
}

fn jpeg2000_inner(layout: &ImageLayout, data: &[u8], shape: &SegmentShape, out: &mut Vec<u8>) -> Result<(), String> {
    use hayro_jpeg2000::{DecodeSettings, DecoderContext, Image};
    let settings = DecodeSettings {
        resolve_palette_indices: false,
        strict: false,
        target_resolution: None,
    };
    let image = Image::new(data, &settings).map_err(|e| format!("corrupt JPEG 2000 data: {e}"))?;
    let (w, h) = (image.width() as usize, image.height() as usize);
    check_size(layout, w, h, shape, "JPEG 2000")?;
    let mut ctx = DecoderContext::default();
    let decoded = image
        .decode(&mut ctx)
        .map_err(|e| format!("corrupt JPEG 2000 data: {e}"))?;
    let comps = decoded.components();
    if comps.len() != shape.samples {
        return Err(format!(
            "JPEG 2000 image has {} components, the segment {}",
            comps.len(),
            shape.samples
        ));
    }
    if let Some(c) = comps.iter().find(|c| c.samples().len() < w * h) {
        return Err(format!(
            "JPEG 2000 component has {} samples, {w}x{h} expected (subsampled components are not supported)",
            c.samples().len()
        ));
    }
    let n = layout.kind.bytes();
    let spp = shape.samples;
    out.clear();
    out.resize(shape.rows * shape.cols * spp * n, 0);
    let (lo, hi) = match layout.kind {
        SampleKind::U8 => (0.0, 255.0),
        SampleKind::I8 => (-128.0, 127.0),
        SampleKind::U16 => (0.0, 65535.0),
        _ => (-32768.0, 32767.0),
    };
    let signed = matches!(layout.kind, SampleKind::I8 | SampleKind::I16);
    for (s, comp) in comps.iter().enumerate() {
        // The decoder adds 2^(precision-1) to every component, signed or not.
        let shift = if signed { (1u32 << comp.bit_depth().clamp(1, 31).saturating_sub(1)) as f32 } else { 0.0 };
        let src = comp.samples();
        for r in 0..shape.rows {
            for c in 0..shape.cols {
                let v = (src[r * w + c] - shift).round().clamp(lo, hi);
                let at = ((r * shape.cols + c) * spp + s) * n;
                match n {
                    1 => out[at] = if signed { (v as i8) as u8 } else { v as u8 },
                    _ => {
                        let b = if signed { (v as i16).to_le_bytes() } else { (v as u16).to_le_bytes() };
                        out[at..at + 2].copy_from_slice(&b);
                    }
                }
            }
        }
    }
    Ok(())
}

/// LERC (34887): one LERC2 blob per segment (all of a pixel's samples as LERC "depth" values),
/// possibly deflated (zlib stream) or zstd-compressed as LercParameters says. As GDAL does, float
/// pixels the blob's validity mask marks invalid read as NaN; integer ones keep the decoded value.
pub fn lerc(
    layout: &ImageLayout,
    data: &[u8],
    shape: &SegmentShape,
    inflate: &mut Option<libdeflater::Decompressor>,
    scratch: &mut Vec<u8>,
    out: &mut Vec<u8>,
) -> Result<(), String> {
    let n = layout.kind.bytes();
    let full = layout.segment_cols * layout.segment_rows.max(shape.rows) * shape.samples * n;
    // A LERC blob stays close to the raw size even where it compresses nothing (a header, a mask and
    // bit-stuffed or raw values); room for twice that plus the header bounds the decompression.
    let limit = full * 2 + 4096;
    let blob: &[u8] = match layout.lerc_parameters.get(1).copied().unwrap_or(LERC_ADD_NONE) {
        LERC_ADD_DEFLATE => {
            // Nor more than the compressed bytes can inflate to (found by fuzzing: a header claiming
            // a huge tile asked for 27 GB of room).
            let limit = limit.min(crate::geotiff::decode::most_inflated(data.len()));
            scratch.clear();
            scratch.resize(limit, 0);
            let z = inflate.get_or_insert_with(libdeflater::Decompressor::new);
            let got = z.zlib_decompress(data, scratch).map_err(|e| match e {
                libdeflater::DecompressionError::InsufficientSpace => {
                    format!("deflated LERC blob decodes past {limit} bytes: corrupt")
                }
                libdeflater::DecompressionError::BadData => "corrupt or truncated deflate data around the LERC blob".into(),
            })?;
            &scratch[..got]
        }
        LERC_ADD_ZSTD => {
            let got = crate::geotiff::decode::zstd_bounded(data, limit, scratch)
                .map_err(|e| format!("corrupt zstd data around the LERC blob: {e}"))?;
            if got > limit {
                return Err(format!("zstd LERC blob decodes past {limit} bytes: corrupt"));
            }
            &scratch[..got]
        }
        _ => data,
    };
    let info = lerc::decode_info(blob).map_err(|e| format!("corrupt LERC data: {e}"))?;
    let (w, h) = (info.width as usize, info.height as usize);
    check_size(layout, w, h, shape, "LERC")?;
    let depth = info.depth as usize * info.bands as usize;
    if depth != shape.samples {
        return Err(format!(
            "LERC blob has {} band(s) of depth {}, the segment {} sample(s) per pixel",
            info.bands, info.depth, shape.samples
        ));
    }
    let count = w * h * depth;
    macro_rules! decode_as {
        ($t:ty, $nan:expr) => {{
            let mut px: Vec<$t> = vec![<$t>::default(); count];
            let res = lerc::decode_into(blob, &mut px[..]).map_err(|e| format!("corrupt LERC data: {e}"))?;
            if let Some(nan) = $nan {
                for (b, mask) in res.valid_masks.iter().enumerate() {
                    if mask.is_all_valid() {
                        continue;
                    }
                    let band = &mut px[b * w * h * info.depth as usize..][..w * h * info.depth as usize];
                    for (k, pixel) in band.chunks_exact_mut(info.depth as usize).enumerate() {
                        if !mask.is_valid(k) {
                            pixel.fill(nan);
                        }
                    }
                }
            }
            let bytes: Vec<u8> = px.iter().flat_map(|v| v.to_le_bytes()).collect();
            crop(&bytes, w, h, depth * n, shape, out)
        }};
    }
    match layout.kind {
        SampleKind::U8 => decode_as!(u8, None::<u8>),
        SampleKind::I8 => decode_as!(i8, None::<i8>),
        SampleKind::U16 => decode_as!(u16, None::<u16>),
        SampleKind::I16 => decode_as!(i16, None::<i16>),
        SampleKind::U32 => decode_as!(u32, None::<u32>),
        SampleKind::I32 => decode_as!(i32, None::<i32>),
        SampleKind::F32 => decode_as!(f32, Some(f32::NAN)),
        SampleKind::F64 => decode_as!(f64, Some(f64::NAN)),
        k => Err(format!("LERC compression of {k:?} samples is not supported")),
    }
}

/// LZMA (34925): libtiff writes one xz stream per segment (here with a delta filter before LZMA2),
/// with an integrity check that is verified at the end of the stream.
pub fn lzma(layout: &ImageLayout, data: &[u8], shape: &SegmentShape, needed: usize, out: &mut Vec<u8>) -> Result<(), String> {
    // Room for a full-size segment plus one byte: a stream that decodes past it is corrupt.
    let full = shape.row_bytes(layout.kind) * layout.segment_rows.max(shape.rows);
    // The dictionary is allocated as the header asks: 256 MiB at most (xz's preset 9 uses 64 MiB).
    let reader = lzma_rust2::XzReader::new_mem_limit(data, false, 256 * 1024);
    out.clear();
    reader
        .take(full as u64 + 1)
        .read_to_end(out)
        .map_err(|e| format!("corrupt or truncated LZMA (xz) data: {e}"))?;
    if out.len() > full {
        return Err(format!("LZMA stream decodes past the segment's {full} bytes: corrupt"));
    }
    if out.len() < needed {
        return Err(format!(
            "segment decodes to {} bytes, {needed} expected (truncated or corrupt)",
            out.len()
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 16×16 uint8 gradient (3·row + 5·col mod 256), losslessly coded.
    fn gradient() -> Vec<u8> {
        (0..16usize)
            .flat_map(|r| (0..16usize).map(move |c| ((r * 3 + c * 5) % 256) as u8))
            .collect()
    }

    /// The gradient as a J2K codestream written by GDAL's JP2OpenJPEG driver (QUALITY=100,
    /// REVERSIBLE=YES, CODEC=J2K).
    const GRADIENT_J2K: &str = "ff4fff510029000200000010000000100000000000000000000000100000001000000000000000000001070101ff52000d0100000100000404000199ff5c00044040ff64003d000143726561746564206279204f70656e4a5045472076657273696f6e20322e352e332e204c4f53534c4553532073657474696e67732075736564ff90000a0000000000da0001ff93df8592123765dacb87f2fef91a36e9dabf28ea2fa0e87b9373486117755547a3fe9201344a74a52c9a2560929805d349fe039a39618f54092fca52a8fceea1013e582d162096390ca48c299f7bde2f629225a523a7870533c5ec5257501cfb9230a68a6ca9d01d45e60724856ce3fb68bcc0e490ad9c7f6d17981c9215b38feda2f303923e2df66d011abd5eaf57abd5eaf57abd5eaf57abd5eaf57abd5eaf57abd5eaf57abd5eaf5791f3113889c44e227113889c44e227113889c44e227113889c44e227113889c44e226fffd9";

    /// The gradient as an xz stream the way libtiff writes it (delta filter, LZMA2, no check).
    const GRADIENT_XZ: &str = "fd377a585a000000ff12d94102010301002101167920c4eee000ff000a5d000001b9cdd76b385dc80000000000011e80020000002fcf66e1a8000afc020000000000595a";

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
    }

    fn layout(compression: u16, kind: SampleKind, bands: usize) -> ImageLayout {
        ImageLayout {
            width: 16,
            height: 16,
            bands,
            kind,
            tiled: true,
            segment_cols: 16,
            segment_rows: 16,
            planar: false,
            compression,
            predictor: 1,
            photometric: if bands >= 3 { 2 } else { 1 },
            offsets: vec![0],
            byte_counts: vec![0],
            jpeg_tables: None,
            lerc_parameters: Vec::new(),
        }
    }

    fn shape(samples: usize) -> SegmentShape {
        SegmentShape { cols: 16, rows: 16, samples }
    }

    /// Decodes with `decode`, then every truncation and many garbled copies of `good`: each must be
    /// an error or (for garbling the codec cannot detect) a full segment, never a panic.
    fn robust(good: &[u8], expected: &[u8], decode: &dyn Fn(&[u8], &mut Vec<u8>) -> Result<(), String>) {
        let mut out = Vec::new();
        decode(good, &mut out).unwrap();
        assert_eq!(out, expected);
        for cut in 0..good.len() {
            let mut out = Vec::new();
            let r = decode(&good[..cut], &mut out);
            assert!(r.is_err() || out.len() == expected.len(), "truncated to {cut}: {r:?}");
        }
        let mut state = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..300 {
            let mut bad = good.to_vec();
            for _ in 0..3 {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                let at = (state % bad.len() as u64) as usize;
                bad[at] ^= (state >> 32) as u8 | 1;
            }
            let mut out = Vec::new();
            if decode(&bad, &mut out).is_ok() {
                assert_eq!(out.len(), expected.len());
            }
        }
    }

    #[test]
    fn jpeg2000_decodes_gdal_codestream_and_survives_bad_input() {
        let l = layout(34712, SampleKind::U8, 1);
        robust(&hex(GRADIENT_J2K), &gradient(), &|d, out| jpeg2000(&l, d, &shape(1), out));
        // A 16-bit image asked of an 8-bit stream keeps the values; a 3-band segment is refused.
        let l3 = layout(34712, SampleKind::U8, 3);
        let err = jpeg2000(&l3, &hex(GRADIENT_J2K), &shape(3), &mut Vec::new()).unwrap_err();
        assert!(err.contains("1 components"), "{err}");
    }

    #[test]
    fn lzma_decodes_libtiff_stream_and_survives_bad_input() {
        let l = layout(34925, SampleKind::U8, 1);
        robust(&hex(GRADIENT_XZ), &gradient(), &|d, out| lzma(&l, d, &shape(1), 256, out));
    }

    #[test]
    fn webp_lossless_and_bad_input() {
        let rgb: Vec<u8> = gradient().iter().flat_map(|&v| [v, 255 - v, v / 2]).collect();
        let mut encoded = Vec::new();
        image_webp::WebPEncoder::new(&mut encoded)
            .encode(&rgb, 16, 16, image_webp::ColorType::Rgb8)
            .unwrap();
        let l = layout(50001, SampleKind::U8, 3);
        robust(&encoded, &rgb, &|d, out| webp(&l, d, &shape(3), out));
        // An RGB image for an RGBA segment gets an opaque alpha.
        let l4 = layout(50001, SampleKind::U8, 4);
        let mut out = Vec::new();
        webp(&l4, &encoded, &shape(4), &mut out).unwrap();
        assert_eq!(&out[..8], &[rgb[0], rgb[1], rgb[2], 255, rgb[3], rgb[4], rgb[5], 255]);
    }

    #[test]
    fn lerc_all_extra_compressions_and_bad_input() {
        let vals: Vec<f32> = gradient().iter().map(|&v| v as f32 * 0.25 - 3.0).collect();
        let blob = lerc::encode_slice(16, 16, &vals, lerc::Precision::Lossless).unwrap();
        let expected: Vec<u8> = vals.iter().flat_map(|v| v.to_le_bytes()).collect();
        let mut zlib = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        std::io::Write::write_all(&mut zlib, &blob).unwrap();
        let deflated = zlib.finish().unwrap();
        let zstded = zstd::bulk::compress(&blob, 3).unwrap();
        for (add, data) in [(0u64, blob.clone()), (1, deflated), (2, zstded)] {
            let mut l = layout(34887, SampleKind::F32, 1);
            l.lerc_parameters = vec![4, add];
            robust(&data, &expected, &|d, out| {
                lerc(&l, d, &shape(1), &mut None, &mut Vec::new(), out)
            });
        }
        // A blob of another sample type than the file says is an error, not a reinterpretation.
        let l = layout(34887, SampleKind::U16, 1);
        assert!(lerc(&l, &blob, &shape(1), &mut None, &mut Vec::new(), &mut Vec::new()).is_err());
    }

    #[test]
    fn lerc_mask_gives_nan_for_floats() {
        let mut vals: Vec<f32> = gradient().iter().map(|&v| v as f32).collect();
        vals[17] = f32::NAN;
        let mut mask = lerc::bitmask::BitMask::all_valid(256);
        mask.set_invalid(17);
        let blob = lerc::encode_slice_masked(16, 16, &vals, &mask, lerc::Precision::Lossless).unwrap();
        let l = layout(34887, SampleKind::F32, 1);
        let mut out = Vec::new();
        lerc(&l, &blob, &shape(1), &mut None, &mut Vec::new(), &mut out).unwrap();
        let got: Vec<f32> = out.chunks_exact(4).map(|c| f32::from_le_bytes(c.try_into().unwrap())).collect();
        assert!(got[17].is_nan());
        assert_eq!(got[18], vals[18]);
    }

    #[test]
    fn unsupported_combinations_are_named() {
        let cases = [
            (layout(50001, SampleKind::U16, 3), "WebP"),
            (layout(34712, SampleKind::F32, 1), "JPEG 2000"),
            (layout(34887, SampleKind::I64, 1), "LERC"),
            (layout(7, SampleKind::U16, 1), "16-bit JPEG"),
            (layout(50002, SampleKind::U8, 1), "jxl"),
            (layout(34676, SampleKind::U8, 1), "tag 34676"),
        ];
        for (l, what) in cases {
            let err = check(&l).unwrap_err();
            assert!(err.contains(what), "{err}");
        }
        let mut l = layout(34887, SampleKind::F32, 1);
        l.lerc_parameters = vec![4, 7];
        assert!(check(&l).unwrap_err().contains("additional compression 7"));
        for c in [1, 5, 7, 8, 32773, 32946, 34712, 34887, 34925, 50000] {
            assert!(check(&layout(c, SampleKind::U8, 1)).is_ok(), "{c}");
        }
        assert!(check(&layout(50001, SampleKind::U8, 4)).is_ok());
    }
}
