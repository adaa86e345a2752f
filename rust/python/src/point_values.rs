//! Values at points (engine `point_values`): `get_point_values`.

use gps_engine::point_values::{self, Points};
use gps_engine::resample::PointMethod;
use pyo3::prelude::*;
use pyo3_arrow::PyRecordBatch;

use crate::error::Error;
use crate::layout::LayoutArg;

/// Sample the tiles of `batch` (keys in `layout`) at points given by their keys and coordinates with
/// `method` (NearestNeighbor, Bilinear, CubicConvolution, CubicSpline). Returns a batch of `point`,
/// optional `instant`, `values` (one float per band).
#[pyfunction]
#[allow(clippy::too_many_arguments)]
fn sample_points<'py>(
    py: Python<'py>,
    batch: PyRecordBatch,
    layout: LayoutArg,
    cols: Vec<i32>,
    rows: Vec<i32>,
    xs: Vec<f64>,
    ys: Vec<f64>,
    method: &str,
) -> PyResult<Bound<'py, PyAny>> {
    let method = match method {
        "NearestNeighbor" => PointMethod::NearestNeighbor,
        "Bilinear" => PointMethod::Bilinear,
        "CubicConvolution" => PointMethod::CubicConvolution,
        "CubicSpline" => PointMethod::CubicSpline,
        other => {
            return Err(crate::error::invalid_argument(format!(
                "{other} cannot be used to sample point values; use NearestNeighbor, Bilinear, CubicConvolution or CubicSpline"
            )))
        }
    };
    let (batch, layout) = (batch.into_inner(), layout.0);
    let out = py
        .detach(|| {
            let pts = Points {
                cols: &cols,
                rows: &rows,
                xs: &xs,
                ys: &ys,
            };
            point_values::sample_points(&batch, &layout, &pts, method)
        })
        .map_err(Error::from)?;
    PyRecordBatch::new(out).into_pyarrow(py)
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(sample_points, m)?)?;
    Ok(())
}
