//! Decoding one segment (strip or tile): decompression, byte order, predictors and bit unpacking, to
//! little-endian samples in the segment's own layout (chunky or one plane).
//!
//! Segments are decoded here rather than through the `tiff` crate's chunk reader so that compressed
//! bytes come straight from the prefetched ranges, scratch buffers are reused across segments, and
//! every malformed input is an error rather than one of the crate's panics.

use super::codecs;
use super::info::{ImageLayout, SampleKind};

/// Reusable buffers for decoding segments.
#[derive(Default)]
pub struct Scratch {
    inflate: Option<libdeflater::Decompressor>,
    /// A streaming inflater, for deflate segments of which only the first rows are wanted.
    inflate_prefix: Option<flate2::Decompress>,
    lzw: Option<super::lzw::Decoder>,
    raw: Vec<u8>,
    /// A LERC blob once its deflate or zstd pass is undone.
    lerc: Vec<u8>,
}

/// Shape of one segment as stored.
pub struct SegmentShape {
    /// Columns stored per row (the tile width, or the image width for strips).
    pub cols: usize,
    /// Rows that hold image data (a last strip may be shorter than RowsPerStrip).
    pub rows: usize,
    /// Samples per pixel in this segment (1 for planar images).
    pub samples: usize,
}

impl SegmentShape {
    /// Bytes of one stored row (1-bit rows are padded to whole bytes).
    pub fn row_bytes(&self, kind: SampleKind) -> usize {
        (self.cols * self.samples * kind.bits()).div_ceil(8)
    }
}

/// The most bytes one segment (tile or strip) may decode to. Tiles of real files are far smaller; a
/// single-strip image over 1 GiB is refused rather than decoded whole.
pub const MAX_SEGMENT_BYTES: usize = 1 << 30;

/// Below this share of a deflate segment's rows, only the rows wanted are inflated (streaming, stopping
/// after them) rather than the whole segment in one shot: the streaming inflater costs ~1.5× libdeflate
/// per byte, so it wins below two thirds; 0.6 leaves a margin.
const PREFIX_INFLATE_SHARE: f64 = 0.6;

/// Decodes `data` into `out` (resized to `rows * cols * samples * kind.bytes()`), little-endian.
pub fn decode_segment(
    layout: &ImageLayout,
    little_endian: bool,
    data: &[u8],
    shape: &SegmentShape,
    scratch: &mut Scratch,
    out: &mut Vec<u8>,
) -> Result<(), String> {
    decode_segment_top(layout, little_endian, data, shape, shape.rows, scratch, out)
}

/// Decodes the first `rows` rows of the segment (all of them when `rows` ≥ `shape.rows`) into `out`.
/// Deflate stops inflating after them when they are a small share of the segment; the stream's checksum,
/// at its end, is then not checked (libtiff does the same whenever it stops at the size it needs).
pub fn decode_segment_top(
    layout: &ImageLayout,
    little_endian: bool,
    data: &[u8],
    shape: &SegmentShape,
    rows: usize,
    scratch: &mut Scratch,
    out: &mut Vec<u8>,
) -> Result<(), String> {
    let kind = layout.kind;
    let row_bytes = shape.row_bytes(kind);
    let needed = row_bytes * shape.rows;
    let top = SegmentShape {
        rows: rows.min(shape.rows),
        cols: shape.cols,
        samples: shape.samples,
    };
    let wanted = row_bytes * top.rows;
    if needed > MAX_SEGMENT_BYTES {
        // Some codecs (constant LERC blobs, JPEG 2000) describe any size in a few bytes.
        return Err(format!(
            "a segment of {needed} bytes ({} × {} × {} samples) is over the {MAX_SEGMENT_BYTES} bytes the reader decodes at once",
            shape.cols, shape.rows, shape.samples
        ));
    }
    // 1-bit samples are unpacked after decompression, so they need a separate buffer.
    let unpack = kind == SampleKind::Bit;
    let mut target = if unpack {
        std::mem::take(&mut scratch.raw)
    } else {
        std::mem::take(out)
    };
    let prefix = matches!(layout.compression, 8 | 32946)
        && (top.rows as f64) < PREFIX_INFLATE_SHARE * shape.rows as f64;
    let result = if prefix {
        let z = scratch.inflate_prefix.get_or_insert_with(|| flate2::Decompress::new(true));
        inflate_prefix(z, data, wanted, &mut target)
    } else {
        decompress(layout, data, shape, needed, scratch, &mut target)
    };
    if let Err(e) = result {
        if unpack {
            scratch.raw = target;
        } else {
            *out = target;
        }
        return Err(e);
    }
    target.truncate(wanted);
    if unpack {
        unpack_bits(&target, &top, out);
        scratch.raw = target;
        return Ok(());
    }
    *out = target;
    // LERC and JPEG 2000 decode to sample values (written little-endian), not to stored bytes.
    let native = matches!(layout.compression, 34712 | 34887);
    match layout.predictor {
        1 => {
            if !little_endian && !native {
                swap_to_le(out, kind.bytes());
            }
        }
        2 => {
            if !little_endian {
                swap_to_le(out, kind.bytes());
            }
            horizontal_predictor(out, row_bytes, shape.samples, kind.bytes());
        }
        3 if matches!(kind, SampleKind::F32 | SampleKind::F64) => {
            float_predictor(out, row_bytes, shape.samples, kind.bytes());
        }
        p => {
            return Err(format!(
                "unsupported predictor {p} for {}-bit samples",
                kind.bits()
            ))
        }
    }
    Ok(())
}

