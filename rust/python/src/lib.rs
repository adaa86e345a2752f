//! PyO3 bindings of geopyspark_rs: thin functions that convert arguments, release the GIL and call the
//! engine. Each capability registers itself from its own file.

use pyo3::prelude::*;

mod buffer;
mod catalog;
mod cell_type;
mod cog;
mod crs;
mod distance;
mod error;
mod focal;
mod geotiff;
mod geotiff_write;
mod histogram;
mod key_index;
mod layout;
mod merge;
mod plan;
mod point_values;
mod pyramid;
mod rasterize;
mod render;
mod tms;
mod resample;
mod retile;
mod stats;
mod stitch;
mod storage;
mod warp;
mod zonal;

// The system allocator made fresh 64 MB output buffers several times slower (page faults, DESIGN §4).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    catalog::register(m)?;
    crs::register(m)?;
    histogram::register(m)?;
    key_index::register(m)?;
    cell_type::register(m)?;
    layout::register(m)?;
    plan::register(m)?;
    retile::register(m)?;
    merge::register(m)?;
    stitch::register(m)?;
    stats::register(m)?;
    geotiff::register(m)?;
    cog::register(m)?;
    geotiff_write::register(m)?;
    resample::register(m)?;
    pyramid::register(m)?;
    point_values::register(m)?;
    storage::register(m)?;
    warp::register(m)?;
    buffer::register(m)?;
    focal::register(m)?;
    render::register(m)?;
    tms::register(m)?;
    zonal::register(m)?;
    rasterize::register(m)?;
    distance::register(m)?;
    Ok(())
}
