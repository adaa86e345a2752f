//! Stitching the tiles of a layer into one raster (driver side, DESIGN §4).

use arrow_array::types::Int32Type;
use arrow_array::RecordBatch;

use crate::batch::{check_same_shape, primitive_column, CellTypeCache, TileColumns, TileRef};
use crate::cell_type::CellType;
use crate::error::{EngineError, Result};
use crate::merge::is_empty;
use crate::retile::empty_cell;

/// The stitched raster: cell type, bands, rows, cols, band-sequential little-endian cells, and the key
/// range `(min col, min row, max col, max row)` it covers.
pub type Stitched = (CellType, usize, usize, usize, Vec<u8>, (i32, i32, i32, i32));

/// Mosaic the tiles of `batch` (int32 `col`, `row` + tile columns) over the key range present. Cells with no
/// tile are empty (`retile::empty_cell`); when a key repeats, later rows fill the cells still empty (as
/// `merge` judges them), as `merge` does. Tiles of different cell types are stitched in their union.
pub fn stitch(batch: &RecordBatch) -> Result<Stitched> {
    let (cols, rows) = (
        primitive_column::<Int32Type>(batch, "col")?,
        primitive_column::<Int32Type>(batch, "row")?,
    );
    let tiles = TileColumns::new(batch, 0)?;
    let n = batch.num_rows();
    if n == 0 {
        return Err(EngineError::Value("there are no tiles to stitch".into()));
    }
    let mut types = CellTypeCache::default();
    let all: Vec<(TileRef, CellType)> = (0..n)
        .map(|i| {
            let ct = types.get(tiles.cell_type_name(i))?;
            Ok((tiles.tile(i, &ct)?, ct))
        })
        .collect::<Result<_>>()?;
    let t0 = all[0].0;
    check_same_shape(all.iter().map(|(t, _)| t), "stitch")?;
    let ct = all
        .iter()
        .skip(1)
        .fold(all[0].1, |acc, (_, t)| acc.union(t));
    let min_col = cols.values().iter().min().copied().unwrap();
    let max_col = cols.values().iter().max().copied().unwrap();
    let min_row = rows.values().iter().min().copied().unwrap();
    let max_row = rows.values().iter().max().copied().unwrap();
    let too_big = || EngineError::Value("the stitched raster would be too large".into());
    let (tc, tr, bands) = (t0.cols, t0.rows, t0.bands);
    let out_cols = ((max_col as i64 - min_col as i64 + 1) as usize)
        .checked_mul(tc)
        .ok_or_else(too_big)?;
    let out_rows = ((max_row as i64 - min_row as i64 + 1) as usize)
        .checked_mul(tr)
        .ok_or_else(too_big)?;
    let bpc = ct.bytes_per_cell();
    let total = bands
        .checked_mul(out_rows)
        .and_then(|v| v.checked_mul(out_cols))
        .and_then(|v| v.checked_mul(bpc))
        .filter(|v| *v <= isize::MAX as usize)
        .ok_or_else(too_big)?;
    let empty = empty_cell(&ct);
    let mut out: Vec<u8> = if empty.iter().all(|b| *b == 0) {
        vec![0u8; total]
    } else {
        empty.repeat(total / bpc)
    };
    let key_tiles = (max_col as i64 - min_col as i64 + 1) as usize;
    let mut seen = vec![false; key_tiles * ((max_row as i64 - min_row as i64 + 1) as usize)];
    let mut src = vec![0.0f64; tc];
    let mut dst = vec![0.0f64; tc];
    let mut stored = Vec::with_capacity(tc * bpc);
    let is_empty = |v: f64| is_empty(&ct, v);
    for (i, (t, tct)) in all.iter().enumerate() {
        let (kc, kr) = (
            (cols.value(i) - min_col) as usize,
            (rows.value(i) - min_row) as usize,
        );
        let first = !std::mem::replace(&mut seen[kr * key_tiles + kc], true);
        for b in 0..bands {
            for r in 0..tr {
                let src_cell = (b * tr + r) * tc;
                let dst_cell = (b * out_rows + kr * tr + r) * out_cols + kc * tc;
                let dst_bytes = dst_cell * bpc..(dst_cell + tc) * bpc;
                if first && *tct == ct {
                    out[dst_bytes].copy_from_slice(&t.cells[src_cell * bpc..(src_cell + tc) * bpc]);
                    continue;
                }
                tct.load(t.cells, src_cell, &mut src);
                if *tct != ct {
                    ct.normalize(&mut src);
                }
                if !first {
                    ct.load(&out, dst_cell, &mut dst);
                    for (s, d) in src.iter_mut().zip(&dst) {
                        if !is_empty(*d) {
                            *s = *d;
                        }
                    }
                }
                stored.clear();
                ct.store(&src, &mut stored);
                out[dst_bytes].copy_from_slice(&stored);
            }
        }
    }
    Ok((
        ct,
        bands,
        out_rows,
        out_cols,
        out,
        (min_col, min_row, max_col, max_row),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::retile::tests::{as_f32, f32s, keyed};

    #[test]
    fn mosaic_with_gap_and_bands() {
        // Keys (1,5), (2,6): a 2×2 key range with two gaps; 2-band 1×2 tiles of uint8.
        let b = keyed(
            &[(1, 5), (2, 6)],
            &[
                ("uint8", 2, 1, 2, vec![1, 2, 3, 4]),
                ("uint8", 2, 1, 2, vec![5, 6, 7, 8]),
            ],
        );
        let (ct, bands, rows, cols, cells, bounds) = stitch(&b).unwrap();
        assert_eq!(
            (ct.name(), bands, rows, cols, bounds),
            ("uint8".to_string(), 2, 2, 4, (1, 5, 2, 6))
        );
        #[rustfmt::skip]
        assert_eq!(cells, vec![1, 2, 0, 0,
                               0, 0, 5, 6,
                               3, 4, 0, 0,
                               0, 0, 7, 8]);
    }

    #[test]
    fn duplicates_fill_and_union() {
        let nd = f32::NAN;
        let b = keyed(
            &[(0, 0), (0, 0), (1, 0)],
            &[
                ("float32", 1, 1, 2, f32s(&[1.0, nd])),
                ("float32", 1, 1, 2, f32s(&[9.0, 2.0])),
                ("float32", 1, 1, 2, f32s(&[3.0, 4.0])),
            ],
        );
        let (_, _, rows, cols, cells, _) = stitch(&b).unwrap();
        assert_eq!((rows, cols), (1, 4));
        assert_eq!(as_f32(&cells), vec![1.0, 2.0, 3.0, 4.0]);
        // int16 with ud NoData, and a float32 tile: union float32; an int16 NoData becomes NaN.
        let b = keyed(
            &[(0, 0), (2, 0)],
            &[
                ("int16ud-5", 1, 1, 1, (-5i16).to_le_bytes().to_vec()),
                ("float32", 1, 1, 1, f32s(&[1.5])),
            ],
        );
        let (ct, _, _, cols, cells, _) = stitch(&b).unwrap();
        assert_eq!((ct.name(), cols), ("float32".to_string(), 3));
        let v = as_f32(&cells);
        assert!(v[0].is_nan() && v[1].is_nan() && v[2] == 1.5);
        // Raw types are 0-filled; mismatched shapes and empty batches are errors.
        let b = keyed(
            &[(0, 0), (1, 1)],
            &[
                ("int16raw", 1, 1, 1, vec![7, 0]),
                ("int16raw", 1, 1, 1, vec![8, 0]),
            ],
        );
        assert_eq!(stitch(&b).unwrap().4, vec![7, 0, 0, 0, 0, 0, 8, 0]);
        let b = keyed(
            &[(0, 0), (1, 0)],
            &[("uint8", 1, 1, 1, vec![1]), ("uint8", 1, 1, 2, vec![1, 2])],
        );
        assert!(matches!(stitch(&b), Err(EngineError::Mismatch(_))));
        assert!(stitch(&b.slice(0, 0)).is_err());
    }
}
