//! A block cache over a [`RangeSource`], so that parsing IFDs costs a few large requests instead of
//! one per tag value, plus prefetching of the segment ranges a read needs in one `read_ranges` call
//! (an object store then coalesces them; the file is never fetched whole).
//!
//! `CachedReader` gives the `Read + Seek` view that stream-based decoders expect.
//!
//! [`FetchedRanges`] holds the bytes of one read without touching the source's state, so that many reads
//! of one open file can run at once (the async COG reader). [`PartialSource`] is a file known only by the
//! ranges handed to it, for storage the engine cannot reach itself (bytes fetched by a Python object store).

use std::collections::HashMap;
use std::io::{Read, Seek, SeekFrom};
use std::ops::{Deref, Range};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use crate::error::{EngineError, Result};
use crate::io::RangeSource;

pub const DEFAULT_BLOCK_SIZE: u64 = 64 * 1024;

/// Bytes shared with the cache: a range of a buffer that may hold more.
#[derive(Clone)]
pub struct SharedBytes {
    data: Arc<Vec<u8>>,
    range: Range<usize>,
}

impl Deref for SharedBytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.data[self.range.clone()]
    }
}

pub struct CachedSource {
    source: Arc<dyn RangeSource>,
    len: u64,
    block_size: u64,
    blocks: Mutex<HashMap<u64, Arc<Vec<u8>>>>,
    /// Prefetched ranges, sorted by start.
    prefetched: Mutex<Vec<(u64, Arc<Vec<u8>>)>>,
    requests: AtomicUsize,
}

impl CachedSource {
    pub fn new(source: Arc<dyn RangeSource>) -> Result<CachedSource> {
        Self::with_block_size(source, DEFAULT_BLOCK_SIZE)
    }

    pub fn with_block_size(source: Arc<dyn RangeSource>, block_size: u64) -> Result<CachedSource> {
        let len = source.len()?;
        Ok(CachedSource {
            source,
            len,
            block_size: block_size.max(1),
            blocks: Mutex::new(HashMap::new()),
            prefetched: Mutex::new(Vec::new()),
            requests: AtomicUsize::new(0),
        })
    }

    pub fn name(&self) -> &str {
        self.source.name()
    }

    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// How many calls reached the underlying source (for tests and diagnostics).
    pub fn request_count(&self) -> usize {
        self.requests.load(Ordering::Relaxed)
    }

    fn check_range(&self, offset: u64, len: u64) -> Result<u64> {
        let end = offset
            .checked_add(len)
            .filter(|&e| e <= self.len)
            .ok_or_else(|| {
                EngineError::geotiff(
                    self.name(),
                    format!(
                        "truncated file: bytes {offset}..{} lie past its end ({} bytes)",
                        offset.saturating_add(len),
                        self.len
                    ),
                )
            })?;
        Ok(end)
    }

    /// The bytes `offset..offset+len`, from a prefetched range when one holds them, else from blocks.
    pub fn read_shared(&self, offset: u64, len: u64) -> Result<SharedBytes> {
        let end = self.check_range(offset, len)?;
        if let Some(found) = self.find_prefetched(offset, end) {
            return Ok(found);
        }
        let data = self.read_blocks(offset, end)?;
        let n = data.len();
        Ok(SharedBytes {
            data: Arc::new(data),
            range: 0..n,
        })
    }

    /// A copy of the bytes `offset..offset+len`.
    pub fn read_at(&self, offset: u64, len: u64) -> Result<Vec<u8>> {
        Ok(self.read_shared(offset, len)?.to_vec())
    }

    fn find_prefetched(&self, offset: u64, end: u64) -> Option<SharedBytes> {
        let pre = self.prefetched.lock().ok()?;
        // Last range starting at or before `offset`.
        let i = pre.partition_point(|(start, _)| *start <= offset);
        let (start, data) = pre.get(i.checked_sub(1)?)?;
        let rel = (offset - start) as usize;
        let rel_end = (end - start) as usize;
        (rel_end <= data.len()).then(|| SharedBytes {
            data: data.clone(),
            range: rel..rel_end,
        })
    }

