//! Rasterization (engine `rasterize::burn`): `geometry_keys` (map side) and `rasterize_runs` (reduce side).

use gps_engine::cell_type::CellType;
use gps_engine::exchange::reduce_runs;
use gps_engine::rasterize::burn::{shape_keys, BurnRuns};
use pyo3::prelude::*;
use pyo3_arrow::PyRecordBatch;

use crate::error::Error;
use crate::layout::LayoutArg;
use crate::zonal::{rule, shapes};

/// The keys of `layout` each WKB geometry reaches: `(geometry index, col, row)` lists.
#[pyfunction]
fn geometry_keys(py: Python<'_>, wkbs: Vec<Vec<u8>>, layout: LayoutArg) -> PyResult<(Vec<u32>, Vec<i32>, Vec<i32>)> {
    let shapes = shapes(&wkbs)?;
    let layout = layout.0;
    py.detach(|| {
        let mut out = (Vec::new(), Vec::new(), Vec::new());
        for (i, s) in shapes.iter().enumerate() {
            for (c, r) in shape_keys(s, &layout)? {
                out.0.push(i as u32);
                out.1.push(c);
                out.2.push(r);
            }
        }
        Ok(out)
    })
    .map_err(|e: gps_engine::EngineError| Error::from(e).into())
}

/// Burn each run of equal (`col`, `row`) pieces (`order`, `wkb`, `value`, `zindex`) into one tile of
/// `cell_type`; with `zindex_cell_type`, higher z-indexes win. Returns the tiles and the first row of the
/// held-back run.
#[pyfunction]
#[pyo3(signature = (batch, layout, rule_name, cell_type, zindex_cell_type, last_run_complete))]
fn rasterize_runs<'py>(
    py: Python<'py>,
    batch: PyRecordBatch,
    layout: LayoutArg,
    rule_name: &str,
    cell_type: &str,
    zindex_cell_type: Option<&str>,
    last_run_complete: bool,
) -> PyResult<(Bound<'py, PyAny>, usize)> {
    let rule = rule(rule_name)?;
    let ct = CellType::parse(cell_type).map_err(Error::from)?;
    let zt = zindex_cell_type.map(CellType::parse).transpose().map_err(Error::from)?;
    let batch = batch.into_inner();
    let (out, next) = py
        .detach(|| {
            let kernel = BurnRuns::new(&batch, &layout.0, rule, ct, zt)?;
            reduce_runs(&batch, &["col", "row"], last_run_complete, kernel)
        })
        .map_err(Error::from)?;
    Ok((PyRecordBatch::new(out).into_pyarrow(py)?, next))
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(geometry_keys, m)?)?;
    m.add_function(wrap_pyfunction!(rasterize_runs, m)?)?;
    Ok(())
}
