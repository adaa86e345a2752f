//! Layer statistics over batches of tiles.

use arrow_array::RecordBatch;

use crate::batch::{CellTypeCache, TileColumns};
use crate::cell_type::{DataType, NoData};
use crate::error::Result;

const CHUNK: usize = 2048;

/// The smallest and largest data value over all cells of all bands of all tiles (NoData excluded, as
/// GeoTrellis' `findMinMaxDouble`), or None when there is no data cell.
pub fn min_max(batch: &RecordBatch) -> Result<Option<(f64, f64)>> {
    let tiles = TileColumns::new(batch, 0)?;
    let mut types = CellTypeCache::default();
    let mut values = vec![0.0f64; CHUNK];
    // Independent lanes, so the compiler can keep them in vector registers (one running min/max would be a
    // chain of dependent instructions).
    let (mut lo, mut hi) = ([f64::INFINITY; LANES], [f64::NEG_INFINITY; LANES]);
    for i in 0..batch.num_rows() {
        let ct = types.get(tiles.cell_type_name(i))?;
        let tile = tiles.tile(i, &ct)?;
        let n = tile.bands * tile.cells_per_band();
        if ct.data_type == DataType::Float32 && !matches!(ct.no_data, NoData::UserDefined(_)) {
            // NoData is NaN (or there is none): the stored floats need no conversion.
            min_max_f32(&tile.cells[..n * 4], &mut lo, &mut hi);
            continue;
        }
        let mut start = 0;
        while start < n {
            let len = CHUNK.min(n - start);
            let v = &mut values[..len];
            ct.load(tile.cells, start, v);
            // f64::min/max ignore a NaN operand, so NoData needs no branch.
            let mut lanes = v.chunks_exact(LANES);
            for chunk in &mut lanes {
                for k in 0..LANES {
                    lo[k] = lo[k].min(chunk[k]);
                    hi[k] = hi[k].max(chunk[k]);
                }
            }
            for (k, x) in lanes.remainder().iter().enumerate() {
                lo[k] = lo[k].min(*x);
                hi[k] = hi[k].max(*x);
            }
            start += len;
        }
    }
    let lo = lo.iter().fold(f64::INFINITY, |a, b| a.min(*b));
    let hi = hi.iter().fold(f64::NEG_INFINITY, |a, b| a.max(*b));
    // No data cell leaves the starting values, the only way lo > hi.
    Ok((lo <= hi).then_some((lo, hi)))
}

const LANES: usize = 8;

/// Fold little-endian float32 cells into the lanes.
fn min_max_f32(cells: &[u8], lo: &mut [f64; LANES], hi: &mut [f64; LANES]) {
    let (mut lo32, mut hi32) = ([f32::INFINITY; LANES], [f32::NEG_INFINITY; LANES]);
    let mut lanes = cells.chunks_exact(4 * LANES);
    for chunk in &mut lanes {
        for k in 0..LANES {
            let x = f32::from_le_bytes([chunk[4 * k], chunk[4 * k + 1], chunk[4 * k + 2], chunk[4 * k + 3]]);
            lo32[k] = lo32[k].min(x);
            hi32[k] = hi32[k].max(x);
        }
    }
    for (k, c) in lanes.remainder().chunks_exact(4).enumerate() {
        let x = f32::from_le_bytes([c[0], c[1], c[2], c[3]]);
        lo32[k] = lo32[k].min(x);
        hi32[k] = hi32[k].max(x);
    }
    for k in 0..LANES {
        lo[k] = lo[k].min(lo32[k] as f64);
        hi[k] = hi[k].max(hi32[k] as f64);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::retile::tests::{f32s, tile_batch};

    #[test]
    fn min_max_skips_nodata() {
        let b = tile_batch(
            vec![],
            &[
                (
                    "int16ud-9",
                    2,
                    1,
                    2,
                    [-9i16, 3, 40, -2]
                        .iter()
                        .flat_map(|v| v.to_le_bytes())
                        .collect(),
                ),
                ("float32", 1, 1, 2, f32s(&[f32::NAN, 7.5])),
            ],
        );
        assert_eq!(min_max(&b).unwrap(), Some((-2.0, 40.0)));
        let b = tile_batch(vec![], &[("uint8", 1, 1, 2, vec![0, 0])]);
        assert_eq!(min_max(&b).unwrap(), None);
        assert_eq!(min_max(&b.slice(0, 0)).unwrap(), None);
        let b = tile_batch(vec![], &[("uint8raw", 1, 1, 2, vec![0, 9])]);
        assert_eq!(min_max(&b).unwrap(), Some((0.0, 9.0)));
    }
}