/// Decompresses into `out`, which ends up holding at least `needed` bytes.
fn decompress(
    layout: &ImageLayout,
    data: &[u8],
    shape: &SegmentShape,
    needed: usize,
    scratch: &mut Scratch,
    out: &mut Vec<u8>,
) -> Result<(), String> {
    let short = |got: usize| {
        format!("segment decodes to {got} bytes, {needed} expected (truncated or corrupt)")
    };
    match layout.compression {
        1 => {
            if data.len() < needed {
                return Err(short(data.len()));
            }
            out.clear();
            out.extend_from_slice(&data[..needed]);
        }
        8 | 32946 => {
            // Room for a full-size segment plus one byte, and the stream must reach its end (and pass
            // its checksum) within it: truncated or garbled data is an error, never garbage cells.
            // (Some writers pad a short last strip to the full strip size.)
            let full = shape.row_bytes(layout.kind) * layout.segment_rows.max(shape.rows);
            // No more room than the data can inflate to: a header claiming a huge segment must not
            // make a small file allocate it (found by fuzzing).
            let room = full.min(most_inflated(data.len()));
            out.clear();
            out.resize(room + 1, 0);
            let z = scratch.inflate.get_or_insert_with(libdeflater::Decompressor::new);
            // One shot: a stream that is cut short, fails its checksum or needs more room than a
            // full segment is an error.
            let got = z.zlib_decompress(data, out).map_err(|e| match e {
                libdeflater::DecompressionError::InsufficientSpace => {
                    format!("deflate stream decodes past the segment's {full} bytes: corrupt")
                }
                libdeflater::DecompressionError::BadData => {
                    format!("corrupt or truncated deflate data ({needed} bytes expected)")
                }
            })?;
            out.truncate(got);
            if got < needed {
                return Err(short(got));
            }
        }
        5 => {
            // A code (9 bits at least) stands for 4096 bytes at most.
            let room = needed.min(data.len().saturating_mul(8 * 4096 / 9).saturating_add(4096));
            out.clear();
            out.resize(room, 0);
            let lzw = scratch.lzw.get_or_insert_with(Default::default);
            let got = lzw.decode(data, out).map_err(|e| match e {
                super::lzw::LzwError::OldStyle => e.to_string(),
                e => format!("corrupt LZW data: {e}"),
            })?;
            if got < needed {
                return Err(short(got));
            }
        }
        32773 => {
            out.clear();
            // Two bytes repeat one byte 128 times at most.
            out.reserve(needed.min(data.len().saturating_mul(64)));
            let mut i = 0;
            while i < data.len() && out.len() < needed {
                let n = data[i] as i8;
                i += 1;
                if n >= 0 {
                    let count = n as usize + 1;
                    let lit = data
                        .get(i..i + count)
                        .ok_or_else(|| "truncated PackBits literal run".to_string())?;
                    out.extend_from_slice(lit);
                    i += count;
                } else if n != -128 {
                    let b = *data
                        .get(i)
                        .ok_or_else(|| "truncated PackBits repeat run".to_string())?;
                    out.resize(out.len() + (1 - n as isize) as usize, b);
                    i += 1;
                }
            }
            if out.len() < needed {
                return Err(short(out.len()));
            }
        }
        50000 => {
            // The frame may hold a full-size last strip: allow room for it.
            let full = shape.row_bytes(layout.kind) * layout.segment_rows.max(shape.rows);
            let got = zstd_bounded(data, full, out).map_err(|e| format!("corrupt zstd data: {e}"))?;
            if got > full {
                return Err(format!("zstd stream decodes past the segment's {full} bytes: corrupt"));
            }
            if got < needed {
                return Err(short(got));
            }
        }
        7 => decode_jpeg(layout, data, shape, needed, out)?,
        34925 => codecs::lzma(layout, data, shape, needed, out)?,
        50001 => codecs::webp(layout, data, shape, out)?,
        34712 => codecs::jpeg2000(layout, data, shape, out)?,
        34887 => codecs::lerc(layout, data, shape, &mut scratch.inflate, &mut scratch.lerc, out)?,
        // read_windows checks the codec first (codecs::check): this is only reached by other callers.
        c => return Err(format!("unsupported compression {c} ({})", layout.compression_name())),
    }
    Ok(())
}

