//! Object stores (S3, GCS, Azure, HTTP) through object_store, behind a blocking API.
//!
//! object_store is async. One tokio runtime per process runs it: a current-thread runtime driven by one
//! background thread, with callers blocking on `Handle::block_on` from any number of their own threads.
//! Built clients are cached per (backend, bucket, options, environment) so each open reuses connections.

use std::collections::HashMap;
use std::future::Future;
use std::ops::Range;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use futures_util::TryStreamExt;
use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey};
use object_store::azure::{AzureConfigKey, MicrosoftAzureBuilder};
use object_store::gcp::{GoogleCloudStorageBuilder, GoogleConfigKey};
use object_store::http::HttpBuilder;
use object_store::path::Path;
use object_store::{BackoffConfig, ClientConfigKey, ObjectStore, ObjectStoreExt, PutPayload, RetryConfig};
use tokio::runtime::Handle;

use super::uri::{self, Backend, ObjectUri};
use super::{RangeSource, StoreOptions};
use crate::error::{EngineError, Result};

/// The runtime and client cache of this process. A forked child (Spark's Python daemon forks its workers)
/// does not inherit the runtime's thread, so it builds its own, recognised by the pid.
struct Context {
    pid: u32,
    handle: Handle,
    stores: Mutex<HashMap<String, Arc<dyn ObjectStore>>>,
}

static CONTEXT: Mutex<Option<Arc<Context>>> = Mutex::new(None);

fn context() -> Result<Arc<Context>> {
    let mut guard = CONTEXT.lock().unwrap_or_else(|p| p.into_inner());
    let pid = std::process::id();
    if let Some(ctx) = guard.as_ref().filter(|c| c.pid == pid) {
        return Ok(ctx.clone());
    }
    let setup = |e: std::io::Error| EngineError::io("object store runtime", e);
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(setup)?;
    let handle = runtime.handle().clone();
    // This thread drives the IO and timers; without it `Handle::block_on` on a current-thread runtime would
    // wait forever on network IO.
    std::thread::Builder::new()
        .name("gps-object-store".into())
        .spawn(move || runtime.block_on(std::future::pending::<()>()))
        .map_err(setup)?;
    let ctx = Arc::new(Context { pid, handle, stores: Mutex::new(HashMap::new()) });
    *guard = Some(ctx.clone());
    Ok(ctx)
}

/// Runs `fut` to completion from synchronous code.
fn block_on<F>(fut: F) -> Result<F::Output>
where
    F: Future + Send,
    F::Output: Send,
{
    let handle = context()?.handle.clone();
    if Handle::try_current().is_err() {
        return Ok(handle.block_on(fut));
    }
    // Called from inside some tokio runtime, where blocking on another would panic: wait on a plain thread.
    std::thread::scope(|s| s.spawn(|| handle.block_on(fut)).join())
        .map_err(|_| EngineError::Internal("a storage task panicked in the object store runtime".into()))
}

/// An object_store error on `uri`: "not found" for a missing object, the store's message otherwise.
fn store_error(uri: &str, e: object_store::Error) -> EngineError {
    match e {
        object_store::Error::NotFound { .. } => EngineError::not_found(uri),
        e => EngineError::io(uri, e),
    }
}

/// Config keys each backend reads from the environment; part of the cache key so a changed variable is seen.
fn env_prefixes(backend: Backend) -> &'static [&'static str] {
    match backend {
        Backend::S3 => &["AWS_"],
        Backend::Gcs => &["GOOGLE_"],
        Backend::Azure => &["AZURE_"],
        Backend::Http => &[],
    }
}

fn cache_key(o: &ObjectUri, options: &StoreOptions) -> String {
    let mut env: Vec<(String, String)> =
        std::env::vars().filter(|(k, _)| env_prefixes(o.backend).iter().any(|p| k.starts_with(p))).collect();
    env.sort();
    let authority = match o.backend {
        Backend::Http => format!("{}://{}", o.scheme, o.authority),
        _ => o.authority.clone(),
    };
    format!("{:?}\u{0}{authority}\u{0}{options:?}\u{0}{env:?}", o.backend)
}

