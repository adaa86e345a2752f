//! Per-batch statistics (engine `stats`): the partial results reductions send back.

use gps_engine::stats;
use pyo3::prelude::*;
use pyo3_arrow::PyRecordBatch;

use crate::error::Error;

/// `(min, max)` over all data cells, or None when every cell is NoData.
#[pyfunction]
fn min_max(py: Python<'_>, batch: PyRecordBatch) -> PyResult<Option<(f64, f64)>> {
    let batch = batch.into_inner();
    Ok(py.detach(|| stats::min_max(&batch)).map_err(Error::from)?)
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(min_max, m)?)?;
    Ok(())
}
