//! Windowed reads: the cells of pixel windows of one image (full resolution or an overview), decoding
//! only the segments the windows touch, each at most once per call, after fetching all their bytes in
//! one request.
//!
//! Two outputs: [`read_windows`] gives GeoTrellis cell types (the tile contract), [`read_native`] the
//! file's own sample types with a band selection and the image's internal mask, as GDAL reads them (the
//! async COG reader). The latter takes its segment bytes from a [`FetchedRanges`], so that fetching
//! (possibly by someone else, e.g. a Python object store) and decoding are separate steps and many reads
//! of one file can run at once.

use std::collections::BTreeMap;
use std::ops::Range;

use super::cached::{CachedSource, FetchedRanges, SharedBytes};
use super::decode::{decode_segment, decode_segment_top, Scratch, SegmentShape};
use super::info::{GeoTiffInfo, ImageLayout, SampleKind};
use crate::cell_type::{CellType, NoData};
use crate::error::{EngineError, Result};

/// `(col_off, row_off, cols, rows)` in pixels of the image read.
pub type Window = (usize, usize, usize, usize);

/// Cells of one window in the tile contract: band-sequential, row-major, little-endian storage bytes.
#[derive(Clone, Debug)]
pub struct Raster {
    pub cell_type: CellType,
    pub bands: usize,
    pub rows: usize,
    pub cols: usize,
    pub cells: Vec<u8>,
}

/// Samples of one window in the file's own sample type: band-sequential (the selected bands, in the
/// order asked), row-major, little-endian; 1-bit samples take one byte each (0 or 1).
#[derive(Clone, Debug)]
pub struct NativeWindow {
    pub cells: Vec<u8>,
    /// One byte per pixel, 1 where the internal mask says valid and 0 elsewhere; `None` when the image
    /// has no internal mask or it was not asked for.
    pub mask: Option<Vec<u8>>,
}

fn image_name(ifd: usize) -> String {
    if ifd > 0 {
        format!(" of overview {ifd}")
    } else {
        String::new()
    }
}

fn check_windows(path: &str, layout: &ImageLayout, ifd: usize, windows: &[Window]) -> Result<()> {
    for &(x, y, w, h) in windows {
        let fits = x.checked_add(w).is_some_and(|e| e <= layout.width)
            && y.checked_add(h).is_some_and(|e| e <= layout.height);
        if !fits {
            return Err(EngineError::Value(format!(
                "{path}: window (col_off={x}, row_off={y}, cols={w}, rows={h}) lies outside the {}x{} image{}",
                layout.width,
                layout.height,
                image_name(ifd)
            )));
        }
    }
    Ok(())
}

fn check_bands(path: &str, layout: &ImageLayout, bands: &[usize]) -> Result<()> {
    match bands.iter().find(|&&b| b >= layout.bands) {
        Some(b) => Err(EngineError::Value(format!(
            "{path}: band {b} does not exist; the image has {} band(s), numbered from 0",
            layout.bands
        ))),
        None if bands.is_empty() => Err(EngineError::Value(format!("{path}: no bands asked for"))),
        None => Ok(()),
    }
}

/// Which windows each segment (index within a plane) serves.
fn segment_users(layout: &ImageLayout, windows: &[Window]) -> BTreeMap<usize, Vec<usize>> {
    let across = layout.segments_across();
    let mut users: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for (wi, &(x, y, w, h)) in windows.iter().enumerate() {
        if w == 0 || h == 0 {
            continue;
        }
        let (c0, c1) = (x / layout.segment_cols, (x + w - 1) / layout.segment_cols);
        let (r0, r1) = (y / layout.segment_rows, (y + h - 1) / layout.segment_rows);
        for r in r0..=r1 {
            for c in c0..=c1 {
                users.entry(r * across + c).or_default().push(wi);
            }
        }
    }
    users
}

/// The planes to decode and, per plane, which output band takes which sample of a decoded pixel.
fn band_plan(layout: &ImageLayout, bands: &[usize]) -> Vec<(usize, Vec<(usize, usize)>)> {
    if layout.planar {
        bands.iter().enumerate().map(|(out, &b)| (b, vec![(out, 0)])).collect()
    } else {
        vec![(0, bands.iter().enumerate().map(|(out, &b)| (out, b)).collect())]
    }
}

