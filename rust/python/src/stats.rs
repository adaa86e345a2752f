//! Per-batch statistics (engine `stats`): the partial results reductions send back.

use gps_engine::{plan, stats};
use pyo3::prelude::*;
use pyo3_arrow::PyRecordBatch;

use crate::error::Error;
use crate::layout::LayoutArg;

/// `(min, max)` over all data cells, or None when every cell is NoData. With `plan_json`, of the tiles the
/// plan makes (folded tile by tile, no output batch built).
#[pyfunction]
#[pyo3(signature = (batch, plan_json=None, layout=None))]
fn min_max(
    py: Python<'_>,
    batch: PyRecordBatch,
    plan_json: Option<&str>,
    layout: Option<LayoutArg>,
) -> PyResult<Option<(f64, f64)>> {
    let batch = batch.into_inner();
    let steps = plan_json
        .map(plan::parse_plan)
        .transpose()
        .map_err(Error::from)?;
    let layout = layout.map(|l| l.0);
    Ok(py
        .detach(|| match &steps {
            Some(steps) => stats::min_max_after(&batch, steps, layout.as_ref()),
            None => stats::min_max(&batch),
        })
        .map_err(Error::from)?)
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(min_max, m)?)?;
    Ok(())
}
