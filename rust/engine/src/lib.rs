//! The geopyspark_rs raster engine: pure Rust, no Python and no Spark.

/// Compiles the function(s) inside once per SIMD level of x86-64 that speeds them (AVX-512, AVX2) besides the
/// baseline, and picks one at run time: wheels target the baseline. Only for hot kernels whose results are
/// the same bits at every level (IEEE arithmetic, no fused multiply-add unless written).
macro_rules! simd_clones {
    ($($item:item)*) => {
        $(
            #[multiversion::multiversion(targets(
                "x86_64+avx512f+avx512vl+avx512bw+avx2+fma",
                "x86_64+avx2+fma"
            ))]
            $item
        )*
    };
}

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