fn segment_range(layout: &ImageLayout, index: usize) -> Range<u64> {
    let off = layout.offsets[index];
    off..off.saturating_add(layout.byte_counts[index])
}

/// The non-empty byte ranges of the segments of `layout` that `windows` touch, in the planes of `bands`.
fn ranges_of(layout: &ImageLayout, windows: &[Window], bands: &[usize]) -> Vec<(usize, Range<u64>)> {
    let per_plane = layout.segments_per_plane();
    let plan = band_plan(layout, bands);
    let mut ranges = Vec::new();
    for &seg in segment_users(layout, windows).keys() {
        for (plane, _) in &plan {
            let index = plane * per_plane + seg;
            let r = segment_range(layout, index);
            if r.end > r.start {
                ranges.push((index, r));
            }
        }
    }
    ranges
}

/// Reads `windows` of image `ifd` (0: full resolution, k: k-th overview).
pub fn read_windows(
    src: &CachedSource,
    info: &GeoTiffInfo,
    ifd: usize,
    windows: &[Window],
) -> Result<Vec<Raster>> {
    let layout = info.layout(ifd)?;
    let path = src.name();
    super::codecs::check(layout).map_err(|m| EngineError::unsupported(path, m))?;
    check_windows(path, layout, ifd, windows)?;
    let bands: Vec<usize> = (0..layout.bands).collect();
    let ranges: Vec<Range<u64>> = ranges_of(layout, windows, &bands).into_iter().map(|(_, r)| r).collect();
    src.prefetch(&ranges)?;
    let copier = Copier::new(layout.kind, info.cell_type, info.no_data);
    let get = |r: Range<u64>| src.read_shared(r.start, r.end - r.start);
    let decoded = decode_windows(path, layout, info.little_endian, windows, &bands, &copier, &get);
    src.clear_prefetched();
    Ok(decoded?
        .into_iter()
        .zip(windows)
        .map(|(cells, &(_, _, w, h))| Raster {
            cell_type: info.cell_type,
            bands: layout.bands,
            rows: h,
            cols: w,
            cells,
        })
        .collect())
}

/// The byte ranges [`read_native`] needs for `windows` of image `ifd` in `bands` (and of its internal
/// mask, with `mask`), each checked against the file's length `len`.
///
/// # Errors
/// A window outside the image or a band it lacks; a segment past the end of the file (truncated).
pub fn native_ranges(
    path: &str,
    len: u64,
    info: &GeoTiffInfo,
    ifd: usize,
    windows: &[Window],
    bands: &[usize],
    mask: bool,
) -> Result<Vec<Range<u64>>> {
    let layout = info.layout(ifd)?;
    check_windows(path, layout, ifd, windows)?;
    check_bands(path, layout, bands)?;
    let mut ranges = ranges_of(layout, windows, bands);
    let mut mask_ranges = Vec::new();
    if let Some(m) = info.mask(ifd).filter(|_| mask) {
        mask_ranges = ranges_of(m, windows, &[0]);
    }
    for (what, list) in [("segment", &ranges), ("mask segment", &mask_ranges)] {
        if let Some((i, r)) = list.iter().find(|(_, r)| r.end > len) {
            return Err(EngineError::geotiff(
                path,
                format!(
                    "truncated file: {what} {i}{} (bytes {}..{}) lies past its end ({len} bytes)",
                    image_name(ifd),
                    r.start,
                    r.end
                ),
            ));
        }
    }
    ranges.append(&mut mask_ranges);
    Ok(ranges.into_iter().map(|(_, r)| r).collect())
}

