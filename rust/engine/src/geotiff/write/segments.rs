//! Cutting a band-sequential raster into TIFF segments (strips or tiles), each predicted and compressed.

use super::compress::{apply_predictor, Compression, Predictor};
use crate::error::Result;

/// A band-sequential raster of `bands × rows × cols` cells of `cell_bytes` bytes each.
pub struct Grid<'a> {
    pub cells: &'a [u8],
    pub bands: usize,
    pub rows: usize,
    pub cols: usize,
    pub cell_bytes: usize,
    /// Samples are written as single bits (GeoTrellis' bool); the input still has one byte per cell.
    pub one_bit: bool,
}

/// Segment geometry: `seg_cols × seg_rows` blocks; striped images have `seg_cols == cols` and a short
/// last strip, tiled images pad edge tiles to full size (TIFF requires whole tiles).
#[derive(Clone, Copy, Debug)]
pub struct SegmentLayout {
    pub seg_cols: usize,
    pub seg_rows: usize,
    pub tiled: bool,
}

impl SegmentLayout {
    pub fn across(&self, cols: usize) -> usize {
        cols.div_ceil(self.seg_cols)
    }
    pub fn down(&self, rows: usize) -> usize {
        rows.div_ceil(self.seg_rows)
    }
}

/// Every segment of `grid`, in TIFF order (band-major when `planar`), predicted and compressed.
pub fn encode_segments(
    grid: &Grid,
    layout: SegmentLayout,
    planar: bool,
    predictor: Predictor,
    compression: Compression,
) -> Result<Vec<Vec<u8>>> {
    let (across, down) = (layout.across(grid.cols), layout.down(grid.rows));
    let planes = if planar { grid.bands } else { 1 };
    let spp = if planar { 1 } else { grid.bands };
    let mut out = Vec::with_capacity(planes * across * down);
    for plane in 0..planes {
        for sy in 0..down {
            for sx in 0..across {
                let y0 = sy * layout.seg_rows;
                let x0 = sx * layout.seg_cols;
                let h = layout.seg_rows.min(grid.rows - y0);
                let w = layout.seg_cols.min(grid.cols - x0);
                let seg_h = if layout.tiled { layout.seg_rows } else { h };
                let mut raw = if grid.one_bit {
                    pack_bits(grid, plane, planar, x0, y0, w, h, layout.seg_cols * spp, seg_h)
                } else {
                    copy_cells(grid, plane, planar, x0, y0, w, h, layout.seg_cols, seg_h)
                };
                if !grid.one_bit {
                    apply_predictor(predictor, &mut raw, seg_h, layout.seg_cols * spp, spp, grid.cell_bytes);
                }
                out.push(compression.encode(raw)?);
            }
        }
    }
    Ok(out)
}

/// The cells of a `w × h` window at (x0, y0) in a `seg_cols × seg_h` block, zero-padded; one band when
/// `planar`, else all bands pixel-interleaved.
#[allow(clippy::too_many_arguments)]
fn copy_cells(
    g: &Grid,
    plane: usize,
    planar: bool,
    x0: usize,
    y0: usize,
    w: usize,
    h: usize,
    seg_cols: usize,
    seg_h: usize,
) -> Vec<u8> {
    let cb = g.cell_bytes;
    let spp = if planar { 1 } else { g.bands };
    let row_bytes = seg_cols * spp * cb;
    let mut raw = vec![0u8; row_bytes * seg_h];
    for r in 0..h {
        let dst_row = &mut raw[r * row_bytes..(r + 1) * row_bytes];
        if planar {
            let src = ((plane * g.rows + y0 + r) * g.cols + x0) * cb;
            dst_row[..w * cb].copy_from_slice(&g.cells[src..src + w * cb]);
        } else {
            for b in 0..g.bands {
                let src = ((b * g.rows + y0 + r) * g.cols + x0) * cb;
                let src_row = &g.cells[src..src + w * cb];
                for (c, cell) in src_row.chunks_exact(cb).enumerate() {
                    let at = (c * spp + b) * cb;
                    dst_row[at..at + cb].copy_from_slice(cell);
                }
            }
        }
    }
    raw
}

/// Like `copy_cells` for 1-bit samples: each row of `row_samples` bits packed most significant bit
/// first and padded to a whole byte.
#[allow(clippy::too_many_arguments)]
fn pack_bits(
    g: &Grid,
    plane: usize,
    planar: bool,
    x0: usize,
    y0: usize,
    w: usize,
    h: usize,
    row_samples: usize,
    seg_h: usize,
) -> Vec<u8> {
    let row_bytes = row_samples.div_ceil(8);
    let spp = if planar { 1 } else { g.bands };
    let mut raw = vec![0u8; row_bytes * seg_h];
    for r in 0..h {
        let dst_row = &mut raw[r * row_bytes..(r + 1) * row_bytes];
        for c in 0..w {
            for s in 0..spp {
                let band = if planar { plane } else { s };
                let v = g.cells[(band * g.rows + y0 + r) * g.cols + x0 + c] & 1;
                let bit = c * spp + s;
                dst_row[bit / 8] |= v << (7 - bit % 8);
            }
        }
    }
    raw
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_tiles_are_padded_and_band_major() {
        // 2 bands of 3×5 u8 cells, 4×4 tiles → 2 tiles per band.
        let cells: Vec<u8> = (0..30).collect();
        let g = Grid { cells: &cells, bands: 2, rows: 3, cols: 5, cell_bytes: 1, one_bit: false };
        let layout = SegmentLayout { seg_cols: 4, seg_rows: 4, tiled: true };
        let segs = encode_segments(&g, layout, true, Predictor::None, Compression::None).unwrap();
        assert_eq!(segs.len(), 4);
        assert_eq!(segs[0], vec![0, 1, 2, 3, 5, 6, 7, 8, 10, 11, 12, 13, 0, 0, 0, 0]);
        assert_eq!(segs[1], vec![4, 0, 0, 0, 9, 0, 0, 0, 14, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(segs[2][..4], [15, 16, 17, 18]);
        let chunky = encode_segments(&g, layout, false, Predictor::None, Compression::None).unwrap();
        assert_eq!(chunky.len(), 2);
        assert_eq!(chunky[0][..6], [0, 15, 1, 16, 2, 17]);
    }

    #[test]
    fn write_strips_have_a_short_last_strip_and_pack_bits() {
        let cells: Vec<u8> = (0..30).map(|i| (i % 3 == 0) as u8).collect();
        let g = Grid { cells: &cells, bands: 1, rows: 3, cols: 10, cell_bytes: 1, one_bit: true };
        let layout = SegmentLayout { seg_cols: 10, seg_rows: 2, tiled: false };
        let segs = encode_segments(&g, layout, true, Predictor::None, Compression::None).unwrap();
        assert_eq!(segs.len(), 2);
        // Row 0: 1001001001 → 10010010 01000000; row 1 (cells 10..20): 0010010010.
        assert_eq!(segs[0], vec![0b1001_0010, 0b0100_0000, 0b0010_0100, 0b1000_0000]);
        assert_eq!(segs[1].len(), 2);
    }
}
