//! Bindings for GeoTrellis catalog tile files: decoding files into tile batches, one value by key, and
//! writing runs of a sorted batch as files. The GIL is released around all storage and decoding.

use std::collections::BTreeMap;

use gps_engine::catalog::avro::{geotrellis_schema, Compression, Key, KeyKind, Schema};
use gps_engine::catalog::files::{self, FileTarget, KeyBox};
use gps_engine::io::StoreOptions;
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use pyo3_arrow::PyRecordBatch;

use crate::error::{invalid_argument, Error};

type Options = Option<BTreeMap<String, String>>;

fn schema(text: &str) -> Result<Schema, Error> {
    Ok(Schema::parse(text)?)
}

/// The tiles in the files at `paths` (decoded with the layer's writer schema `schema_json`) as a batch in
/// the tile contract; `key_box = (min_col, min_row, max_col, max_row, min_instant, max_instant)` keeps
/// only keys inside it (inclusive). `parallel` decodes the files on every core (Spark-free reads; a
/// Spark task keeps to its one core).
#[pyfunction]
#[pyo3(signature = (paths, schema_json, space_time, key_box=None, options=None, parallel=false))]
fn catalog_read_tiles<'py>(
    py: Python<'py>,
    paths: Vec<String>,
    schema_json: &str,
    space_time: bool,
    key_box: Option<(i32, i32, i32, i32, Option<i64>, Option<i64>)>,
    options: Options,
    parallel: bool,
) -> PyResult<Bound<'py, PyAny>> {
    let schema = schema(schema_json)?;
    let options: StoreOptions = options.unwrap_or_default();
    let key_box = key_box.map(|(c0, r0, c1, r1, t0, t1)| KeyBox {
        min: Key { col: c0, row: r0, instant: t0 },
        max: Key { col: c1, row: r1, instant: t1 },
    });
    let batch = py
        .detach(|| {
            let read = if parallel { files::read_tiles_parallel } else { files::read_tiles };
            let pairs = read(&paths, &schema, key_box.as_ref(), &options)?;
            files::pairs_to_batch(&pairs, space_time)
        })
        .map_err(Error::from)?;
    PyRecordBatch::new(batch).into_pyarrow(py)
}

/// The tile of key `(col, row[, instant])` in the file at `path`: `(cell_type, bands, rows, cols, cells)`,
/// or None when the file or the key is absent.
#[pyfunction]
#[pyo3(signature = (path, schema_json, col, row, instant=None, options=None))]
fn catalog_read_value<'py>(
    py: Python<'py>,
    path: &str,
    schema_json: &str,
    col: i32,
    row: i32,
    instant: Option<i64>,
    options: Options,
) -> PyResult<Option<(String, usize, usize, usize, Bound<'py, PyBytes>)>> {
    let schema = schema(schema_json)?;
    let options: StoreOptions = options.unwrap_or_default();
    let key = Key { col, row, instant };
    let tile = py.detach(|| files::read_value(path, &schema, &key, &options)).map_err(Error::from)?;
    Ok(tile.map(|t| (t.cell_type.name(), t.bands, t.rows, t.cols, PyBytes::new(py, &t.cells))))
}

/// Write one tile file per run of equal index values of a batch sorted by its one key column (the
/// int64 index), into `directory` with names zero-padded to `width`. With `existing_schema` (updating a
/// layer) pairs already in a file are kept unless replaced. Unless `last_run_complete`, the final run is
/// held back. `compression_level` None writes GeoTrellis' bytes (zlib level 6); 0–12 a faster libdeflate
/// zlib stream. Returns a one-row batch `(files, bytes)` and the start of the held-back run.
#[pyfunction]
#[pyo3(signature = (batch, key_columns, directory, width, multiband, last_run_complete, existing_schema=None,
                    options=None, compression_level=None))]
#[allow(clippy::too_many_arguments)]
fn catalog_write_runs<'py>(
    py: Python<'py>,
    batch: PyRecordBatch,
    key_columns: Vec<String>,
    directory: &str,
    width: usize,
    multiband: bool,
    last_run_complete: bool,
    existing_schema: Option<&str>,
    options: Options,
    compression_level: Option<u8>,
) -> PyResult<(Bound<'py, PyAny>, usize)> {
    let [index_column] = key_columns.as_slice() else {
        return Err(invalid_argument(format!(
            "tile files are written by one key column (the index), got {key_columns:?}"
        )));
    };
    let existing = existing_schema.map(schema).transpose()?;
    let options: StoreOptions = options.unwrap_or_default();
    let batch = batch.into_inner();
    let compression = compression_level.map_or(Compression::GeoTrellis, Compression::Fast);
    let target =
        FileTarget { directory, width, multiband, existing: existing.as_ref(), options: &options, compression };
    let (out, start) = py
        .detach(|| files::write_runs(&batch, index_column, &target, last_run_complete))
        .map_err(Error::from)?;
    Ok((PyRecordBatch::new(out).into_pyarrow(py)?, start))
}

/// Write one tile file per run of equal values of the int64 column `index_column` of a whole batch sorted
/// by it, on every core (the Spark-free writer; arguments as `catalog_write_runs`). Returns `(files, bytes)`.
#[pyfunction]
#[pyo3(signature = (batch, index_column, directory, width, multiband, options=None, compression_level=None))]
fn catalog_write_all(
    py: Python<'_>,
    batch: PyRecordBatch,
    index_column: &str,
    directory: &str,
    width: usize,
    multiband: bool,
    options: Options,
    compression_level: Option<u8>,
) -> PyResult<(i64, i64)> {
    let options: StoreOptions = options.unwrap_or_default();
    let batch = batch.into_inner();
    let compression = compression_level.map_or(Compression::GeoTrellis, Compression::Fast);
    let target = FileTarget { directory, width, multiband, existing: None, options: &options, compression };
    Ok(py.detach(|| files::write_all_runs_parallel(&batch, index_column, &target)).map_err(Error::from)?)
}

/// The writer schema GeoTrellis 3.x stores for a layer, byte for byte.
#[pyfunction]
fn catalog_schema(space_time: bool, multiband: bool) -> String {
    geotrellis_schema(if space_time { KeyKind::SpaceTime } else { KeyKind::Spatial }, multiband)
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(catalog_read_tiles, m)?)?;
    m.add_function(wrap_pyfunction!(catalog_read_value, m)?)?;
    m.add_function(wrap_pyfunction!(catalog_write_runs, m)?)?;
    m.add_function(wrap_pyfunction!(catalog_write_all, m)?)?;
    m.add_function(wrap_pyfunction!(catalog_schema, m)?)?;
    Ok(())
}