/// Decodes `windows` of image `ifd` in `bands` (indexes from 0, in the order wanted) as the file's own
/// sample type, and with `mask` the image's internal mask, from bytes fetched for
/// [`native_ranges`]. Sparse segments (no bytes) read as the NoData value, or 0 without one, as in GDAL.
///
/// # Errors
/// A window or band outside the image; an unsupported codec; a corrupt segment (naming it); a range
/// missing from `fetched`.
#[allow(clippy::too_many_arguments)]
pub fn read_native(
    path: &str,
    info: &GeoTiffInfo,
    ifd: usize,
    windows: &[Window],
    bands: &[usize],
    mask: bool,
    fetched: &FetchedRanges,
) -> Result<Vec<NativeWindow>> {
    let layout = info.layout(ifd)?;
    super::codecs::check(layout).map_err(|m| EngineError::unsupported(path, m))?;
    check_windows(path, layout, ifd, windows)?;
    check_bands(path, layout, bands)?;
    let get = |r: Range<u64>| {
        fetched.get(r.clone()).ok_or_else(|| {
            EngineError::Internal(format!("{path}: bytes {}..{} were not fetched", r.start, r.end))
        })
    };
    let no_data = info.no_data.filter(|&v| layout.kind.holds(v));
    let copier = Copier::native(layout.kind, no_data);
    let cells = decode_windows(path, layout, info.little_endian, windows, bands, &copier, &get)?;
    let masks = match info.mask(ifd).filter(|_| mask) {
        Some(m) => {
            super::codecs::check(m).map_err(|e| EngineError::unsupported(path, format!("mask: {e}")))?;
            let copier = Copier::native(m.kind, None);
            let decoded = decode_windows(path, m, info.little_endian, windows, &[0], &copier, &get)?;
            decoded
                .into_iter()
                .map(|mut v| {
                    for x in v.iter_mut() {
                        *x = (*x != 0) as u8;
                    }
                    Some(v)
                })
                .collect()
        }
        None => vec![None; windows.len()],
    };
    Ok(cells.into_iter().zip(masks).map(|(cells, mask)| NativeWindow { cells, mask }).collect())
}


/// Decodes the segments `windows` touch (in the planes of `bands`) and copies each into the windows it
/// serves: one band-sequential buffer per window, `bands.len()` bands of `copier.dst_n` bytes a cell.
fn decode_windows(
    path: &str,
    layout: &ImageLayout,
    little_endian: bool,
    windows: &[Window],
    bands: &[usize],
    copier: &Copier,
    get: &dyn Fn(Range<u64>) -> Result<SharedBytes>,
) -> Result<Vec<Vec<u8>>> {
    let (across, per_plane) = (layout.segments_across(), layout.segments_per_plane());
    let users = segment_users(layout, windows);
    let plan = band_plan(layout, bands);
    let bpc = copier.dst_n;
    // A window that is exactly one whole segment of a single-band image, used by no other window, is
    // decoded straight into its output buffer (no zero-filling, no copy).
    let direct_ok = !layout.planar
        && layout.bands == 1
        && layout.kind.bytes() == bpc
        && layout.kind != SampleKind::Bit
        && !copier.needs_conversion();
    let mut direct: BTreeMap<usize, usize> = BTreeMap::new();
    if direct_ok {
        for (&seg, wins) in &users {
            if let [wi] = wins[..] {
                let (x, y, w, h) = windows[wi];
                let (sx0, sy0) = (
                    (seg % across) * layout.segment_cols,
                    (seg / across) * layout.segment_rows,
                );
                if (x, y, w) == (sx0, sy0, layout.segment_cols)
                    && h == layout.segment_rows.min(layout.height - sy0)
                {
                    direct.insert(seg, wi);
                }
            }
        }
    }
    let direct_windows: std::collections::HashSet<usize> = direct.values().copied().collect();
    let mut out: Vec<Vec<u8>> = windows
        .iter()
        .enumerate()
        .map(|(wi, &(_, _, w, h))| {
            let n = bands.len() * w * h * bpc;
            // Room for the decoders' spare byte, so decoding in place does not reallocate.
            if direct_windows.contains(&wi) {
                Vec::with_capacity(n + 1)
            } else {
                vec![0u8; n]
            }
        })
        .collect();

    let mut scratch = Scratch::default();
    let mut seg_buf = Vec::new();
    for (&seg, wins) in &users {
        let (sx0, sy0) = (
            (seg % across) * layout.segment_cols,
            (seg / across) * layout.segment_rows,
        );
        let shape = SegmentShape {
            cols: layout.segment_cols,
            rows: layout.segment_rows.min(layout.height - sy0),
            samples: if layout.planar { 1 } else { layout.bands },
        };
        for (plane, pairs) in &plan {
            let index = plane * per_plane + seg;
            let range = segment_range(layout, index);
            if range.end == range.start {
                // A sparse segment (no bytes): GDAL reads it as NoData, or 0 without one.
                for &wi in wins {
                    fill_sparse(&mut out[wi], windows[wi], layout, (sx0, sy0), &shape, pairs, copier);
                }
                continue;
            }
            let data = get(range.clone())?;
            let fail = |e: String| {
                EngineError::geotiff(
                    path,
                    format!("segment {index} (bytes {}..{}): {e}", range.start, range.end),
                )
            };
            if let Some(&wi) = direct.get(&seg) {
                let cells = &mut out[wi];
                decode_segment(layout, little_endian, &data, &shape, &mut scratch, cells).map_err(fail)?;
                if cells.len() != windows[wi].2 * windows[wi].3 * bpc {
                    return Err(fail("decoded segment has the wrong size".into()));
                }
                continue;
            }
            // Rows below the lowest one a window needs are not decoded (deflate stops before them).
            let wanted = wins
                .iter()
                .map(|&wi| (windows[wi].1 + windows[wi].3).min(sy0 + shape.rows) - sy0)
                .max()
                .unwrap_or(shape.rows);
            decode_segment_top(layout, little_endian, &data, &shape, wanted, &mut scratch, &mut seg_buf)
                .map_err(fail)?;
            if seg_buf.len() < wanted * shape.cols * shape.samples * layout.kind.bytes() {
                return Err(fail("decoded segment is too short".into()));
            }
            for &wi in wins {
                copy_intersection(
                    &seg_buf,
                    &mut out[wi],
                    windows[wi],
                    layout,
                    (sx0, sy0),
                    &shape,
                    pairs,
                    copier,
                );
            }
        }
    }
    Ok(out)
}

