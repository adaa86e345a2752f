//! Layer statistics over batches of tiles.

use arrow_array::RecordBatch;

use crate::batch::{CellTypeCache, TileColumns};
use crate::error::Result;

const CHUNK: usize = 2048;

/// The smallest and largest data value over all cells of all bands of all tiles (NoData excluded, as
/// GeoTrellis' `findMinMaxDouble`), or None when there is no data cell.
pub fn min_max(batch: &RecordBatch) -> Result<Option<(f64, f64)>> {
    let tiles = TileColumns::new(batch, 0)?;
    let mut types = CellTypeCache::default();
    let mut values = vec![0.0f64; CHUNK];
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    let mut any = false;
    for i in 0..batch.num_rows() {
        let ct = types.get(tiles.cell_type_name(i))?;
        let tile = tiles.tile(i, &ct)?;
        let n = tile.bands * tile.cells_per_band();
        let mut start = 0;
        while start < n {
            let len = CHUNK.min(n - start);
            let v = &mut values[..len];
            ct.load(tile.cells, start, v);
            // f64::min/max ignore a NaN operand, so NoData needs no branch.
            for x in v.iter() {
                lo = lo.min(*x);
                hi = hi.max(*x);
            }
            any = any || v.iter().any(|x| !x.is_nan());
            start += len;
        }
    }
    Ok(any.then_some((lo, hi)))
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
