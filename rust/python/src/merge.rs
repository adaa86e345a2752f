//! Combining runs of equal keys (engine `merge`): the reduce side of merge, aggregate_by_cell and tiling.

use gps_engine::merge::{self, RunOp};
use pyo3::prelude::*;
use pyo3_arrow::PyRecordBatch;

use crate::error::Error;

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

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(combine_runs, m)?)?;
    Ok(())
}
