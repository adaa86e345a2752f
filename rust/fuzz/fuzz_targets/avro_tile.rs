//! GeoTrellis Avro tile files through `decode_record`: zlib framing, the Avro datum of a
//! `KeyValueRecord`, every tile record of the union (array, constant, bit and padded tiles, multiband).
//!
//! The first byte chooses the writer schema (bits 0-2: GeoTrellis 3.x spatial/space-time ×
//! single/multiband, the 2.x schema of `../shared/data`'s landsat layer, the engine's test schema)
//! and whether the rest is a tile file as stored (bit 3 clear) or a raw datum that the target
//! compresses first (bit 3 set), so that mutations reach the datum decoder past zlib's checksum.
#![no_main]

use std::io::Write;
use std::sync::OnceLock;

use gps_engine::catalog::avro::{decode_record, geotrellis_schema, KeyKind, Schema};
use gps_fuzz::Cursor;
use libfuzzer_sys::fuzz_target;

fn schemas() -> &'static [Schema] {
    static SCHEMAS: OnceLock<Vec<Schema>> = OnceLock::new();
    SCHEMAS.get_or_init(|| {
        let mut texts = vec![];
        for key in [KeyKind::Spatial, KeyKind::SpaceTime] {
            for multiband in [false, true] {
                texts.push(geotrellis_schema(key, multiband));
            }
        }
        texts.push(include_str!("../schemas/landsat_2x.json").to_string());
        texts.push(include_str!("../../engine/src/catalog/avro/testdata/schema_spatial_singleband.json").to_string());
        texts.iter().map(|t| Schema::parse(t).expect("a GeoTrellis schema")).collect()
    })
}

fuzz_target!(|data: &[u8]| {
    let mut c = Cursor::new(data);
    let sel = c.u8();
    let schemas = schemas();
    let schema = &schemas[(sel & 7) as usize % schemas.len()];
    let body = c.rest();
    let result = if sel & 8 != 0 {
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
        z.write_all(body).unwrap();
        decode_record(&z.finish().unwrap(), schema, "fuzz/0")
    } else {
        decode_record(body, schema, "fuzz/0")
    };
    if let Ok(pairs) = result {
        for (_, tile) in &pairs {
            let want = tile.bands * tile.rows * tile.cols * tile.cell_type.bytes_per_cell();
            assert_eq!(tile.cells.len(), want, "a decoded tile holds exactly its cells");
        }
    }
});
