//! PLACEHOLDER, replaced at merge by the reader engineer's GeoKey module (same signature).
//!
//! Only what the writer needs to be testable on its own branch: EPSG codes, GeoKeys naming the EPSG
//! code directly, PixelIsArea. Proj4 strings are refused here; the real module encodes them.

use crate::error::{EngineError, Result};

/// The three GeoTIFF tags that describe a CRS: GeoKeyDirectory (34735), GeoDoubleParams (34736) and
/// GeoAsciiParams (34737). Empty params mean the tag is not written.
pub struct GeoKeyTags {
    pub directory: Vec<u16>,
    pub double_params: Vec<f64>,
    pub ascii_params: String,
}

const GT_MODEL_TYPE: u16 = 1024;
const GT_RASTER_TYPE: u16 = 1025;
const GEOGRAPHIC_TYPE: u16 = 2048;
const PROJECTED_CS_TYPE: u16 = 3072;
const MODEL_PROJECTED: u16 = 1;
const MODEL_GEOGRAPHIC: u16 = 2;
const RASTER_PIXEL_IS_AREA: u16 = 1;

/// GeoKeys for `"EPSG:<n>"` (or a bare code): geographic if its proj4 form is `+proj=longlat`, else
/// projected. PixelIsArea.
pub fn encode(crs: &str) -> Result<GeoKeyTags> {
    let bad = |why: &str| EngineError::Value(format!("cannot encode CRS {crs:?} as GeoKeys: {why}"));
    let trimmed = crs.trim();
    let digits = trimmed
        .strip_prefix("EPSG:")
        .or_else(|| trimmed.strip_prefix("epsg:"))
        .unwrap_or(trimmed);
    let code: u16 = digits
        .parse()
        .map_err(|_| bad("only EPSG codes up to 65535 are supported by this build"))?;
    let proj4 = crate::crs::crs_to_proj4(trimmed).map_err(|e| bad(&e.to_string()))?;
    let (model, key) = if proj4.contains("+proj=longlat") {
        (MODEL_GEOGRAPHIC, GEOGRAPHIC_TYPE)
    } else {
        (MODEL_PROJECTED, PROJECTED_CS_TYPE)
    };
    let keys = [(GT_MODEL_TYPE, model), (GT_RASTER_TYPE, RASTER_PIXEL_IS_AREA), (key, code)];
    // Header: version 1, revision 1.0, key count; then (id, location 0 = value inline, count 1, value).
    let mut directory = vec![1, 1, 0, keys.len() as u16];
    for (id, value) in keys {
        directory.extend_from_slice(&[id, 0, 1, value]);
    }
    Ok(GeoKeyTags { directory, double_params: Vec::new(), ascii_params: String::new() })
}
