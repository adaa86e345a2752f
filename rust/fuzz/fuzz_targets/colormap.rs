//! Colour-map JSON as the Python layer and the TMS server send it (`ColorMap::from_json`), then
//! classifying and rendering values with it (including NaN, infinities and integer truncation), and
//! colour ramp stops (`ramp::stops`) taken from its colours.
#![no_main]

use gps_engine::render::colormap::ColorMap;
use gps_engine::render::png::PngOptions;
use gps_engine::render::{ramp, render_png, render_rgba};
use libfuzzer_sys::fuzz_target;

const VALUES: [f64; 16] = [
    f64::NAN,
    f64::NEG_INFINITY,
    -1e300,
    -32768.0,
    -1.5,
    -0.5,
    0.0,
    0.5,
    1.0,
    2.5,
    255.0,
    65535.5,
    2147483648.0,
    1e300,
    f64::INFINITY,
    -0.0,
];

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(map) = ColorMap::from_json(text) else { return };
    for v in VALUES {
        let _ = map.class_of(v);
        let _ = map.color_of(v);
    }
    let _ = render_rgba(&VALUES, &map);
    let _ = render_png(&VALUES, 4, 4, &map, PngOptions::default());
    for n in [1, 2, 7, 300] {
        if let Ok(stops) = ramp::stops(map.colors(), n) {
            assert_eq!(stops.len(), n);
        }
    }
});
