//! The geopyspark_rs raster engine: pure Rust, no Python and no Spark.

pub mod batch;
pub mod buffer;
pub mod catalog;
pub mod cell_type;
pub mod crs;
pub mod distance;
pub mod error;
pub mod exchange;
pub mod focal;
pub mod geotiff;
pub mod histogram;
pub mod io;
pub mod layout;
pub mod merge;
pub mod plan;
pub mod point_values;
pub mod pyramid;
pub mod rasterize;
pub mod render;
pub mod resample;
pub mod retile;
pub mod stats;
pub mod stitch;
pub mod warp;
pub mod zonal;

pub use cell_type::{CellType, DataType, NoData};
pub use error::{EngineError, Result};
