//! A layer's `keyIndex` attribute JSON through `KeyIndex::from_json` (Z-order, Hilbert, row-major,
//! spatial and space-time), then what a catalog read does with it: the file name width, the index of
//! keys at and around the bounds, and the index ranges of a query box (the whole bounds and a
//! small box at the min corner).
#![no_main]

use gps_engine::catalog::index::{Key, KeyIndex};
use libfuzzer_sys::fuzz_target;

/// Keys in the index's bounds (time bins for space-time indexes), saturating.
fn key_count(index: &KeyIndex) -> i128 {
    let b = index.bounds();
    let side = |a: i64, z: i64| (z as i128 - a as i128 + 1).max(0);
    let spatial = side(b.min.col as i64, b.max.col as i64) * side(b.min.row as i64, b.max.row as i64);
    let bins = match index {
        KeyIndex::ZSpaceTime { temporal_resolution, .. } => {
            let (t0, t1) = (b.min.instant.unwrap_or(0), b.max.instant.unwrap_or(0));
            let (a, z) = (t0.wrapping_div(*temporal_resolution), t1.wrapping_div(*temporal_resolution));
            side(a.min(z), a.max(z)).max(1)
        }
        KeyIndex::HilbertSpaceTime { temporal_resolution, .. } => 1i128 << (*temporal_resolution).min(63),
        _ => 1,
    };
    spatial.saturating_mul(bins)
}

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
    // The ranges of the whole bounds (what a full read asks for) when the box holds at most 2^30 keys.
    // Larger boxes can take seconds: up to MAX_RANGES (2^24) exact ranges are made before the engine
    // gives up (and the reader falls back to reading every file). That work is bounded and proportional
    // to the layer's size, so it is not a finding; but it would trip -timeout on a busy machine.
    if key_count(index) <= 1 << 30 {
        let _ = index.index_ranges(&b.min, &b.max);
    }
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