    fn read_blocks(&self, offset: u64, end: u64) -> Result<Vec<u8>> {
        if offset == end {
            return Ok(Vec::new());
        }
        let bs = self.block_size;
        let (first, last) = (offset / bs, (end - 1) / bs);
        let mut blocks = self
            .blocks
            .lock()
            .map_err(|_| EngineError::Internal(format!("{}: GeoTIFF cache lock poisoned", self.name())))?;
        // Fetch the missing blocks of the span with one request covering them all.
        let missing: Vec<u64> = (first..=last).filter(|b| !blocks.contains_key(b)).collect();
        if let (Some(&lo), Some(&hi)) = (missing.first(), missing.last()) {
            let start = lo * bs;
            let stop = ((hi + 1) * bs).min(self.len);
            self.requests.fetch_add(1, Ordering::Relaxed);
            let bytes = self.source.read_range(start..stop)?;
            for b in lo..=hi {
                let s = ((b * bs - start) as usize).min(bytes.len());
                let e = (((b + 1) * bs).min(stop) - start) as usize;
                let e = e.min(bytes.len());
                blocks
                    .entry(b)
                    .or_insert_with(|| Arc::new(bytes[s..e].to_vec()));
            }
        }
        let mut out = Vec::with_capacity((end - offset) as usize);
        for b in first..=last {
            let block = blocks
                .get(&b)
                .ok_or_else(|| EngineError::Internal(format!("{}: GeoTIFF block cache miss", self.name())))?;
            let bstart = b * bs;
            let s = (offset.max(bstart) - bstart) as usize;
            let e = (end.min(bstart + bs) - bstart) as usize;
            let chunk = block.get(s..e).ok_or_else(|| {
                EngineError::geotiff(
                    self.name(),
                    format!("short read at byte {}", bstart + s as u64),
                )
            })?;
            out.extend_from_slice(chunk);
        }
        Ok(out)
    }

    /// Fetches the given byte ranges with one `read_ranges` call (an object store coalesces them) and
    /// returns them without keeping them: safe to call from many threads at once.
    pub fn fetch(&self, ranges: &[Range<u64>]) -> Result<FetchedRanges> {
        for r in ranges {
            self.check_range(r.start, r.end.saturating_sub(r.start))?;
        }
        let mut wanted: Vec<Range<u64>> =
            ranges.iter().filter(|r| r.end > r.start).cloned().collect();
        wanted.sort_by_key(|r| (r.start, r.end));
        wanted.dedup();
        let fetched = if wanted.is_empty() {
            Vec::new()
        } else {
            self.requests.fetch_add(1, Ordering::Relaxed);
            self.source.read_ranges(&wanted)?
        };
        if fetched.len() != wanted.len() {
            return Err(EngineError::io(self.name(), "storage returned fewer ranges than asked"));
        }
        let mut pieces = Vec::with_capacity(wanted.len());
        for (r, data) in wanted.into_iter().zip(fetched) {
            if data.len() as u64 != r.end - r.start {
                return Err(EngineError::geotiff(
                    self.name(),
                    format!("short read of bytes {}..{}", r.start, r.end),
                ));
            }
            pieces.push((r.start, data));
        }
        Ok(FetchedRanges::new(pieces))
    }

    /// Loads the given byte ranges with one `read_ranges` call, so that later reads of them (or of any
    /// part of one) cost no request. Ranges already held are skipped; the previous prefetch is dropped.
    pub fn prefetch(&self, ranges: &[Range<u64>]) -> Result<()> {
        let fetched = self.fetch(ranges)?;
        let mut pre = self
            .prefetched
            .lock()
            .map_err(|_| EngineError::Internal(format!("{}: GeoTIFF cache lock poisoned", self.name())))?;
        *pre = fetched.pieces;
        Ok(())
    }

    /// Drops prefetched segment data (the block cache of headers stays).
    pub fn clear_prefetched(&self) {
        if let Ok(mut pre) = self.prefetched.lock() {
            pre.clear();
        }
    }

    /// A `Read + Seek` cursor over the cached bytes.
    pub fn reader(&self) -> CachedReader<'_> {
        CachedReader {
            source: self,
            pos: 0,
        }
    }
}

/// Byte ranges of a file fetched for one read: `(start, bytes)` sorted by start.
#[derive(Clone, Default)]
pub struct FetchedRanges {
    pieces: Vec<(u64, Arc<Vec<u8>>)>,
}

