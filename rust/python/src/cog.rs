//! Bindings of the async GeoTIFF/COG reader (`geopyspark_rs.cog`): open a file from a URI (the engine's own
//! storage) or from byte ranges a Python object store fetched, list the byte ranges that windows need,
//! fetch them, and decode windows to numpy with their internal masks.
//!
//! These calls block: Python runs them in thread pools, and each releases the GIL while it reads or decodes,
//! so the event loop and the other workers keep running.

use std::collections::BTreeMap;
use std::ops::Range;
use std::sync::Arc;

use gps_engine::geotiff::cached::{CachedSource, FetchedRanges, PartialSource};
use gps_engine::geotiff::info::{read_info, GeoTiffInfo, ImageLayout, SampleKind};
use gps_engine::geotiff::read::{native_ranges, read_native, Window};
use gps_engine::io::{self, StoreOptions};
use numpy::IntoPyArray;
use pyo3::buffer::PyBuffer;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyTuple};

use crate::error::{invalid_argument, Error};

/// An open GeoTIFF: its header, and for a URI the storage it is read from.
#[pyclass(name = "CogSource", module = "geopyspark_rs._native", frozen)]
pub struct CogSource {
    name: String,
    len: u64,
    /// The engine's storage; `None` when bytes come from Python (an obstore store).
    source: Option<CachedSource>,
    info: GeoTiffInfo,
}

/// Byte ranges of a file fetched for one read.
#[pyclass(name = "CogBytes", module = "geopyspark_rs._native", frozen)]
pub struct CogBytes {
    ranges: FetchedRanges,
}

#[pymethods]
impl CogBytes {
    /// Total bytes held.
    #[getter]
    fn nbytes(&self) -> usize {
        self.ranges.bytes()
    }
}

/// Opens `uri` (a path, `file://` or object store URI) and parses its header.
#[pyfunction]
#[pyo3(signature = (uri, options=None))]
fn cog_open(py: Python<'_>, uri: &str, options: Option<BTreeMap<String, String>>) -> PyResult<CogSource> {
    let options: StoreOptions = options.unwrap_or_default();
    py.detach(|| -> gps_engine::Result<CogSource> {
        let source = CachedSource::new(io::open(uri, &options)?)?;
        let info = read_info(&source)?;
        Ok(CogSource { name: uri.to_string(), len: source.len(), source: Some(source), info })
    })
    .map_err(|e| Error::from(e).into())
}

fn copy_buffers(py: Python<'_>, starts: &[u64], buffers: &[PyBuffer<u8>]) -> PyResult<FetchedRanges> {
    if starts.len() != buffers.len() {
        return Err(invalid_argument(format!(
            "{} range starts for {} buffers; expected one start per buffer",
            starts.len(),
            buffers.len()
        )));
    }
    let mut pieces = Vec::with_capacity(buffers.len());
    for (&start, buffer) in starts.iter().zip(buffers) {
        pieces.push((start, buffer.to_vec(py)?));
    }
    Ok(FetchedRanges::new(pieces))
}

/// Parses the header of a file of `size` bytes named `name` from the byte ranges at hand (`buffers`,
/// starting at `starts`). Returns the open source, or the `(start, end)` byte range still needed.
#[pyfunction]
fn cog_open_partial<'py>(
    py: Python<'py>,
    name: &str,
    size: u64,
    starts: Vec<u64>,
    buffers: Vec<PyBuffer<u8>>,
) -> PyResult<Bound<'py, PyAny>> {
    let known = copy_buffers(py, &starts, &buffers)?;
    let result = py.detach(|| -> gps_engine::Result<Result<GeoTiffInfo, Range<u64>>> {
        let partial = Arc::new(PartialSource::new(name, size, known));
        let parsed = CachedSource::new(partial.clone()).and_then(|c| read_info(&c));
        match (parsed, partial.missing()) {
            (Ok(info), _) => Ok(Ok(info)),
            // The parse stopped at bytes not fetched yet: ask for them (any error may be a consequence).
            (Err(_), Some(missing)) => Ok(Err(missing)),
            (Err(e), None) => Err(e),
        }
    });
    match result.map_err(Error::from)? {
        Ok(info) => Ok(Bound::new(py, CogSource { name: name.to_string(), len: size, source: None, info })?
            .into_any()),
        Err(missing) => Ok(PyTuple::new(py, [missing.start, missing.end])?.into_any()),
    }
}

