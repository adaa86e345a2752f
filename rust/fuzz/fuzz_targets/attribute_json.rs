//! Layer attribute JSON the engine parses: the Avro writer `schema` attribute (`Schema::parse`),
//! histogram attributes (`Histogram::from_json`, integer and double, with their statistics and a
//! merge), and cell type names (`CellType::parse`, from a layer's `cellType`). The key index has its own
//! target (key_index_json).
#![no_main]

use gps_engine::catalog::avro::Schema;
use gps_engine::histogram::Histogram;
use gps_engine::CellType;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let _ = Schema::parse(text);
    if let Ok(h) = Histogram::from_json(text) {
        let _ = h.total_count();
        let _ = h.bucket_count();
        let _ = h.mean();
        let _ = h.cdf();
        let json = h.to_json();
        let _ = Histogram::from_json(&json).expect("to_json's output reads back");
        let _ = h.merge(&h);
    }
    if text.len() < 64 {
        if let Ok(ct) = CellType::parse(text) {
            let again = CellType::parse(&ct.name()).expect("a cell type's name parses");
            assert_eq!(again.name(), ct.name());
        }
    }
});
