//! The one place where engine errors become Python exceptions.

use gps_engine::EngineError;
use pyo3::exceptions::{PyIOError, PyRuntimeError, PyTypeError, PyValueError};
use pyo3::PyErr;

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
            EngineError::Contract(_) => PyTypeError::new_err(msg),
            EngineError::Io { .. } => PyIOError::new_err(msg),
            EngineError::Arrow(_) | EngineError::Json(_) => PyRuntimeError::new_err(msg),
            _ => PyValueError::new_err(msg),
        }
    }
}

pub type Result<T> = std::result::Result<T, Error>;
