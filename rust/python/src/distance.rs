//! Distance surfaces (engine `distance`): `euclidean_sources` (driver) and `EuclideanDistance` (tiles);
//! cost distance's `cost_start`, `cost_edges` and `cost_step` (the driver loops until nothing changes).

use arrow_array::types::Int32Type;
use gps_engine::batch::{keyed_tiles, primitive_column, TileBuilder};
use gps_engine::cell_type::CellType;
use gps_engine::distance::cost_tiles::{self, CostParams};
use gps_engine::distance::euclidean::{burned_edge_centres, distance_tile, NearestPoints};
use gps_engine::layout::Layout;
use gps_engine::rasterize::cells::Grid;
use gps_engine::rasterize::Shape;
use gps_engine::zonal::tile_grid;
use pyo3::prelude::*;
use pyo3_arrow::PyRecordBatch;

use crate::error::Error;
use crate::layout::LayoutArg;
use crate::zonal::shapes;

fn one_shape(wkb: &[u8]) -> PyResult<Shape> {
    Ok(shapes(&[wkb.to_vec()])?.remove(0))
}

/// The source points of a geometry's distance surface: a MultiPoint's own points when `exact_points`,
/// else the centres of the edge cells it burns on the grid of the keys `(c0, r0, c1, r1)` of `layout`.
#[pyfunction]
fn euclidean_sources(
    py: Python<'_>,
    wkb: Vec<u8>,
    layout: LayoutArg,
    keys: (i64, i64, i64, i64),
    exact_points: bool,
) -> PyResult<Vec<(f64, f64)>> {
    let shape = one_shape(&wkb)?;
    if exact_points {
        return Ok(shape.points.iter().map(|p| (p[0], p[1])).collect());
    }
    let l: Layout = layout.0;
    let (c0, r0, c1, r1) = keys;
    let e0 = l.key_extent(c0, r0);
    let grid = Grid {
        xmin: e0.xmin,
        ymax: e0.ymax,
        cell_width: l.cell_size().0,
        cell_height: l.cell_size().1,
        cols: ((c1 - c0 + 1) as usize) * l.tile_cols,
        rows: ((r1 - r0 + 1) as usize) * l.tile_rows,
    };
    let pts = py.detach(|| burned_edge_centres(&shape, &grid)).map_err(Error::from)?;
    Ok(pts.into_iter().map(|p| (p[0], p[1])).collect())
}

/// Source points in a k-d tree, built once per task; `tiles(batch)` makes the distance tile of every key
/// (`col`, `row`) of a batch.
#[pyclass(frozen)]
struct EuclideanDistance {
    points: NearestPoints,
    burned: Option<Shape>,
    layout: Layout,
    cell_type: CellType,
}

#[pymethods]
impl EuclideanDistance {
    #[new]
    #[pyo3(signature = (points, layout, cell_type, burned_wkb=None))]
    fn new(points: Vec<(f64, f64)>, layout: LayoutArg, cell_type: &str, burned_wkb: Option<Vec<u8>>) -> PyResult<Self> {
        Ok(EuclideanDistance {
            points: NearestPoints::new(points.into_iter().map(|(x, y)| [x, y]).collect()),
            burned: burned_wkb.as_deref().map(one_shape).transpose()?,
            layout: layout.0,
            cell_type: CellType::parse(cell_type).map_err(Error::from)?,
        })
    }

    fn tiles<'py>(&self, py: Python<'py>, batch: PyRecordBatch) -> PyResult<Bound<'py, PyAny>> {
        let batch = batch.into_inner();
        let out = py
            .detach(|| -> gps_engine::Result<_> {
                let col = primitive_column::<Int32Type>(&batch, "col")?;
                let row = primitive_column::<Int32Type>(&batch, "row")?;
                let (tc, tr) = (self.layout.tile_cols, self.layout.tile_rows);
                let mut tiles = TileBuilder::with_capacity(batch.num_rows(), batch.num_rows() * tc * tr * self.cell_type.bytes_per_cell());
                for i in 0..batch.num_rows() {
                    let grid = tile_grid(&self.layout.key_extent(col.value(i) as i64, row.value(i) as i64), tc, tr);
                    let d = distance_tile(&self.points, &grid, self.burned.as_ref())?;
                    self.cell_type.store(&d, tiles.values_mut());
                    tiles.finish_tile(&self.cell_type, 1, tr, tc);
                }
                keyed_tiles(col.values().to_vec(), row.values().to_vec(), Vec::new(), tiles, false)
            })
            .map_err(Error::from)?;
        PyRecordBatch::new(out).into_pyarrow(py)
    }
}

/// The first search of every friction tile of `batch` from the cells the WKB geometries burn: a batch of
/// search states (`col`, `row`, `friction`, `cost`, `changed`).
#[pyfunction]
fn cost_start<'py>(
    py: Python<'py>,
    batch: PyRecordBatch,
    layout: LayoutArg,
    wkbs: Vec<Vec<u8>>,
    resolution: f64,
    max_cost: f64,
) -> PyResult<Bound<'py, PyAny>> {
    let starts = Shape::merged(shapes(&wkbs)?);
    let batch = batch.into_inner();
    let params = CostParams { resolution, max_cost };
    let out = py.detach(|| cost_tiles::start(&batch, &layout.0, &starts, params)).map_err(Error::from)?;
    PyRecordBatch::new(out).into_pyarrow(py)
}

/// The edges the changed tiles of a state batch send to their neighbours (`col`, `row`, `cells`).
#[pyfunction]
fn cost_edges<'py>(py: Python<'py>, batch: PyRecordBatch, layout: LayoutArg) -> PyResult<Bound<'py, PyAny>> {
    let batch = batch.into_inner();
    let out = py.detach(|| cost_tiles::edges(&batch, &layout.0)).map_err(Error::from)?;
    PyRecordBatch::new(out).into_pyarrow(py)
}

/// Search again every tile of a state batch that receives edges.
#[pyfunction]
fn cost_step<'py>(
    py: Python<'py>,
    batch: PyRecordBatch,
    edges: Vec<PyRecordBatch>,
    layout: LayoutArg,
    resolution: f64,
    max_cost: f64,
) -> PyResult<Bound<'py, PyAny>> {
    let batch = batch.into_inner();
    let edges: Vec<_> = edges.into_iter().map(PyRecordBatch::into_inner).collect();
    let params = CostParams { resolution, max_cost };
    let out = py.detach(|| cost_tiles::step(&batch, &edges, &layout.0, params)).map_err(Error::from)?;
    PyRecordBatch::new(out).into_pyarrow(py)
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(cost_start, m)?)?;
    m.add_function(wrap_pyfunction!(cost_edges, m)?)?;
    m.add_function(wrap_pyfunction!(cost_step, m)?)?;
    m.add_function(wrap_pyfunction!(euclidean_sources, m)?)?;
    m.add_class::<EuclideanDistance>()?;
    Ok(())
}
