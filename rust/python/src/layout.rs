//! Layout math (`gps_engine::layout`) for the Python layer, and [`LayoutArg`]: the one conversion of a
//! layout argument that every binding taking a layout uses.

use gps_engine::layout::{Extent, Layout};
use numpy::{PyArray1, PyArray2, PyReadonlyArray1, PyUntypedArrayMethods};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyList;

use crate::error::Error;

type ExtentTuple = (f64, f64, f64, f64);
type TileLayoutTuple = (usize, usize, usize, usize);

/// A layout argument: a `LayoutDefinition` (`(extent, tileLayout)`, as namedtuples or plain tuples) or the
/// flat tuple or list `(xmin, ymin, xmax, ymax, layout_cols, layout_rows, tile_cols, tile_rows)`. Checked on entry
/// (`Layout::validate`): a layout with no tiles or an empty extent raises ValueError.
pub struct LayoutArg(pub Layout);

impl<'a, 'py> FromPyObject<'a, 'py> for LayoutArg {
    type Error = PyErr;

    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        // Layouts carried through JSON (query plans) arrive as lists.
        let obj = match obj.cast::<PyList>() {
            Ok(list) => list.to_tuple().into_any(),
            Err(_) => obj.to_owned(),
        };
        let parts = obj.len().map_err(|_| not_a_layout(&obj))?;
        let ((xmin, ymin, xmax, ymax), (layout_cols, layout_rows, tile_cols, tile_rows)) =
            match parts {
                2 => obj.extract::<(ExtentTuple, TileLayoutTuple)>()?,
                8 => {
                    let (xmin, ymin, xmax, ymax, lc, lr, tc, tr) =
                        obj.extract::<(f64, f64, f64, f64, usize, usize, usize, usize)>()?;
                    ((xmin, ymin, xmax, ymax), (lc, lr, tc, tr))
                }
                _ => return Err(not_a_layout(&obj)),
            };
        let layout = Layout {
            xmin,
            ymin,
            xmax,
            ymax,
            layout_cols,
            layout_rows,
            tile_cols,
            tile_rows,
        };
        layout.validate().map_err(Error::from)?;
        Ok(LayoutArg(layout))
    }
}

fn not_a_layout(obj: &Bound<'_, PyAny>) -> PyErr {
    let type_name = obj
        .get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "?".into());
    PyTypeError::new_err(format!(
        "a layout must be a LayoutDefinition(extent, tileLayout) or (xmin, ymin, xmax, ymax, layout_cols, \
         layout_rows, tile_cols, tile_rows), got {type_name}"
    ))
}

fn finite(what: &str, values: &[f64]) -> PyResult<()> {
    if values.iter().all(|v| v.is_finite()) {
        Ok(())
    } else {
        Err(PyValueError::new_err(format!(
            "{what} must be finite, got {values:?}"
        )))
    }
}

/// `(cell width, cell height)` of a layout's pixel grid.
#[pyfunction]
fn layout_cell_size(layout: LayoutArg) -> (f64, f64) {
    layout.0.cell_size()
}

/// The key `(col, row)` holding a point (`MapKeyTransform.pointToKey`; not clamped to the layout).
#[pyfunction]
fn layout_point_to_key(layout: LayoutArg, x: f64, y: f64) -> PyResult<(i64, i64)> {
    finite("a point", &[x, y])?;
    Ok(layout.0.point_to_key(x, y))
}

