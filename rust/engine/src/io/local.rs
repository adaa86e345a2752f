//! Local files, read with positioned reads so one open file serves concurrent readers.

use std::fs::File;
use std::ops::Range;
use std::os::unix::fs::FileExt;

use super::RangeSource;
use crate::error::{EngineError, Result};

pub struct LocalFile {
    path: String,
    file: File,
}

impl LocalFile {
    pub fn open(path: &str) -> Result<LocalFile> {
        let file = File::open(path).map_err(|e| EngineError::io(path, e))?;
        Ok(LocalFile { path: path.to_string(), file })
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
        let mut buf = vec![0u8; (range.end - range.start) as usize];
        self.file.read_exact_at(&mut buf, range.start).map_err(|e| {
            let what = format!("reading bytes {}..{}: {e}", range.start, range.end);
            EngineError::Io { path: self.path.clone(), message: what }
        })?;
        Ok(buf)
    }
}
