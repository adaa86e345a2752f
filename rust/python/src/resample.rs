//! Bindings for resample: one raster's cells onto another grid.

use gps_engine::resample::{resample_grid, ResampleMethod};
use gps_engine::CellType;
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::error::Error;

/// Resample every band of a raster (`bands × rows × cols` little-endian cells of `cell_type`, covering
/// `src_extent = (xmin, ymin, xmax, ymax)`) onto `dst_cols × dst_rows` cells covering `dst_extent`.
#[pyfunction]
#[allow(clippy::too_many_arguments)]
fn resample_tile<'py>(
    py: Python<'py>,
    cells: &[u8],
    cell_type: &str,
    bands: usize,
    rows: usize,
    cols: usize,
    src_extent: (f64, f64, f64, f64),
    dst_cols: usize,
    dst_rows: usize,
    dst_extent: (f64, f64, f64, f64),
    method: &str,
) -> PyResult<Bound<'py, PyBytes>> {
    let ct = CellType::parse(cell_type).map_err(Error::from)?;
    let method = ResampleMethod::parse(method).map_err(Error::from)?;
    let (a, b, c, d) = src_extent;
    let (e, f, g, h) = dst_extent;
    let out = py
        .detach(|| {
            resample_grid(
                cells,
                &ct,
                bands,
                cols,
                rows,
                [a, b, c, d],
                dst_cols,
                dst_rows,
                [e, f, g, h],
                method,
            )
        })
        .map_err(Error::from)?;
    Ok(PyBytes::new(py, &out))
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(resample_tile, m)?)?;
    Ok(())
}
