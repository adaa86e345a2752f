//! Telling local paths from object store URIs, and splitting glob patterns into a listing base and a pattern.

use crate::error::{EngineError, Result};

/// The object store service behind a URI scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Backend {
    S3,
    Gcs,
    Azure,
    Http,
}

/// Where a URI points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A filesystem path. `prefix` is what preceded it in the URI (`""`, `"file://"`, `"file:"`), so listed
    /// paths come back in the form they were asked for.
    Local {
        prefix: String,
        path: String,
    },
    Object(ObjectUri),
}

/// `scheme://authority/key` of an object store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectUri {
    pub backend: Backend,
    /// As given (`s3a`, `abfss`, ...), lower-cased.
    pub scheme: String,
    /// Bucket, container (`container@account...`) or HTTP host[:port].
    pub authority: String,
    /// The object key or prefix, without a leading `/`; may be empty (the whole bucket).
    pub key: String,
}

impl ObjectUri {
    /// The URI of another key in the same bucket.
    pub fn with_key(&self, key: &str) -> String {
        format!("{}://{}/{}", self.scheme, self.authority, key)
    }
}

pub fn parse(uri: &str) -> Result<Target> {
    // A NUL would end the path at the C boundary (and object keys refuse it): a bad argument, not an I/O error.
    if uri.contains('\0') {
        return Err(EngineError::Value(format!("{:?}: a path or URI must not contain a NUL byte", uri)));
    }
    let Some((scheme, rest)) = uri.split_once("://") else {
        // Hadoop writes local paths as `file:/tmp/x`.
        if let Some(path) = uri.strip_prefix("file:") {
            return local("file:", path, uri);
        }
        return local("", uri, uri);
    };
    let scheme = scheme.to_ascii_lowercase();
    let backend = match scheme.as_str() {
        "file" => {
            let prefix = &uri[..uri.len() - rest.len()];
            return match rest.strip_prefix("localhost") {
                Some(path) if path.starts_with('/') => local(&format!("{prefix}localhost"), path, uri),
                _ if rest.starts_with('/') => local(prefix, rest, uri),
                _ => {
                    Err(EngineError::Value(format!("{uri}: a file URI needs an absolute path (file:///path/to/file)")))
                }
            };
        }
        "s3" | "s3a" | "s3n" => Backend::S3,
        "gs" => Backend::Gcs,
        "az" | "abfs" | "abfss" | "azure" | "adl" => Backend::Azure,
        "http" | "https" => Backend::Http,
        "hdfs" | "viewfs" => {
            return Err(EngineError::Value(format!(
                "{uri}: HDFS is not supported; copy the data to local files or an object store (s3://, gs://, az://)"
            )))
        }
        _ => {
            return Err(EngineError::Value(format!(
                "{uri}: unsupported URI scheme {scheme:?}; expected a path, file://, s3://, s3a://, s3n://, gs://, \
                 az://, abfs(s)://, http:// or https://"
            )))
        }
    };
    let (authority, key) = rest.split_once('/').unwrap_or((rest, ""));
    if authority.is_empty() {
        return Err(EngineError::Value(format!("{uri}: no bucket or host after {scheme}://")));
    }
    Ok(Target::Object(ObjectUri { backend, scheme, authority: authority.to_string(), key: key.to_string() }))
}

fn local(prefix: &str, path: &str, uri: &str) -> Result<Target> {
    if path.is_empty() {
        return Err(EngineError::Value(format!("{uri:?}: empty path")));
    }
    Ok(Target::Local { prefix: prefix.to_string(), path: path.to_string() })
}

/// Whether a path component holds glob syntax.
fn is_glob(component: &str) -> bool {
    component.contains(['*', '?', '['])
}

/// For a path with glob syntax, the part before the first globbed component (the directory or prefix to list)
/// and the compiled pattern for the whole path; `None` for a plain path.
pub fn split_glob(path: &str, uri: &str) -> Result<Option<(String, glob::Pattern)>> {
    let components: Vec<&str> = path.split('/').collect();
    let Some(first) = components.iter().position(|c| is_glob(c)) else {
        return Ok(None);
    };
    let pattern =
        glob::Pattern::new(path).map_err(|e| EngineError::Value(format!("{uri}: invalid glob pattern: {e}")))?;
    Ok(Some((components[..first].join("/"), pattern)))
}

