use pyo3::prelude::*;
mod histogram;
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    histogram::register(m)?;
    Ok(())
}