/// Decompresses the zstd frame `data` into `out`, returning its length: more than `limit` when the frame
/// holds more. A frame that says how much it holds (libtiff's do) gets room for that, up to `limit + 1`,
/// rather than for whatever size a header claims (found by fuzzing); otherwise `out` grows as the stream
/// decodes.
pub(crate) fn zstd_bounded(data: &[u8], limit: usize, out: &mut Vec<u8>) -> std::io::Result<usize> {
    use std::io::Read;
    out.clear();
    match zstd::zstd_safe::get_frame_content_size(data) {
        Ok(Some(n)) => {
            out.resize(limit.saturating_add(1).min(usize::try_from(n).unwrap_or(usize::MAX)), 0);
            zstd::bulk::decompress_to_buffer(data, &mut out[..])
        }
        _ => zstd::stream::read::Decoder::with_buffer(data)?.take(limit as u64 + 1).read_to_end(out),
    }
}

/// Inflates the first `wanted` bytes of the zlib stream `data` into `out`, and no further.
fn inflate_prefix(
    z: &mut flate2::Decompress,
    data: &[u8],
    wanted: usize,
    out: &mut Vec<u8>,
) -> Result<(), String> {
    z.reset(true);
    out.clear();
    out.resize(wanted.min(most_inflated(data.len())), 0);
    while (z.total_out() as usize) < out.len() {
        let (read, written) = (z.total_in() as usize, z.total_out() as usize);
        let status = z
            .decompress(&data[read..], &mut out[written..], flate2::FlushDecompress::None)
            .map_err(|e| format!("corrupt or truncated deflate data: {e}"))?;
        let stuck = z.total_in() as usize == read && z.total_out() as usize == written;
        if status == flate2::Status::StreamEnd || stuck {
            break;
        }
    }
    let got = z.total_out() as usize;
    if got < wanted {
        return Err(format!(
            "segment decodes to {got} bytes, at least {wanted} expected (truncated or corrupt)"
        ));
    }
    Ok(())
}

/// The most bytes `len` bytes of a zlib stream can inflate to (deflate's ratio is 1032:1 at most).
pub(crate) fn most_inflated(len: usize) -> usize {
    len.saturating_mul(1032).saturating_add(1024)
}

