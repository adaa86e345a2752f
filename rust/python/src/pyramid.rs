//! Pyramiding (engine `pyramid`): one level up per call, the map and reduce sides of a level's exchange.

use gps_engine::pyramid;
use gps_engine::resample::ResampleMethod;
use pyo3::prelude::*;
use pyo3_arrow::PyRecordBatch;

use crate::error::Error;
use crate::layout::LayoutArg;

/// The map side of one pyramid level: tiles keyed in `src` resampled for `dst`. `quadrants=True` emits
/// quadrant pieces with their offsets (`x_off`, `y_off`) for `assemble_quadrants`; else full tiles of `dst`
/// for the "fill" merge.
#[pyfunction]
fn pyramid_up<'py>(
    py: Python<'py>,
    batch: PyRecordBatch,
    src: LayoutArg,
    dst: LayoutArg,
    method: &str,
    quadrants: bool,
) -> PyResult<Bound<'py, PyAny>> {
    let method = ResampleMethod::parse(method).map_err(Error::from)?;
    let (src, dst) = (src.0, dst.0);
    let batch = batch.into_inner();
    let out = py
        .detach(|| {
            if quadrants {
                pyramid::downsample_quadrants(&batch, &src, &dst, method)
            } else {
                pyramid::downsample_to_layout(&batch, &src, &dst, method)
            }
        })
        .map_err(Error::from)?;
    PyRecordBatch::new(out).into_pyarrow(py)
}

/// Assemble runs of equal keys of quadrant pieces into `tile_cols × tile_rows` tiles (halving them with
/// `method` when the map side sent whole tiles of an odd size). Returns the batch and the row where the
/// held-back last run starts (`num_rows` when `last_run_complete`).
#[pyfunction]
fn assemble_quadrants<'py>(
    py: Python<'py>,
    batch: PyRecordBatch,
    key_columns: Vec<String>,
    tile_cols: usize,
    tile_rows: usize,
    method: &str,
    last_run_complete: bool,
) -> PyResult<(Bound<'py, PyAny>, usize)> {
    let method = ResampleMethod::parse(method).map_err(Error::from)?;
    let batch = batch.into_inner();
    let keys: Vec<&str> = key_columns.iter().map(String::as_str).collect();
    let (out, next) = py
        .detach(|| pyramid::assemble_runs(&batch, &keys, tile_cols, tile_rows, method, last_run_complete))
        .map_err(Error::from)?;
    Ok((PyRecordBatch::new(out).into_pyarrow(py)?, next))
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(pyramid_up, m)?)?;
    m.add_function(wrap_pyfunction!(assemble_quadrants, m)?)?;
    Ok(())
}