impl FetchedRanges {
    /// Ranges given as `(start, bytes)`, in any order.
    pub fn new(pieces: Vec<(u64, Vec<u8>)>) -> FetchedRanges {
        let mut pieces: Vec<(u64, Arc<Vec<u8>>)> =
            pieces.into_iter().map(|(s, d)| (s, Arc::new(d))).collect();
        pieces.sort_by_key(|(s, d)| (*s, d.len()));
        FetchedRanges { pieces }
    }

    /// Total bytes held.
    pub fn bytes(&self) -> usize {
        self.pieces.iter().map(|(_, d)| d.len()).sum()
    }

    /// The bytes `range`, when one fetched piece holds all of them.
    pub fn get(&self, range: Range<u64>) -> Option<SharedBytes> {
        let contains = |(start, data): &(u64, Arc<Vec<u8>>)| {
            (*start <= range.start && range.end - start <= data.len() as u64).then(|| SharedBytes {
                data: data.clone(),
                range: (range.start - start) as usize..(range.end - start) as usize,
            })
        };
        if range.end < range.start {
            return None;
        }
        // Usually the last piece starting at or before `range.start`; overlapping pieces need a scan.
        let i = self.pieces.partition_point(|(s, _)| *s <= range.start);
        i.checked_sub(1)
            .and_then(|j| contains(&self.pieces[j]))
            .or_else(|| self.pieces[..i].iter().rev().find_map(contains))
    }
}

/// A file of known length of which only some byte ranges are at hand. A read outside them fails and
/// records the bytes that were missing ([`PartialSource::missing`]), so that a caller holding the real
/// storage can fetch them and parse again. Used for headers of files behind a Python object store.
pub struct PartialSource {
    name: String,
    len: u64,
    known: FetchedRanges,
    missing: Mutex<Option<Range<u64>>>,
}

impl PartialSource {
    pub fn new(name: &str, len: u64, known: FetchedRanges) -> PartialSource {
        PartialSource { name: name.to_string(), len, known, missing: Mutex::new(None) }
    }

    /// The first range a read asked for and did not find, if any.
    pub fn missing(&self) -> Option<Range<u64>> {
        self.missing.lock().ok().and_then(|m| m.clone())
    }
}

impl RangeSource for PartialSource {
    fn name(&self) -> &str {
        &self.name
    }

    fn len(&self) -> Result<u64> {
        Ok(self.len)
    }

    fn read_range(&self, range: Range<u64>) -> Result<Vec<u8>> {
        if let Some(bytes) = self.known.get(range.clone()) {
            return Ok(bytes.to_vec());
        }
        if let Ok(mut m) = self.missing.lock() {
            m.get_or_insert(range.clone());
        }
        Err(EngineError::io(
            &self.name,
            format!("bytes {}..{} have not been fetched", range.start, range.end),
        ))
    }
}

pub struct CachedReader<'a> {
    source: &'a CachedSource,
    pos: u64,
}

impl Read for CachedReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = (buf.len() as u64).min(self.source.len().saturating_sub(self.pos));
        if n == 0 {
            return Ok(0);
        }
        let bytes = self
            .source
            .read_shared(self.pos, n)
            .map_err(std::io::Error::other)?;
        buf[..n as usize].copy_from_slice(&bytes);
        self.pos += n;
        Ok(n as usize)
    }
}