fn dtype_name(kind: SampleKind) -> &'static str {
    match kind {
        SampleKind::Bit | SampleKind::U8 => "uint8",
        SampleKind::I8 => "int8",
        SampleKind::U16 => "uint16",
        SampleKind::I16 => "int16",
        SampleKind::U32 => "uint32",
        SampleKind::I32 => "int32",
        SampleKind::F32 => "float32",
        SampleKind::U64 => "uint64",
        SampleKind::I64 => "int64",
        SampleKind::F64 => "float64",
    }
}

fn image_dict<'py>(py: Python<'py>, layout: &ImageLayout, mask: Option<&ImageLayout>) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("width", layout.width)?;
    d.set_item("height", layout.height)?;
    d.set_item("bands", layout.bands)?;
    d.set_item("dtype", dtype_name(layout.kind))?;
    d.set_item("bits", layout.kind.bits())?;
    d.set_item("tiled", layout.tiled)?;
    d.set_item("tile_width", layout.segment_cols)?;
    d.set_item("tile_height", layout.segment_rows)?;
    d.set_item("planar", layout.planar)?;
    d.set_item("compression", layout.compression_name())?;
    d.set_item("predictor", layout.predictor)?;
    d.set_item("photometric", layout.photometric)?;
    d.set_item("has_mask", mask.is_some())?;
    Ok(d)
}

/// Header facts of an open file (see geopyspark_rs/_native.pyi for the keys).
#[pyfunction]
fn cog_info<'py>(py: Python<'py>, src: &CogSource) -> PyResult<Bound<'py, PyDict>> {
    let info = &src.info;
    let d = PyDict::new(py);
    d.set_item("name", &src.name)?;
    d.set_item("size", src.len)?;
    d.set_item("bigtiff", info.bigtiff)?;
    d.set_item("crs", info.crs.clone())?;
    d.set_item("geotransform", info.geotransform.to_vec())?;
    d.set_item("no_data", info.no_data)?;
    d.set_item("pixel_is_point", info.pixel_is_point)?;
    d.set_item("alpha_band", info.alpha_band)?;
    d.set_item("color_map", info.color_map.clone())?;
    d.set_item("tags", info.tags.clone())?;
    d.set_item("band_tags", info.band_tags.clone())?;
    let images = PyList::empty(py);
    images.append(image_dict(py, &info.image, info.mask(0))?)?;
    for (k, ov) in info.overviews.iter().enumerate() {
        images.append(image_dict(py, ov, info.mask(k + 1))?)?;
    }
    d.set_item("images", images)?;
    Ok(d)
}

fn windows_of(windows: &[(i64, i64, i64, i64)]) -> PyResult<Vec<Window>> {
    windows
        .iter()
        .map(|&(x, y, w, h)| {
            let conv = |v: i64| usize::try_from(v).ok();
            match (conv(x), conv(y), conv(w), conv(h)) {
                (Some(x), Some(y), Some(w), Some(h)) => Ok((x, y, w, h)),
                _ => Err(invalid_argument(format!(
                    "window {:?} has a negative offset or size; expected (col_off, row_off, width, height) >= 0",
                    (x, y, w, h)
                ))),
            }
        })
        .collect()
}

