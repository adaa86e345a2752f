//! Bindings for buffering tiles with their neighbours' border strips (the keyed exchange focal
//! operations build on): the map side cuts pieces, the reduce side assembles runs of equal keys.

use gps_engine::buffer;
use pyo3::prelude::*;
use pyo3_arrow::PyRecordBatch;

use crate::error::Error;

/// Every tile as the pieces it sends: itself (`dx = dy = 0`) and the `width`-cell border strips its
/// neighbours read, keyed by the receiving tile. `key_bounds = (min_col, min_row, max_col, max_row)`
/// (inclusive) leaves out strips for keys outside them.
#[pyfunction]
#[pyo3(signature = (batch, width, key_bounds=None))]
fn buffer_pieces<'py>(
    py: Python<'py>,
    batch: PyRecordBatch,
    width: usize,
    key_bounds: Option<(i64, i64, i64, i64)>,
) -> PyResult<Bound<'py, PyAny>> {
    let batch = batch.into_inner();
    let out = py
        .detach(|| buffer::buffer_pieces(&batch, width, key_bounds))
        .map_err(Error::from)?;
    PyRecordBatch::new(out).into_pyarrow(py)
}

/// `buffer_pieces` without the tiles themselves: only the strips their neighbours read (for tiles the
/// exchange takes from the JVM as they are).
#[pyfunction]
#[pyo3(signature = (batch, width, key_bounds=None))]
fn border_strips<'py>(
    py: Python<'py>,
    batch: PyRecordBatch,
    width: usize,
    key_bounds: Option<(i64, i64, i64, i64)>,
) -> PyResult<Bound<'py, PyAny>> {
    let batch = batch.into_inner();
    let out = py
        .detach(|| buffer::border_strips(&batch, width, key_bounds))
        .map_err(Error::from)?;
    PyRecordBatch::new(out).into_pyarrow(py)
}

/// Runs of equal keys of `buffer_pieces` rows assembled into tiles grown by `width` cells on every side
/// (NoData where no neighbour exists). Returns the batch and the row where the held-back last run starts.
#[pyfunction]
fn buffer_runs<'py>(
    py: Python<'py>,
    batch: PyRecordBatch,
    key_columns: Vec<String>,
    width: usize,
    last_run_complete: bool,
) -> PyResult<(Bound<'py, PyAny>, usize)> {
    let batch = batch.into_inner();
    let keys: Vec<&str> = key_columns.iter().map(String::as_str).collect();
    let (out, next) = py
        .detach(|| buffer::buffer_runs(&batch, &keys, width, last_run_complete))
        .map_err(Error::from)?;
    Ok((PyRecordBatch::new(out).into_pyarrow(py)?, next))
}

/// Tiles (any order) grown by `width` cells with the strips `strips` (`border_strips` output) holds for them.
#[pyfunction]
fn buffer_with_strips<'py>(
    py: Python<'py>,
    tiles: PyRecordBatch,
    strips: PyRecordBatch,
    width: usize,
) -> PyResult<Bound<'py, PyAny>> {
    let (tiles, strips) = (tiles.into_inner(), strips.into_inner());
    let out = py
        .detach(|| buffer::buffer_with_strips(&tiles, &strips, width))
        .map_err(Error::from)?;
    PyRecordBatch::new(out).into_pyarrow(py)
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(buffer_pieces, m)?)?;
    m.add_function(wrap_pyfunction!(border_strips, m)?)?;
    m.add_function(wrap_pyfunction!(buffer_runs, m)?)?;
    m.add_function(wrap_pyfunction!(buffer_with_strips, m)?)?;
    Ok(())
}
