//! The TMS tile server (crate `gps_tms`) for Python: catalog levels read in Rust, and Python objects as
//! tile sources or renderers where only Python can do the work (they take the GIL per request).

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use gps_engine::catalog::avro::Tile;
use gps_engine::render::colormap::ColorMap;
use gps_engine::{CellType, EngineError};
use gps_tms::{CatalogSource, Config, Display, Level, Renderer, Server, TileSource};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyList, PyTuple};

use crate::error::{invalid_argument, Error};

type PyTileTuple = (String, usize, usize, usize, Vec<u8>);

fn tile_from_tuple(t: PyTileTuple) -> gps_engine::Result<Tile> {
    let (cell_type, bands, rows, cols, cells) = t;
    let cell_type = CellType::parse(&cell_type)?;
    if crate::render::cells_len(&cell_type, bands, rows, cols) != Some(cells.len()) {
        return Err(EngineError::Value(format!("{} bytes of cells for a {bands}×{rows}×{cols} tile", cells.len())));
    }
    Ok(Tile { cell_type, bands, rows, cols, cells })
}

fn tile_to_tuple<'py>(py: Python<'py>, t: &Tile) -> PyResult<Bound<'py, PyTuple>> {
    (t.cell_type.name(), t.bands, t.rows, t.cols, PyBytes::new(py, &t.cells)).into_pyobject(py)
}

/// A Python object with `tile(z, x, y)` → None or `(cell_type, bands, rows, cols, bytes)`, and `zooms()`.
struct PySource {
    obj: Py<PyAny>,
    zooms: Vec<u32>,
}

impl TileSource for PySource {
    fn tile(&self, z: u32, x: i64, y: i64) -> gps_engine::Result<Option<Tile>> {
        Python::attach(|py| {
            let found = self
                .obj
                .call_method1(py, "tile", (z, x, y))
                .and_then(|r| r.extract::<Option<PyTileTuple>>(py))
                .map_err(|e| EngineError::Value(format!("tile source failed: {e}")))?;
            found.map(tile_from_tuple).transpose()
        })
    }

    fn zooms(&self) -> Vec<u32> {
        self.zooms.clone()
    }
}

/// A Python callable taking a list of tiles (tuples or None) and returning PNG bytes or None.
struct PyRenderer(Py<PyAny>);

impl Renderer for PyRenderer {
    fn render(&self, tiles: Vec<Option<Tile>>) -> Result<Option<Vec<u8>>, String> {
        Python::attach(|py| {
            let items = tiles
                .iter()
                .map(|t| match t {
                    Some(t) => tile_to_tuple(py, t).map(|t| t.into_any()),
                    None => Ok(py.None().into_bound(py)),
                })
                .collect::<PyResult<Vec<_>>>()
                .map_err(|e| e.to_string())?;
            let list = PyList::new(py, items).map_err(|e| e.to_string())?;
            let out = self.0.call1(py, (list,)).map_err(|e| {
                let tb = e.traceback(py).and_then(|tb| tb.format().ok()).unwrap_or_default();
                format!("the display function raised {e}\n{tb}")
            })?;
            out.extract::<Option<Vec<u8>>>(py)
                .map_err(|_| "the display function must return PNG bytes or None".to_string())
        })
    }
}

/// A running tile server.
#[pyclass(module = "geopyspark_rs._native")]
struct TmsServer {
    server: Mutex<Option<Server>>,
    handshake: Arc<Mutex<String>>,
    host: String,
    port: u16,
}

#[pymethods]
impl TmsServer {
    #[getter]
    fn host(&self) -> String {
        self.host.clone()
    }

    #[getter]
    fn port(&self) -> u16 {
        self.port
    }

    #[getter]
    fn bound(&self) -> bool {
        self.server.lock().map(|s| s.is_some()).unwrap_or(false)
    }

    #[getter]
    fn max_zoom(&self) -> Option<u32> {
        self.server.lock().ok().and_then(|s| s.as_ref().and_then(|s| s.max_zoom()))
    }

