//! GeoTIFF: header and GeoKey parsing, windowed reads, and the GeoTIFF/COG writer.

pub mod cached;
pub mod codecs;
pub mod decode;
pub mod geokeys;
pub mod ifd;
pub mod info;
pub mod lzw;
pub mod read;
pub mod write;
