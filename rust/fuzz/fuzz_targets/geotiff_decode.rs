//! One GeoTIFF segment (strip or tile) through `decode_segment`: every codec the reader supports
//! (none, LZW, deflate, PackBits, zstd, JPEG, LZMA, WebP, JPEG 2000, LERC), each predictor, every
//! sample type, both byte orders. The first bytes of the input choose the layout; the rest is the
//! segment's compressed bytes.
#![no_main]

use gps_engine::geotiff::codecs;
use gps_engine::geotiff::decode::{decode_segment, Scratch, SegmentShape};
use gps_engine::geotiff::info::{ImageLayout, SampleKind};
use gps_fuzz::Cursor;
use libfuzzer_sys::fuzz_target;

const COMPRESSIONS: [u16; 12] = [1, 5, 8, 32946, 32773, 50000, 7, 34925, 50001, 34712, 34887, 2];
const KINDS: [SampleKind; 11] = [
    SampleKind::Bit,
    SampleKind::U8,
    SampleKind::I8,
    SampleKind::U16,
    SampleKind::I16,
    SampleKind::U32,
    SampleKind::I32,
    SampleKind::U64,
    SampleKind::I64,
    SampleKind::F32,
    SampleKind::F64,
];

fuzz_target!(|data: &[u8]| {
    let mut c = Cursor::new(data);
    let compression = c.pick(&COMPRESSIONS);
    let kind = c.pick(&KINDS);
    let predictor = c.pick(&[1u16, 2, 3, 1, 4]);
    let little_endian = c.u8() & 1 == 0;
    let samples = 1 + (c.u8() % 4) as usize;
    let planar = c.u8() & 1 == 1;
    let photometric = c.pick(&[1u16, 2, 6, 0]);
    // Segments up to 256x256; `rows` may be fewer than the segment's rows (a short last strip).
    let segment_cols = 1 + (c.u8() as usize);
    let segment_rows = 1 + (c.u8() as usize);
    let rows = 1 + (c.u8() as usize) % segment_rows;
    let lerc_add = c.pick(&[0u64, 1, 2]);
    let jpeg_tables_len = c.u16() as usize;
    let data = c.rest();
    let (tables, data) = if compression == 7 && data.len() >= jpeg_tables_len && jpeg_tables_len > 0 {
        let (t, d) = data.split_at(jpeg_tables_len);
        (Some(t.to_vec()), d)
    } else {
        (None, data)
    };
    let layout = ImageLayout {
        width: segment_cols,
        height: rows,
        bands: samples,
        kind,
        tiled: true,
        segment_cols,
        segment_rows,
        planar,
        compression,
        predictor,
        photometric,
        offsets: vec![0],
        byte_counts: vec![data.len() as u64],
        jpeg_tables: tables,
        lerc_parameters: vec![4, lerc_add],
    };
    // The readers check the codec against the sample type before decoding any segment (as here).
    if codecs::check(&layout).is_err() {
        return;
    }
    let shape = SegmentShape { cols: segment_cols, rows, samples: if planar { 1 } else { samples } };
    let mut scratch = Scratch::default();
    let mut out = Vec::new();
    if decode_segment(&layout, little_endian, data, &shape, &mut scratch, &mut out).is_ok() {
        let want = segment_cols * rows * shape.samples * kind.bytes();
        assert_eq!(out.len(), want, "a decoded segment holds exactly its samples");
    }
    // Decoding again with the same scratch buffers (as a read of many segments does).
    let _ = decode_segment(&layout, little_endian, data, &shape, &mut scratch, &mut out);
});
