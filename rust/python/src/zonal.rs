//! Zonal statistics and masking (engine `zonal`, shapes from `rasterize`): `Zones`, `combine_zonal_runs`,
//! `mask_tiles`.

use gps_engine::exchange::reduce_runs;
use gps_engine::layout::Layout;
use gps_engine::rasterize::{CellRule, Shape};
use gps_engine::zonal::{self, CombinePartials};
use pyo3::prelude::*;
use pyo3_arrow::PyRecordBatch;

use crate::error::Error;
use crate::layout::LayoutArg;

/// Shapes parsed from WKB, refusing bad bytes with the index of the geometry.
pub(crate) fn shapes(wkbs: &[Vec<u8>]) -> PyResult<Vec<Shape>> {
    wkbs.iter()
        .enumerate()
        .map(|(i, b)| {
            Shape::from_wkb(b).map_err(|e| crate::error::invalid_argument(format!("geometry {i}: {e}")))
        })
        .collect()
}

pub(crate) fn rule(name: &str) -> PyResult<CellRule> {
    CellRule::parse(name).map_err(|e| Error::from(e).into())
}

/// Zones (ids and WKB polygons) indexed by the keys of `layout`: built once per task, then
/// `partials(batch, rule, histogram)` for every tile batch.
#[pyclass(frozen)]
struct Zones {
    zones: zonal::Zones,
    layout: Layout,
}

#[pymethods]
impl Zones {
    #[new]
    fn new(py: Python<'_>, ids: Vec<i64>, wkbs: Vec<Vec<u8>>, layout: LayoutArg) -> PyResult<Zones> {
        let layout = layout.0;
        let shapes = shapes(&wkbs)?;
        let zones = py.detach(|| zonal::Zones::new(ids, shapes, &layout)).map_err(Error::from)?;
        Ok(Zones { zones, layout })
    }

    /// Partial statistics of every zone over the tiles of `batch`: `zone`, `band`, optional `instant`,
    /// `weight`, `cells`, `sum`, `mean`, `m2`, `min`, `max` (and `hist_values`, `hist_weights`).
    fn partials<'py>(
        &self,
        py: Python<'py>,
        batch: PyRecordBatch,
        rule: &str,
        histogram: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        let (batch, rule) = (batch.into_inner(), self::rule(rule)?);
        let out = py
            .detach(|| zonal::zonal_partials(&batch, &self.layout, &self.zones, rule, histogram))
            .map_err(Error::from)?;
        PyRecordBatch::new(out).into_pyarrow(py)
    }
}

/// Combine each run of equal `key_columns` of sorted partials into one partial (the reduce side of
/// many-zone statistics). Returns the output and the first row of the held-back run.
#[pyfunction]
fn combine_zonal_runs<'py>(
    py: Python<'py>,
    batch: PyRecordBatch,
    key_columns: Vec<String>,
    last_run_complete: bool,
) -> PyResult<(Bound<'py, PyAny>, usize)> {
    let batch = batch.into_inner();
    let keys: Vec<&str> = key_columns.iter().map(String::as_str).collect();
    let (out, next) = py
        .detach(|| reduce_runs(&batch, &keys, last_run_complete, CombinePartials::new(&batch)))
        .map_err(Error::from)?;
    Ok((PyRecordBatch::new(out).into_pyarrow(py)?, next))
}

/// Keep the cells of each tile that the WKB geometries cover under `rule` (all bands), NoData elsewhere;
/// tiles they do not reach are dropped.
#[pyfunction]
fn mask_tiles<'py>(
    py: Python<'py>,
    batch: PyRecordBatch,
    layout: LayoutArg,
    wkbs: Vec<Vec<u8>>,
    rule: &str,
) -> PyResult<Bound<'py, PyAny>> {
    let shape = Shape::merged(shapes(&wkbs)?);
    let (batch, rule) = (batch.into_inner(), self::rule(rule)?);
    let out = py
        .detach(|| zonal::mask_tiles(&batch, &layout.0, &shape, rule))
        .map_err(Error::from)?;
    PyRecordBatch::new(out).into_pyarrow(py)
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Zones>()?;
    m.add_function(wrap_pyfunction!(combine_zonal_runs, m)?)?;
    m.add_function(wrap_pyfunction!(mask_tiles, m)?)?;
    Ok(())
}
