//! CRS text → GeoTrellis proj4 string (`geopyspark_rs.geotrellis.crs_to_proj4`).

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

/// Converts an EPSG code (`"4326"`, `"EPSG:4326"`) or a proj4 string to the proj4 string GeoTrellis
/// writes for it (with the trailing space). Raises ValueError for anything else or an unknown code.
#[pyfunction]
fn crs_to_proj4(crs: &str) -> PyResult<String> {
    gps_engine::crs::crs_to_proj4(crs).map_err(|e| PyValueError::new_err(e.to_string()))
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(crs_to_proj4, m)?)
}
