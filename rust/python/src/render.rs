//! Rendering bindings: colour maps applied to values, tiles and batches rendered to PNG, RGBA pictures
//! encoded as PNG, colour ramps (engine `render`).

use std::sync::Arc;

use arrow_array::{ArrayRef, RecordBatch};
use gps_engine::batch::TileRef;
use gps_engine::render::{self, colormap::ColorMap, png::{Filter, PngOptions}, ramp};
use gps_engine::{CellType, EngineError};
use numpy::{PyArray1, PyReadonlyArray1};
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use pyo3_arrow::PyRecordBatch;

use crate::error::{invalid_argument, Error};

/// The byte length of a tile's cells, None when it overflows.
pub(crate) fn cells_len(ct: &CellType, bands: usize, rows: usize, cols: usize) -> Option<usize> {
    [bands, rows, cols, ct.bytes_per_cell()].iter().try_fold(1usize, |a, &b| a.checked_mul(b))
}

fn options(level: i32, filter: &str) -> PyResult<PngOptions> {
    Ok(PngOptions { level, filter: Filter::parse(filter).map_err(Error::from)? })
}

fn color_map(json: Option<&str>) -> PyResult<Option<ColorMap>> {
    Ok(json.map(ColorMap::from_json).transpose().map_err(Error::from)?)
}

/// The colours (`0xRRGGBBAA`) of float values (NaN = NoData) through a colour map (its JSON).
#[pyfunction]
fn colormap_colors<'py>(
    py: Python<'py>,
    colormap_json: &str,
    values: PyReadonlyArray1<'py, f64>,
) -> PyResult<Bound<'py, PyArray1<u32>>> {
    let map = ColorMap::from_json(colormap_json).map_err(Error::from)?;
    let values = values.as_slice()?.to_vec();
    let out = py.detach(|| render::render_rgba(&values, &map)).map_err(Error::from)?;
    Ok(PyArray1::from_vec(py, out))
}

/// Render a batch in the tile contract: a one-column batch `png`, one PNG per input row.
#[pyfunction]
#[pyo3(signature = (batch, colormap_json=None, level=1, filter="up"))]
fn render_png_batch<'py>(
    py: Python<'py>,
    batch: PyRecordBatch,
    colormap_json: Option<&str>,
    level: i32,
    filter: &str,
) -> PyResult<Bound<'py, PyAny>> {
    let (batch, map, opts) = (batch.into_inner(), color_map(colormap_json)?, options(level, filter)?);
    let pngs = py.detach(|| render::render_batch(&batch, map.as_ref(), opts)).map_err(Error::from)?;
    let out = RecordBatch::try_from_iter([("png", Arc::new(pngs) as ArrayRef)]).map_err(|e| Error::from(EngineError::from(e)))?;
    PyRecordBatch::new(out).into_pyarrow(py)
}

/// A PNG of one tile (`cells` in the tile contract's layout).
#[pyfunction]
#[pyo3(signature = (cell_type, bands, rows, cols, cells, colormap_json=None, level=1, filter="up"))]
#[allow(clippy::too_many_arguments)]
fn render_tile_png<'py>(
    py: Python<'py>,
    cell_type: &str,
    bands: usize,
    rows: usize,
    cols: usize,
    cells: &[u8],
    colormap_json: Option<&str>,
    level: i32,
    filter: &str,
) -> PyResult<Bound<'py, PyBytes>> {
    let ct = CellType::parse(cell_type).map_err(Error::from)?;
    if cells_len(&ct, bands, rows, cols) != Some(cells.len()) {
        return Err(invalid_argument(format!(
            "{} bytes of cells for a {bands}×{rows}×{cols} {cell_type} tile",
            cells.len()
        )));
    }
    let (map, opts) = (color_map(colormap_json)?, options(level, filter)?);
    let tile = TileRef { cell_type, bands, rows, cols, cells };
    let png = py.detach(|| render::tile_png(&ct, &tile, map.as_ref(), opts)).map_err(Error::from)?;
    Ok(PyBytes::new(py, &png))
}

/// A PNG of `rows × cols` RGBA pixels (`rgba`: 4 bytes per pixel, row-major).
#[pyfunction]
#[pyo3(signature = (rgba, rows, cols, level=1, filter="up"))]
fn encode_rgba_png<'py>(
    py: Python<'py>,
    rgba: &[u8],
    rows: usize,
    cols: usize,
    level: i32,
    filter: &str,
) -> PyResult<Bound<'py, PyBytes>> {
    if rows.checked_mul(cols).and_then(|n| n.checked_mul(4)) != Some(rgba.len()) {
        return Err(invalid_argument(format!("{} bytes for {rows}×{cols} RGBA pixels", rgba.len())));
    }
    let opts = options(level, filter)?;
    let pixels: Vec<u32> = rgba.chunks_exact(4).map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]])).collect();
    let png = py.detach(|| render::encode_rgba(&pixels, cols, rows, opts)).map_err(Error::from)?;
    Ok(PyBytes::new(py, &png))
}

/// `n` colours of a ramp, as GeoTrellis' `ColorRamp.stops(n)` picks or interpolates them.
#[pyfunction]
fn ramp_stops(colors: Vec<u32>, n: usize) -> PyResult<Vec<u32>> {
    Ok(ramp::stops(&colors, n).map_err(Error::from)?)
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(colormap_colors, m)?)?;
    m.add_function(wrap_pyfunction!(render_png_batch, m)?)?;
    m.add_function(wrap_pyfunction!(render_tile_png, m)?)?;
    m.add_function(wrap_pyfunction!(encode_rgba_png, m)?)?;
    m.add_function(wrap_pyfunction!(ramp_stops, m)?)?;
    Ok(())
}
