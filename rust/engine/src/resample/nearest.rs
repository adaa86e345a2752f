//! Nearest neighbour (GeoTrellis `NearestNeighborResample`): the cell the point falls in, found with
//! `RasterExtent.mapXToGrid` (floor with a 1e-7 tolerance) and clamped to the last column/row so that a
//! point on the east or south edge takes the edge cell.

use super::SourceBand;
use crate::cell_type::CellType;

/// GeoTrellis `GridExtent.epsilon`.
pub(super) const GRID_EPSILON: f64 = 1e-7;

/// `GridExtent.floorWithTolerance`: a value within 1e-7 of an integer is that integer.
#[inline(always)]
pub(crate) fn floor_with_tolerance(v: f64) -> f64 {
    let rounded = super::round_half_up(v);
    if (v - rounded).abs() < GRID_EPSILON {
        rounded
    } else {
        v.floor()
    }
}

/// Source column of a valid x (`xmin ≤ x ≤ xmax`).
#[inline(always)]
pub(super) fn index_x(b: &SourceBand, x: f64) -> usize {
    let c = floor_with_tolerance((x - b.xmin) / b.cw);
    (c.max(0.0) as usize).min(b.cols - 1)
}

/// Source row of a valid y (`ymin ≤ y ≤ ymax`).
#[inline(always)]
pub(super) fn index_y(b: &SourceBand, y: f64) -> usize {
    let r = floor_with_tolerance((b.ymax - y) / b.ch);
    (r.max(0.0) as usize).min(b.rows - 1)
}

/// Nearest neighbour over stored bytes: each destination cell copies its source cell, or gets the stored
/// NoData (`store(NaN)`, which is what GeoTrellis writes for NoData in raw types too) outside the source.
#[allow(clippy::too_many_arguments)]
pub(super) fn grid_bytes(
    cells: &[u8],
    ct: &CellType,
    bands: usize,
    src_cols: usize,
    src_rows: usize,
    src_extent: [f64; 4],
    xs: &[f64],
    ys: &[f64],
    out_len: usize,
) -> Vec<u8> {
    // A SourceBand only for its geometry: its cells are never read.
    let b = SourceBand {
        cells: &[],
        cols: src_cols,
        rows: src_rows,
        xmin: src_extent[0],
        ymin: src_extent[1],
        xmax: src_extent[2],
        ymax: src_extent[3],
        cw: (src_extent[2] - src_extent[0]) / src_cols as f64,
        ch: (src_extent[3] - src_extent[1]) / src_rows as f64,
    };
    let col_map: Vec<Option<usize>> = xs.iter().map(|&x| b.valid_x(x).then(|| index_x(&b, x))).collect();
    let row_map: Vec<Option<usize>> = ys.iter().map(|&y| b.valid_y(y).then(|| index_y(&b, y))).collect();
    let mut nodata = Vec::new();
    ct.store(&[f64::NAN], &mut nodata);
    let mut out = vec![0u8; out_len];
    let bpc = ct.bytes_per_cell();
    let dst_row_len = xs.len() * bpc;
    match bpc {
        1 => copy::<1>(cells, &mut out, bands, src_cols * src_rows, src_cols, &col_map, &row_map, &nodata, dst_row_len),
        2 => copy::<2>(cells, &mut out, bands, src_cols * src_rows, src_cols, &col_map, &row_map, &nodata, dst_row_len),
        4 => copy::<4>(cells, &mut out, bands, src_cols * src_rows, src_cols, &col_map, &row_map, &nodata, dst_row_len),
        _ => copy::<8>(cells, &mut out, bands, src_cols * src_rows, src_cols, &col_map, &row_map, &nodata, dst_row_len),
    }
    out
}

#[allow(clippy::too_many_arguments)]
#[inline(never)]
fn copy<const N: usize>(
    cells: &[u8],
    out: &mut [u8],
    bands: usize,
    src_n: usize,
    src_cols: usize,
    col_map: &[Option<usize>],
    row_map: &[Option<usize>],
    nodata: &[u8],
    dst_row_len: usize,
) {
    let nodata: [u8; N] = nodata.try_into().expect("one stored cell");
    let dst_rows = row_map.len();
    for band in 0..bands {
        let src = &cells[band * src_n * N..(band + 1) * src_n * N];
        let dst = &mut out[band * dst_rows * dst_row_len..(band + 1) * dst_rows * dst_row_len];
        for (drow, r) in dst.chunks_exact_mut(dst_row_len).zip(row_map) {
            let Some(r) = r else {
                drow.chunks_exact_mut(N).for_each(|d| d.copy_from_slice(&nodata));
                continue;
            };
            let srow = &src[r * src_cols * N..(r + 1) * src_cols * N];
            for (d, c) in drow.chunks_exact_mut(N).zip(col_map) {
                match c {
                    Some(c) => d.copy_from_slice(&srow[c * N..c * N + N]),
                    None => d.copy_from_slice(&nodata),
                }
            }
        }
    }
}