fn decode_jpeg(
    layout: &ImageLayout,
    data: &[u8],
    shape: &SegmentShape,
    needed: usize,
    out: &mut Vec<u8>,
) -> Result<(), String> {
    use zune_jpeg::zune_core::bytestream::ZCursor;
    use zune_jpeg::zune_core::colorspace::ColorSpace;
    use zune_jpeg::zune_core::options::DecoderOptions;
    if layout.kind != SampleKind::U8 {
        return Err("JPEG compression needs 8-bit samples".into());
    }
    // A shared JPEGTables stream (SOI tables EOI) goes before the segment's own stream (SOI ... EOI).
    let mut stream =
        Vec::with_capacity(data.len() + layout.jpeg_tables.as_ref().map_or(0, |t| t.len()));
    match &layout.jpeg_tables {
        Some(t) if t.len() >= 4 && data.len() >= 2 => {
            stream.extend_from_slice(&t[..t.len() - 2]);
            stream.extend_from_slice(&data[2..]);
        }
        _ => stream.extend_from_slice(data),
    }
    let mut dec = zune_jpeg::JpegDecoder::new(ZCursor::new(stream));
    dec.decode_headers()
        .map_err(|e| format!("corrupt JPEG data: {e:?}"))?;
    // The frame may not be larger than a full segment: its header alone would otherwise decide how much
    // is allocated and decoded (found by fuzzing: a 16×16 tile claiming 4096×4096 took over 10 s).
    if let Some(info) = dec.info() {
        let (w, h) = (info.width as usize, info.height as usize);
        if w > layout.segment_cols || h > layout.segment_rows.max(shape.rows) {
            return Err(format!(
                "JPEG segment is {w}x{h}, larger than the {}x{} segment: corrupt",
                layout.segment_cols, layout.segment_rows
            ));
        }
    }
    let mut options = DecoderOptions::default()
        .set_max_width(1 << 16)
        .set_max_height(1 << 16);
    // YCbCr is converted to RGB as GDAL does; other photometrics keep the stored components.
    let colorspace = match (layout.photometric, dec.input_colorspace()) {
        (6, _) => ColorSpace::RGB,
        (_, Some(cs)) => cs,
        (_, None) => ColorSpace::RGB,
    };
    options = options.jpeg_set_out_colorspace(colorspace);
    dec.set_options(options);
    let pixels = dec
        .decode()
        .map_err(|e| format!("corrupt JPEG data: {e:?}"))?;
    let info = dec
        .info()
        .ok_or_else(|| "JPEG without a frame header".to_string())?;
    let (w, h) = (info.width as usize, info.height as usize);
    let comps = if w * h > 0 { pixels.len() / (w * h) } else { 0 };
    if comps != shape.samples || w < shape.cols.min(w) || h < shape.rows {
        return Err(format!(
            "JPEG segment is {w}x{h} with {comps} components, {}x{} with {} expected",
            shape.cols, shape.rows, shape.samples
        ));
    }
    out.clear();
    out.reserve(needed);
    let row = shape.cols * comps;
    for r in 0..shape.rows {
        let src = &pixels[r * w * comps..][..row.min(w * comps)];
        out.extend_from_slice(src);
        out.resize((r + 1) * row, 0);
    }
    Ok(())
}

fn swap_to_le(buf: &mut [u8], n: usize) {
    if n > 1 {
        for c in buf.chunks_exact_mut(n) {
            c.reverse();
        }
    }
}

/// Undoes horizontal differencing (predictor 2) on little-endian samples.
fn horizontal_predictor(buf: &mut [u8], row_bytes: usize, samples: usize, n: usize) {
    macro_rules! acc {
        ($t:ty) => {{
            const N: usize = std::mem::size_of::<$t>();
            let get = |b: &[u8], i: usize| {
                <$t>::from_le_bytes(b[i * N..(i + 1) * N].try_into().unwrap_or_default())
            };
            for row in buf.chunks_exact_mut(row_bytes) {
                for i in samples..row.len() / N {
                    let v = get(row, i).wrapping_add(get(row, i - samples));
                    row[i * N..(i + 1) * N].copy_from_slice(&v.to_le_bytes());
                }
            }
        }};
    }
    match n {
        1 => {
            for row in buf.chunks_exact_mut(row_bytes) {
                for i in samples..row.len() {
                    row[i] = row[i].wrapping_add(row[i - samples]);
                }
            }
        }
        2 => acc!(u16),
        4 => acc!(u32),
        8 => acc!(u64),
        _ => {}
    }
}