/// Applies options that parse as `K`; unknown keys with the backend's own prefix are refused (likely typos),
/// others are ignored so one options map can serve several stores.
fn apply<B, K: std::str::FromStr>(
    mut builder: B,
    options: &StoreOptions,
    own_prefix: &str,
    uri: &str,
    set: impl Fn(B, K, &str) -> B,
) -> Result<B> {
    for (key, value) in options {
        match key.to_ascii_lowercase().parse::<K>() {
            Ok(k) => builder = set(builder, k, value),
            Err(_) if key.to_ascii_lowercase().starts_with(own_prefix) => {
                return Err(EngineError::Value(format!("{uri}: unknown store option {key:?}")))
            }
            Err(_) => {}
        }
    }
    Ok(builder)
}

/// Store options of our own (not object_store keys) that set the retry policy of every backend.
pub const RETRY_MAX_RETRIES: &str = "retry_max_retries";
pub const RETRY_TIMEOUT: &str = "retry_timeout";
pub const RETRY_INIT_BACKOFF: &str = "retry_init_backoff";
pub const RETRY_MAX_BACKOFF: &str = "retry_max_backoff";

/// A duration option: seconds (`"2.5"`), or a number with `ms`, `s` or `min` (`"500ms"`, `"20s"`).
fn duration_option(options: &StoreOptions, key: &str, default: Duration, uri: &str) -> Result<Duration> {
    let Some(text) = options.get(key) else {
        return Ok(default);
    };
    let t = text.trim();
    let (number, scale) = if let Some(n) = t.strip_suffix("ms") {
        (n, 1e-3)
    } else if let Some(n) = t.strip_suffix("min") {
        (n, 60.0)
    } else if let Some(n) = t.strip_suffix('s') {
        (n, 1.0)
    } else {
        (t, 1.0)
    };
    match number.trim().parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 && v * scale < 86_400.0 => Ok(Duration::from_secs_f64(v * scale)),
        _ => Err(EngineError::Value(format!(
            "{uri}: store option {key}={text:?} is not a duration (seconds, or a number with ms, s or min)"
        ))),
    }
}

/// The retry policy, chosen here rather than left to object_store's default (10 retries for up to 3 minutes,
/// backoff up to 15 s): a transient failure (a 5xx or 429 answer, a dropped or refused connection, a timeout of
/// an idempotent request, a body cut short) is retried after an exponential, jittered backoff from
/// `retry_init_backoff` (200 ms) growing up to `retry_max_backoff` (4 s), at most `retry_max_retries` (10) times,
/// and no new attempt starts after `retry_timeout` (20 s) from the first. Each attempt is bounded by
/// object_store's request `timeout` (30 s unless the `timeout` option says otherwise), so a request that keeps
/// failing ends, with an error naming the object, within about `retry_timeout + timeout + retry_max_backoff`
/// (54 s by default). Every option may be set per call in the store options.
fn retry_config(options: &StoreOptions, uri: &str) -> Result<RetryConfig> {
    let max_retries = match options.get(RETRY_MAX_RETRIES) {
        None => 10,
        Some(v) => v.trim().parse::<usize>().ok().filter(|n| *n <= 100).ok_or_else(|| {
            EngineError::Value(format!("{uri}: store option {RETRY_MAX_RETRIES}={v:?} is not an integer 0..=100"))
        })?,
    };
    let retry_timeout = duration_option(options, RETRY_TIMEOUT, Duration::from_secs(20), uri)?;
    let init_backoff = duration_option(options, RETRY_INIT_BACKOFF, Duration::from_millis(200), uri)?;
    let max_backoff = duration_option(options, RETRY_MAX_BACKOFF, Duration::from_secs(4), uri)?;
    // object_store draws each backoff from init..previous*2: an empty range (init 0) would panic.
    if init_backoff.is_zero() || max_backoff < init_backoff {
        return Err(EngineError::Value(format!(
            "{uri}: {RETRY_INIT_BACKOFF} must be above 0 and at most {RETRY_MAX_BACKOFF}, got {init_backoff:?} and \
             {max_backoff:?}"
        )));
    }
    Ok(RetryConfig { backoff: BackoffConfig { init_backoff, max_backoff, base: 2.0 }, max_retries, retry_timeout })
}