    fn set_handshake(&self, text: String) {
        if let Ok(mut h) = self.handshake.lock() {
            *h = text;
        }
    }

    /// Stop serving (requests in flight finish first). The GIL is released so that renderers calling
    /// back into Python can complete.
    fn unbind(&self, py: Python<'_>) {
        let server = self.server.lock().ok().and_then(|mut s| s.take());
        if let Some(mut server) = server {
            py.detach(move || server.unbind());
        }
    }

    fn request_log(&self) -> Vec<String> {
        self.server.lock().ok().and_then(|s| s.as_ref().map(|s| s.request_log())).unwrap_or_default()
    }

    fn clear_cache(&self) {
        if let Ok(s) = self.server.lock() {
            if let Some(s) = s.as_ref() {
                s.clear_cache();
            }
        }
    }
}

/// Start a tile server. `sources`: per source, either a list of catalog levels
/// `(zoom, tile_dir, key_index_json, schema_json, store_options)` or a Python tile source object (with
/// `tile(z, x, y)` and `zooms()`). `display`: a colour map's JSON text or a callable (list of tiles → PNG
/// bytes or None). `files`: fixed responses by path, `(content_type, bytes)`.
#[pyfunction]
#[pyo3(signature = (sources, display, allow_overzooming, files, host, port, handshake="", cache_entries=2048))]
#[allow(clippy::too_many_arguments)]
fn tms_bind(
    py: Python<'_>,
    sources: Vec<Bound<'_, PyAny>>,
    display: Bound<'_, PyAny>,
    allow_overzooming: bool,
    files: HashMap<String, (String, Vec<u8>)>,
    host: String,
    port: u16,
    handshake: &str,
    cache_entries: usize,
) -> PyResult<TmsServer> {
    let mut built: Vec<Arc<dyn TileSource>> = Vec::new();
    for s in sources {
        if let Ok(levels) = s.extract::<Vec<(u32, String, String, String, BTreeMap<String, String>)>>() {
            let mut source = CatalogSource::default();
            for (zoom, dir, index, schema, options) in levels {
                source.insert(zoom, Level::new(&dir, &index, &schema, options).map_err(Error::from)?);
            }
            built.push(Arc::new(source));
        } else if s.hasattr("tile")? {
            let zooms: Vec<u32> = s.call_method0("zooms")?.extract()?;
            built.push(Arc::new(PySource { obj: s.unbind(), zooms }));
        } else {
            return Err(invalid_argument("a TMS source is a list of catalog levels or an object with tile() and zooms()"));
        }
    }
    if built.is_empty() {
        return Err(invalid_argument("a TMS needs at least one source"));
    }
    let display = if let Ok(json) = display.extract::<String>() {
        Display::ColorMap(ColorMap::from_json(&json).map_err(Error::from)?)
    } else if display.is_callable() {
        Display::Renderer(Arc::new(PyRenderer(display.unbind())))
    } else {
        return Err(invalid_argument("a TMS display is a colour map or a callable"));
    };
    let handshake = Arc::new(Mutex::new(handshake.to_string()));
    let config = Config {
        sources: built,
        display,
        allow_overzooming,
        files,
        handshake: handshake.clone(),
        cache_entries,
    };
    let server = py.detach(|| Server::bind(config, &host, port)).map_err(Error::from)?;
    let port = server.addr.port();
    Ok(TmsServer { server: Mutex::new(Some(server)), handshake, host, port })
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<TmsServer>()?;
    m.add_function(wrap_pyfunction!(tms_bind, m)?)?;
    Ok(())
}

impl Drop for TmsServer {
    /// A server collected while bound stops with the GIL released, so renderers in flight can finish.
    fn drop(&mut self) {
        let server = self.server.get_mut().ok().and_then(|s| s.take());
        if let Some(mut server) = server {
            Python::attach(|py| py.detach(move || server.unbind()));
        }
    }
}