/// Undoes the floating-point predictor (3): byte-wise differencing over the row, then the bytes of
/// each sample gathered from the row's byte planes (most significant plane first).
fn float_predictor(buf: &mut [u8], row_bytes: usize, samples: usize, n: usize) {
    let mut tmp = vec![0u8; row_bytes];
    let count = row_bytes / n;
    for row in buf.chunks_exact_mut(row_bytes) {
        if samples == 1 {
            // The common single-band case: a running sum while copying, without index arithmetic.
            let mut acc = 0u8;
            for (t, &r) in tmp.iter_mut().zip(row.iter()) {
                acc = acc.wrapping_add(r);
                *t = acc;
            }
        } else {
            tmp.copy_from_slice(row);
            for i in samples..tmp.len() {
                tmp[i] = tmp[i].wrapping_add(tmp[i - samples]);
            }
        }
        // Sequential writes, one read stream per byte plane (zipped: no bounds checks).
        match n {
            4 => {
                let (p0, rest) = tmp.split_at(count);
                let (p1, rest) = rest.split_at(count);
                let (p2, p3) = rest.split_at(count);
                let planes = p0.iter().zip(p1).zip(p2).zip(p3);
                for (d, (((&b0, &b1), &b2), &b3)) in row.chunks_exact_mut(4).zip(planes) {
                    d.copy_from_slice(&[b3, b2, b1, b0]);
                }
            }
            _ => {
                for (b, plane) in tmp.chunks_exact(count).enumerate() {
                    let dst_byte = n - 1 - b;
                    for (i, &v) in plane.iter().enumerate() {
                        row[i * n + dst_byte] = v;
                    }
                }
            }
        }
    }
}

