//! Windowed reads: the cells of pixel windows of one image (full resolution or an overview), decoding
//! only the segments the windows touch, each at most once per call, after fetching all their bytes in
//! one prefetch.

use std::collections::BTreeMap;
use std::ops::Range;

use super::cached::CachedSource;
use super::decode::{decode_segment, Scratch, SegmentShape};
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
    for &(x, y, w, h) in windows {
        let fits = x.checked_add(w).is_some_and(|e| e <= layout.width)
            && y.checked_add(h).is_some_and(|e| e <= layout.height);
        if !fits {
            return Err(EngineError::Value(format!(
                "{path}: window (col_off={x}, row_off={y}, cols={w}, rows={h}) lies outside the {}x{} image{}",
                layout.width,
                layout.height,
                if ifd > 0 { format!(" of overview {ifd}") } else { String::new() }
            )));
        }
    }
    let (across, per_plane) = (layout.segments_across(), layout.segments_per_plane());
    let planes = if layout.planar { layout.bands } else { 1 };

    // Which windows each segment (index within a plane) serves.
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

    let segment_range = |i: usize| -> Range<u64> {
        let off = layout.offsets[i];
        off..off.saturating_add(layout.byte_counts[i])
    };
    let mut ranges = Vec::new();
    for &seg in users.keys() {
        for p in 0..planes {
            let r = segment_range(p * per_plane + seg);
            if r.end > r.start {
                ranges.push(r);
            }
        }
    }
    src.prefetch(&ranges)?;

    let cell_type = info.cell_type;
    let bpc = cell_type.bytes_per_cell();
    // A window that is exactly one whole segment of a single-band image, used by no other window, is
    // decoded straight into its output buffer (no zero-filling, no copy).
    let direct_ok = !layout.planar
        && layout.bands == 1
        && layout.kind.bytes() == bpc
        && layout.kind != SampleKind::Bit;
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
    let mut out: Vec<Raster> = windows
        .iter()
        .enumerate()
        .map(|(wi, &(_, _, w, h))| {
            let n = layout.bands * w * h * bpc;
            // Room for the decoders' spare byte, so decoding in place does not reallocate.
            let cells = if direct_windows.contains(&wi) {
                Vec::with_capacity(n + 1)
            } else {
                vec![0u8; n]
            };
            Raster {
                cell_type,
                bands: layout.bands,
                rows: h,
                cols: w,
                cells,
            }
        })
        .collect();

    let mut scratch = Scratch::default();
    let mut seg_buf = Vec::new();
    let copier = Copier::new(layout.kind, cell_type, info.no_data);
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
        for p in 0..planes {
            let index = p * per_plane + seg;
            let range = segment_range(index);
            if range.end == range.start {
                // A sparse segment (no bytes): GDAL reads it as NoData, or 0 without one.
                fill_sparse(
                    &mut out,
                    windows,
                    wins,
                    layout,
                    (sx0, sy0),
                    &shape,
                    p,
                    &copier,
                );
                continue;
            }
            let data = src.read_shared(range.start, range.end - range.start)?;
            let fail = |e: String| {
                EngineError::geotiff(
                    path,
                    format!(
                        "segment {index} (bytes {}..{}): {e}",
                        range.start, range.end
                    ),
                )
            };
            if let Some(&wi) = direct.get(&seg) {
                let cells = &mut out[wi].cells;
                decode_segment(
                    layout,
                    info.little_endian,
                    &data,
                    &shape,
                    &mut scratch,
                    cells,
                )
                .map_err(fail)?;
                if cells.len() != layout.bands * windows[wi].2 * windows[wi].3 * bpc {
                    return Err(fail("decoded segment has the wrong size".into()));
                }
                continue;
            }
            decode_segment(
                layout,
                info.little_endian,
                &data,
                &shape,
                &mut scratch,
                &mut seg_buf,
            )
            .map_err(fail)?;
            for &wi in wins {
                copy_intersection(
                    &seg_buf,
                    &mut out[wi],
                    windows[wi],
                    layout,
                    (sx0, sy0),
                    &shape,
                    p,
                    &copier,
                );
            }
        }
    }
    src.clear_prefetched();
    Ok(out)
}

/// Converts stored samples to the cell type's storage.
struct Copier {
    kind: SampleKind,
    /// uint32 with NoData 0 becomes float32 with NaN NoData (GeoTrellis' constant type).
    zero_is_nan: bool,
    fill: Vec<u8>,
}

impl Copier {
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
            zero_is_nan,
            fill,
        }
    }

    fn needs_conversion(&self) -> bool {
        matches!(
            self.kind,
            SampleKind::U32 | SampleKind::U64 | SampleKind::I64
        )
    }

    #[inline]
    fn convert(&self, src: &[u8], dst: &mut [u8]) {
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

#[allow(clippy::too_many_arguments)]
fn copy_intersection(
    seg: &[u8],
    raster: &mut Raster,
    win: Window,
    layout: &ImageLayout,
    origin: (usize, usize),
    shape: &SegmentShape,
    plane: usize,
    copier: &Copier,
) {
    let Some((xs, ys)) = overlap(win, layout, origin, shape) else {
        return;
    };
    let (wx, wy, ww, wh) = win;
    let (sx0, sy0) = origin;
    let src_n = layout.kind.bytes();
    let dst_n = raster.cell_type.bytes_per_cell();
    let spp = shape.samples;
    let n = xs.len();
    let bands: Vec<(usize, usize)> = if layout.planar {
        vec![(plane, 0)]
    } else {
        (0..layout.bands).map(|b| (b, b)).collect()
    };
    for y in ys {
        let src_row = (y - sy0) * shape.cols;
        for &(band, sample) in &bands {
            let dst_start = ((band * wh + (y - wy)) * ww + (xs.start - wx)) * dst_n;
            let dst = &mut raster.cells[dst_start..dst_start + n * dst_n];
            if spp == 1 && !copier.needs_conversion() {
                let s = (src_row + xs.start - sx0) * src_n;
                dst.copy_from_slice(&seg[s..s + n * src_n]);
            } else {
                for (i, d) in dst.chunks_exact_mut(dst_n).enumerate() {
                    let s = ((src_row + xs.start - sx0 + i) * spp + sample) * src_n;
                    copier.convert(&seg[s..s + src_n], d);
                }
            }
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn fill_sparse(
    out: &mut [Raster],
    windows: &[Window],
    wins: &[usize],
    layout: &ImageLayout,
    origin: (usize, usize),
    shape: &SegmentShape,
    plane: usize,
    copier: &Copier,
) {
    for &wi in wins {
        let win = windows[wi];
        let Some((xs, ys)) = overlap(win, layout, origin, shape) else {
            continue;
        };
        let raster = &mut out[wi];
        let n = raster.cell_type.bytes_per_cell();
        let bands: Vec<usize> = if layout.planar {
            vec![plane]
        } else {
            (0..layout.bands).collect()
        };
        for y in ys.clone() {
            for &band in &bands {
                let start = ((band * win.3 + (y - win.1)) * win.2 + (xs.start - win.0)) * n;
                for d in raster.cells[start..start + xs.len() * n].chunks_exact_mut(n) {
                    d.copy_from_slice(&copier.fill);
                }
            }
        }
    }
}
