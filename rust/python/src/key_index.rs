//! Bindings of the GeoTrellis key indexes (`gps_engine::catalog::index`): create an index, index keys in
//! bulk, index ranges of a query box and the width of tile file names. Indexes cross the boundary as their
//! `keyIndex` JSON text.

use gps_engine::catalog::index::{encode_index, Key, KeyBounds, KeyIndex};
use gps_engine::EngineError;
use numpy::{IntoPyArray, PyArray1, PyReadonlyArray1};
use pyo3::prelude::*;

use crate::error::{Error, Result};

fn invalid(msg: String) -> Error {
    Error(EngineError::KeyIndex(msg))
}

/// `(col, row)` or `(col, row, instant_ms)` → `Key`.
fn key(t: &[i64]) -> Result<Key> {
    let coord = |v: i64| {
        i32::try_from(v)
            .map_err(|_| invalid(format!("key {t:?}: col and row must be 32-bit integers")))
    };
    match *t {
        [c, r] => Ok(Key {
            col: coord(c)?,
            row: coord(r)?,
            instant: None,
        }),
        [c, r, i] => Ok(Key {
            col: coord(c)?,
            row: coord(r)?,
            instant: Some(i),
        }),
        _ => Err(invalid(format!(
            "a key is (col, row) or (col, row, instant_ms), got {t:?}"
        ))),
    }
}

fn parse(index_json: &str, space_time: bool) -> Result<KeyIndex> {
    let value: serde_json::Value = serde_json::from_str(index_json)
        .map_err(|e| invalid(format!("keyIndex is not JSON ({e}): {index_json}")))?;
    Ok(KeyIndex::from_json(&value, space_time)?)
}

/// GeoTrellis' `KeyIndexMethod.createIndex`: the `keyIndex` JSON of a "zorder", "hilbert" or "rowmajor" index
/// over the bounds `min_key`..`max_key`; `temporal` is ms per bin (zorder) or bits (hilbert) for space-time keys.
#[pyfunction]
#[pyo3(signature = (method, min_key, max_key, temporal = None))]
fn key_index_create(
    method: &str,
    min_key: Vec<i64>,
    max_key: Vec<i64>,
    temporal: Option<i64>,
) -> Result<String> {
    let bounds = KeyBounds {
        min: key(&min_key)?,
        max: key(&max_key)?,
    };
    Ok(KeyIndex::create(method, bounds, temporal)?.to_json())
}

/// The index of every key `(cols[i], rows[i], instants[i])`; `instants` only (and always) for space-time.
#[pyfunction]
#[pyo3(signature = (index_json, space_time, cols, rows, instants = None))]
fn key_index_to_index<'py>(
    py: Python<'py>,
    index_json: &str,
    space_time: bool,
    cols: PyReadonlyArray1<'py, i32>,
    rows: PyReadonlyArray1<'py, i32>,
    instants: Option<PyReadonlyArray1<'py, i64>>,
) -> Result<Bound<'py, PyArray1<i64>>> {
    let index = parse(index_json, space_time)?;
    let cols = cols.as_array();
    let rows = rows.as_array();
    let instants = instants.as_ref().map(|a| a.as_array());
    if cols.len() != rows.len() || instants.as_ref().is_some_and(|t| t.len() != cols.len()) {
        return Err(invalid(format!(
            "cols, rows and instants must have one length, got {}, {} and {:?}",
            cols.len(),
            rows.len(),
            instants.as_ref().map(|t| t.len())
        )));
    }
    match (space_time, instants.is_some()) {
        (true, false) => return Err(invalid("a space-time index needs instants".to_string())),
        (false, true) => return Err(invalid("a spatial index takes no instants".to_string())),
        _ => {}
    }
    let out = py.detach(|| -> gps_engine::Result<Vec<i64>> {
        (0..cols.len())
            .map(|i| {
                let instant = instants.as_ref().map(|t| t[i]);
                index.to_index(&Key {
                    col: cols[i],
                    row: rows[i],
                    instant,
                })
            })
            .collect()
    })?;
    Ok(out.into_pyarray(py))
}

/// Sorted, merged, inclusive index ranges covering every key of the box `min_key`..`max_key`.
#[pyfunction]
fn key_index_ranges(
    py: Python<'_>,
    index_json: &str,
    space_time: bool,
    min_key: Vec<i64>,
    max_key: Vec<i64>,
) -> Result<Vec<(i64, i64)>> {
    let index = parse(index_json, space_time)?;
    let (min, max) = (key(&min_key)?, key(&max_key)?);
    Ok(py.detach(|| index.index_ranges(&min, &max))?)
}

/// Width of tile file names: decimal digits of the index of the bounds' max key.
#[pyfunction]
fn key_index_file_width(index_json: &str, space_time: bool) -> Result<usize> {
    Ok(parse(index_json, space_time)?.file_name_width()?)
}

/// The tile file name of one key: its index zero-padded to the layer's width (format reference §2.2).
#[pyfunction]
fn key_index_file_name(index_json: &str, space_time: bool, key_: Vec<i64>) -> Result<String> {
    let index = parse(index_json, space_time)?;
    let width = index.file_name_width()?;
    Ok(encode_index(index.to_index(&key(&key_)?)?, width))
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(key_index_create, m)?)?;
    m.add_function(wrap_pyfunction!(key_index_to_index, m)?)?;
    m.add_function(wrap_pyfunction!(key_index_ranges, m)?)?;
    m.add_function(wrap_pyfunction!(key_index_file_width, m)?)?;
    m.add_function(wrap_pyfunction!(key_index_file_name, m)?)?;
    Ok(())
}
