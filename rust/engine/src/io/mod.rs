//! Storage: byte-range reads of files and objects (local paths, `file://`, S3 as `s3://`/`s3a://`/`s3n://`,
//! `gs://`, `az://`/`abfs(s)://`, `http(s)://`), listing with globs, and atomic whole-object writes. GeoTIFF and
//! catalog readers see only [`RangeSource`].

mod local;
mod object;
pub mod uri;

use std::collections::BTreeMap;
use std::ops::Range;
use std::sync::Arc;

use crate::error::Result;

pub use local::LocalFile;
pub use object::ObjectSource;
use uri::Target;

/// Options for object stores, as object_store configuration keys (`aws_access_key_id`, `aws_secret_access_key`,
/// `aws_session_token`, `aws_region`, `aws_endpoint`, `aws_allow_http`, `aws_virtual_hosted_style_request`,
/// `google_service_account`, `azure_storage_account_name`, ...). They apply over the environment
/// (`AWS_*`, `GOOGLE_*`, `AZURE_*` variables). Ignored for local files.
pub type StoreOptions = BTreeMap<String, String>;

/// Random access to the bytes of one file or object.
pub trait RangeSource: Send + Sync {
    /// The URI or path, for error messages.
    fn name(&self) -> &str;
    /// Size in bytes.
    fn len(&self) -> Result<u64>;
    /// Whether the file is empty.
    fn is_empty(&self) -> Result<bool> {
        Ok(self.len()? == 0)
    }
    /// The bytes of `range`; an error if the range runs past the end.
    fn read_range(&self, range: Range<u64>) -> Result<Vec<u8>>;
    /// Several ranges at once; object stores coalesce nearby ranges into fewer requests.
    fn read_ranges(&self, ranges: &[Range<u64>]) -> Result<Vec<Vec<u8>>> {
        ranges.iter().map(|r| self.read_range(r.clone())).collect()
    }
    /// The whole file; object stores fetch it in one request.
    fn read_all(&self) -> Result<Vec<u8>> {
        let len = self.len()?;
        self.read_range(0..len)
    }
}

/// Opens a local path, `file://` URI or object store URI for range reads. A missing file or object is an
/// [`EngineError::NotFound`](crate::EngineError::NotFound) naming `uri`; a malformed URI an
/// [`EngineError::Value`](crate::EngineError::Value). Opening an object makes no request.
pub fn open(uri: &str, options: &StoreOptions) -> Result<Arc<dyn RangeSource>> {
    Ok(match uri::parse(uri)? {
        Target::Local { path, .. } => Arc::new(LocalFile::open_as(&path, uri)?),
        Target::Object(o) => Arc::new(ObjectSource::open(&o, options, uri)?),
    })
}

/// The files behind `uri`, sorted: the file itself, every file under a directory or prefix (recursively), or the
/// matches of a glob (`*`, `?`, `[...]` within a path component, `**` across them). Returned in the form `uri`
/// was given (plain paths stay plain paths, `s3a://` stays `s3a://`). Nothing found is an empty list.
pub fn list(uri: &str, options: &StoreOptions) -> Result<Vec<String>> {
    match uri::parse(uri)? {
        Target::Local { prefix, path } => local::list(&prefix, &path, uri),
        Target::Object(o) => object::list(&o, options, uri),
    }
}

/// Writes a whole file or object atomically: local files through a temporary file in the same directory
/// renamed over the target (parent directories are created), objects with a single put.
pub fn write(uri: &str, bytes: &[u8], options: &StoreOptions) -> Result<()> {
    match uri::parse(uri)? {
        Target::Local { path, .. } => local::write(&path, bytes, uri),
        Target::Object(o) => object::write(&o, bytes, options, uri),
    }
}

/// Creates a file or object that must not exist yet, atomically: `Ok(true)` when this call created it with all of
/// `bytes`, `Ok(false)` when it already existed (left untouched). Local files are written to a temporary file
/// and hard-linked to the target, which fails if the target exists (a file system without hard links falls back
/// to an exclusive create, whose content readers could see before it is complete); object stores put with
/// `If-None-Match: *` (object_store's `PutMode::Create`). Two writers racing on one name: exactly one gets true.
/// This is how a catalog write claims a layer and commits its metadata (docs/reliability.md).
pub fn write_new(uri: &str, bytes: &[u8], options: &StoreOptions) -> Result<bool> {
    match uri::parse(uri)? {
        Target::Local { path, .. } => local::write_new(&path, bytes, uri),
        Target::Object(o) => object::write_new(&o, bytes, options, uri),
    }
}

/// The whole content of a file or object.
pub fn read_all(uri: &str, options: &StoreOptions) -> Result<Vec<u8>> {
    open(uri, options)?.read_all()
}

/// The whole content of a file or object, or None when it does not exist (one request where
/// `exists` + `read_all` would make two).
pub fn read_if_exists(uri: &str, options: &StoreOptions) -> Result<Option<Vec<u8>>> {
    match read_all(uri, options) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(crate::EngineError::NotFound { .. }) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Whether a file or object exists (directories and prefixes do not count).
pub fn exists(uri: &str, options: &StoreOptions) -> Result<bool> {
    match uri::parse(uri)? {
        Target::Local { path, .. } => local::exists(&path, uri),
        Target::Object(o) => object::exists(&o, options, uri),
    }
}

/// Deletes a file or object; deleting what does not exist is not an error.
pub fn delete(uri: &str, options: &StoreOptions) -> Result<()> {
    match uri::parse(uri)? {
        Target::Local { path, .. } => local::delete(&path, uri),
        Target::Object(o) => object::delete(&o, options, uri),
    }
}

/// The filesystem path of a plain path or `file://` URI; `None` for other schemes.
pub fn local_path(uri: &str) -> Option<&str> {
    match uri::parse(uri).ok()? {
        Target::Local { path, .. } => Some(&uri[uri.len() - path.len()..]),
        Target::Object(_) => None,
    }
}
