//! Stitching collected tiles into one raster on the driver (engine `stitch`).

use gps_engine::stitch as stitch_mod;
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use pyo3_arrow::PyRecordBatch;

use crate::error::Error;

/// Stitch tiles (col, row + tile columns) into one raster:
/// `(cell_type, bands, rows, cols, cells, (min_col, min_row, max_col, max_row))`.
#[pyfunction]
#[allow(clippy::type_complexity)]
fn stitch<'py>(
    py: Python<'py>,
    batch: PyRecordBatch,
) -> PyResult<(
    String,
    usize,
    usize,
    usize,
    Bound<'py, PyBytes>,
    (i32, i32, i32, i32),
)> {
    let batch = batch.into_inner();
    let (ct, bands, rows, cols, cells, bounds) = py
        .detach(|| stitch_mod::stitch(&batch))
        .map_err(Error::from)?;
    Ok((
        ct.name(),
        bands,
        rows,
        cols,
        PyBytes::new(py, &cells),
        bounds,
    ))
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(stitch, m)?)?;
    Ok(())
}