/// The keys holding points (`xs`, `ys` of equal length) as int32 arrays `(cols, rows, found)`: `found` is
/// false (and the key 0, 0) for a point that is not finite or whose key does not fit in int32.
#[pyfunction]
#[allow(clippy::type_complexity)]
fn layout_points_to_keys<'py>(
    py: Python<'py>,
    layout: LayoutArg,
    xs: PyReadonlyArray1<'py, f64>,
    ys: PyReadonlyArray1<'py, f64>,
) -> PyResult<(
    Bound<'py, PyArray1<i32>>,
    Bound<'py, PyArray1<i32>>,
    Bound<'py, PyArray1<bool>>,
)> {
    if xs.len() != ys.len() {
        return Err(PyValueError::new_err(format!(
            "{} x coordinates but {} y coordinates",
            xs.len(),
            ys.len()
        )));
    }
    let n = xs.len();
    let (mut cols, mut rows, mut found) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    for (x, y) in xs.as_array().iter().zip(ys.as_array().iter()) {
        let key = layout.0.point_to_key_i32(*x, *y);
        let (c, r) = key.unwrap_or((0, 0));
        cols.push(c);
        rows.push(r);
        found.push(key.is_some());
    }
    Ok((
        PyArray1::from_vec(py, cols),
        PyArray1::from_vec(py, rows),
        PyArray1::from_vec(py, found),
    ))
}

/// `(col_min, row_min, col_max, row_max)` of the keys an extent covers (`MapKeyTransform.apply`: north and
/// west edges inclusive, east and south exclusive; not clamped to the layout).
#[pyfunction]
fn layout_key_bounds(layout: LayoutArg, extent: ExtentTuple) -> PyResult<(i64, i64, i64, i64)> {
    let (xmin, ymin, xmax, ymax) = extent;
    finite("an extent", &[xmin, ymin, xmax, ymax])?;
    Ok(layout.0.key_bounds(&Extent {
        xmin,
        ymin,
        xmax,
        ymax,
    }))
}

/// The extents of keys (`MapKeyTransform.keyToExtent`) as an n×4 array of xmin, ymin, xmax, ymax.
#[pyfunction]
fn layout_key_extents<'py>(
    py: Python<'py>,
    layout: LayoutArg,
    cols: PyReadonlyArray1<'py, i64>,
    rows: PyReadonlyArray1<'py, i64>,
) -> PyResult<Bound<'py, PyArray2<f64>>> {
    if cols.len() != rows.len() {
        return Err(PyValueError::new_err(format!(
            "{} key columns but {} key rows",
            cols.len(),
            rows.len()
        )));
    }
    let (cols, rows) = (cols.as_array(), rows.as_array());
    let mut out = Vec::with_capacity(cols.len() * 4);
    for (c, r) in cols.iter().zip(rows.iter()) {
        let e = layout.0.key_extent(*c, *r);
        out.extend([e.xmin, e.ymin, e.xmax, e.ymax]);
    }
    let array = numpy::ndarray::Array2::from_shape_vec((cols.len(), 4), out)
        .map_err(|e| PyValueError::new_err(e.to_string()))?;
    Ok(PyArray2::from_owned_array(py, array))
}

/// GeoTrellis' `FloatingLayoutScheme` layout `((xmin, ymin, xmax, ymax), (layout_cols, layout_rows,
/// tile_cols, tile_rows))`: tiles of cells of the given size anchored at the extent's upper-left corner,
/// padded right and down.
#[pyfunction]
fn layout_floating(
    extent: ExtentTuple,
    cell_width: f64,
    cell_height: f64,
    tile_cols: usize,
    tile_rows: usize,
) -> PyResult<(ExtentTuple, TileLayoutTuple)> {
    let (xmin, ymin, xmax, ymax) = extent;
    finite("an extent", &[xmin, ymin, xmax, ymax])?;
    let l = Layout::floating(
        &Extent {
            xmin,
            ymin,
            xmax,
            ymax,
        },
        cell_width,
        cell_height,
        tile_cols,
        tile_rows,
    )
    .map_err(Error::from)?;
    Ok((
        (l.xmin, l.ymin, l.xmax, l.ymax),
        (l.layout_cols, l.layout_rows, l.tile_cols, l.tile_rows),
    ))
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(layout_cell_size, m)?)?;
    m.add_function(wrap_pyfunction!(layout_point_to_key, m)?)?;
    m.add_function(wrap_pyfunction!(layout_points_to_keys, m)?)?;
    m.add_function(wrap_pyfunction!(layout_key_bounds, m)?)?;
    m.add_function(wrap_pyfunction!(layout_key_extents, m)?)?;
    m.add_function(wrap_pyfunction!(layout_floating, m)?)
}