/// The byte ranges `(start, end)` that reading `windows` of image `image` in `bands` needs (with `mask`,
/// also those of its internal mask).
#[pyfunction]
fn cog_ranges(
    src: &CogSource,
    image: usize,
    windows: Vec<(i64, i64, i64, i64)>,
    bands: Vec<usize>,
    mask: bool,
) -> PyResult<Vec<(u64, u64)>> {
    let wins = windows_of(&windows)?;
    let ranges =
        native_ranges(&src.name, src.len, &src.info, image, &wins, &bands, mask).map_err(Error::from)?;
    Ok(ranges.into_iter().map(|r| (r.start, r.end)).collect())
}

/// Byte ranges fetched elsewhere (by an obstore store): `buffers[i]` holds the bytes from `starts[i]`.
#[pyfunction]
fn cog_bytes(py: Python<'_>, starts: Vec<u64>, buffers: Vec<PyBuffer<u8>>) -> PyResult<CogBytes> {
    Ok(CogBytes { ranges: copy_buffers(py, &starts, &buffers)? })
}

/// Fetches `ranges` of a file opened by URI with one storage call (an object store coalesces them).
#[pyfunction]
fn cog_fetch(py: Python<'_>, src: &CogSource, ranges: Vec<(u64, u64)>) -> PyResult<CogBytes> {
    let Some(source) = &src.source else {
        return Err(invalid_argument(format!("{}: opened from a store; fetch its bytes through the store", src.name)));
    };
    let ranges: Vec<Range<u64>> = ranges.into_iter().map(|(s, e)| s..e).collect();
    let fetched = py.detach(|| source.fetch(&ranges)).map_err(Error::from)?;
    Ok(CogBytes { ranges: fetched })
}

/// Decodes `windows` of image `image` in `bands`: per window, the samples as a flat uint8 array of
/// little-endian values in the image's dtype (bands, rows, cols), and with `mask` the internal mask as a
/// flat uint8 array of 0/1 (rows, cols) or None. Bytes come from `fetched`, or, when it is None, are
/// fetched from the file's own storage first.
#[pyfunction]
#[pyo3(signature = (src, image, windows, bands, mask, fetched=None))]
fn cog_read<'py>(
    py: Python<'py>,
    src: &CogSource,
    image: usize,
    windows: Vec<(i64, i64, i64, i64)>,
    bands: Vec<usize>,
    mask: bool,
    fetched: Option<&CogBytes>,
) -> PyResult<Bound<'py, PyList>> {
    let wins = windows_of(&windows)?;
    let decoded = py
        .detach(|| {
            let owned;
            let fetched = match (fetched, &src.source) {
                (Some(f), _) => &f.ranges,
                (None, Some(source)) => {
                    let ranges = native_ranges(&src.name, src.len, &src.info, image, &wins, &bands, mask)?;
                    owned = source.fetch(&ranges)?;
                    &owned
                }
                (None, None) => {
                    return Err(gps_engine::EngineError::Value(format!(
                        "{}: opened from a store; pass the bytes fetched through it",
                        src.name
                    )))
                }
            };
            read_native(&src.name, &src.info, image, &wins, &bands, mask, fetched)
        })
        .map_err(Error::from)?;
    let out = PyList::empty(py);
    for w in decoded {
        let cells = w.cells.into_pyarray(py);
        let mask = w.mask.map(|m| m.into_pyarray(py));
        out.append((cells, mask))?;
    }
    Ok(out)
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<CogSource>()?;
    m.add_class::<CogBytes>()?;
    m.add_function(wrap_pyfunction!(cog_open, m)?)?;
    m.add_function(wrap_pyfunction!(cog_open_partial, m)?)?;
    m.add_function(wrap_pyfunction!(cog_info, m)?)?;
    m.add_function(wrap_pyfunction!(cog_ranges, m)?)?;
    m.add_function(wrap_pyfunction!(cog_bytes, m)?)?;
    m.add_function(wrap_pyfunction!(cog_fetch, m)?)?;
    m.add_function(wrap_pyfunction!(cog_read, m)?)?;
    Ok(())
}
