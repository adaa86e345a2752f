use super::*;
use crate::cell_type::{DataType, NoData};

fn hex(s: &str) -> Vec<u8> {
    let s: String = s.split_whitespace().collect();
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
}

fn view<'a>(ct: &str, bands: usize, rows: usize, cols: usize, cells: &'a [u8]) -> TileView<'a> {
    TileView { cell_type: CellType::parse(ct).unwrap(), bands, rows, cols, cells }
}

fn u16_cells(v: &[u16]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

fn f32_cells(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

const KEY: Key = Key { col: 1, row: 2, instant: None };

#[test]
fn schema_text_is_byte_identical_to_geotrellis() {
    let expected = include_str!("testdata/schema_spatial_singleband.json");
    assert_eq!(geotrellis_schema(KeyKind::Spatial, false), expected);
    assert_eq!(expected.len(), 4690);
    assert_eq!(geotrellis_schema(KeyKind::SpaceTime, false).len(), 4746);
    assert_eq!(geotrellis_schema(KeyKind::Spatial, true).len(), 4284);
    assert_eq!(geotrellis_schema(KeyKind::SpaceTime, true).len(), 4340);
    let multiband = geotrellis_schema(KeyKind::Spatial, true);
    assert!(multiband.contains(r#""items":[{"type":"record","name":"ByteArrayTile","fields":[{"name":"cols""#));
    for key in [KeyKind::Spatial, KeyKind::SpaceTime] {
        for mb in [false, true] {
            Schema::parse(&geotrellis_schema(key, mb)).unwrap();
        }
    }
}

#[test]
fn test_vector_1_ushort_tile() {
    let cells = u16_cells(&[0, 1, 65535, 40000]);
    let pairs = [(KEY, view("uint16", 1, 2, 2, &cells))];
    let raw = encode_datum(&pairs, false).unwrap();
    assert_eq!(raw, hex("02 02 04 0e 04 04 08 00 02 01 ff8e03 00 00 00 00"));
    let file = encode_record(&pairs, false).unwrap();
    assert_eq!(file, hex("789c636262e16361e1606062fcdfc7cc0004000c8501ba"));

    let schema = Schema::parse(&geotrellis_schema(KeyKind::Spatial, false)).unwrap();
    let decoded = decode_record(&file, &schema, "t").unwrap();
    assert_eq!(decoded.len(), 1);
    let (key, tile) = &decoded[0];
    assert_eq!(*key, KEY);
    assert_eq!(tile.cell_type, CellType::new(DataType::UInt16, NoData::Constant));
    assert_eq!((tile.bands, tile.rows, tile.cols), (1, 2, 2));
    assert_eq!(tile.cells, cells);
}

#[test]
fn test_vector_2_float_tile_and_user_defined_nodata() {
    let cells = f32_cells(&[1.5, f32::from_bits(0x7FC0_0000)]);
    let raw = encode_datum(&[(KEY, view("float32", 1, 1, 2, &cells))], false).unwrap();
    assert_eq!(raw, hex("02 02 04 02 04 02 04 0000c03f 0000c07f 00 00 01 00"));
    let ud = encode_datum(&[(KEY, view("float32ud-9999.0", 1, 1, 2, &cells))], false).unwrap();
    assert_eq!(ud, hex("02 02 04 02 04 02 04 0000c03f 0000c07f 00 02 003c1cc6 00"));
    let raw_type = encode_datum(&[(KEY, view("float32raw", 1, 1, 2, &cells))], false).unwrap();
    assert_eq!(raw_type, hex("02 02 04 02 04 02 04 0000c03f 0000c07f 00 00 00 00"));

    let schema = Schema::parse(&geotrellis_schema(KeyKind::Spatial, false)).unwrap();
    for (bytes, name) in [(&raw, "float32"), (&ud, "float32ud-9999.0"), (&raw_type, "float32raw")] {
        let mut r = Reader::new(bytes);
        let v = r.value(&schema).unwrap();
        let Some(Value::Array(pairs)) = v.field("pairs") else { panic!() };
        let t = decode_value(pairs[0].field("_2").unwrap()).unwrap();
        assert_eq!(t.cell_type.name(), name);
        assert_eq!(t.cells, cells);
    }
}

#[test]
fn test_vector_3_space_time_multiband_mixed_bands() {
    let file = hex("789c63626269d8b07de28a10361e16261686ff0c0c5c6c6c2ca28c120d2c0d2c214c0c0c0080bd063e");
    let schema = Schema::parse(&geotrellis_schema(KeyKind::SpaceTime, true)).unwrap();
    // Bands of 2×1, 3×3 and 256×256 cannot form one tile: the decoder must say so, not guess.
    let err = decode_record(&file, &schema, "t").unwrap_err().to_string();
    assert!(err.contains("bands of different sizes"), "{err}");
    let mut raw = Vec::new();
    ZlibDecoder::new(&file[..]).read_to_end(&mut raw).unwrap();
    let mut r = Reader::new(&raw);
    let v = r.value(&schema).unwrap();
    let Some(Value::Array(pairs)) = v.field("pairs") else { panic!() };
    assert_eq!(decode_key(pairs[0].field("_1").unwrap()).unwrap(), Key { col: 1, row: 2, instant: Some(1448496000000) });
    let Some(Value::Array(bands)) = pairs[0].field("_2").unwrap().field("bands") else { panic!() };
    let b: Vec<Band> = bands.iter().map(|b| tile::band(b).unwrap()).collect();
    assert_eq!((b[0].cell_type.name().as_str(), &b[0].cells[..]), ("uint8", &[0u8, 255][..]));
    assert_eq!(b[1].cells, vec![1, 0, 1, 0, 1, 0, 0, 0, 1]);
    assert_eq!(b[2].cell_type.name(), "int32raw");
    assert_eq!((b[2].cols, b[2].rows), (256, 256));
    assert!(b[2].cells.chunks(4).all(|c| c == 42i32.to_le_bytes()));
    // Re-encoding the first two bands as array tiles gives test vector 3's bytes for them.
    let mut w = Writer::default();
    tile::encode_band(&mut w, &b[0].cell_type, 2, 1, &b[0].cells);
    tile::encode_band(&mut w, &b[1].cell_type, 3, 3, &b[1].cells);
    assert_eq!(w.out, hex("0c 04 02 04 00ff 00 00 0a 06 06 04 1501"));
}

#[test]
fn integer_cell_types_round_trip_with_java_signedness() {
    let schema = Schema::parse(&geotrellis_schema(KeyKind::Spatial, true)).unwrap();
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("int8", vec![0x80, 1, 0x7f, 0xff]),
        ("int8raw", vec![0x80, 1, 0x7f, 0xff]),
        ("int8ud5", vec![5, 1, 0x7f, 0xff]),
        ("uint8", vec![0, 1, 200, 255]),
        ("uint8ud255", vec![0, 1, 200, 255]),
        ("uint8raw", vec![0, 1, 200, 255]),
        ("int16", [-32768i16, 1, 300, -2].iter().flat_map(|v| v.to_le_bytes()).collect()),
        ("int16ud-9999", [-9999i16, 1, 300, -2].iter().flat_map(|v| v.to_le_bytes()).collect()),
        ("uint16ud65535", u16_cells(&[0, 65535, 40000, 7])),
        ("uint16raw", u16_cells(&[0, 65535, 40000, 7])),
        ("int32", [i32::MIN, 1, i32::MAX, -2].iter().flat_map(|v| v.to_le_bytes()).collect()),
        ("int32ud-1", [i32::MIN, 1, i32::MAX, -2].iter().flat_map(|v| v.to_le_bytes()).collect()),
        ("float64ud1.0E-5", [1e-5f64, 2.5, f64::NAN, -1.0].iter().flat_map(|v| v.to_le_bytes()).collect()),
        ("bool", vec![1, 0, 0, 1]),
    ];
    for (name, cells) in cases {
        let t = view(name, 1, 2, 2, &cells);
        let key = Key { col: -3, row: 7, instant: None };
        let file = encode_record(&[(key, t)], true).unwrap();
        let back = decode_record(&file, &schema, name).unwrap();
        assert_eq!(back.len(), 1, "{name}");
        assert_eq!(back[0].0, key);
        assert_eq!(back[0].1.cell_type, t.cell_type, "{name}");
        assert_eq!(back[0].1.cells, cells, "{name}");
    }
}

#[test]
fn bit_tiles_pack_lsb_first() {
    // 3×3 with cells 0, 2, 4, 8 set → bytes 0x15, 0x01 (test vector 3's BitArrayTile).
    let mut cells = vec![0u8; 9];
    for i in [0, 2, 4, 8] {
        cells[i] = 1;
    }
    let raw = encode_datum(&[(KEY, view("bool", 1, 3, 3, &cells))], false).unwrap();
    assert_eq!(raw, hex("02 02 04 0a 06 06 04 1501 00"));
}

#[test]
fn multiband_bands_are_an_array_of_union_branches() {
    let cells = [1u8, 2, 3, 4];
    let raw = encode_datum(&[(KEY, view("uint8", 2, 1, 2, &cells))], true).unwrap();
    // pairs 1; key; bands 2: [branch 6, 2×1, bytes 01 02, nd branch 0 = 0] × 2; end bands; end pairs.
    assert_eq!(raw, hex("02 02 04 04 0c 04 02 04 0102 00 00 0c 04 02 04 0304 00 00 00 00"));
}

#[test]
fn several_pairs_and_space_time_keys() {
    let schema = Schema::parse(&geotrellis_schema(KeyKind::SpaceTime, false)).unwrap();
    let a = f32_cells(&[1.0, 2.0]);
    let b = f32_cells(&[3.0, 4.0]);
    let k1 = Key { col: 1, row: 2, instant: Some(1_448_496_000_000) };
    let k2 = Key { col: 1, row: 2, instant: Some(-5) };
    let file = encode_record(&[(k1, view("float32", 1, 1, 2, &a)), (k2, view("float32", 1, 1, 2, &b))], false).unwrap();
    let back = decode_record(&file, &schema, "t").unwrap();
    assert_eq!(back.iter().map(|p| p.0).collect::<Vec<_>>(), vec![k1, k2]);
    assert_eq!(back[1].1.cells, b);
}

#[test]
fn constant_and_padded_tiles_expand() {
    let schema = Schema::parse(&geotrellis_schema(KeyKind::Spatial, false)).unwrap();
    let mut w = Writer::default();
    // pairs 1; key (1,2); branch 15 UShortConstantTile 2×1 cell -1 (65535), nd branch 0 = 0
    w.array(1, |w| {
        w.int(1);
        w.int(2);
        w.long(15);
        w.int(2);
        w.int(1);
        w.int(-1);
        w.long(0);
        w.int(0);
    });
    let t = decode_datum(&w.out, &schema).unwrap();
    assert_eq!(t[0].1.cells, u16_cells(&[65535, 65535]));

    // PaddedTile (branch 16) of a 1×1 IntArrayTile chunk [7] at (1, 0) in a 2×2 tile.
    let mut w = Writer::default();
    w.array(1, |w| {
        w.int(1);
        w.int(2);
        w.long(16);
        w.long(4);
        w.int(1);
        w.int(1);
        w.array(1, |w| w.int(7));
        w.long(0);
        w.int(i32::MIN);
        w.int(1);
        w.int(0);
        w.int(2);
        w.int(2);
    });
    let t = decode_datum(&w.out, &schema).unwrap();
    let expected: Vec<u8> = [i32::MIN, 7, i32::MIN, i32::MIN].iter().flat_map(|v| v.to_le_bytes()).collect();
    assert_eq!(t[0].1.cells, expected);
    assert_eq!(t[0].1.cell_type.name(), "int32");
}

#[test]
fn corrupt_and_truncated_input_is_an_error() {
    let schema = Schema::parse(&geotrellis_schema(KeyKind::Spatial, false)).unwrap();
    let cells = u16_cells(&[0, 1, 65535, 40000]);
    let raw = encode_datum(&[(KEY, view("uint16", 1, 2, 2, &cells))], false).unwrap();
    for n in 0..raw.len() {
        assert!(decode_datum(&raw[..n], &schema).is_err(), "truncated at {n}");
    }
    let file = encode_record(&[(KEY, view("uint16", 1, 2, 2, &cells))], false).unwrap();
    let err = decode_record(&file[..file.len() - 6], &schema, "layer/0/0001").unwrap_err().to_string();
    assert!(err.contains("layer/0/0001"), "{err}");
    assert!(decode_record(b"not zlib", &schema, "x").is_err());
    // A cells array of the wrong length.
    let mut w = Writer::default();
    w.array(1, |w| {
        w.int(0);
        w.int(0);
        w.long(7);
        w.int(2);
        w.int(2);
        w.array(3, |w| (0..3).for_each(|_| w.int(1)));
        w.long(1);
    });
    assert!(decode_datum(&w.out, &schema).unwrap_err().contains("3 cells"));
    // A huge array count with few bytes left must not allocate.
    let mut w = Writer::default();
    w.long(1 << 40);
    assert!(decode_datum(&w.out, &schema).is_err());
}

#[test]
fn real_geotrellis_2x_tile_decodes_and_re_encodes_byte_for_byte() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data/geotrellis-catalog-2x");
    let Ok(attr) = std::fs::read_to_string(format!("{root}/attributes/landsat__.__0__.__metadata.json")) else {
        eprintln!("skipped: ../shared/data is absent");
        return;
    };
    let json: serde_json::Value = serde_json::from_str(&attr).unwrap();
    let schema = Schema::from_json(&json[1]["schema"]).unwrap();
    let file = std::fs::read(format!("{root}/landsat/0/0100")).unwrap();
    let pairs = decode_record(&file, &schema, "0100").unwrap();
    assert_eq!(pairs.len(), 1);
    let (key, tile) = &pairs[0];
    assert_eq!(*key, Key { col: 10, row: 4, instant: None });
    assert_eq!(tile.cell_type.name(), "uint16raw");
    assert_eq!((tile.rows, tile.cols), (256, 256));
    let t = TileView { cell_type: tile.cell_type, bands: 1, rows: 256, cols: 256, cells: &tile.cells };
    // Not assert_eq!: a mismatch would print two 130 KB vectors.
    assert!(encode_record(&[(*key, t)], false).unwrap() == file, "re-encoded tile differs from GeoTrellis'");
}

#[test]
fn fast_compression_is_a_zlib_stream_of_the_same_datum() {
    let schema = Schema::parse(&geotrellis_schema(KeyKind::Spatial, true)).unwrap();
    let values: Vec<f32> = (0..64 * 64).map(|i| ((i % 97) as f32 * 0.25).sin() * 100.0).collect();
    let cells = f32_cells(&values);
    let pairs = [(KEY, view("float32", 1, 64, 64, &cells))];
    let datum = encode_datum(&pairs, true).unwrap();
    let geotrellis = encode_record(&pairs, true).unwrap();
    assert_eq!(encode_record_with(&pairs, true, Compression::GeoTrellis).unwrap(), geotrellis);
    for level in [0, 1, 6, 12] {
        let file = encode_record_with(&pairs, true, Compression::Fast(level)).unwrap();
        assert_eq!(&file[..1], &[0x78], "level {level}: a zlib header (deflate, 32 KiB window)");
        let mut raw = Vec::new();
        ZlibDecoder::new(&file[..]).read_to_end(&mut raw).unwrap();
        assert_eq!(raw, datum, "level {level}");
        let back = decode_record(&file, &schema, "t").unwrap();
        assert_eq!(back[0].1.cells, cells, "level {level}");
        if level > 0 {
            assert_ne!(file, geotrellis, "level {level} is libdeflate's output, not zlib's");
        }
    }
    assert!(encode_record_with(&pairs, true, Compression::Fast(13)).is_err());
}

/// A tile file of one `(KEY, value)` pair, the value (its union branch first) written by `value`.
fn record_of(value: impl FnOnce(&mut Writer)) -> Vec<u8> {
    let mut w = Writer::default();
    w.array(1, |w| {
        w.int(KEY.col);
        w.int(KEY.row);
        value(w);
    });
    zlib::compress(&w.out, Compression::GeoTrellis).unwrap()
}

/// A `ByteConstantTile` of the 3.x union (branch 8) with NoData null.
fn byte_constant(w: &mut Writer, cols: i32, rows: i32) {
    w.long(8);
    w.int(cols);
    w.int(rows);
    w.int(5);
    w.long(1);
}

fn corrupt_message(file: &[u8], schema: &Schema) -> String {
    match decode_record(file, schema, "layer/0/1") {
        Err(EngineError::Corrupt { path, message }) => {
            assert_eq!(path, "layer/0/1");
            message
        }
        other => panic!("expected a Corrupt error, got {other:?}"),
    }
}

// Found by fuzzing (rust/fuzz/regressions/avro_tile): a constant tile's size comes from its header
// alone, and a few bytes asked for a 7.5 GB tile.
#[test]
fn constant_tile_larger_than_a_tile_file_may_hold_is_corrupt_not_allocated() {
    let schema = Schema::parse(&geotrellis_schema(KeyKind::Spatial, false)).unwrap();
    let file = record_of(|w| byte_constant(w, i32::MAX, i32::MAX));
    let message = corrupt_message(&file, &schema);
    assert!(message.contains("would decode to") && message.contains("corrupt tile sizes"), "{message}");
    // Just under the limit is decoded (1 GiB would be slow here: a small tile shows the path works).
    let pairs = decode_record(&record_of(|w| byte_constant(w, 3, 2)), &schema, "t").unwrap();
    assert_eq!(pairs[0].1.cells, vec![5; 6]);
}

#[test]
fn padded_tile_chunk_and_multiband_sizes_are_bounded_too() {
    // A PaddedTile (branch 16) whose chunk is a huge constant tile: refused before the chunk is made.
    let schema = Schema::parse(&geotrellis_schema(KeyKind::Spatial, false)).unwrap();
    let file = record_of(|w| {
        w.long(16);
        byte_constant(w, 1 << 20, 1 << 20);
        w.int(0);
        w.int(0);
        w.int(4);
        w.int(4);
    });
    assert!(corrupt_message(&file, &schema).contains("would decode to"));
    // Bands of 512 MiB each: each fits, together they do not.
    let schema = Schema::parse(&geotrellis_schema(KeyKind::Spatial, true)).unwrap();
    let file = record_of(|w| w.array(3, |w| (0..3).for_each(|_| byte_constant(w, 1 << 15, 1 << 14))));
    let message = corrupt_message(&file, &schema);
    assert!(message.contains(&format!("{} bytes", 3usize << 29)), "{message}");
}

/// A zlib bomb: a few kilobytes inflating to megabytes are refused once past the bound, not inflated whole.
#[test]
fn inflating_past_the_bound_is_refused() {
    use std::io::Write;
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    z.write_all(&vec![0u8; 4 << 20]).unwrap();
    let bomb = z.finish().unwrap();
    assert!(bomb.len() < 16 << 10);
    let err = inflate_bounded(&bomb, 1 << 20).unwrap_err();
    assert!(err.contains("inflates to more than 1048576 bytes"), "{err}");
    assert_eq!(inflate_bounded(&bomb, 4 << 20).unwrap().len(), 4 << 20);
    assert!(MAX_INFLATED_BYTES > tile::MAX_DECODED_BYTES);
}
