//! zlib compression of tile files. By default exactly as GeoTrellis does it (`java.util.zip.Deflater()`:
//! level 6, 32 KiB window, memLevel 8, default strategy, zlib wrapper), through zlib itself: the Rust
//! ports compress correctly but not to the same bytes, and GeoTrellis byte-identity is a goal. On
//! request, libdeflate instead: any valid zlib stream is a file GeoTrellis reads (it inflates with
//! `java.util.zip.Inflater`), and libdeflate compresses tile cells several times faster than zlib
//! (measured by `examples/deflate_levels.rs`, docs/benchmarks.md).

use std::ffi::{c_int, c_void};

use libz_sys as z;

use crate::error::{EngineError, Result};

extern "C" {
    fn calloc(n: usize, size: usize) -> *mut c_void;
    fn free(p: *mut c_void);
}

unsafe extern "C" fn zalloc(_: z::voidpf, items: z::uInt, size: z::uInt) -> z::voidpf {
    calloc(items as usize, size as usize)
}

unsafe extern "C" fn zfree(_: z::voidpf, p: z::voidpf) {
    free(p)
}

fn failed(what: &str, status: c_int) -> EngineError {
    EngineError::Value(format!("zlib {what} failed (status {status})"))
}

/// How tile files are compressed. Every choice is one zlib stream that GeoTrellis reads.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Compression {
    /// zlib level 6 through zlib itself: the bytes GeoTrellis writes.
    #[default]
    GeoTrellis,
    /// libdeflate at this level (0 stored, 1 fastest … 12 smallest): not GeoTrellis' bytes, the same cells.
    Fast(u8),
}

/// `data` compressed as one zlib stream.
pub fn compress(data: &[u8], compression: Compression) -> Result<Vec<u8>> {
    match compression {
        Compression::GeoTrellis => compress_like_java(data),
        Compression::Fast(level) => compress_fast(data, level),
    }
}

fn compress_fast(data: &[u8], level: u8) -> Result<Vec<u8>> {
    let lvl = libdeflater::CompressionLvl::new(level.into())
        .map_err(|_| EngineError::Value(format!("compression level must be 0 to 12, got {level}")))?;
    let mut c = libdeflater::Compressor::new(lvl);
    let mut out = vec![0u8; c.zlib_compress_bound(data.len())];
    let n = c
        .zlib_compress(data, &mut out)
        .map_err(|e| EngineError::Value(format!("libdeflate zlib compression failed: {e:?}")))?;
    out.truncate(n);
    Ok(out)
}

/// `data` compressed as one zlib stream, level 6, as `java.util.zip.Deflater()` does.
fn compress_like_java(data: &[u8]) -> Result<Vec<u8>> {
    let too_large = || EngineError::Value("tile record too large to compress in one zlib call".into());
    let avail_in = z::uInt::try_from(data.len()).map_err(|_| too_large())?;
    // SAFETY: a fresh z_stream with our allocators is what deflateInit2_ expects; every pointer
    // handed to zlib points into `data` or `out`, which outlive the stream, with the lengths given.
    unsafe {
        let mut stream = z::z_stream {
            next_in: std::ptr::null_mut(),
            avail_in: 0,
            total_in: 0,
            next_out: std::ptr::null_mut(),
            avail_out: 0,
            total_out: 0,
            msg: std::ptr::null_mut(),
            state: std::ptr::null_mut(),
            zalloc,
            zfree,
            opaque: std::ptr::null_mut(),
            data_type: 0,
            adler: 0,
            reserved: 0,
        };
        let status = z::deflateInit2_(
            &mut stream,
            6,
            z::Z_DEFLATED,
            15,
            8,
            z::Z_DEFAULT_STRATEGY,
            z::zlibVersion(),
            std::mem::size_of::<z::z_stream>() as c_int,
        );
        if status != z::Z_OK {
            return Err(failed("init", status));
        }
        let bound = z::deflateBound(&mut stream, avail_in as z::uLong) as usize;
        let mut out = vec![0u8; bound];
        stream.next_in = data.as_ptr() as *mut u8;
        stream.avail_in = avail_in;
        stream.next_out = out.as_mut_ptr();
        stream.avail_out = z::uInt::try_from(bound).map_err(|_| too_large())?;
        let status = z::deflate(&mut stream, z::Z_FINISH);
        let written = bound - stream.avail_out as usize;
        z::deflateEnd(&mut stream);
        if status != z::Z_STREAM_END {
            return Err(failed("deflate", status));
        }
        out.truncate(written);
        Ok(out)
    }
}
