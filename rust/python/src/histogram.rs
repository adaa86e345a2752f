//! Python binding of the engine's GeoTrellis histograms (`geopyspark_rs._native.Histogram`).
//!
//! One class wraps either kind; numbers come back as `int` for an integer (FastMap) histogram and as
//! `float` for a double (streaming) one, as GeoPySpark's did.

use gps_engine::histogram::{Histogram, HistogramError};
use gps_engine::EngineError;
use numpy::PyReadonlyArray1;
use pyo3::prelude::*;

use crate::error::{invalid_argument, Error};

/// A number of a histogram: `int` for integer histograms, `float` for double ones.
#[derive(IntoPyObject)]
enum Number {
    Int(i64),
    Float(f64),
}

fn value_error(e: HistogramError) -> PyErr {
    Error(EngineError::Histogram(e)).into()
}

fn empty_error(what: &str) -> PyErr {
    invalid_argument(format!("cannot compute the {what} of an empty histogram"))
}

/// A GeoTrellis histogram: `StreamingHistogram` (doubles) or `FastMapHistogram` (exact integer counts).
#[pyclass(name = "Histogram", module = "geopyspark_rs._native", frozen)]
pub struct PyHistogram {
    inner: Histogram,
}

impl PyHistogram {
    fn wrap(inner: Histogram) -> Self {
        PyHistogram { inner }
    }
}

#[pymethods]
impl PyHistogram {
    /// Histogram of a 1-d float64 array (NaN is NoData); `int_histogram` makes an exact integer histogram
    /// of the values truncated toward zero, otherwise a streaming histogram of `max_bucket_count` buckets.
    #[staticmethod]
    #[pyo3(signature = (values, int_histogram, max_bucket_count = 80))]
    fn from_values(
        values: PyReadonlyArray1<'_, f64>,
        int_histogram: bool,
        max_bucket_count: i64,
    ) -> PyResult<Self> {
        if max_bucket_count < 1 || max_bucket_count > u32::MAX as i64 {
            return Err(invalid_argument(format!(
                "max_bucket_count must be a positive integer, got {max_bucket_count}"
            )));
        }
        let owned;
        let slice = match values.as_slice() {
            Ok(s) => s,
            Err(_) => {
                owned = values.as_array().iter().copied().collect::<Vec<f64>>();
                &owned[..]
            }
        };
        Histogram::from_values(slice, int_histogram, max_bucket_count as usize)
            .map(Self::wrap)
            .map_err(value_error)
    }

    /// Decode GeoTrellis histogram JSON (object: double histogram, array: integer histogram).
    #[staticmethod]
    fn from_json(text: &str) -> PyResult<Self> {
        Histogram::from_json(text)
            .map(Self::wrap)
            .map_err(value_error)
    }

    /// Encode as GeoTrellis histogram JSON.
    fn to_json(&self) -> String {
        self.inner.to_json()
    }

    /// True for an exact integer histogram.
    #[getter]
    fn is_int(&self) -> bool {
        self.inner.is_int()
    }

    /// A new histogram of the values of both (same kind required).
    fn merge(&self, other: PyRef<'_, PyHistogram>) -> PyResult<Self> {
        self.inner
            .merge(&other.inner)
            .map(Self::wrap)
            .map_err(value_error)
    }

    fn min(&self) -> PyResult<Number> {
        match &self.inner {
            Histogram::Double(h) => h.min_value().map(Number::Float),
            Histogram::Int(h) => h.min_value().map(|z| Number::Int(z.into())),
        }
        .ok_or_else(|| empty_error("minimum"))
    }

    fn max(&self) -> PyResult<Number> {
        match &self.inner {
            Histogram::Double(h) => h.max_value().map(Number::Float),
            Histogram::Int(h) => h.max_value().map(|z| Number::Int(z.into())),
        }
        .ok_or_else(|| empty_error("maximum"))
    }

    fn min_max(&self) -> PyResult<(Number, Number)> {
        Ok((self.min()?, self.max()?))
    }

    fn mean(&self) -> PyResult<f64> {
        self.inner.mean().ok_or_else(|| empty_error("mean"))
    }

