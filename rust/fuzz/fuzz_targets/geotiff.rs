//! Whole-file GeoTIFF reads: the header (IFDs, GeoKeys, tags, overviews, masks), then a few windows of
//! every image (full resolution and each overview) through both read paths: `read_windows` (tile
//! contract cell types, the Spark reader) and `native_ranges` + `read_native` (the file's own sample
//! types with the internal mask, the async COG reader).
#![no_main]

use std::sync::Arc;

use gps_engine::geotiff::cached::CachedSource;
use gps_engine::geotiff::info::read_info;
use gps_engine::geotiff::read::{native_ranges, read_native, read_windows, Window};
use gps_fuzz::MemSource;
use libfuzzer_sys::fuzz_target;

/// Windows to read of a `w`×`h` image of `bands` bands: its top-left corner, its bottom-right corner
/// and one pixel in the middle (at most 64×64 cells and 2^18 samples each, so that a header claiming a
/// huge image, or 65 535 samples per pixel, costs no more than the segments its windows touch: reading
/// a window costs what its cells do, which a caller chooses).
fn windows(w: usize, h: usize, bands: usize) -> Vec<Window> {
    if w == 0 || h == 0 {
        return vec![(0, 0, 0, 0)];
    }
    let side = ((1usize << 18) / bands.max(1)).isqrt().clamp(1, 64);
    let (cw, ch) = (w.min(side), h.min(side));
    vec![(0, 0, cw, ch), (w - cw, h - ch, cw, ch), (w / 2, h / 2, 1, 1)]
}

fuzz_target!(|data: &[u8]| {
    let src = Arc::new(MemSource::new("fuzz.tif", data.to_vec()));
    let Ok(cached) = CachedSource::new(src) else { return };
    let Ok(info) = read_info(&cached) else { return };
    for ifd in 0..=info.overviews.len() {
        let Ok(layout) = info.layout(ifd) else { continue };
        let wins = windows(layout.width, layout.height, layout.bands);
        let _ = read_windows(&cached, &info, ifd, &wins);
        let bands: Vec<usize> = (0..layout.bands.min(4)).rev().collect();
        if let Ok(ranges) = native_ranges("fuzz.tif", data.len() as u64, &info, ifd, &wins, &bands, true) {
            if let Ok(fetched) = cached.fetch(&ranges) {
                let _ = read_native("fuzz.tif", &info, ifd, &wins, &bands, true, &fetched);
            }
        }
    }
});
