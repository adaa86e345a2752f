//! One error type for the engine; the binding (`rust/python/src/error.rs`) maps each variant to a class of
//! `geopyspark_rs.errors` in one place. Messages stand alone: they name the file, key or value and what was expected.

use thiserror::Error;

#[derive(Debug, Error)]
#[non_exhaustive]
pub enum EngineError {
    /// A cell type name that GeoTrellis would not parse.
    #[error("unknown cell type {0:?}; expected a GeoTrellis name such as 'int16', 'uint8raw', 'float32ud-9999.0' or 'bool'")]
    UnknownCellType(String),
    /// A plan (the JSON list of per-tile steps) that cannot be run.
    #[error("invalid plan: {0}")]
    InvalidPlan(String),
    /// A record batch that does not follow the tile contract (DESIGN §3).
    #[error("tile batch does not follow the tile contract: {0}")]
    Contract(String),
    /// Tiles that cannot be combined (band counts, shapes).
    #[error("{0}")]
    Mismatch(String),
    /// A value a strict operation refuses (e.g. an unmapped cell in a strict reclassify).
    #[error("{0}")]
    Value(String),
    /// A key index (GeoTrellis `keyIndex`) that cannot be built, parsed or applied to a key.
    #[error("key index: {0}")]
    KeyIndex(String),
    #[error("{0}")]
    Histogram(#[from] crate::histogram::HistogramError),
    /// A file or object that does not exist.
    #[error("{path}: not found")]
    NotFound { path: String },
    /// A file or object that cannot be opened, listed, read or written (other than a missing one).
    #[error("{path}: {message}")]
    Io { path: String, message: String },
    /// A file whose bytes cannot be decoded: a corrupt or truncated GeoTIFF or GeoTrellis Avro tile file.
    #[error("{path}: {message}")]
    Corrupt { path: String, message: String },
    /// A valid input this engine does not support (a GeoTIFF sample layout, a file too large to encode).
    #[error("{path}: {message}")]
    Unsupported { path: String, message: String },
    /// A failure no input should cause (a poisoned lock, a cache that lost a block): a bug.
    #[error("internal error: {0}")]
    Internal(String),
    #[error("arrow error: {0}")]
    Arrow(#[from] arrow_schema::ArrowError),
    #[error("json error: {0}")]
    Json(#[from] serde_json::Error),
}

pub type Result<T> = std::result::Result<T, EngineError>;

impl EngineError {
    /// An I/O error on `path`, keeping the OS's message.
    pub fn io(path: &str, e: impl std::fmt::Display) -> EngineError {
        EngineError::Io { path: path.to_string(), message: e.to_string() }
    }

    /// A GeoTIFF on `path` that cannot be decoded: corrupt or truncated.
    pub fn geotiff(path: &str, e: impl std::fmt::Display) -> EngineError {
        EngineError::Corrupt { path: path.to_string(), message: e.to_string() }
    }

    /// A missing file or object.
    pub fn not_found(path: &str) -> EngineError {
        EngineError::NotFound { path: path.to_string() }
    }

    /// Something in `path` (or `"<encoder>"`) this engine does not support.
    pub fn unsupported(path: &str, e: impl std::fmt::Display) -> EngineError {
        EngineError::Unsupported { path: path.to_string(), message: e.to_string() }
    }
}