    fn mode(&self) -> PyResult<Number> {
        match &self.inner {
            Histogram::Double(h) => h.mode().map(Number::Float),
            Histogram::Int(h) => h.mode().map(|z| Number::Int(z.into())),
        }
        .ok_or_else(|| empty_error("mode"))
    }

    fn median(&self) -> PyResult<Number> {
        match &self.inner {
            Histogram::Double(h) => h.median().map(Number::Float),
            Histogram::Int(h) => h.median().map(|z| Number::Int(z.into())),
        }
        .ok_or_else(|| empty_error("median"))
    }

    fn values(&self) -> Vec<Number> {
        match &self.inner {
            Histogram::Double(h) => h.values().into_iter().map(Number::Float).collect(),
            Histogram::Int(h) => h
                .values()
                .into_iter()
                .map(|z| Number::Int(z.into()))
                .collect(),
        }
    }

    /// Occurrences of `item` (approximate for a double histogram; 0 for a non-integer item in an integer
    /// histogram).
    fn item_count(&self, item: f64) -> i64 {
        match &self.inner {
            Histogram::Double(h) => h.item_count(item),
            Histogram::Int(h) => {
                if item.fract() == 0.0 && item >= i32::MIN as f64 && item <= i32::MAX as f64 {
                    h.item_count(item as i32)
                } else {
                    0
                }
            }
        }
    }

    fn cdf(&self) -> Vec<(f64, f64)> {
        self.inner.cdf()
    }

    fn bucket_count(&self) -> usize {
        self.inner.bucket_count()
    }

    fn max_bucket_count(&self) -> usize {
        match &self.inner {
            Histogram::Double(h) => h.max_bucket_count(),
            Histogram::Int(h) => h.max_bucket_count(),
        }
    }

    fn total_count(&self) -> i64 {
        self.inner.total_count()
    }

    fn bin_counts(&self) -> Vec<(Number, i64)> {
        match &self.inner {
            Histogram::Double(h) => h
                .bin_counts()
                .into_iter()
                .map(|(v, c)| (Number::Float(v), c))
                .collect(),
            Histogram::Int(h) => h
                .bin_counts()
                .into_iter()
                .map(|(v, c)| (Number::Int(v.into()), c))
                .collect(),
        }
    }

    fn quantile_breaks(&self, num_breaks: i64) -> PyResult<Vec<Number>> {
        if num_breaks < 1 || num_breaks > u32::MAX as i64 {
            return Err(invalid_argument(format!(
                "num_breaks must be a positive integer, got {num_breaks}"
            )));
        }
        let n = num_breaks as usize;
        match &self.inner {
            Histogram::Double(h) => h
                .quantile_breaks(n)
                .map(|b| b.into_iter().map(Number::Float).collect()),
            Histogram::Int(h) => h
                .quantile_breaks(n)
                .map(|b| b.into_iter().map(|z| Number::Int(z.into())).collect()),
        }
        .map_err(value_error)
    }

    fn __repr__(&self) -> String {
        let kind = match &self.inner {
            Histogram::Double(_) => "StreamingHistogram",
            Histogram::Int(_) => "FastMapHistogram",
        };
        format!(
            "Histogram({kind}, buckets={}, total_count={})",
            self.inner.bucket_count(),
            self.inner.total_count()
        )
    }
}

/// Add the histogram class to the extension module.
/// One histogram per band over the tiles of a record batch in the tile contract.
#[pyfunction]
#[pyo3(signature = (batch, int_histogram, max_bucket_count = 80))]
fn batch_histograms(
    py: Python<'_>,
    batch: pyo3_arrow::PyRecordBatch,
    int_histogram: bool,
    max_bucket_count: usize,
) -> PyResult<Vec<PyHistogram>> {
    let batch = batch.into_inner();
    let hists = py
        .detach(|| gps_engine::histogram::band_histograms(&batch, int_histogram, max_bucket_count))
        .map_err(crate::error::Error::from)?;
    Ok(hists.into_iter().map(PyHistogram::wrap).collect())
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyHistogram>()?;
    m.add_function(wrap_pyfunction!(batch_histograms, m)?)
}
