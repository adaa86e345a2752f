//! A layer's `keyIndex` attribute JSON through `KeyIndex::from_json` (Z-order, Hilbert, row-major,
//! spatial and space-time), then what a catalog read does with it: the file name width, the index of
//! keys at and around the bounds, and the index ranges of a query box (the whole bounds and a
//! small box at the min corner).
#![no_main]

use gps_engine::catalog::index::{Key, KeyIndex};
use libfuzzer_sys::fuzz_target;

fn exercise(index: &KeyIndex) {
    let b = *index.bounds();
    let _ = index.file_name_width();
    let mid = Key {
        col: ((b.min.col as i64 + b.max.col as i64) / 2) as i32,
        row: ((b.min.row as i64 + b.max.row as i64) / 2) as i32,
        instant: b.min.instant.zip(b.max.instant).map(|(a, z)| a / 2 + z / 2),
    };
    let outside = Key { col: b.max.col.saturating_add(1), row: b.min.row.saturating_sub(1), instant: b.max.instant };
    for k in [b.min, b.max, mid, outside] {
        let _ = index.to_index(&k);
    }
    // The ranges of the whole bounds (what a full read asks for): bounded work for any box, since past
    // EXACT_RANGES exact ranges the engine makes a coarser cover.
    let _ = index.index_ranges(&b.min, &b.max);
    let corner = Key {
        col: b.min.col.saturating_add(2),
        row: b.min.row.saturating_add(2),
        instant: b.min.instant.map(|t| t.saturating_add(86_400_000)),
    };
    let _ = index.index_ranges(&b.min, &corner);
    // What the engine writes, it reads back as the same index.
    let text = index.to_json();
    let value: serde_json::Value = serde_json::from_str(&text).expect("to_json writes JSON");
    let again = KeyIndex::from_json(&value, index.is_space_time()).expect("to_json's output reads back");
    assert_eq!(&again, index);
}

fuzz_target!(|data: &[u8]| {
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(data) else { return };
    for space_time in [false, true] {
        if let Ok(index) = KeyIndex::from_json(&value, space_time) {
            exercise(&index);
        }
    }
});
