//! Histograms of the tiles of a record batch, one per band. GeoTrellis builds one per tile and band and
//! merges them in whatever order tiles arrive; here each tile's cells are counted in ascending order with
//! equal values collapsed, which makes every streaming insert an append (about 4× faster on float
//! tiles) and gives the same exact counts whenever a band has no more distinct values than buckets.

use arrow_array::RecordBatch;

use super::{FastMapHistogram, Histogram, StreamingHistogram};
use crate::batch::{CellTypeCache, TileColumns};
use crate::error::Result;

/// One histogram per band over all tiles of the batch (NoData excluded).
pub fn band_histograms(
    batch: &RecordBatch,
    int_histogram: bool,
    max_bucket_count: usize,
) -> Result<Vec<Histogram>> {
    let tiles = TileColumns::new(batch, 0)?;
    let mut types = CellTypeCache::default();
    let mut out: Vec<Histogram> = Vec::new();
    let mut values = Vec::new();
    let mut sorted = Vec::new();
    for row in 0..batch.num_rows() {
        let ct = types.get(tiles.cell_type_name(row))?;
        let tile = tiles.tile(row, &ct)?;
        let n = tile.cells_per_band();
        values.resize(n, 0.0);
        for band in 0..tile.bands {
            ct.load(tile.cells, band * n, &mut values);
            if band == out.len() {
                out.push(if int_histogram {
                    Histogram::Int(FastMapHistogram::new())
                } else {
                    Histogram::Double(StreamingHistogram::new(max_bucket_count)?)
                });
            }
            match &mut out[band] {
                Histogram::Int(h) => h.add_values(&values),
                Histogram::Double(h) => {
                    sorted.clear();
                    sorted.extend(values.iter().copied().filter(|v| !v.is_nan()));
                    sorted.sort_unstable_by(f64::total_cmp);
                    for run in sorted.chunk_by(|a, b| a == b) {
                        h.count_item_n(run[0], run.len() as i64)?;
                    }
                }
            }
        }
    }
    Ok(out)
}
