//! Bindings of the GeoTIFF/COG writer: option dicts become `WriteOptions`, the GIL is released while
//! encoding.

use gps_engine::geotiff::write::{self, Compression, Interleave, Raster, Storage, WriteOptions};
use gps_engine::CellType;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

use crate::error::invalid_argument;

const KEYS: &str = "storage, rows_per_strip, tile_cols, tile_rows, compression, compression_level, predictor, \
interleave, color_space, color_map, head_tags, band_tags, decimations, resample_method, cog";

fn key_error(key: &str, what: impl std::fmt::Display) -> PyErr {
    invalid_argument(format!("options[{key:?}]: {what}"))
}

fn extract<'py, T: FromPyObjectOwned<'py>>(key: &str, v: &Bound<'py, PyAny>, expected: &str) -> PyResult<T> {
    v.extract::<T>().map_err(|_| key_error(key, format!("expected {expected}, got {}", type_name(v))))
}

fn type_name(v: &Bound<'_, PyAny>) -> String {
    v.get_type().name().map(|n| n.to_string()).unwrap_or_else(|_| "?".into())
}

fn tags(key: &str, v: &Bound<'_, PyAny>) -> PyResult<Vec<(String, String)>> {
    if v.is_none() {
        return Ok(Vec::new());
    }
    let d = v
        .cast::<PyDict>()
        .map_err(|_| key_error(key, format!("expected a dict of str to str, got {}", type_name(v))))?;
    d.iter()
        .map(|(k, val)| {
            let k: String = extract(key, &k, "str keys")?;
            let val: String = extract(key, &val, "str values")?;
            Ok((k, val))
        })
        .collect()
}

fn positive(key: &str, v: &Bound<'_, PyAny>) -> PyResult<usize> {
    let n: i64 = extract(key, v, "an int")?;
    usize::try_from(n).ok().filter(|n| *n > 0).ok_or_else(|| key_error(key, format!("must be positive, got {n}")))
}

fn parse_options(options: Option<&Bound<'_, PyDict>>) -> PyResult<WriteOptions> {
    let mut o = WriteOptions::default();
    let Some(options) = options else { return Ok(o) };
    let (mut storage, mut rows_per_strip, mut tile_cols, mut tile_rows) = (None, None, 256, 256);
    let (mut compression, mut level): (Option<String>, Option<i64>) = (None, None);
    for (k, v) in options.iter() {
        let key: String = k.extract().map_err(|_| invalid_argument(format!("option names must be str, got {}", type_name(&k))))?;
        let key = key.as_str();
        match key {
            "storage" => {
                let s: String = extract(key, &v, "'tiled' or 'striped'")?;
                storage = Some(match s.to_ascii_lowercase().as_str() {
                    "tiled" => true,
                    "striped" => false,
                    _ => return Err(key_error(key, format!("expected 'tiled' or 'striped', got {s:?}"))),
                });
            }
            "rows_per_strip" => rows_per_strip = if v.is_none() { None } else { Some(positive(key, &v)?) },
            "tile_cols" => tile_cols = positive(key, &v)?,
            "tile_rows" => tile_rows = positive(key, &v)?,
            "compression" => compression = Some(extract(key, &v, "a compression name")?),
            "compression_level" => level = if v.is_none() { None } else { Some(extract(key, &v, "an int")?) },
            "predictor" => o.predictor = extract(key, &v, "a bool")?,
            "interleave" => {
                let s: String = extract(key, &v, "'band' or 'pixel'")?;
                o.interleave = Some(match s.to_ascii_lowercase().as_str() {
                    "band" => Interleave::Band,
                    "pixel" => Interleave::Pixel,
                    _ => return Err(key_error(key, format!("expected 'band' or 'pixel', got {s:?}"))),
                });
            }
            "color_space" => {
                if !v.is_none() {
                    let cs: i64 = extract(key, &v, "an int (ColorSpace)")?;
                    o.color_space =
                        Some(u16::try_from(cs).map_err(|_| key_error(key, format!("not a TIFF photometric value: {cs}")))?);
                }
            }
            "color_map" => {
                if !v.is_none() {
                    let colors: Vec<i64> = extract(key, &v, "a list of 0xRRGGBBAA ints")?;
                    o.color_map = Some(
                        colors
                            .iter()
                            .map(|c| {
                                // Accept signed 32-bit values too (GeoTrellis' Int colours).
                                u32::try_from(*c)
                                    .or_else(|_| i32::try_from(*c).map(|c| c as u32))
                                    .map_err(|_| key_error(key, format!("{c} is not a 32-bit 0xRRGGBBAA colour")))
                            })
                            .collect::<PyResult<_>>()?,
                    );
                }
            }
            "head_tags" => o.head_tags = tags(key, &v)?,
            "band_tags" => {
                if !v.is_none() {
                    let list = v
                        .cast::<PyList>()
                        .map_err(|_| key_error(key, format!("expected a list of dicts, got {}", type_name(&v))))?;
                    o.band_tags = list.iter().map(|d| tags(key, &d)).collect::<PyResult<_>>()?;
                }
            }
            "decimations" => {
                if !v.is_none() {
                    let ds: Vec<i64> = extract(key, &v, "a list of ints")?;
                    o.decimations = ds
                        .iter()
                        .map(|d| {
                            usize::try_from(*d)
                                .ok()
                                .filter(|d| *d >= 2)
                                .ok_or_else(|| key_error(key, format!("each decimation must be at least 2, got {d}")))
                        })
                        .collect::<PyResult<_>>()?;
                }
            }
            "resample_method" => {
                let m: String = extract(key, &v, "a ResampleMethod name")?;
                gps_engine::resample::ResampleMethod::parse(&m).map_err(|e| key_error(key, e))?;
                o.resample_method = m;
            }
            "cog" => o.cog = extract(key, &v, "a bool")?,
            other => return Err(invalid_argument(format!("unknown option {other:?}; accepted: {KEYS}"))),
        }
    }
    let tiled = storage.unwrap_or(true);
    if !tiled && o.cog {
        return Err(key_error("storage", "a COG must be 'tiled'"));
    }
    o.storage = if tiled {
        for (key, v) in [("tile_cols", tile_cols), ("tile_rows", tile_rows)] {
            if v % 16 != 0 {
                return Err(key_error(key, format!("must be a multiple of 16, got {v}")));
            }
        }
        Storage::Tiled { tile_cols, tile_rows }
    } else {
        Storage::Striped { rows_per_strip }
    };
    let name = compression.unwrap_or_else(|| "none".into());
    o.compression = match name.to_ascii_lowercase().as_str() {
        "none" | "nocompression" => Compression::None,
        "deflate" | "deflatecompression" | "zlib" => {
            let l = level.unwrap_or(6);
            Compression::Deflate {
                level: u32::try_from(l)
                    .ok()
                    .filter(|l| *l <= 9)
                    .ok_or_else(|| key_error("compression_level", format!("deflate takes 0..=9, got {l}")))?,
            }
        }
        "lzw" => Compression::Lzw,
        "zstd" => {
            let l = level.unwrap_or(9);
            Compression::Zstd {
                level: i32::try_from(l)
                    .ok()
                    .filter(|l| (1..=22).contains(l))
                    .ok_or_else(|| key_error("compression_level", format!("zstd takes 1..=22, got {l}")))?,
            }
        }
        _ => {
            return Err(key_error(
                "compression",
                format!("unknown compression {name:?}; expected 'none', 'deflate', 'lzw', 'zstd', 'NoCompression' or 'DeflateCompression'"),
            ))
        }
    };
    Ok(o)
}