fn build(o: &ObjectUri, options: &StoreOptions, uri: &str) -> Result<Arc<dyn ObjectStore>> {
    let config = |e: object_store::Error| EngineError::Value(format!("{uri}: cannot configure the store: {e}"));
    let retry = retry_config(options, uri)?;
    let store: Arc<dyn ObjectStore> = match o.backend {
        Backend::S3 => {
            // Bucket by name: object_store's URL parsing knows s3 and s3a but not s3n. The region defaults to
            // us-east-1 when neither options nor environment give one, which a loopback S3 server accepts.
            let builder = AmazonS3Builder::from_env().with_bucket_name(&o.authority).with_retry(retry);
            let builder = apply(builder, options, "aws_", uri, |b, k: AmazonS3ConfigKey, v| b.with_config(k, v))?;
            Arc::new(builder.build().map_err(config)?)
        }
        Backend::Gcs => {
            let builder = GoogleCloudStorageBuilder::from_env().with_bucket_name(&o.authority).with_retry(retry);
            let builder = apply(builder, options, "google_", uri, |b, k: GoogleConfigKey, v| b.with_config(k, v))?;
            Arc::new(builder.build().map_err(config)?)
        }
        Backend::Azure => {
            // The URL form carries the container and, in `container@account.host`, the account.
            let builder =
                MicrosoftAzureBuilder::from_env().with_url(format!("{}://{}", o.scheme, o.authority)).with_retry(retry);
            let builder = apply(builder, options, "azure_", uri, |b, k: AzureConfigKey, v| b.with_config(k, v))?;
            Arc::new(builder.build().map_err(config)?)
        }
        Backend::Http => {
            let mut builder = HttpBuilder::new().with_url(format!("{}://{}", o.scheme, o.authority)).with_retry(retry);
            if o.scheme == "http" {
                builder = builder.with_config(ClientConfigKey::AllowHttp, "true");
                // asked for by the URI itself
            }
            let builder = apply(builder, options, "\u{0}", uri, |b, k: ClientConfigKey, v| b.with_config(k, v))?;
            Arc::new(builder.build().map_err(config)?)
        }
    };
    Ok(store)
}

/// The (cached) store for `o` and the object path of `key`.
fn store_for(o: &ObjectUri, options: &StoreOptions, uri: &str) -> Result<Arc<dyn ObjectStore>> {
    let ctx = context()?;
    let key = cache_key(o, options);
    if let Some(store) = ctx.stores.lock().unwrap_or_else(|p| p.into_inner()).get(&key) {
        return Ok(store.clone());
    }
    let store = build(o, options, uri)?;
    ctx.stores.lock().unwrap_or_else(|p| p.into_inner()).entry(key).or_insert(store.clone());
    Ok(store)
}

fn object_path(key: &str, uri: &str) -> Result<Path> {
    Path::parse(key).map_err(|e| EngineError::Value(format!("{uri}: invalid object key: {e}")))
}

/// One object, read by ranges.
pub struct ObjectSource {
    uri: String,
    store: Arc<dyn ObjectStore>,
    path: Path,
    len: OnceLock<u64>,
}

impl ObjectSource {
    pub(super) fn open(o: &ObjectUri, options: &StoreOptions, uri: &str) -> Result<ObjectSource> {
        if o.key.is_empty() || o.key.ends_with('/') {
            return Err(EngineError::Value(format!("{uri}: names a bucket or prefix, not an object")));
        }
        let store = store_for(o, options, uri)?;
        Ok(ObjectSource { uri: uri.to_string(), store, path: object_path(&o.key, uri)?, len: OnceLock::new() })
    }

    fn check(&self, range: &Range<u64>, got: usize) -> Result<()> {
        let want = range.end - range.start;
        if got as u64 != want {
            let message = format!("bytes {}..{}: got {got} bytes, the object is shorter", range.start, range.end);
            return Err(EngineError::Io { path: self.uri.clone(), message });
        }
        Ok(())
    }

    fn check_ranges(&self, ranges: &[Range<u64>]) -> Result<()> {
        match ranges.iter().find(|r| r.start > r.end) {
            Some(r) => Err(EngineError::Io {
                path: self.uri.clone(),
                message: format!("invalid range {}..{}", r.start, r.end),
            }),
            None => Ok(()),
        }
    }
}

impl RangeSource for ObjectSource {
    fn name(&self) -> &str {
        &self.uri
    }

    fn len(&self) -> Result<u64> {
        if let Some(len) = self.len.get() {
            return Ok(*len);
        }
        let meta = block_on(self.store.head(&self.path))?.map_err(|e| store_error(&self.uri, e))?;
        Ok(*self.len.get_or_init(|| meta.size))
    }

    fn read_range(&self, range: Range<u64>) -> Result<Vec<u8>> {
        Ok(self.read_ranges(std::slice::from_ref(&range))?.pop().unwrap_or_default())
    }

