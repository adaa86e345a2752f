//! Histograms of the tiles of a record batch, one per band (GeoTrellis builds one per tile and band and
//! merges them; adding every tile's cells to one running histogram per band is the same without the
//! per-tile allocations).

use arrow_array::RecordBatch;

use super::{FastMapHistogram, Histogram, StreamingHistogram};
use crate::batch::{CellTypeCache, TileColumns};
use crate::error::Result;

/// One histogram per band over all tiles of the batch (NoData excluded).
pub fn band_histograms(batch: &RecordBatch, int_histogram: bool, max_bucket_count: usize) -> Result<Vec<Histogram>> {
    let tiles = TileColumns::new(batch, 0)?;
    let mut types = CellTypeCache::default();
    let mut out: Vec<Histogram> = Vec::new();
    let mut values = Vec::new();
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
                Histogram::Double(h) => h.add_values(&values),
            }
        }
    }
    Ok(out)
}