type Extent = (f64, f64, f64, f64);

/// The raster of the binding's arguments, checked: positive shape, known cell type.
fn raster<'a>(cells: &'a [u8], cell_type: &str, bands: i64, rows: i64, cols: i64) -> PyResult<Raster<'a>> {
    let conv = |name: &str, v: i64| {
        usize::try_from(v).ok().filter(|v| *v > 0).ok_or_else(|| invalid_argument(format!("{name} must be positive, got {v}")))
    };
    let cell_type = CellType::parse(cell_type).map_err(crate::error::Error::from)?;
    Ok(Raster { cells, cell_type, bands: conv("bands", bands)?, rows: conv("rows", rows)?, cols: conv("cols", cols)? })
}

/// Encode one raster (band-sequential cells of `cell_type`) as GeoTIFF bytes.
#[pyfunction]
#[pyo3(signature = (cells, cell_type, bands, rows, cols, extent, crs, options=None))]
#[allow(clippy::too_many_arguments)]
fn write_geotiff<'py>(
    py: Python<'py>,
    cells: &[u8],
    cell_type: &str,
    bands: i64,
    rows: i64,
    cols: i64,
    extent: Extent,
    crs: Option<&str>,
    options: Option<&Bound<'py, PyDict>>,
) -> PyResult<Bound<'py, pyo3::types::PyBytes>> {
    let opts = parse_options(options)?;
    let raster = raster(cells, cell_type, bands, rows, cols)?;
    let e = [extent.0, extent.1, extent.2, extent.3];
    let bytes = py.detach(|| write::write_geotiff(&raster, e, crs, &opts)).map_err(crate::error::Error::from)?;
    Ok(pyo3::types::PyBytes::new(py, &bytes))
}

/// Like `write_geotiff`, writing atomically to a local path (temporary file, then rename).
#[pyfunction]
#[pyo3(signature = (path, cells, cell_type, bands, rows, cols, extent, crs, options=None))]
#[allow(clippy::too_many_arguments)]
fn write_geotiff_file<'py>(
    py: Python<'py>,
    path: &str,
    cells: &[u8],
    cell_type: &str,
    bands: i64,
    rows: i64,
    cols: i64,
    extent: Extent,
    crs: Option<&str>,
    options: Option<&Bound<'py, PyDict>>,
) -> PyResult<()> {
    let opts = parse_options(options)?;
    let raster = raster(cells, cell_type, bands, rows, cols)?;
    let e = [extent.0, extent.1, extent.2, extent.3];
    py.detach(|| write::write_geotiff_file(path, &raster, e, crs, &opts)).map_err(crate::error::Error::from)?;
    Ok(())
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(write_geotiff, m)?)?;
    m.add_function(wrap_pyfunction!(write_geotiff_file, m)?)?;
    Ok(())
}