    fn read_ranges(&self, ranges: &[Range<u64>]) -> Result<Vec<Vec<u8>>> {
        self.check_ranges(ranges)?;
        // Empty ranges need no request (and some servers refuse them).
        let wanted: Vec<Range<u64>> = ranges.iter().filter(|r| r.start < r.end).cloned().collect();
        let fetched = if wanted.is_empty() {
            Vec::new()
        } else {
            block_on(self.store.get_ranges(&self.path, &wanted))?.map_err(|e| store_error(&self.uri, e))?
        };
        let mut fetched = fetched.into_iter();
        let mut out = Vec::with_capacity(ranges.len());
        for r in ranges {
            if r.start == r.end {
                out.push(Vec::new());
                continue;
            }
            let bytes = fetched.next().unwrap_or_default();
            self.check(r, bytes.len())?;
            out.push(bytes.to_vec());
        }
        Ok(out)
    }

    fn read_all(&self) -> Result<Vec<u8>> {
        let bytes = block_on(async {
            let result = self.store.get(&self.path).await?;
            result.bytes().await
        })?
        .map_err(|e| store_error(&self.uri, e))?;
        let _ = self.len.set(bytes.len() as u64);
        Ok(bytes.to_vec())
    }
}

/// Objects at `o`: itself if it exists, everything under `key/` otherwise, glob matches for a pattern.
pub(super) fn list(o: &ObjectUri, options: &StoreOptions, uri: &str) -> Result<Vec<String>> {
    let store = store_for(o, options, uri)?;
    let key = o.key.trim_end_matches('/');
    if !key.is_empty() {
        let path = object_path(key, uri)?;
        match block_on(store.head(&path))? {
            Ok(_) if !o.key.ends_with('/') => return Ok(vec![uri.to_string()]),
            Ok(_) => {}
            Err(object_store::Error::NotFound { .. }) => {}
            Err(e) => return Err(store_error(uri, e)),
        }
    }
    // Plain HTTP has no listing (object_store's needs WebDAV): a URL names one file or nothing.
    if o.backend == Backend::Http {
        return Ok(Vec::new());
    }
    let (prefix, pattern) = match uri::split_glob(key, uri)? {
        Some((base, pattern)) => (base, Some(pattern)),
        None => (key.to_string(), None),
    };
    let prefix = if prefix.is_empty() { None } else { Some(object_path(&prefix, uri)?) };
    // object_store retries a listing request that fails, but not one whose answer arrives and is then cut short
    // (its body is read outside the retry loop): that case is retried here, whole, within the same policy.
    let retry = retry_config(options, uri)?;
    let start = std::time::Instant::now();
    let mut backoff = retry.backoff.init_backoff;
    let mut attempts = 0;
    let metas: Vec<_> = loop {
        match block_on(store.list(prefix.as_ref()).try_collect::<Vec<_>>())? {
            Ok(metas) => break metas,
            Err(e)
                if e.to_string().contains("response body")
                    && attempts < retry.max_retries
                    && start.elapsed() < retry.retry_timeout =>
            {
                attempts += 1;
                std::thread::sleep(backoff);
                backoff = (backoff * 2).min(retry.backoff.max_backoff);
            }
            Err(e) => return Err(store_error(uri, e)),
        }
    };
    let mut keys: Vec<String> = metas
        .into_iter()
        .map(|m| m.location.as_ref().to_string())
        .filter(|k| pattern.as_ref().is_none_or(|p| uri::glob_matches(p, k)))
        .collect();
    keys.sort();
    Ok(keys.into_iter().map(|k| o.with_key(&k)).collect())
}

/// One put: S3, GCS and Azure make a put visible whole or not at all.
pub(super) fn write(o: &ObjectUri, bytes: &[u8], options: &StoreOptions, uri: &str) -> Result<()> {
    let store = store_for(o, options, uri)?;
    let path = object_path(&o.key, uri)?;
    if path.as_ref().is_empty() || o.key.ends_with('/') {
        return Err(EngineError::Value(format!("{uri}: names a bucket or prefix, not an object")));
    }
    let payload = PutPayload::from(bytes::Bytes::copy_from_slice(bytes));
    block_on(store.put(&path, payload))?.map_err(|e| store_error(uri, e))?;
    Ok(())
}

