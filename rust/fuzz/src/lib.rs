//! Shared pieces of the fuzz targets: an allocation cap, an in-memory byte source, and a cursor that
//! turns the front of a fuzz input into small structured parameters.

use std::alloc::{GlobalAlloc, Layout, System};
use std::io::Write;
use std::ops::Range;

use gps_engine::error::{EngineError, Result};
use gps_engine::io::RangeSource;

/// The largest single allocation a fuzz input may cause: 1 GiB, as libFuzzer's `-malloc_limit_mb=1024`.
///
/// libFuzzer enforces `-malloc_limit_mb` only through sanitizer malloc hooks, which `--sanitizer none`
/// builds (what the stable toolchain runs fastest) do not have; and a huge `vec![0; n]` is mapped lazily,
/// so `-rss_limit_mb` does not see it either. This allocator makes such an allocation a crash that
/// libFuzzer records (abort → crash artifact) whatever the sanitizer.
pub const ALLOC_LIMIT: usize = 1 << 30;

pub struct CappedAlloc;

#[cold]
fn too_big(size: usize) -> ! {
    // No allocation here: format the size into a stack buffer.
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    let mut n = size;
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    let mut err = std::io::stderr().lock();
    let _ = err.write_all(b"==gps-fuzz== allocation of ");
    let _ = err.write_all(&digits[i..]);
    let _ = err.write_all(b" bytes exceeds the 1 GiB limit (bounded-allocation finding)\n");
    std::process::abort();
}

unsafe impl GlobalAlloc for CappedAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if layout.size() > ALLOC_LIMIT {
            too_big(layout.size());
        }
        System.alloc(layout)
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if layout.size() > ALLOC_LIMIT {
            too_big(layout.size());
        }
        System.alloc_zeroed(layout)
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if new_size > ALLOC_LIMIT {
            too_big(new_size);
        }
        System.realloc(ptr, layout, new_size)
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout)
    }
}

#[global_allocator]
static ALLOC: CappedAlloc = CappedAlloc;

/// A file held in memory, read through the engine's [`RangeSource`] (as a local file or object is).
pub struct MemSource {
    name: String,
    bytes: Vec<u8>,
}

impl MemSource {
    pub fn new(name: &str, bytes: Vec<u8>) -> MemSource {
        MemSource { name: name.to_string(), bytes }
    }
}

impl RangeSource for MemSource {
    fn name(&self) -> &str {
        &self.name
    }

    fn len(&self) -> Result<u64> {
        Ok(self.bytes.len() as u64)
    }

    fn read_range(&self, range: Range<u64>) -> Result<Vec<u8>> {
        let (s, e) = (range.start as usize, range.end as usize);
        if range.start > range.end || range.end > self.bytes.len() as u64 {
            return Err(EngineError::io(&self.name, format!("bytes {s}..{e} lie past the end")));
        }
        Ok(self.bytes[s..e].to_vec())
    }
}

/// Takes small parameters from the front of a fuzz input; past its end everything reads as 0.
pub struct Cursor<'a> {
    pub data: &'a [u8],
}

impl<'a> Cursor<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        Cursor { data }
    }

    pub fn u8(&mut self) -> u8 {
        match self.data.split_first() {
            Some((&b, rest)) => {
                self.data = rest;
                b
            }
            None => 0,
        }
    }

    pub fn u16(&mut self) -> u16 {
        u16::from_le_bytes([self.u8(), self.u8()])
    }

    /// One of `choices`, by the next byte.
    pub fn pick<T: Copy>(&mut self, choices: &[T]) -> T {
        choices[self.u8() as usize % choices.len()]
    }

    /// The rest of the input.
    pub fn rest(self) -> &'a [u8] {
        self.data
    }
}
