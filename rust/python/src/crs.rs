//! CRS text → GeoTrellis proj4 string (`geopyspark_rs.geotrellis.crs_to_proj4`), and point transforms.

use numpy::{PyArray2, PyReadonlyArray2, PyUntypedArrayMethods};
use pyo3::prelude::*;

use crate::error::{internal, invalid_argument};

/// Converts an EPSG code (`"4326"`, `"EPSG:4326"`), a proj4 string or WKT with an EPSG authority (WKT1 or
/// WKT2; or the exact WKT of a bundled EPSG definition) to the proj4 string GeoTrellis writes for it (with the
/// trailing space). Raises ValueError for anything else or an unknown code.
#[pyfunction]
fn crs_to_proj4(crs: &str) -> PyResult<String> {
    gps_engine::crs::crs_to_proj4(crs).map_err(|e| invalid_argument(e.to_string()))
}

/// Points (an n×2 float64 array of x, y; degrees for geographic CRSs) transformed from `src` to `dst`.
#[pyfunction]
fn transform_points<'py>(
    py: Python<'py>,
    src: &str,
    dst: &str,
    points: PyReadonlyArray2<'py, f64>,
) -> PyResult<Bound<'py, PyArray2<f64>>> {
    if points.shape()[1] != 2 {
        return Err(invalid_argument(format!("points must be an n×2 array, got shape {:?}", points.shape())));
    }
    let n = points.shape()[0];
    let mut xy: Vec<f64> = points.as_array().iter().copied().collect();
    py.detach(|| gps_engine::crs::transform_points(src, dst, &mut xy))
        .map_err(|e| invalid_argument(e.to_string()))?;
    let array = numpy::ndarray::Array2::from_shape_vec((n, 2), xy).map_err(internal)?;
    Ok(PyArray2::from_owned_array(py, array))
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(crs_to_proj4, m)?)?;
    m.add_function(wrap_pyfunction!(transform_points, m)?)
}
