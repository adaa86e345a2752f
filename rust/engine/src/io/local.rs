//! Local files, read with positioned reads so one open file serves concurrent readers.

use std::fs::{self, File};
use std::io::{ErrorKind, Write};
use std::ops::Range;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use super::{uri, RangeSource};
use crate::error::{EngineError, Result};

pub struct LocalFile {
    path: String,
    file: File,
}

impl LocalFile {
    pub fn open(path: &str) -> Result<LocalFile> {
        Self::open_as(path, path)
    }

    /// Opens `path`, naming it `name` (the URI it was given as) in errors.
    pub fn open_as(path: &str, name: &str) -> Result<LocalFile> {
        let file = File::open(path).map_err(|e| io_error(name, e))?;
        // Opening a directory succeeds on Unix; reading it would fail later with a vaguer message.
        if file.metadata().map_err(|e| io_error(name, e))?.is_dir() {
            return Err(EngineError::Io { path: name.to_string(), message: "is a directory, not a file".into() });
        }
        Ok(LocalFile { path: name.to_string(), file })
    }
}

impl RangeSource for LocalFile {
    fn name(&self) -> &str {
        &self.path
    }

    fn len(&self) -> Result<u64> {
        Ok(self.file.metadata().map_err(|e| EngineError::io(&self.path, e))?.len())
    }

    fn read_range(&self, range: Range<u64>) -> Result<Vec<u8>> {
        if range.start > range.end {
            return Err(EngineError::Io {
                path: self.path.clone(),
                message: format!("invalid range {}..{}", range.start, range.end),
            });
        }
        let mut buf = vec![0u8; (range.end - range.start) as usize];
        self.file.read_exact_at(&mut buf, range.start).map_err(|e| {
            let what = format!("reading bytes {}..{}: {e}", range.start, range.end);
            EngineError::Io { path: self.path.clone(), message: what }
        })?;
        Ok(buf)
    }
}

/// "not found" for a missing file, the OS's message otherwise.
pub(super) fn io_error(name: &str, e: std::io::Error) -> EngineError {
    match e.kind() {
        ErrorKind::NotFound => EngineError::not_found(name),
        _ => EngineError::io(name, e),
    }
}

/// Files at `path`: itself if a file, everything under it if a directory, glob matches otherwise. Sorted, each
/// as `prefix + path`.
pub(super) fn list(prefix: &str, path: &str, name: &str) -> Result<Vec<String>> {
    let mut found = Vec::new();
    match fs::metadata(path) {
        Ok(meta) if meta.is_dir() => walk(path, name, &mut found)?,
        Ok(_) => found.push(path.to_string()),
        Err(e) if e.kind() == ErrorKind::NotFound => {
            if let Some((base, pattern)) = uri::split_glob(path, name)? {
                let root = if base.is_empty() { "." } else { base.as_str() };
                if fs::metadata(root).map(|m| m.is_dir()).unwrap_or(false) {
                    let mut all = Vec::new();
                    walk(&base, name, &mut all)?;
                    found.extend(all.into_iter().filter(|p| uri::glob_matches(&pattern, p)));
                }
            }
        }
        Err(e) => return Err(io_error(name, e)),
    }
    found.sort();
    Ok(found.into_iter().map(|p| format!("{prefix}{p}")).collect())
}

/// Every file under `dir` (`""` is the current directory, listed without a `./`). Symlinks to files are listed;
/// symlinked directories are not entered, so links cannot make the walk loop.
fn walk(dir: &str, name: &str, out: &mut Vec<String>) -> Result<()> {
    let read_from = if dir.is_empty() { "." } else { dir };
    let entries = fs::read_dir(read_from).map_err(|e| EngineError::io(name, format!("listing {read_from}: {e}")))?;
    for entry in entries {
        let entry = entry.map_err(|e| EngineError::io(name, format!("listing {read_from}: {e}")))?;
        let file_name = entry.file_name();
        let Some(file_name) = file_name.to_str() else {
            continue; // not representable as a URI string
        };
        let child = match dir {
            "" => file_name.to_string(),
            d if d.ends_with('/') => format!("{d}{file_name}"),
            d => format!("{d}/{file_name}"),
        };
        let kind = entry.file_type().map_err(|e| EngineError::io(name, format!("listing {child}: {e}")))?;
        if kind.is_dir() {
            walk(&child, name, out)?;
        } else if kind.is_file() || (kind.is_symlink() && fs::metadata(&child).map(|m| m.is_file()).unwrap_or(false)) {
            out.push(child);
        }
    }
    Ok(())
}

static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// `(path, a fresh temporary name beside it)`, the directory created: files are written under the temporary
/// name first, so that no partial file ever has the final name.
fn temp_beside<'a>(path: &'a str, name: &str) -> Result<(&'a Path, PathBuf)> {
    let target = Path::new(path);
    let file_name = target
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| EngineError::Value(format!("{name}: not a file path")))?;
    let dir = target.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    fs::create_dir_all(dir).map_err(|e| EngineError::io(name, format!("creating {}: {e}", dir.display())))?;
    let n = TEMP_COUNTER.fetch_add(1, Ordering::Relaxed);
    Ok((target, dir.join(format!(".{file_name}.{}.{n}.tmp", std::process::id()))))
}