impl Seek for CachedReader<'_> {
    fn seek(&mut self, pos: SeekFrom) -> std::io::Result<u64> {
        let target = match pos {
            SeekFrom::Start(p) => Some(p),
            SeekFrom::End(d) => self.source.len().checked_add_signed(d),
            SeekFrom::Current(d) => self.pos.checked_add_signed(d),
        };
        self.pos = target.ok_or_else(|| {
            std::io::Error::new(std::io::ErrorKind::InvalidInput, "seek before start")
        })?;
        Ok(self.pos)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Mem(Vec<u8>, AtomicUsize);

    impl RangeSource for Mem {
        fn name(&self) -> &str {
            "mem"
        }
        fn len(&self) -> Result<u64> {
            Ok(self.0.len() as u64)
        }
        fn read_range(&self, r: Range<u64>) -> Result<Vec<u8>> {
            self.1.fetch_add(1, Ordering::Relaxed);
            self.0
                .get(r.start as usize..r.end as usize)
                .map(|s| s.to_vec())
                .ok_or_else(|| EngineError::io("mem", "past end"))
        }
    }

    fn source(n: usize) -> Arc<Mem> {
        Arc::new(Mem(
            (0..n).map(|i| (i * 7 % 251) as u8).collect(),
            AtomicUsize::new(0),
        ))
    }

    #[test]
    fn reads_match_the_source_across_blocks() {
        let mem = source(1000);
        let c = CachedSource::with_block_size(mem.clone(), 64).unwrap();
        for (off, len) in [
            (0u64, 10u64),
            (60, 10),
            (63, 130),
            (990, 10),
            (0, 1000),
            (500, 0),
        ] {
            assert_eq!(
                c.read_at(off, len).unwrap(),
                mem.0[off as usize..(off + len) as usize]
            );
        }
        // Everything is cached now: no new requests.
        let before = mem.1.load(Ordering::Relaxed);
        c.read_at(100, 800).unwrap();
        assert_eq!(mem.1.load(Ordering::Relaxed), before);
        assert!(c.read_at(995, 10).is_err());
        assert!(c.read_at(u64::MAX - 1, 10).is_err());
    }

    #[test]
    fn few_requests_for_many_small_reads() {
        let mem = source(200_000);
        let c = CachedSource::new(mem.clone()).unwrap();
        for i in 0..1000u64 {
            c.read_at(i * 8, 8).unwrap();
        }
        assert_eq!(mem.1.load(Ordering::Relaxed), 1);
    }

    #[test]
    fn prefetch_serves_sub_ranges_without_requests() {
        let mem = source(300_000);
        let c = CachedSource::new(mem.clone()).unwrap();
        c.prefetch(&[150_000..160_000, 10..20, 200_000..250_000])
            .unwrap();
        let before = mem.1.load(Ordering::Relaxed);
        assert_eq!(
            &*c.read_shared(150_100, 50).unwrap(),
            &mem.0[150_100..150_150]
        );
        assert_eq!(
            &*c.read_shared(200_000, 50_000).unwrap(),
            &mem.0[200_000..250_000]
        );
        assert_eq!(mem.1.load(Ordering::Relaxed), before);
        assert!(c.prefetch(&[299_999..300_001]).is_err());
    }

    #[test]
    fn fetched_ranges_serve_sub_ranges_and_partial_sources_report_gaps() {
        let mem = source(300_000);
        let c = CachedSource::new(mem.clone()).unwrap();
        let f = c.fetch(&[200_000..250_000, 10..20, 10..20, 150_000..160_000]).unwrap();
        assert_eq!(f.bytes(), 60_010);
        assert_eq!(&*f.get(150_100..150_150).unwrap(), &mem.0[150_100..150_150]);
        assert_eq!(&*f.get(10..20).unwrap(), &mem.0[10..20]);
        assert!(f.get(19..21).is_none());
        assert!(f.get(100..50).is_none());
        // Overlapping pieces: a range inside the earlier, larger one is still found.
        let o = FetchedRanges::new(vec![(0, vec![1; 100]), (10, vec![2; 5])]);
        assert_eq!(&*o.get(50..60).unwrap(), &[1u8; 10]);

        let p = PartialSource::new("part", 300_000, f);
        assert_eq!(p.read_range(200_010..200_020).unwrap(), mem.0[200_010..200_020]);
        assert!(p.missing().is_none());
        assert!(p.read_range(5..15).is_err());
        assert_eq!(p.missing(), Some(5..15));
    }

    #[test]
    fn read_seek_adapter() {
        let mem = source(5000);
        let c = CachedSource::with_block_size(mem.clone(), 100).unwrap();
        let mut r = c.reader();
        r.seek(SeekFrom::Start(4990)).unwrap();
        let mut buf = Vec::new();
        r.read_to_end(&mut buf).unwrap();
        assert_eq!(buf, mem.0[4990..]);
        r.seek(SeekFrom::Current(-20)).unwrap();
        let mut two = [0u8; 2];
        r.read_exact(&mut two).unwrap();
        assert_eq!(two, mem.0[4980..4982]);
        assert!(r.seek(SeekFrom::Current(-10_000)).is_err());
    }
}
