//! Bindings for reprojection: one raster onto a grid (tests, benchmarks), suggested grids for metadata,
//! and the batch kernels of `RasterLayer.reproject` and `tile_to_layout(target_crs=...)`.

use gps_engine::crs::Transformer;
use gps_engine::resample::ResampleMethod;
use gps_engine::warp::{self, layer, Grid};
use gps_engine::CellType;
use numpy::{PyArray2, PyReadonlyArray2, PyUntypedArrayMethods};
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use pyo3_arrow::PyRecordBatch;

use crate::error::{internal, invalid_argument, Error};
use crate::layout::LayoutArg;

type ExtentTuple = (f64, f64, f64, f64);

fn transformer(src: &str, dst: &str) -> PyResult<Transformer> {
    Transformer::new(src, dst).map_err(|e| invalid_argument(e.to_string()))
}

fn grid(e: ExtentTuple, cols: usize, rows: usize) -> PyResult<Grid> {
    Ok(Grid::new([e.0, e.1, e.2, e.3], cols, rows).map_err(Error::from)?)
}

/// Every band of a raster (`bands × rows × cols` little-endian `cell_type` cells over `src_extent` in
/// `src_crs`) warped onto `dst_cols × dst_rows` cells over `dst_extent` in `dst_crs`.
/// `error_threshold` is the approximate transform's tolerance in source cells (0 = exact).
#[pyfunction]
#[allow(clippy::too_many_arguments)]
#[pyo3(signature = (cells, cell_type, bands, rows, cols, src_extent, src_crs, dst_cols, dst_rows, dst_extent, dst_crs, method, error_threshold=warp::DEFAULT_ERROR_THRESHOLD))]
fn warp_raster<'py>(
    py: Python<'py>,
    cells: &[u8],
    cell_type: &str,
    bands: usize,
    rows: usize,
    cols: usize,
    src_extent: ExtentTuple,
    src_crs: &str,
    dst_cols: usize,
    dst_rows: usize,
    dst_extent: ExtentTuple,
    dst_crs: &str,
    method: &str,
    error_threshold: f64,
) -> PyResult<Bound<'py, PyBytes>> {
    let ct = CellType::parse(cell_type).map_err(Error::from)?;
    let method = ResampleMethod::parse(method).map_err(Error::from)?;
    let (src, dst) = (grid(src_extent, cols, rows)?, grid(dst_extent, dst_cols, dst_rows)?);
    let inverse = transformer(dst_crs, src_crs)?;
    let out = py
        .detach(|| warp::warp(cells, &ct, bands, &src, &dst, &inverse, method, error_threshold))
        .map_err(Error::from)?;
    Ok(PyBytes::new(py, &out))
}

/// GDAL's suggested grid in `dst_crs` for each raster: `extents` is n×4 (xmin, ymin, xmax, ymax) and
/// `sizes` n×2 (cols, rows); the answer is n×6 (xmin, ymin, xmax, ymax, cols, rows).
#[pyfunction]
fn suggested_grids<'py>(
    py: Python<'py>,
    src_crs: &str,
    dst_crs: &str,
    extents: PyReadonlyArray2<'py, f64>,
    sizes: PyReadonlyArray2<'py, f64>,
) -> PyResult<Bound<'py, PyArray2<f64>>> {
    let n = extents.shape()[0];
    if extents.shape()[1] != 4 || sizes.shape() != [n, 2] {
        return Err(invalid_argument("extents must be n×4 and sizes n×2"));
    }
    let forward = transformer(src_crs, dst_crs)?;
    let (e, s) = (extents.as_array(), sizes.as_array());
    let mut out = Vec::with_capacity(n * 6);
    for i in 0..n {
        let src = grid((e[[i, 0]], e[[i, 1]], e[[i, 2]], e[[i, 3]]), s[[i, 0]] as usize, s[[i, 1]] as usize)?;
        let g = warp::suggested_grid(&forward, &src).map_err(Error::from)?;
        out.extend(g.extent);
        out.extend([g.cols as f64, g.rows as f64]);
    }
    let array = numpy::ndarray::Array2::from_shape_vec((n, 6), out).map_err(internal)?;
    Ok(PyArray2::from_owned_array(py, array))
}

/// Each raster of a batch (xmin..ymax, crs, tile columns) reprojected to `dst_crs` on its own grid.
#[pyfunction]
#[pyo3(signature = (batch, dst_crs, method, error_threshold=warp::DEFAULT_ERROR_THRESHOLD))]
fn reproject_rasters<'py>(
    py: Python<'py>,
    batch: PyRecordBatch,
    dst_crs: &str,
    method: &str,
    error_threshold: f64,
) -> PyResult<Bound<'py, PyAny>> {
    let method = ResampleMethod::parse(method).map_err(Error::from)?;
    let batch = batch.into_inner();
    let out = py
        .detach(|| layer::reproject_rasters(&batch, dst_crs, method, error_threshold))
        .map_err(Error::from)?;
    PyRecordBatch::new(out).into_pyarrow(py)
}

/// For each raster of a batch (in `src_crs`) and each key of `layout` (in `dst_crs`) it reaches, the
/// window of its cells that key reads: rows of col, row, [instant], xmin..ymax, tile columns.
#[pyfunction]
fn warp_pieces<'py>(
    py: Python<'py>,
    batch: PyRecordBatch,
    src_crs: &str,
    dst_crs: &str,
    layout: LayoutArg,
    method: &str,
) -> PyResult<Bound<'py, PyAny>> {
    let method = ResampleMethod::parse(method).map_err(Error::from)?;
    let (batch, layout) = (batch.into_inner(), layout.0);
    let out = py
        .detach(|| layer::warp_pieces(&batch, src_crs, dst_crs, &layout, method))
        .map_err(Error::from)?;
    PyRecordBatch::new(out).into_pyarrow(py)
}

/// Runs of equal keys of `warp_pieces` rows warped into their key's tile. Returns the tiles and the row
/// where the held-back last run starts (`num_rows` when `last_run_complete`).
#[pyfunction]
#[allow(clippy::too_many_arguments)]
#[pyo3(signature = (batch, key_columns, src_crs, dst_crs, layout, method, last_run_complete, error_threshold=warp::DEFAULT_ERROR_THRESHOLD))]
fn warp_runs<'py>(
    py: Python<'py>,
    batch: PyRecordBatch,
    key_columns: Vec<String>,
    src_crs: &str,
    dst_crs: &str,
    layout: LayoutArg,
    method: &str,
    last_run_complete: bool,
    error_threshold: f64,
) -> PyResult<(Bound<'py, PyAny>, usize)> {
    let method = ResampleMethod::parse(method).map_err(Error::from)?;
    let (batch, layout) = (batch.into_inner(), layout.0);
    let keys: Vec<&str> = key_columns.iter().map(String::as_str).collect();
    let (out, next) = py
        .detach(|| {
            layer::warp_runs(&batch, &keys, src_crs, dst_crs, &layout, method, error_threshold, last_run_complete)
        })
        .map_err(Error::from)?;
    Ok((PyRecordBatch::new(out).into_pyarrow(py)?, next))
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(warp_raster, m)?)?;
    m.add_function(wrap_pyfunction!(suggested_grids, m)?)?;
    m.add_function(wrap_pyfunction!(reproject_rasters, m)?)?;
    m.add_function(wrap_pyfunction!(warp_pieces, m)?)?;
    m.add_function(wrap_pyfunction!(warp_runs, m)?)
}
