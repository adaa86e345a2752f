//! Cutting rasters into the tiles of a layout (engine `retile`): the map side of `tile_to_layout`.

use gps_engine::retile;
use pyo3::prelude::*;
use pyo3_arrow::PyRecordBatch;

use crate::error::Error;
use crate::layout::LayoutArg;

/// Cut rasters (rows with xmin, ymin, xmax, ymax + tile columns, optional instant) to the tiles of a layout.
#[pyfunction]
fn cut_to_layout<'py>(
    py: Python<'py>,
    batch: PyRecordBatch,
    layout: LayoutArg,
) -> PyResult<Bound<'py, PyAny>> {
    let (batch, layout) = (batch.into_inner(), layout.0);
    let out = py
        .detach(|| retile::cut_to_layout(&batch, &layout))
        .map_err(Error::from)?;
    PyRecordBatch::new(out).into_pyarrow(py)
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(cut_to_layout, m)?)?;
    Ok(())
}
