//! The geopyspark_rs raster engine: pure Rust, no Python and no Spark.

pub mod batch;
pub mod cell_type;
pub mod crs;
pub mod error;
pub mod histogram;
pub mod plan;

pub use cell_type::{CellType, DataType, NoData};
pub use error::{EngineError, Result};
