//! Kernels around shuffles and driver-side collection: cutting rasters to a layout, combining runs of equal
//! keys (merge, aggregate_by_cell), stitching, min/max.

use gps_engine::merge::{self, RunOp};
use gps_engine::retile;
use gps_engine::{stats, stitch as stitch_mod};
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use pyo3_arrow::PyRecordBatch;

use crate::error::Error;
use crate::layout::LayoutArg;

/// Cut rasters (rows with xmin, ymin, xmax, ymax + tile columns, optional instant) to the tiles of a layout.
#[pyfunction]
fn cut_to_layout<'py>(
    py: Python<'py>,
    batch: PyRecordBatch,
    layout: LayoutArg,
) -> PyResult<Bound<'py, PyAny>> {
    let (batch, layout) = (batch.into_inner(), layout.0);
    let out = py
        .detach(|| retile::cut_to_layout(&batch, &layout))
        .map_err(Error::from)?;
    PyRecordBatch::new(out).into_pyarrow(py)
}

/// Combine runs of consecutive rows with equal keys. Returns the combined batch and the row index where the
/// held-back last run starts (`num_rows` when `last_run_complete`).
#[pyfunction]
fn combine_runs<'py>(
    py: Python<'py>,
    batch: PyRecordBatch,
    key_columns: Vec<String>,
    op: &str,
    last_run_complete: bool,
) -> PyResult<(Bound<'py, PyAny>, usize)> {
    let op = RunOp::parse(op).map_err(Error::from)?;
    let batch = batch.into_inner();
    let keys: Vec<&str> = key_columns.iter().map(String::as_str).collect();
    let (out, next) = py
        .detach(|| merge::combine_runs(&batch, &keys, op, last_run_complete))
        .map_err(Error::from)?;
    Ok((PyRecordBatch::new(out).into_pyarrow(py)?, next))
}

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

/// `(min, max)` over all data cells, or None when every cell is NoData.
#[pyfunction]
fn min_max(py: Python<'_>, batch: PyRecordBatch) -> PyResult<Option<(f64, f64)>> {
    let batch = batch.into_inner();
    Ok(py.detach(|| stats::min_max(&batch)).map_err(Error::from)?)
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(cut_to_layout, m)?)?;
    m.add_function(wrap_pyfunction!(combine_runs, m)?)?;
    m.add_function(wrap_pyfunction!(stitch, m)?)?;
    m.add_function(wrap_pyfunction!(min_max, m)?)?;
    Ok(())
}
