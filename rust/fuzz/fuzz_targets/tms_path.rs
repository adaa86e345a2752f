//! TMS request paths (`parse_route`, what the tile server does first with every request): an accepted tile
//! is inside its zoom's grid, and no accepted path can name a parent directory, raw or percent-encoded.
#![no_main]

use gps_tms::{parse_route, Route};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(path) = std::str::from_utf8(data) else {
        return;
    };
    match parse_route(path) {
        Ok(Route::Tile(z, x, y)) => {
            assert!(z <= 30, "zoom {z} accepted");
            let n = 1i64 << z;
            assert!((0..n).contains(&x) && (0..n).contains(&y), "tile {z}/{x}/{y} accepted");
        }
        Ok(Route::File(p)) => {
            let lower = p.to_ascii_lowercase();
            assert!(
                !lower.contains("..") && !lower.contains("%2e") && !lower.contains('\\'),
                "file path {p:?} accepted"
            );
        }
        Ok(Route::Handshake) | Err(_) => {}
    }
});
