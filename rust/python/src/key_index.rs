//! Bindings for GeoTrellis key indexes (format reference §3): create one as its JSON, index keys,
//! index ranges of a key box, and the width of tile file names.

use gps_engine::catalog::index::{Key, KeyBounds, KeyIndex};
use gps_engine::EngineError;
use numpy::{PyArray1, PyReadonlyArray1};
use pyo3::prelude::*;

use crate::error::Error;

fn key(t: &[i64]) -> Result<Key, Error> {
    let int = |v: i64| {
        i32::try_from(v).map_err(|_| Error(EngineError::Value(format!("key coordinate {v} does not fit an int"))))
    };
    match t {
        [c, r] => Ok(Key { col: int(*c)?, row: int(*r)?, instant: None }),
        [c, r, t] => Ok(Key { col: int(*c)?, row: int(*r)?, instant: Some(*t) }),
        _ => Err(Error(EngineError::Value(format!(
            "a key is (col, row) or (col, row, instant_ms), got {} values",
            t.len()
        )))),
    }
}

fn parse(index_json: &str, space_time: bool) -> Result<KeyIndex, Error> {
    let value: serde_json::Value = serde_json::from_str(index_json).map_err(EngineError::from)?;
    Ok(KeyIndex::from_json(&value, space_time)?)
}

/// A new key index (GeoTrellis' `KeyIndexMethod.createIndex`) as its JSON text.
#[pyfunction]
#[pyo3(signature = (method, min_key, max_key, temporal=None))]
fn key_index_create(method: &str, min_key: Vec<i64>, max_key: Vec<i64>, temporal: Option<i64>) -> PyResult<String> {
    let bounds = KeyBounds { min: key(&min_key)?, max: key(&max_key)? };
    Ok(KeyIndex::create(method, bounds, temporal).map_err(Error::from)?.to_json())
}

/// The index of every key (`instants` for space-time layers).
#[pyfunction]
#[pyo3(signature = (index_json, space_time, cols, rows, instants=None))]
fn key_index_to_index<'py>(
    py: Python<'py>,
    index_json: &str,
    space_time: bool,
    cols: PyReadonlyArray1<'py, i32>,
    rows: PyReadonlyArray1<'py, i32>,
    instants: Option<PyReadonlyArray1<'py, i64>>,
) -> PyResult<Bound<'py, PyArray1<i64>>> {
    let index = parse(index_json, space_time)?;
    let (cols, rows) = (cols.as_array(), rows.as_array());
    let instants = instants.as_ref().map(|a| a.as_array());
    if cols.len() != rows.len() || instants.as_ref().is_some_and(|t| t.len() != cols.len()) {
        return Err(Error(EngineError::Value("cols, rows and instants must have the same length".into())).into());
    }
    if space_time != instants.is_some() {
        return Err(Error(EngineError::Value("instants are required for, and only for, space-time keys".into())).into());
    }
    let mut out = Vec::with_capacity(cols.len());
    for i in 0..cols.len() {
        let k = Key { col: cols[i], row: rows[i], instant: instants.as_ref().map(|t| t[i]) };
        out.push(index.to_index(&k).map_err(Error::from)?);
    }
    Ok(PyArray1::from_vec(py, out))
}

/// Sorted inclusive index ranges covering every key in the box `[min_key, max_key]`.
#[pyfunction]
fn key_index_ranges(
    py: Python<'_>,
    index_json: &str,
    space_time: bool,
    min_key: Vec<i64>,
    max_key: Vec<i64>,
) -> PyResult<Vec<(i64, i64)>> {
    let index = parse(index_json, space_time)?;
    let (lo, hi) = (key(&min_key)?, key(&max_key)?);
    Ok(py.detach(|| index.index_ranges(&lo, &hi)).map_err(Error::from)?)
}

/// Width of the zero-padded tile file names of a layer with this index.
#[pyfunction]
fn key_index_file_width(index_json: &str, space_time: bool) -> PyResult<usize> {
    Ok(parse(index_json, space_time)?.file_name_width().map_err(Error::from)?)
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(key_index_create, m)?)?;
    m.add_function(wrap_pyfunction!(key_index_to_index, m)?)?;
    m.add_function(wrap_pyfunction!(key_index_ranges, m)?)?;
    m.add_function(wrap_pyfunction!(key_index_file_width, m)?)?;
    Ok(())
}
