//! Histograms with GeoTrellis semantics.
//!
//! * [`StreamingHistogram`]: GeoTrellis' approximate histogram of doubles (Ben-Haim & Tom-Tov), at most
//!   `max_bucket_count` buckets (80 by default), exact minimum and maximum.
//! * [`FastMapHistogram`]: GeoTrellis' exact histogram of integer values.
//! * [`Histogram`]: either of the two, as GeoPySpark's `Histogram` wraps either kind.
//!
//! Both read and write GeoTrellis' histogram JSON: a double histogram is
//! `{"buckets": [[label, count], ...], "maxBucketCount": n, "minimum": x, "maximum": y}` (an empty one has only
//! `maxBucketCount`), an integer histogram is `[[value, count], ...]`.

mod fast_map;
mod streaming;
mod tiles;

pub use fast_map::FastMapHistogram;
pub use streaming::{StreamingHistogram, DEFAULT_NUM_BUCKETS};
pub use tiles::band_histograms;

use serde_json::Value;

/// What can go wrong when building, combining or decoding a histogram.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum HistogramError {
    /// An argument is out of its accepted range.
    #[error("{0}")]
    InvalidArgument(String),
    /// The JSON text is not a GeoTrellis histogram.
    #[error("invalid histogram JSON: {0}")]
    InvalidJson(String),
    /// A double histogram was combined with an integer one.
    #[error("cannot merge an integer histogram with a double histogram")]
    KindMismatch,
}

/// A GeoTrellis histogram of either kind.
#[derive(Debug, Clone, PartialEq)]
pub enum Histogram {
    /// `StreamingHistogram` (cells of any type, approximate).
    Double(StreamingHistogram),
    /// `FastMapHistogram` (integer cells, exact counts).
    Int(FastMapHistogram),
}

impl Histogram {
    /// Build a histogram of `values` (NaN is NoData). `int_histogram` picks an exact integer histogram, whose
    /// values are truncated toward zero like GeoTrellis' `tile.get`.
    pub fn from_values(
        values: &[f64],
        int_histogram: bool,
        max_bucket_count: usize,
    ) -> Result<Self, HistogramError> {
        if int_histogram {
            Ok(Histogram::Int(FastMapHistogram::from_values(values)))
        } else {
            Ok(Histogram::Double(StreamingHistogram::from_values(
                values,
                max_bucket_count,
            )?))
        }
    }

    /// Decode GeoTrellis histogram JSON: an object is a double histogram, an array an integer one.
    pub fn from_json(text: &str) -> Result<Self, HistogramError> {
        let value: Value =
            serde_json::from_str(text).map_err(|e| HistogramError::InvalidJson(e.to_string()))?;
        Self::from_json_value(&value)
    }

    /// Decode an already parsed GeoTrellis histogram JSON value.
    pub fn from_json_value(value: &Value) -> Result<Self, HistogramError> {
        match value {
            Value::Object(_) => Ok(Histogram::Double(StreamingHistogram::from_json_value(value)?)),
            Value::Array(_) => Ok(Histogram::Int(FastMapHistogram::from_json_value(value)?)),
            _ => Err(HistogramError::InvalidJson(
                "expected an object (double histogram) or an array of [value, count] pairs (integer histogram)"
                    .into(),
            )),
        }
    }

    /// Encode as GeoTrellis histogram JSON.
    pub fn to_json(&self) -> String {
        match self {
            Histogram::Double(h) => h.to_json(),
            Histogram::Int(h) => h.to_json(),
        }
    }

    /// The histogram of the values seen by both; both must be of the same kind.
    pub fn merge(&self, other: &Histogram) -> Result<Histogram, HistogramError> {
        match (self, other) {
            (Histogram::Double(a), Histogram::Double(b)) => Ok(Histogram::Double(a.merge(b))),
            (Histogram::Int(a), Histogram::Int(b)) => Ok(Histogram::Int(a.merge(b))),
            _ => Err(HistogramError::KindMismatch),
        }
    }

    /// True for an exact integer histogram.
    pub fn is_int(&self) -> bool {
        matches!(self, Histogram::Int(_))
    }

    /// Number of values counted.
    pub fn total_count(&self) -> i64 {
        match self {
            Histogram::Double(h) => h.total_count(),
            Histogram::Int(h) => h.total_count(),
        }
    }

    /// Number of buckets (distinct values for an integer histogram).
    pub fn bucket_count(&self) -> usize {
        match self {
            Histogram::Double(h) => h.bucket_count(),
            Histogram::Int(h) => h.bucket_count(),
        }
    }

    /// Mean of the values, `None` when empty.
    pub fn mean(&self) -> Option<f64> {
        match self {
            Histogram::Double(h) => h.mean(),
            Histogram::Int(h) => h.mean(),
        }
    }

    /// `(value, cumulative fraction)` per bucket, in value order.
    pub fn cdf(&self) -> Vec<(f64, f64)> {
        match self {
            Histogram::Double(h) => h.cdf(),
            Histogram::Int(h) => h.cdf(),
        }
    }
}

/// Read a `[number, number]` pair of a histogram JSON array.
pub(crate) fn json_pair(pair: &Value) -> Result<(&Value, &Value), HistogramError> {
    match pair.as_array() {
        Some(items) if items.len() == 2 => Ok((&items[0], &items[1])),
        _ => Err(HistogramError::InvalidJson(format!(
            "expected a [value, count] pair, found {pair}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_kind_is_picked_by_shape() {
        let d = Histogram::from_json(r#"{"maxBucketCount": 80}"#).unwrap();
        assert!(!d.is_int());
        assert_eq!(d.total_count(), 0);
        let i = Histogram::from_json("[[1, 2], [5, 1]]").unwrap();
        assert!(i.is_int());
        assert_eq!(i.total_count(), 3);
        assert!(matches!(
            Histogram::from_json("3"),
            Err(HistogramError::InvalidJson(_))
        ));
        assert!(matches!(
            Histogram::from_json("{"),
            Err(HistogramError::InvalidJson(_))
        ));
    }

    #[test]
    fn merging_kinds_is_refused() {
        let d = Histogram::from_values(&[1.0], false, 80).unwrap();
        let i = Histogram::from_values(&[1.0], true, 80).unwrap();
        assert_eq!(d.merge(&i), Err(HistogramError::KindMismatch));
        assert_eq!(d.merge(&d).unwrap().total_count(), 2);
        assert_eq!(i.merge(&i).unwrap().total_count(), 2);
    }
}
