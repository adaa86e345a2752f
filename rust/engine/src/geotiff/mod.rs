//! GeoTIFF: header and GeoKey parsing, windowed reads, and the GeoTIFF/COG writer.

pub mod geokeys;
pub mod write;