/// Glob matching where `*`, `?` and `[...]` stay within one path component and `**` crosses them.
pub fn glob_matches(pattern: &glob::Pattern, path: &str) -> bool {
    let options = glob::MatchOptions {
        case_sensitive: true,
        require_literal_separator: true,
        require_literal_leading_dot: false,
    };
    pattern.matches_with(path, options)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(uri: &str) -> ObjectUri {
        match parse(uri).unwrap() {
            Target::Object(o) => o,
            t => panic!("{uri} parsed as {t:?}"),
        }
    }

    #[test]
    fn local_paths_and_file_uris() {
        let l = |prefix: &str, path: &str| Target::Local { prefix: prefix.into(), path: path.into() };
        assert_eq!(parse("/tmp/a.tif").unwrap(), l("", "/tmp/a.tif"));
        assert_eq!(parse("rel/a.tif").unwrap(), l("", "rel/a.tif"));
        assert_eq!(parse("file:///tmp/a.tif").unwrap(), l("file://", "/tmp/a.tif"));
        assert_eq!(parse("FILE:///tmp/a.tif").unwrap(), l("FILE://", "/tmp/a.tif"));
        assert_eq!(parse("file://localhost/tmp/a").unwrap(), l("file://localhost", "/tmp/a"));
        assert_eq!(parse("file:/tmp/a").unwrap(), l("file:", "/tmp/a"));
        assert!(matches!(parse("file://host/x"), Err(EngineError::Value(_))));
        assert!(matches!(parse(""), Err(EngineError::Value(_))));
        assert!(matches!(parse("/tmp/a\0/../etc"), Err(EngineError::Value(m)) if m.contains("NUL")));
        assert!(matches!(parse("s3://b/k\0"), Err(EngineError::Value(_))));
    }

    #[test]
    fn object_store_schemes() {
        for (uri, backend) in [
            ("s3://b/k", Backend::S3),
            ("s3a://b/k", Backend::S3),
            ("s3n://b/k", Backend::S3),
            ("gs://b/k", Backend::Gcs),
            ("az://b/k", Backend::Azure),
            ("abfs://b/k", Backend::Azure),
            ("abfss://b/k", Backend::Azure),
            ("http://h:8080/k", Backend::Http),
            ("https://h/k", Backend::Http),
        ] {
            assert_eq!(object(uri).backend, backend, "{uri}");
        }
        let o = object("s3a://bucket/dir/file.tif");
        assert_eq!((o.scheme.as_str(), o.authority.as_str(), o.key.as_str()), ("s3a", "bucket", "dir/file.tif"));
        assert_eq!(o.with_key("x/y"), "s3a://bucket/x/y");
        assert_eq!(object("s3://bucket").key, "");
        assert_eq!(object("s3://bucket/").key, "");
        assert_eq!(object("abfss://c@acct.dfs.core.windows.net/p").authority, "c@acct.dfs.core.windows.net");
    }

    #[test]
    fn malformed_uris_are_value_errors() {
        for uri in ["s3:///key", "ftp://h/x", "hdfs://nn/x", "gs://"] {
            match parse(uri) {
                Err(EngineError::Value(m)) => assert!(m.contains(uri), "{m}"),
                other => panic!("{uri}: {other:?}"),
            }
        }
    }

    #[test]
    fn glob_split_and_match() {
        assert!(split_glob("/data/a.tif", "u").unwrap().is_none());
        let (base, p) = split_glob("/data/*/x?.tif", "u").unwrap().unwrap();
        assert_eq!(base, "/data");
        assert!(glob_matches(&p, "/data/2020/x1.tif"));
        assert!(!glob_matches(&p, "/data/2020/sub/x1.tif"), "* must not cross /");
        assert!(!glob_matches(&p, "/data/2020/x12.tif"));

        let (base, p) = split_glob("dir/**/*.tif", "u").unwrap().unwrap();
        assert_eq!(base, "dir");
        assert!(glob_matches(&p, "dir/a.tif"));
        assert!(glob_matches(&p, "dir/x/y/a.tif"));
        assert!(!glob_matches(&p, "dir/x/a.png"));

        let (base, p) = split_glob("[ab].tif", "u").unwrap().unwrap();
        assert_eq!(base, "");
        assert!(glob_matches(&p, "a.tif") && !glob_matches(&p, "c.tif"));

        assert!(matches!(split_glob("a/[.tif", "u"), Err(EngineError::Value(_))));
    }
}
