use pyo3::prelude::*;

mod crs;

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    crs::register(m)?;
    Ok(())
}