/// Writes `bytes` to a temporary file beside `path`, then renames it over `path`: readers see the old file or the
/// whole new one, never a partial one.
pub(super) fn write(path: &str, bytes: &[u8], name: &str) -> Result<()> {
    let (target, temp) = temp_beside(path, name)?;
    let result = (|| {
        let mut file = File::create(&temp)?;
        file.write_all(bytes)?;
        fs::rename(&temp, target)
    })();
    if let Err(e) = result {
        let _ = fs::remove_file(&temp);
        return Err(EngineError::io(name, e));
    }
    Ok(())
}

/// Creates `path` with `bytes` unless it exists (see [`super::write_new`]): a temporary file beside it,
/// hard-linked to `path` (the link fails if `path` exists), then removed.
pub(super) fn write_new(path: &str, bytes: &[u8], name: &str) -> Result<bool> {
    let (target, temp) = temp_beside(path, name)?;
    let written = File::create(&temp).and_then(|mut f| f.write_all(bytes));
    let linked = written.and_then(|()| fs::hard_link(&temp, target));
    let _ = fs::remove_file(&temp);
    match linked {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == ErrorKind::AlreadyExists => Ok(false),
        // No hard links here (some network and FUSE file systems): an exclusive create, written in place.
        Err(e) if matches!(e.kind(), ErrorKind::Unsupported | ErrorKind::PermissionDenied) => {
            match fs::OpenOptions::new().write(true).create_new(true).open(target) {
                Ok(mut f) => f.write_all(bytes).map(|()| true).map_err(|e| EngineError::io(name, e)),
                Err(e) if e.kind() == ErrorKind::AlreadyExists => Ok(false),
                Err(e) => Err(io_error(name, e)),
            }
        }
        Err(e) => Err(io_error(name, e)),
    }
}

pub(super) fn delete(path: &str, name: &str) -> Result<()> {
    match fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(()),
        Err(e) => Err(io_error(name, e)),
    }
}

pub(super) fn exists(path: &str, name: &str) -> Result<bool> {
    match fs::metadata(path) {
        Ok(m) => Ok(m.is_file()),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(false),
        Err(e) => Err(io_error(name, e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> String {
        let dir = std::env::temp_dir().join(format!("gps-io-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        dir.to_str().unwrap().to_string()
    }

    #[test]
    fn write_list_glob_read_delete() {
        let root = scratch("local");
        for p in ["b/2.tif", "a.tif", "b/1.tif", "b/c/3.tif", "b/c/3.png"] {
            write(&format!("{root}/{p}"), p.as_bytes(), p).unwrap();
        }
        let listed = list("", &root, &root).unwrap();
        let rel: Vec<_> = listed.iter().map(|p| &p[root.len() + 1..]).collect();
        assert_eq!(rel, ["a.tif", "b/1.tif", "b/2.tif", "b/c/3.png", "b/c/3.tif"], "no temp files left behind");
        assert_eq!(list("file://", &format!("{root}/a.tif"), "x").unwrap(), [format!("file://{root}/a.tif")]);
        let globbed = list("", &format!("{root}/b/*.tif"), "x").unwrap();
        assert_eq!(globbed, [format!("{root}/b/1.tif"), format!("{root}/b/2.tif")]);
        assert_eq!(list("", &format!("{root}/**/*.tif"), "x").unwrap().len(), 4);
        assert!(list("", &format!("{root}/nothing"), "x").unwrap().is_empty());
        assert!(list("", &format!("{root}/nothing/*.tif"), "x").unwrap().is_empty());

        let f = LocalFile::open_as(&format!("{root}/b/c/3.tif"), "named").unwrap();
        assert_eq!(f.len().unwrap(), 9);
        assert_eq!(f.read_ranges(&[0..1, 4..9]).unwrap(), [b"b".to_vec(), b"c/3.tif".to_vec()[2..].to_vec()]);
        assert!(matches!(f.read_range(5..20), Err(EngineError::Io { path, .. }) if path == "named"));

        write(&format!("{root}/a.tif"), b"new", "a").unwrap();
        assert_eq!(fs::read(format!("{root}/a.tif")).unwrap(), b"new");
        assert!(exists(&format!("{root}/a.tif"), "a").unwrap());
        delete(&format!("{root}/a.tif"), "a").unwrap();
        assert!(!exists(&format!("{root}/a.tif"), "a").unwrap());

        let once = format!("{root}/new/claim");
        assert!(write_new(&once, b"first", "once").unwrap());
        assert!(!write_new(&once, b"second", "once").unwrap(), "an existing file is not replaced");
        assert_eq!(fs::read(&once).unwrap(), b"first");
        assert_eq!(fs::read_dir(format!("{root}/new")).unwrap().count(), 1, "no temporary file left");
        let race = format!("{root}/race");
        let winners: usize = std::thread::scope(|s| {
            let racers: Vec<_> = (0..8u8)
                .map(|i| {
                    let race = &race;
                    s.spawn(move || write_new(race, &[i], "race").unwrap())
                })
                .collect();
            racers.into_iter().map(|h| h.join().unwrap() as usize).sum()
        });
        assert_eq!(winners, 1, "exactly one of the racing creates wins");
        fs::remove_file(&race).unwrap();
        fs::remove_dir_all(format!("{root}/new")).unwrap();

        match LocalFile::open_as(&format!("{root}/a.tif"), "gone") {
            Err(e @ EngineError::NotFound { .. }) => assert_eq!(e.to_string(), "gone: not found"),
            _ => panic!("expected not found"),
        }
        assert!(LocalFile::open_as(&root, "dir").is_err());
        fs::remove_dir_all(&root).unwrap();
    }
}
