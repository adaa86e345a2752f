//! Cell-type facts the driver needs (`gps_engine::cell_type`): names, NoData values, unions.

use gps_engine::{CellType, DataType};
use pyo3::prelude::*;

use crate::error::Result;

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
    m.add_function(wrap_pyfunction!(cell_type_info, m)?)?;
    m.add_function(wrap_pyfunction!(cell_type_with_no_data, m)?)?;
    m.add_function(wrap_pyfunction!(cell_type_union, m)?)?;
    Ok(())
}
