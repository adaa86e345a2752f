//! Bindings for focal and terrain operations: the reduce side of the neighbour-buffer exchange.

use gps_engine::focal::tiles::{
    focal_runs as run_focal, focal_with_strips as run_with_strips, FocalSpec,
};
use gps_engine::CellType;
use pyo3::prelude::*;
use pyo3_arrow::PyRecordBatch;

use crate::error::Error;

/// The neighbour buffer width an operation needs and the cell type of its result for `cell_type`
/// tiles; checks the spec, so bad parameters fail on the driver.
#[pyfunction]
fn focal_output(spec_json: &str, cell_type: &str) -> PyResult<(usize, String)> {
    let spec = FocalSpec::from_json(spec_json).map_err(Error::from)?;
    let ct = CellType::parse(cell_type).map_err(Error::from)?;
    Ok((spec.buffer_width(), spec.output_cell_type(&ct).name()))
}

/// Runs of equal keys of `buffer_pieces` rows (buffered by the spec's width) turned into the spec's
/// result for each key's tile. Returns the batch and the row where the held-back last run starts.
#[pyfunction]
fn focal_runs<'py>(
    py: Python<'py>,
    batch: PyRecordBatch,
    key_columns: Vec<String>,
    spec_json: &str,
    last_run_complete: bool,
) -> PyResult<(Bound<'py, PyAny>, usize)> {
    let spec = FocalSpec::from_json(spec_json).map_err(Error::from)?;
    let batch = batch.into_inner();
    let keys: Vec<&str> = key_columns.iter().map(String::as_str).collect();
    let (out, next) = py
        .detach(|| run_focal(&batch, &keys, &spec, last_run_complete))
        .map_err(Error::from)?;
    Ok((PyRecordBatch::new(out).into_pyarrow(py)?, next))
}

/// Tiles (any order) turned into the spec's result with their neighbours' strips from `strips`
/// (`border_strips` output).
#[pyfunction]
fn focal_with_strips<'py>(
    py: Python<'py>,
    tiles: PyRecordBatch,
    strips: PyRecordBatch,
    spec_json: &str,
) -> PyResult<Bound<'py, PyAny>> {
    let spec = FocalSpec::from_json(spec_json).map_err(Error::from)?;
    let (tiles, strips) = (tiles.into_inner(), strips.into_inner());
    let out = py
        .detach(|| run_with_strips(&tiles, &strips, &spec))
        .map_err(Error::from)?;
    PyRecordBatch::new(out).into_pyarrow(py)
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(focal_output, m)?)?;
    m.add_function(wrap_pyfunction!(focal_runs, m)?)?;
    m.add_function(wrap_pyfunction!(focal_with_strips, m)?)?;
    Ok(())
}