/// Converts stored samples to the output's storage.
struct Copier {
    kind: SampleKind,
    /// Convert to GeoTrellis cell type storage (uint32 to float32, 64-bit integers to float64); else
    /// samples are copied as they are.
    to_cell_type: bool,
    /// uint32 with NoData 0 becomes float32 with NaN NoData (GeoTrellis' constant type).
    zero_is_nan: bool,
    /// Bytes of one output cell.
    dst_n: usize,
    /// One output cell of the value sparse segments read as.
    fill: Vec<u8>,
}

impl Copier {
    /// Output in GeoTrellis cell type `cell_type`.
    fn new(kind: SampleKind, cell_type: CellType, no_data: Option<f64>) -> Copier {
        let zero_is_nan = kind == SampleKind::U32 && cell_type.no_data == NoData::Constant;
        let mut fill = Vec::new();
        let value = no_data
            .filter(|_| cell_type.no_data_value().is_some())
            .unwrap_or(0.0);
        let stored = if zero_is_nan { f64::NAN } else { value };
        // Storing the raw value in a raw type of the same storage gives its exact bytes.
        CellType::new(cell_type.data_type, NoData::Raw).store(&[stored], &mut fill);
        Copier {
            kind,
            to_cell_type: true,
            zero_is_nan,
            dst_n: cell_type.bytes_per_cell(),
            fill,
        }
    }

    /// Output in the file's own sample type; sparse segments read as `no_data` (in range) or 0.
    fn native(kind: SampleKind, no_data: Option<f64>) -> Copier {
        let v = no_data.unwrap_or(0.0);
        let fill = match kind {
            SampleKind::Bit | SampleKind::U8 => vec![v as u8],
            SampleKind::I8 => (v as i8).to_le_bytes().to_vec(),
            SampleKind::U16 => (v as u16).to_le_bytes().to_vec(),
            SampleKind::I16 => (v as i16).to_le_bytes().to_vec(),
            SampleKind::U32 => (v as u32).to_le_bytes().to_vec(),
            SampleKind::I32 => (v as i32).to_le_bytes().to_vec(),
            SampleKind::F32 => (v as f32).to_le_bytes().to_vec(),
            SampleKind::U64 => (v as u64).to_le_bytes().to_vec(),
            SampleKind::I64 => (v as i64).to_le_bytes().to_vec(),
            SampleKind::F64 => v.to_le_bytes().to_vec(),
        };
        Copier {
            kind,
            to_cell_type: false,
            zero_is_nan: false,
            dst_n: kind.bytes(),
            fill,
        }
    }

