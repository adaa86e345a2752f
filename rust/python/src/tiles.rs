//! Running a layer's fused plan over a batch of tiles, and cell-type facts the driver needs.

use gps_engine::batch;
use gps_engine::plan::{self, Step};
use gps_engine::{CellType, DataType};
use pyo3::prelude::*;
use pyo3_arrow::PyRecordBatch;

use crate::error::Result;

fn parse_plan(plan_json: &str) -> Result<Vec<Step>> {
    Ok(plan::parse_plan(plan_json)?)
}

/// Run a plan (JSON list of steps) over every tile of a record batch in the tile contract.
#[pyfunction]
fn run_plan<'py>(
    py: Python<'py>,
    batch: PyRecordBatch,
    plan_json: &str,
) -> PyResult<Bound<'py, PyAny>> {
    let steps = parse_plan(plan_json)?;
    let batch = batch.into_inner();
    let out = py
        .detach(|| batch::run_plan(&batch, &steps))
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

/// `(canonical name, NoData value or None, numpy dtype name)` of a GeoTrellis cell type name.
#[pyfunction]
fn cell_type_info(name: &str) -> Result<(String, Option<f64>, &'static str)> {
    let ct = CellType::parse(name)?;
    // Cells are stored as numpy holds them; bool takes one byte per cell, read as int8 as GeoPySpark did.
    let dtype = match ct.data_type {
        DataType::Bool => "int8",
        other => other.name(),
    };
    Ok((ct.name(), ct.no_data_value(), dtype))
}

/// The GeoTrellis name of a storage type with a NoData value (`withNoData`; None → raw).
#[pyfunction]
#[pyo3(signature = (name, no_data))]
fn cell_type_with_no_data(name: &str, no_data: Option<f64>) -> Result<String> {
    Ok(CellType::parse(name)?.with_no_data(no_data).name())
}

/// GeoTrellis `CellType.union` of several cell type names.
#[pyfunction]
fn cell_type_union(names: Vec<String>) -> Result<String> {
    let mut it = names.iter();
    let first = it
        .next()
        .ok_or_else(|| gps_engine::EngineError::Value("no cell types to unite".into()))?;
    let mut acc = CellType::parse(first)?;
    for n in it {
        acc = acc.union(&CellType::parse(n)?);
    }
    Ok(acc.name())
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(run_plan, m)?)?;
    m.add_function(wrap_pyfunction!(plan_output_cell_type, m)?)?;
    m.add_function(wrap_pyfunction!(cell_type_info, m)?)?;
    m.add_function(wrap_pyfunction!(cell_type_with_no_data, m)?)?;
    m.add_function(wrap_pyfunction!(cell_type_union, m)?)?;
    Ok(())
}
