//! Bindings for storage: list, read, write and size files and objects. The GIL is released around every
//! storage call (they may wait on the network).

use std::collections::HashMap;

use gps_engine::io::{self, StoreOptions};
use gps_engine::EngineError;
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::error::Result;

fn store_options(options: Option<HashMap<String, String>>) -> StoreOptions {
    options.unwrap_or_default().into_iter().collect()
}

/// Files at `uri`, sorted: the file, all files under a directory or prefix, or glob matches.
#[pyfunction]
#[pyo3(signature = (uri, options=None))]
fn list_files(py: Python<'_>, uri: String, options: Option<HashMap<String, String>>) -> Result<Vec<String>> {
    let options = store_options(options);
    Ok(py.detach(|| io::list(&uri, &options))?)
}

/// The bytes of `uri`, all of them or `start..end` (`end` defaults to the size).
#[pyfunction]
#[pyo3(signature = (uri, options=None, start=None, end=None))]
fn read_bytes<'py>(
    py: Python<'py>,
    uri: String,
    options: Option<HashMap<String, String>>,
    start: Option<u64>,
    end: Option<u64>,
) -> Result<Bound<'py, PyBytes>> {
    let options = store_options(options);
    let bytes = py.detach(|| -> gps_engine::Result<Vec<u8>> {
        let source = io::open(&uri, &options)?;
        if start.is_none() && end.is_none() {
            return source.read_all();
        }
        let start = start.unwrap_or(0);
        let end = match end {
            Some(end) => end,
            None => source.len()?,
        };
        if start > end {
            return Err(EngineError::Value(format!("{uri}: start {start} is after end {end}")));
        }
        source.read_range(start..end)
    })?;
    Ok(PyBytes::new(py, &bytes))
}

/// Writes `data` to `uri` atomically (temp file and rename locally, one put on object stores).
#[pyfunction]
#[pyo3(signature = (uri, data, options=None))]
fn write_bytes(py: Python<'_>, uri: String, data: &[u8], options: Option<HashMap<String, String>>) -> Result<()> {
    let options = store_options(options);
    Ok(py.detach(|| io::write(&uri, data, &options))?)
}

/// Creates `uri` with `data` unless it exists, atomically: True when this call created it, False when it
/// existed (untouched). Exactly one of several racing callers gets True.
#[pyfunction]
#[pyo3(signature = (uri, data, options=None))]
fn write_new_bytes(py: Python<'_>, uri: String, data: &[u8], options: Option<HashMap<String, String>>) -> Result<bool> {
    let options = store_options(options);
    Ok(py.detach(|| io::write_new(&uri, data, &options))?)
}

/// The size of `uri` in bytes.
#[pyfunction]
#[pyo3(signature = (uri, options=None))]
fn file_size(py: Python<'_>, uri: String, options: Option<HashMap<String, String>>) -> Result<u64> {
    let options = store_options(options);
    Ok(py.detach(|| io::open(&uri, &options)?.len())?)
}

/// The bytes of `uri`, or None when it does not exist.
#[pyfunction]
#[pyo3(signature = (uri, options=None))]
fn read_bytes_if_exists<'py>(
    py: Python<'py>,
    uri: String,
    options: Option<HashMap<String, String>>,
) -> Result<Option<Bound<'py, PyBytes>>> {
    let options = store_options(options);
    let bytes = py.detach(|| io::read_if_exists(&uri, &options))?;
    Ok(bytes.map(|b| PyBytes::new(py, &b)))
}

/// Whether `uri` exists.
#[pyfunction]
#[pyo3(signature = (uri, options=None))]
fn file_exists(py: Python<'_>, uri: String, options: Option<HashMap<String, String>>) -> Result<bool> {
    let options = store_options(options);
    Ok(py.detach(|| io::exists(&uri, &options))?)
}

/// Deletes `uri`; deleting what does not exist is not an error.
#[pyfunction]
#[pyo3(signature = (uri, options=None))]
fn delete_file(py: Python<'_>, uri: String, options: Option<HashMap<String, String>>) -> Result<()> {
    let options = store_options(options);
    Ok(py.detach(|| io::delete(&uri, &options))?)
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(list_files, m)?)?;
    m.add_function(wrap_pyfunction!(read_bytes, m)?)?;
    m.add_function(wrap_pyfunction!(write_bytes, m)?)?;
    m.add_function(wrap_pyfunction!(write_new_bytes, m)?)?;
    m.add_function(wrap_pyfunction!(file_size, m)?)?;
    m.add_function(wrap_pyfunction!(file_exists, m)?)?;
    m.add_function(wrap_pyfunction!(read_bytes_if_exists, m)?)?;
    m.add_function(wrap_pyfunction!(delete_file, m)?)?;
    Ok(())
}
