//! GeoTrellis layer catalogs (format reference `geotrellis_format.md`): the Avro tile codecs, the key
//! indexes that name tile files, and reading/writing tile files.

pub mod avro;
pub mod files;
pub mod index;
