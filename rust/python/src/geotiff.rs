//! Bindings for reading GeoTIFFs: header facts as a dict and windows as a tile-contract batch.

use std::collections::BTreeMap;
use std::sync::Arc;

use arrow_array::RecordBatch;
use arrow_schema::Schema;
use gps_engine::batch::TileBuilder;
use gps_engine::geotiff::cached::CachedSource;
use gps_engine::geotiff::info::{read_info, GeoTiffInfo};
use gps_engine::geotiff::read::{read_windows, Window};
use gps_engine::io::{self, StoreOptions};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use pyo3_arrow::PyRecordBatch;

use crate::error::Error;

fn open(
    uri: &str,
    options: Option<BTreeMap<String, String>>,
) -> gps_engine::Result<(CachedSource, GeoTiffInfo)> {
    let options: StoreOptions = options.unwrap_or_default();
    let source = CachedSource::new(io::open(uri, &options)?)?;
    let info = read_info(&source)?;
    Ok((source, info))
}

/// Header facts of a GeoTIFF (see geopyspark_rs/_native.pyi for the keys).
#[pyfunction]
#[pyo3(signature = (uri, options=None))]
fn geotiff_info<'py>(
    py: Python<'py>,
    uri: &str,
    options: Option<BTreeMap<String, String>>,
) -> PyResult<Bound<'py, PyDict>> {
    let (_, info) = py.detach(|| open(uri, options)).map_err(Error::from)?;
    let d = PyDict::new(py);
    let img = &info.image;
    d.set_item("width", img.width)?;
    d.set_item("height", img.height)?;
    d.set_item("bands", img.bands)?;
    d.set_item("cell_type", info.cell_type.name())?;
    d.set_item("no_data_value", info.no_data)?;
    d.set_item("extent", info.extent)?;
    d.set_item("geotransform", info.geotransform.to_vec())?;
    d.set_item("crs", info.crs.clone())?;
    d.set_item("pixel_is_point", info.pixel_is_point)?;
    d.set_item("tiled", img.tiled)?;
    d.set_item("segment_cols", img.segment_cols)?;
    d.set_item("segment_rows", img.segment_rows)?;
    d.set_item("planar", img.planar)?;
    d.set_item("compression", img.compression_name())?;
    d.set_item("predictor", img.predictor)?;
    d.set_item("photometric", img.photometric)?;
    d.set_item("color_map", info.color_map.clone())?;
    d.set_item("bigtiff", info.bigtiff)?;
    let overviews: Vec<(usize, usize)> =
        info.overviews.iter().map(|o| (o.width, o.height)).collect();
    d.set_item("overviews", overviews)?;
    d.set_item("tags", info.tags.clone())?;
    d.set_item("band_tags", info.band_tags.clone())?;
    Ok(d)
}

/// Windows `(col_off, row_off, cols, rows)` of image `overview` (0: full resolution) as a batch in the
/// tile contract, one row per window, in order.
#[pyfunction]
#[pyo3(signature = (uri, windows, options=None, overview=0))]
fn read_geotiff_windows<'py>(
    py: Python<'py>,
    uri: &str,
    windows: Vec<(i64, i64, i64, i64)>,
    options: Option<BTreeMap<String, String>>,
    overview: usize,
) -> PyResult<Bound<'py, PyAny>> {
    let mut wins: Vec<Window> = Vec::with_capacity(windows.len());
    for &(x, y, w, h) in &windows {
        let conv = |v: i64| usize::try_from(v).ok();
        match (conv(x), conv(y), conv(w), conv(h)) {
            (Some(x), Some(y), Some(w), Some(h)) => wins.push((x, y, w, h)),
            _ => {
                return Err(crate::error::invalid_argument(format!(
                    "window {:?} has a negative offset or size; expected (col_off, row_off, cols, rows) >= 0",
                    (x, y, w, h)
                )))
            }
        }
    }
    let batch = py
        .detach(|| -> gps_engine::Result<RecordBatch> {
            let (source, info) = open(uri, options)?;
            let rasters = read_windows(&source, &info, overview, &wins)?;
            let bytes: usize = rasters.iter().map(|r| r.cells.len()).sum();
            let mut builder = TileBuilder::with_capacity(rasters.len(), bytes);
            for r in &rasters {
                builder.push_tile(&r.cell_type, r.bands, r.rows, r.cols, &r.cells);
            }
            let (fields, columns): (Vec<_>, Vec<_>) = builder
                .finish(bytes > i32::MAX as usize)?
                .into_iter()
                .unzip();
            Ok(RecordBatch::try_new(
                Arc::new(Schema::new(fields)),
                columns,
            )?)
        })
        .map_err(Error::from)?;
    PyRecordBatch::new(batch).into_pyarrow(py)
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(geotiff_info, m)?)?;
    m.add_function(wrap_pyfunction!(read_geotiff_windows, m)?)?;
    Ok(())
}
