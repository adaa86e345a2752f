pub mod crs;

pub fn placeholder() {}