    fn needs_conversion(&self) -> bool {
        self.to_cell_type
            && matches!(
                self.kind,
                SampleKind::U32 | SampleKind::U64 | SampleKind::I64
            )
    }

    #[inline]
    fn convert(&self, src: &[u8], dst: &mut [u8]) {
        if !self.needs_conversion() {
            dst.copy_from_slice(src);
            return;
        }
        match self.kind {
            SampleKind::U32 => {
                let v = u32::from_le_bytes([src[0], src[1], src[2], src[3]]);
                let f = if self.zero_is_nan && v == 0 {
                    f32::NAN
                } else {
                    v as f32
                };
                dst.copy_from_slice(&f.to_le_bytes());
            }
            SampleKind::U64 | SampleKind::I64 => {
                let mut b = [0u8; 8];
                b.copy_from_slice(&src[..8]);
                let f = if self.kind == SampleKind::U64 {
                    u64::from_le_bytes(b) as f64
                } else {
                    i64::from_le_bytes(b) as f64
                };
                dst.copy_from_slice(&f.to_le_bytes());
            }
            _ => dst.copy_from_slice(src),
        }
    }
}

/// The overlap of a window and a segment: (x range, y range) in image pixels.
fn overlap(
    win: Window,
    layout: &ImageLayout,
    origin: (usize, usize),
    shape: &SegmentShape,
) -> Option<(Range<usize>, Range<usize>)> {
    let (wx, wy, ww, wh) = win;
    let (sx0, sy0) = origin;
    let x0 = wx.max(sx0);
    let x1 = (wx + ww).min(sx0 + layout.segment_cols).min(layout.width);
    let y0 = wy.max(sy0);
    let y1 = (wy + wh).min(sy0 + shape.rows);
    (x0 < x1 && y0 < y1).then_some((x0..x1, y0..y1))
}

/// Copies the part of a decoded segment inside window `win` into `out` (band-sequential);
/// `pairs` says which output band takes which sample of a pixel.
#[allow(clippy::too_many_arguments)]
fn copy_intersection(
    seg: &[u8],
    out: &mut [u8],
    win: Window,
    layout: &ImageLayout,
    origin: (usize, usize),
    shape: &SegmentShape,
    pairs: &[(usize, usize)],
    copier: &Copier,
) {
    let Some((xs, ys)) = overlap(win, layout, origin, shape) else {
        return;
    };
    let (wx, wy, ww, wh) = win;
    let (sx0, sy0) = origin;
    let src_n = layout.kind.bytes();
    let dst_n = copier.dst_n;
    let spp = shape.samples;
    let n = xs.len();
    for y in ys {
        let src_row = (y - sy0) * shape.cols;
        for &(band, sample) in pairs {
            let dst_start = ((band * wh + (y - wy)) * ww + (xs.start - wx)) * dst_n;
            let dst = &mut out[dst_start..dst_start + n * dst_n];
            if spp == 1 && !copier.needs_conversion() {
                let s = (src_row + xs.start - sx0) * src_n;
                dst.copy_from_slice(&seg[s..s + n * src_n]);
            } else {
                let first = (src_row + xs.start - sx0) * spp + sample;
                for (i, d) in dst.chunks_exact_mut(dst_n).enumerate() {
                    let s = (first + i * spp) * src_n;
                    copier.convert(&seg[s..s + src_n], d);
                }
            }
        }
    }
}

/// Fills the part of window `win` a sparse segment covers with the copier's fill value.
fn fill_sparse(
    out: &mut [u8],
    win: Window,
    layout: &ImageLayout,
    origin: (usize, usize),
    shape: &SegmentShape,
    pairs: &[(usize, usize)],
    copier: &Copier,
) {
    let Some((xs, ys)) = overlap(win, layout, origin, shape) else {
        return;
    };
    let n = copier.dst_n;
    for y in ys {
        for &(band, _) in pairs {
            let start = ((band * win.3 + (y - win.1)) * win.2 + (xs.start - win.0)) * n;
            for d in out[start..start + xs.len() * n].chunks_exact_mut(n) {
                d.copy_from_slice(&copier.fill);
            }
        }
    }
}
