//! The one place where errors become Python exceptions: each `EngineError` variant, and each argument the
//! binding itself refuses, maps to a class of `geopyspark_rs.errors` (defined in Python, each also a subclass of
//! the builtin a user would catch: `ValueError`, `TypeError`, `FileNotFoundError`, `OSError`, ...).

use gps_engine::EngineError;
use pyo3::PyErr;

pyo3::import_exception!(geopyspark_rs.errors, InvalidArgumentError);
pyo3::import_exception!(geopyspark_rs.errors, CellTypeError);
pyo3::import_exception!(geopyspark_rs.errors, InvalidPlanError);
pyo3::import_exception!(geopyspark_rs.errors, TileContractError);
pyo3::import_exception!(geopyspark_rs.errors, CorruptDataError);
pyo3::import_exception!(geopyspark_rs.errors, StorageError);
pyo3::import_exception!(geopyspark_rs.errors, NotFoundError);
pyo3::import_exception!(geopyspark_rs.errors, UnsupportedError);
pyo3::import_exception!(geopyspark_rs.errors, InternalError);

pub struct Error(pub EngineError);

impl From<EngineError> for Error {
    fn from(e: EngineError) -> Self {
        Error(e)
    }
}

impl From<Error> for PyErr {
    fn from(Error(e): Error) -> PyErr {
        let msg = e.to_string();
        match e {
            EngineError::UnknownCellType(_) => CellTypeError::new_err(msg),
            EngineError::InvalidPlan(_) => InvalidPlanError::new_err(msg),
            EngineError::Contract(_) => TileContractError::new_err(msg),
            EngineError::Mismatch(_)
            | EngineError::Value(_)
            | EngineError::KeyIndex(_)
            | EngineError::Histogram(_) => InvalidArgumentError::new_err(msg),
            EngineError::NotFound { .. } => NotFoundError::new_err(msg),
            EngineError::Io { .. } => StorageError::new_err(msg),
            EngineError::Corrupt { .. } => CorruptDataError::new_err(msg),
            EngineError::Unsupported { .. } => UnsupportedError::new_err(msg),
            EngineError::Internal(_) | EngineError::Arrow(_) | EngineError::Json(_) => InternalError::new_err(msg),
            // `EngineError` is non-exhaustive: a variant added later is a bug until it is mapped here.
            _ => InternalError::new_err(msg),
        }
    }
}

pub type Result<T> = std::result::Result<T, Error>;

/// An argument the binding refuses before calling the engine (`InvalidArgumentError`, a `ValueError`); the
/// message says what was given and what is accepted.
pub fn invalid_argument(msg: impl Into<String>) -> PyErr {
    InvalidArgumentError::new_err(msg.into())
}

/// A failure no input should cause, e.g. an array the binding built with the wrong shape (`InternalError`).
pub fn internal(msg: impl std::fmt::Display) -> PyErr {
    InternalError::new_err(msg.to_string())
}