/// 1-bit samples (rows padded to bytes, most significant bit first) to one byte each.
fn unpack_bits(packed: &[u8], shape: &SegmentShape, out: &mut Vec<u8>) {
    let per_row = shape.cols * shape.samples;
    let row_bytes = per_row.div_ceil(8);
    out.clear();
    out.reserve(per_row * shape.rows);
    for r in 0..shape.rows {
        let row = &packed[r * row_bytes..(r + 1) * row_bytes];
        out.extend((0..per_row).map(|j| (row[j >> 3] >> (7 - (j & 7))) & 1));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn float_predictor_restores_samples() {
        let vals = [1.5f32, -2.25, 1e10, 0.0];
        // Encode as libtiff does: byte planes (big-endian order), then byte differencing.
        let n = 4;
        let mut planes = vec![0u8; 16];
        for (i, v) in vals.iter().enumerate() {
            for (b, byte) in v.to_be_bytes().iter().enumerate() {
                planes[b * 4 + i] = *byte;
            }
        }
        for i in (1..16).rev() {
            planes[i] = planes[i].wrapping_sub(planes[i - 1]);
        }
        float_predictor(&mut planes, 16, 1, n);
        let back: Vec<f32> = planes
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
            .collect();
        assert_eq!(back, vals);
    }

    #[test]
    fn packbits_and_bits() {
        let layout_kind = SampleKind::Bit;
        let shape = SegmentShape {
            cols: 10,
            rows: 1,
            samples: 1,
        };
        let mut out = Vec::new();
        unpack_bits(&[0b1010_0000, 0b0100_0000], &shape, &mut out);
        assert_eq!(out, vec![1, 0, 1, 0, 0, 0, 0, 0, 0, 1]);
        assert_eq!(shape.row_bytes(layout_kind), 2);
    }
}

#[cfg(test)]
mod deflate_tests {
    use std::io::Write;

    use super::*;

    /// A 64 × 64 uint16 tile with the horizontal predictor, deflated: (layout, stream, decoded cells).
    fn predicted_tile() -> (ImageLayout, Vec<u8>, Vec<u8>) {
        let (cols, rows) = (64usize, 64usize);
        let cells: Vec<u16> = (0..rows * cols).map(|i| ((i * 7919) % 5003) as u16).collect();
        let mut stored = Vec::new();
        for row in cells.chunks(cols) {
            let mut prev = 0u16;
            for &v in row {
                stored.extend_from_slice(&v.wrapping_sub(prev).to_le_bytes());
                prev = v;
            }
        }
        let mut enc = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(&stored).unwrap();
        let layout = ImageLayout {
            kind: SampleKind::U16,
            tiled: true,
            predictor: 2,
            ..super::fuzz_regressions::layout(8, cols, rows)
        };
        let bytes = cells.iter().flat_map(|v| v.to_le_bytes()).collect();
        (layout, enc.finish().unwrap(), bytes)
    }

    #[test]
    fn the_top_rows_of_a_deflate_segment_equal_its_whole_decoding() {
        let (layout, z, cells) = predicted_tile();
        let shape = SegmentShape { cols: 64, rows: 64, samples: 1 };
        let mut scratch = Scratch::default();
        // Below the prefix share (streaming, stopping early) and above it (one shot, then cut).
        for rows in [1, 5, 38, 39, 63, 64, 100] {
            let mut out = Vec::new();
            decode_segment_top(&layout, true, &z, &shape, rows, &mut scratch, &mut out).unwrap();
            assert_eq!(out, cells[..rows.min(64) * 128], "{rows} rows");
        }
    }

    #[test]
    fn a_stream_cut_short_of_the_wanted_rows_is_an_error() {
        let (layout, z, cells) = predicted_tile();
        let shape = SegmentShape { cols: 64, rows: 64, samples: 1 };
        let mut scratch = Scratch::default();
        let half = &z[..z.len() / 2];
        let mut out = Vec::new();
        let e = decode_segment_top(&layout, true, half, &shape, 36, &mut scratch, &mut out).unwrap_err();
        assert!(e.contains("truncated or corrupt"), "{e}");
        // The rows that the kept half does hold decode (the checksum at the end is not reached).
        decode_segment_top(&layout, true, half, &shape, 4, &mut scratch, &mut out).unwrap();
        assert_eq!(out, cells[..4 * 128]);
        // Garbage in the first bytes of the stream is still an error.
        let mut garbled = z.clone();
        garbled[2..40].fill(0);
        assert!(decode_segment_top(&layout, true, &garbled, &shape, 4, &mut scratch, &mut out).is_err());
    }

    #[test]
    fn bad_checksum_is_an_error() {
        let raw: Vec<u8> = (0..5000u32).map(|i| (i * 7 % 13) as u8).collect();
        let mut enc = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(&raw).unwrap();
        let mut z = enc.finish().unwrap();
        let n = z.len();
        z[n - 1] ^= 0xFF;
        let mut d = flate2::Decompress::new(true);
        let mut out = vec![0u8; 5001];
        let r = d.decompress(&z, &mut out, flate2::FlushDecompress::Finish);
        eprintln!("result {:?} total_out {}", r, d.total_out());
        assert!(r.is_err());
    }
}

/// Found by fuzzing (rust/fuzz, regressions in rust/fuzz/regressions/geotiff*): a header claiming a
/// huge segment must not make a small segment allocate or decode it. Each of these would allocate (and
/// zero) gigabytes, or take seconds, before the fix.
#[cfg(test)]
mod fuzz_regressions {
    use std::io::Write;

    use super::*;

    /// A one-band uint8 image of one segment (shared with the other test modules).
    pub(super) fn layout(compression: u16, segment_cols: usize, segment_rows: usize) -> ImageLayout {
        ImageLayout {
            width: segment_cols,
            height: segment_rows,
            bands: 1,
            kind: SampleKind::U8,
            tiled: false,
            segment_cols,
            segment_rows,
            planar: false,
            compression,
            predictor: 1,
            photometric: 1,
            offsets: vec![0],
            byte_counts: vec![0],
            jpeg_tables: None,
            lerc_parameters: vec![],
        }
    }

    fn decode(layout: &ImageLayout, data: &[u8], rows: usize) -> Result<Vec<u8>, String> {
        let shape = SegmentShape { cols: layout.segment_cols, rows, samples: 1 };
        let mut out = Vec::new();
        decode_segment(layout, true, data, &shape, &mut Scratch::default(), &mut out).map(|_| out)
    }

    /// A strip of 2^19 × 2^11 bytes (1 GiB, the most a segment may be) as the header claims it.
    fn huge(compression: u16) -> ImageLayout {
        layout(compression, 1 << 19, 1 << 11)
    }

    #[test]
    fn segments_over_a_gib_are_refused_before_decoding() {
        let big = layout(8, 1 << 20, 1 << 12);
        let e = decode(&big, &[0u8; 16], 1 << 12).unwrap_err();
        assert!(e.contains("over the 1073741824 bytes"), "{e}");
    }

    #[test]
    fn deflate_room_is_bounded_by_the_data() {
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        z.write_all(&[7u8; 1000]).unwrap();
        let data = z.finish().unwrap();
        let e = decode(&huge(8), &data, 1 << 11).unwrap_err();
        assert!(e.contains("segment decodes to 1000 bytes"), "{e}");
        // A segment the data fills still decodes.
        assert_eq!(decode(&layout(8, 100, 10), &data, 10).unwrap(), vec![7u8; 1000]);
    }

    #[test]
    fn lzw_and_packbits_room_is_bounded_by_the_data() {
        // LZW: ClearCode (256), 'A', EndOfInformation (257), 9 bits each, MSB first.
        let lzw = [0x80, 0x10, 0x60, 0x20];
        assert!(decode(&huge(5), &lzw, 1 << 11).is_err());
        assert_eq!(decode(&layout(5, 1, 1), &lzw, 1).unwrap(), b"A");
        // PackBits: 128 copies of 9.
        let packbits = [0x81u8, 9];
        assert!(decode(&huge(32773), &packbits, 1 << 11).is_err());
        assert_eq!(decode(&layout(32773, 128, 1), &packbits, 1).unwrap(), vec![9u8; 128]);
    }

    #[test]
    fn zstd_room_is_the_frame_content_size() {
        let data = zstd::bulk::compress(&[3u8; 4096], 3).unwrap();
        let e = decode(&huge(50000), &data, 1 << 11).unwrap_err();
        assert!(e.contains("segment decodes to 4096 bytes"), "{e}");
        assert_eq!(decode(&layout(50000, 64, 64), &data, 64).unwrap(), vec![3u8; 4096]);
        // A frame without its content size (streamed) is read as it decodes, up to a full segment.
        let mut enc = zstd::stream::write::Encoder::new(Vec::new(), 3).unwrap();
        enc.include_contentsize(false).unwrap();
        enc.write_all(&[4u8; 4096]).unwrap();
        let streamed = enc.finish().unwrap();
        assert!(decode(&huge(50000), &streamed, 1 << 11).is_err());
        assert_eq!(decode(&layout(50000, 64, 64), &streamed, 64).unwrap(), vec![4u8; 4096]);
        let e = decode(&layout(50000, 64, 32), &streamed, 32).unwrap_err();
        assert!(e.contains("past the segment"), "{e}");
    }

    /// A 16×8 greyscale JPEG strip as GDAL writes it (JPEGTables, then the strip's stream).
    const TABLES: &str = "ffd8ffdb004300080606070605080707070909080a0c140d0c0b0b0c1912130f141d1a1f1e1d1a1c1c20242e2720222c231c1c2837292c30313434341f27393d38323c2e333432ffd9";
    const STRIP: &str = "ffd8ffc0000b080008001001011100ffc4001500010100000000000000000000000000000001ffc4001f1000030100010403000000000000000000020103040511120021142232ffda0008010100003f0061b2220cd0e57e4e5ce339d3450008d5d54522f5d3b1b9487d9fd7aa4fb9b48bcba23bb8ad87c90cb31068cc1a6e5394f3c280aaa8859509b9bea6c44d3a1f735f842bcfffd9";

    fn unhex(s: &str) -> Vec<u8> {
        (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
    }

    #[test]
    fn jpeg_frame_larger_than_its_segment_is_refused_before_decoding() {
        let mut l = layout(7, 16, 8);
        l.jpeg_tables = Some(unhex(TABLES));
        let strip = unhex(STRIP);
        assert_eq!(decode(&l, &strip, 8).unwrap().len(), 16 * 8);
        // The same stream with its frame header (SOF0: height, width) claiming 4096×4096.
        let mut big = strip.clone();
        big[7..11].copy_from_slice(&[0x10, 0x00, 0x10, 0x00]);
        let e = decode(&l, &big, 8).unwrap_err();
        assert!(e.contains("JPEG segment is 4096x4096, larger than the 16x8 segment"), "{e}");
    }
}
