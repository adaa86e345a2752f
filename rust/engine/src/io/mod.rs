//! Storage: byte-range reads of files and objects (local paths, `file://`, object stores), listing and
//! atomic whole-object writes. GeoTIFF and catalog readers see only [`RangeSource`].

mod local;

use std::collections::BTreeMap;
use std::ops::Range;
use std::sync::Arc;

use crate::error::{EngineError, Result};

pub use local::LocalFile;

/// Options for object stores, as object_store configuration keys (`aws_access_key_id`, `aws_endpoint`,
/// `aws_allow_http`, `aws_region`, ...). Empty for local files.
pub type StoreOptions = BTreeMap<String, String>;

/// Random access to the bytes of one file or object.
pub trait RangeSource: Send + Sync {
    /// The URI or path, for error messages.
    fn name(&self) -> &str;
    /// Size in bytes.
    fn len(&self) -> Result<u64>;
    /// The bytes of `range`; an error if the range runs past the end.
    fn read_range(&self, range: Range<u64>) -> Result<Vec<u8>>;
    /// Several ranges at once; object stores coalesce nearby ranges into fewer requests.
    fn read_ranges(&self, ranges: &[Range<u64>]) -> Result<Vec<Vec<u8>>> {
        ranges.iter().map(|r| self.read_range(r.clone())).collect()
    }
}

/// Opens a local path, `file://` URI or object store URI for range reads.
pub fn open(uri: &str, _options: &StoreOptions) -> Result<Arc<dyn RangeSource>> {
    match local_path(uri) {
        Some(path) => Ok(Arc::new(LocalFile::open(path)?)),
        None => Err(EngineError::Io { path: uri.to_string(), message: "unsupported URI scheme".into() }),
    }
}

/// The filesystem path of a plain path or `file://` URI; `None` for other schemes.
pub fn local_path(uri: &str) -> Option<&str> {
    if let Some(rest) = uri.strip_prefix("file://") {
        return Some(rest);
    }
    match uri.find("://") {
        Some(_) => None,
        None => Some(uri),
    }
}