/// One put that only creates (`If-None-Match: *` on S3): false when the object already exists.
pub(super) fn write_new(o: &ObjectUri, bytes: &[u8], options: &StoreOptions, uri: &str) -> Result<bool> {
    let store = store_for(o, options, uri)?;
    let path = object_path(&o.key, uri)?;
    if path.as_ref().is_empty() || o.key.ends_with('/') {
        return Err(EngineError::Value(format!("{uri}: names a bucket or prefix, not an object")));
    }
    let payload = PutPayload::from(bytes::Bytes::copy_from_slice(bytes));
    let mode = object_store::PutOptions::from(object_store::PutMode::Create);
    match block_on(store.put_opts(&path, payload, mode))? {
        Ok(_) => Ok(true),
        Err(object_store::Error::AlreadyExists { .. }) => Ok(false),
        Err(e @ object_store::Error::NotImplemented { .. }) => Err(EngineError::unsupported(
            uri,
            format!("this store cannot create an object only if it is absent (conditional put): {e}"),
        )),
        Err(e) => Err(store_error(uri, e)),
    }
}

pub(super) fn exists(o: &ObjectUri, options: &StoreOptions, uri: &str) -> Result<bool> {
    let store = store_for(o, options, uri)?;
    let path = object_path(&o.key, uri)?;
    match block_on(store.head(&path))? {
        Ok(_) => Ok(true),
        Err(object_store::Error::NotFound { .. }) => Ok(false),
        Err(e) => Err(store_error(uri, e)),
    }
}

pub(super) fn delete(o: &ObjectUri, options: &StoreOptions, uri: &str) -> Result<()> {
    let store = store_for(o, options, uri)?;
    let path = object_path(&o.key, uri)?;
    match block_on(store.delete(&path))? {
        Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
        Err(e) => Err(store_error(uri, e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_on_from_threads_and_from_inside_a_runtime() {
        let sums: Vec<u64> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..8u64).map(|i| s.spawn(move || block_on(async move { i * 2 }).unwrap())).collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert_eq!(sums, (0..8).map(|i| i * 2).collect::<Vec<_>>());
        // A caller already inside a tokio runtime must not hit "cannot start a runtime from within a runtime".
        let outer = tokio::runtime::Builder::new_current_thread().build().unwrap();
        assert_eq!(outer.block_on(async { block_on(async { 7 }).unwrap() }), 7);
    }

    #[test]
    fn options_are_checked_and_stores_cached() {
        let o = match uri::parse("s3://bucket/key").unwrap() {
            uri::Target::Object(o) => o,
            _ => unreachable!(),
        };
        let mut options = StoreOptions::new();
        options.insert("aws_endpoint".into(), "http://127.0.0.1:1".into());
        options.insert("aws_allow_http".into(), "true".into());
        options.insert("google_service_account".into(), "ignored by S3".into());
        let a = store_for(&o, &options, "s3://bucket/key").unwrap();
        let b = store_for(&o, &options, "s3://bucket/key").unwrap();
        assert!(Arc::ptr_eq(&a, &b), "the second open reuses the client");
        for (key, bad) in [
            (RETRY_MAX_RETRIES, "many"),
            (RETRY_TIMEOUT, "soon"),
            (RETRY_INIT_BACKOFF, "0"),
            (RETRY_MAX_BACKOFF, "-1s"),
        ] {
            let mut o2 = options.clone();
            o2.insert(key.into(), bad.into());
            match store_for(&o, &o2, "s3://bucket/key") {
                Err(EngineError::Value(m)) => assert!(m.contains(key), "{m}"),
                other => panic!("{key}={bad}: {:?}", other.map(|_| ())),
            }
        }
        let mut o2 = options.clone();
        o2.insert(RETRY_TIMEOUT.into(), "1500ms".into());
        o2.insert(RETRY_MAX_RETRIES.into(), "2".into());
        let r = retry_config(&o2, "u").unwrap();
        assert_eq!((r.retry_timeout, r.max_retries), (Duration::from_millis(1500), 2));
        assert_eq!(retry_config(&StoreOptions::new(), "u").unwrap().retry_timeout, Duration::from_secs(20));
        assert!(!Arc::ptr_eq(&a, &store_for(&o, &o2, "s3://bucket/key").unwrap()), "a new policy, a new client");
        options.insert("aws_acess_key_id".into(), "typo".into());
        match store_for(&o, &options, "s3://bucket/key") {
            Err(EngineError::Value(m)) => {
                assert!(m.contains("aws_acess_key_id") && m.contains("s3://bucket/key"), "{m}")
            }
            other => panic!("{:?}", other.map(|_| ())),
        }
    }
}
