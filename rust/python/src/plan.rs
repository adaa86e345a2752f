//! Running a layer's fused plan (`gps_engine::plan`) over a batch of tiles, and checking a plan on the
//! driver.

use gps_engine::plan::{self, Step};
use gps_engine::CellType;
use pyo3::prelude::*;
use pyo3_arrow::PyRecordBatch;

use crate::error::Result;
use crate::layout::LayoutArg;

fn parse_plan(plan_json: &str) -> Result<Vec<Step>> {
    Ok(plan::parse_plan(plan_json)?)
}

/// Run a plan (JSON list of steps) over every tile of a record batch in the tile contract. `layout` (the
/// layer's layout) is needed only by steps that use their tile's key, extent or cell size.
#[pyfunction]
#[pyo3(signature = (batch, plan_json, layout=None))]
fn run_plan<'py>(
    py: Python<'py>,
    batch: PyRecordBatch,
    plan_json: &str,
    layout: Option<LayoutArg>,
) -> PyResult<Bound<'py, PyAny>> {
    let steps = parse_plan(plan_json)?;
    let batch = batch.into_inner();
    let layout = layout.map(|l| l.0);
    let out = py
        .detach(|| plan::run_plan(&batch, &steps, layout.as_ref()))
        .map_err(crate::error::Error::from)?;
    PyRecordBatch::new(out).into_pyarrow(py)
}

/// Check a plan and return the cell type it produces from the given input cell types.
#[pyfunction]
fn plan_output_cell_type(plan_json: &str, input_cell_types: Vec<String>) -> Result<String> {
    let steps = parse_plan(plan_json)?;
    let inputs: Vec<CellType> = input_cell_types
        .iter()
        .map(|n| CellType::parse(n))
        .collect::<gps_engine::Result<_>>()?;
    if inputs.len() != plan::input_count(&steps) {
        return Err(gps_engine::EngineError::InvalidPlan(format!(
            "the plan reads {} tiles per key, {} cell types given",
            plan::input_count(&steps),
            inputs.len()
        ))
        .into());
    }
    Ok(plan::output_cell_type(&steps, &inputs)?.name())
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(run_plan, m)?)?;
    m.add_function(wrap_pyfunction!(plan_output_cell_type, m)?)?;
    Ok(())
}
