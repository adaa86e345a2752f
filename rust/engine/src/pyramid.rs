//! One pyramid level up (GeoTrellis `Pyramid.up`, format reference §5.5): every tile of a layer is
//! downsampled to half its size over its own key extent with a resample method, then placed into the
//! next, coarser layout.
//!
//! Two ways of placing, both ending in a shuffle on the new keys:
//! * [`downsample_to_layout`] (any pair of layouts): each half tile is placed, with nearest sampling and
//!   `cut_to_layout`'s rules, into full tiles of every new key its extent overlaps; the rows of one key are
//!   then combined by the "fill" merge. GeoTrellis only places a piece into the key holding its centre,
//!   which leaves holes when a piece straddles two keys (odd local layouts); we place it into all of them.
//! * [`downsample_quadrants`] + [`assemble_runs`] (the new layout has exactly half the tiles per axis over
//!   the same extent, as every ZoomedLayoutScheme level and even LocalLayoutScheme levels): each half tile
//!   is exactly one quadrant of its new tile, so only the half tile and its pixel offset cross the shuffle
//!   (a quarter of the bytes of full tiles) and the quadrants are assembled after it.
//!
//! Downsampling is `resample::resample_grid` from `cols × rows` to `cols/2 × rows/2` over the same extent.
//! For that 2× reduction its methods give what §5.5 says of GeoTrellis: NearestNeighbor takes the
//! bottom-right cell `(2c+1, 2r+1)` of each 2×2 block (the target centre is the block's shared corner,
//! floored with tolerance), Average the mean of the block's data cells (integer types truncate), Max/Min/
//! Median/Mode over the block's data cells, Bilinear the rounded mean of the four.

use std::ops::Range;
use std::sync::Arc;

use arrow_array::types::{Int32Type, Int64Type};
use arrow_array::{Array, ArrayRef, Int32Array, Int64Array, RecordBatch};
use arrow_schema::{DataType as ArrowType, Field};

use crate::batch::{
    keyed_tiles, primitive_column, uses_large_types, CellTypeCache, TileBuilder, TileColumns, TileRef,
};
use crate::cell_type::CellType;
use crate::error::{EngineError, Result};
use crate::exchange::{reduce_runs, KeyedTiles, RunKernel};
use crate::resample::{resample_grid, ResampleMethod};
use crate::layout::{Extent, Layout};
use crate::retile::{empty_cell, place};


/// The methods `Pyramid.up` accepts (GeoTrellis rejects the cubic methods and Lanczos).
pub fn check_method(method: ResampleMethod) -> Result<()> {
    use ResampleMethod as M;
    match method {
        M::CubicConvolution | M::CubicSpline | M::Lanczos => Err(EngineError::Value(format!(
            "pyramiding cannot use {}; use NearestNeighbor, Bilinear, Average, Mode, Median, Max or Min",
            method.name()
        ))),
        _ => Ok(()),
    }
}

/// Whether `dst` has exactly half the tiles of `src` per axis over the same extent and tile size, so
/// that every half tile is one quadrant of a new tile.
pub fn is_quadrant_step(src: &Layout, dst: &Layout) -> bool {
    src.layout_cols == 2 * dst.layout_cols
        && src.layout_rows == 2 * dst.layout_rows
        && src.tile_cols == dst.tile_cols
        && src.tile_rows == dst.tile_rows
        && src.extent() == dst.extent()
}

/// The key columns of a tiled batch.
struct Keys<'a> {
    col: &'a Int32Array,
    row: &'a Int32Array,
    instant: Option<&'a Int64Array>,
}

impl<'a> Keys<'a> {
    fn new(batch: &'a RecordBatch) -> Result<Self> {
        let instant = match batch.column_by_name("instant") {
            None => None,
            Some(_) => Some(primitive_column::<Int64Type>(batch, "instant")?),
        };
        Ok(Keys {
            col: primitive_column::<Int32Type>(batch, "col")?,
            row: primitive_column::<Int32Type>(batch, "row")?,
            instant,
        })
    }

}

/// The half-size tile of row `i` over its key extent: `(cell type, bands, half cols, half rows, cells)`.
fn half_tile(
    tiles: &TileColumns,
    types: &mut CellTypeCache,
    i: usize,
    ke: &Extent,
    method: ResampleMethod,
) -> Result<Option<(CellType, usize, usize, usize, Vec<u8>)>> {
    let ct = types.get(tiles.cell_type_name(i))?;
    let tile = tiles.tile(i, &ct)?;
    if tile.cols % 2 != 0 || tile.rows % 2 != 0 {
        return Err(EngineError::Value(format!(
            "pyramiding halves tiles, so their size must be even; got {}×{} tiles",
            tile.cols, tile.rows
        )));
    }
    if tile.cols == 0 || tile.rows == 0 || tile.bands == 0 {
        return Ok(None);
    }
    let (hc, hr) = (tile.cols / 2, tile.rows / 2);
    let ext = [ke.xmin, ke.ymin, ke.xmax, ke.ymax];
    let cells = resample_grid(
        tile.cells, &ct, tile.bands, tile.cols, tile.rows, ext, hc, hr, ext, method,
    )?;
    Ok(Some((ct, tile.bands, hc, hr, cells)))
}

/// The output rows: keys, the instant if any, `extra` int32 columns, then the tiles.
fn output_batch(
    cols: Vec<i32>,
    rows: Vec<i32>,
    instants: Option<(Vec<i64>, bool)>,
    extra: Vec<(&str, Vec<i32>)>,
    out: TileBuilder,
    large: bool,
) -> Result<RecordBatch> {
    let mut columns: Vec<(Field, ArrayRef)> = Vec::new();
    if let Some((inst, nullable)) = instants {
        columns.push((Field::new("instant", ArrowType::Int64, nullable), Arc::new(Int64Array::from(inst))));
    }
    for (name, v) in extra {
        columns.push((Field::new(name, ArrowType::Int32, false), Arc::new(Int32Array::from(v))));
    }
    keyed_tiles(cols, rows, columns, out, large)
}

/// Downsample every tile (`col`, `row`, optional `instant`, tile columns; keys in `src`) and place it into
/// full tiles of `dst`: one output row per (tile, overlapped new key), in the tile contract. Combine the
/// rows of one key with the "fill" merge after shuffling.
pub fn downsample_to_layout(
    batch: &RecordBatch,
    src: &Layout,
    dst: &Layout,
    method: ResampleMethod,
) -> Result<RecordBatch> {
    src.validate()?;
    dst.validate()?;
    check_method(method)?;
    let keys = Keys::new(batch)?;
    let tiles = TileColumns::new(batch, 0)?;
    let mut types = CellTypeCache::default();
    let (tc, tr) = (dst.tile_cols, dst.tile_rows);
    let (mut out_cols, mut out_rows, mut out_inst) = (Vec::new(), Vec::new(), Vec::new());
    let mut out = TileBuilder::with_capacity(batch.num_rows(), 0);
    for i in 0..batch.num_rows() {
        let ke = src.key_extent(keys.col.value(i) as i64, keys.row.value(i) as i64);
        let Some((ct, bands, hc, hr, half)) = half_tile(&tiles, &mut types, i, &ke, method)? else {
            continue;
        };
        let Some((c0, r0, c1, r1)) = dst.key_bounds_in_layout(&ke) else {
            continue;
        };
        let piece = TileRef {
            cell_type: tiles.cell_type_name(i),
            bands,
            rows: hr,
            cols: hc,
            cells: &half,
        };
        for key_row in r0..=r1 {
            for key_col in c0..=c1 {
                let de = dst.key_extent(key_col, key_row);
                if !de.overlaps(&ke) {
                    continue;
                }
                place(&piece, &ct, &ke, &de, tc, tr, out.values_mut());
                out.finish_tile(&ct, bands, tr, tc);
                out_cols.push(key_col as i32);
                out_rows.push(key_row as i32);
                if let Some(t) = keys.instant {
                    out_inst.push(t.value(i));
                }
            }
        }
    }
    let instants = keys.instant.map(|_| (out_inst, false));
    output_batch(
        out_cols,
        out_rows,
        instants,
        vec![],
        out,
        uses_large_types(batch),
    )
}

/// Downsample every tile to its half and key it by its new key (`col/2`, `row/2`) with the pixel offset of
/// its quadrant in the new tile (`x_off`, `y_off`). Requires [`is_quadrant_step`]. Output columns: `col`,
/// `row`, optional `instant`, `x_off`, `y_off`, tile columns (half-size tiles).
pub fn downsample_quadrants(
    batch: &RecordBatch,
    src: &Layout,
    dst: &Layout,
    method: ResampleMethod,
) -> Result<RecordBatch> {
    src.validate()?;
    dst.validate()?;
    check_method(method)?;
    if !is_quadrant_step(src, dst) {
        return Err(EngineError::Value(format!(
            "the layout {}×{} tiles is not the quadrant reduction of {}×{} over the same extent",
            dst.layout_cols, dst.layout_rows, src.layout_cols, src.layout_rows
        )));
    }
    let keys = Keys::new(batch)?;
    let tiles = TileColumns::new(batch, 0)?;
    let mut types = CellTypeCache::default();
    let n = batch.num_rows();
    let (mut out_cols, mut out_rows, mut out_inst) =
        (Vec::with_capacity(n), Vec::with_capacity(n), Vec::new());
    let (mut xo, mut yo) = (Vec::with_capacity(n), Vec::with_capacity(n));
    let bytes = batch
        .column_by_name("cells")
        .map_or(0, |c| c.get_buffer_memory_size() / 4);
    let mut out = TileBuilder::with_capacity(n, bytes);
    for i in 0..n {
        let (c, r) = (keys.col.value(i), keys.row.value(i));
        if c < 0 || r < 0 || c as usize >= src.layout_cols || r as usize >= src.layout_rows {
            continue; // outside the layout: no new key holds it
        }
        let ke = src.key_extent(c as i64, r as i64);
        let Some((ct, bands, hc, hr, half)) = half_tile(&tiles, &mut types, i, &ke, method)? else {
            continue;
        };
        if 2 * hc != dst.tile_cols || 2 * hr != dst.tile_rows {
            return Err(EngineError::Mismatch(format!(
                "a {}×{} tile in a layout of {}×{} tiles",
                2 * hc,
                2 * hr,
                src.tile_cols,
                src.tile_rows
            )));
        }
        out.push_tile(&ct, bands, hr, hc, &half);
        out_cols.push(c / 2);
        out_rows.push(r / 2);
        xo.push((c % 2) * hc as i32);
        yo.push((r % 2) * hr as i32);
        if let Some(t) = keys.instant {
            out_inst.push(t.value(i));
        }
    }
    let instants = keys.instant.map(|_| (out_inst, false));
    output_batch(
        out_cols,
        out_rows,
        instants,
        vec![("x_off", xo), ("y_off", yo)],
        out,
        uses_large_types(batch),
    )
}

/// Whether a stored cell is still empty for the "fill" merge: a cell with no source (`empty_cell`).
fn empty_bytes_test(ct: &CellType) -> impl Fn(&[u8]) -> bool {
    let ct = *ct;
    let empty = empty_cell(&ct);
    move |b: &[u8]| {
        if ct.data_type.is_float() {
            // Any NaN payload is empty.
            let mut v = [0.0f64];
            ct.load(b, 0, &mut v);
            v[0].is_nan()
        } else {
            b == empty.as_slice()
        }
    }
}

/// Assemble runs of rows with equal keys (`key_columns`: `col`, `row`, optional `instant`) from
/// [`downsample_quadrants`] pieces into `tile_cols × tile_rows` tiles: every piece is copied at its offset
/// into cells that are still empty (the "fill" merge; the first piece of a key wins where pieces overlap).
/// Returns the batch in the tile contract and the row where the held-back last run starts (`num_rows` when
/// `last_run_complete`), as [`crate::exchange::reduce_runs`] does.
///
/// # Errors
///
/// A batch outside the piece schema, or pieces of one key that do not fit one tile.
pub fn assemble_runs(
    batch: &RecordBatch,
    key_columns: &[&str],
    tile_cols: usize,
    tile_rows: usize,
    last_run_complete: bool,
) -> Result<(RecordBatch, usize)> {
    let kernel = Assemble {
        xo: primitive_column::<Int32Type>(batch, "x_off")?,
        yo: primitive_column::<Int32Type>(batch, "y_off")?,
        tiles: TileColumns::new(batch, 0)?,
        types: CellTypeCache::default(),
        tile_cols,
        tile_rows,
        out: KeyedTiles::new(batch, 0, &["x_off", "y_off"]),
    };
    reduce_runs(batch, key_columns, last_run_complete, kernel)
}

/// The run kernel of [`assemble_runs`].
struct Assemble<'a> {
    xo: &'a Int32Array,
    yo: &'a Int32Array,
    tiles: TileColumns<'a>,
    types: CellTypeCache,
    tile_cols: usize,
    tile_rows: usize,
    out: KeyedTiles<'a>,
}

impl RunKernel for Assemble<'_> {
    fn run(&mut self, rows: Range<usize>) -> Result<()> {
        let (tile_cols, tile_rows) = (self.tile_cols, self.tile_rows);
        let s = rows.start;
        let ct = self.types.get(self.tiles.cell_type_name(s))?;
        let bands = self.tiles.tile(s, &ct)?.bands;
        let bpc = ct.bytes_per_cell();
        let empty = empty_cell(&ct);
        let is_empty = empty_bytes_test(&ct);
        let values = self.out.values_mut();
        let base = values.len();
        let band_bytes = tile_cols * tile_rows * bpc;
        values.reserve(bands * band_bytes);
        for _ in 0..bands * tile_cols * tile_rows {
            values.extend_from_slice(&empty);
        }
        let dst = &mut values[base..];
        for i in rows {
            let pct = self.types.get(self.tiles.cell_type_name(i))?;
            if pct != ct {
                return Err(EngineError::Mismatch(format!(
                    "pieces of one key have cell types {} and {}",
                    ct.name(),
                    pct.name()
                )));
            }
            let p = self.tiles.tile(i, &ct)?;
            let (x0, y0) = (self.xo.value(i).max(0) as usize, self.yo.value(i).max(0) as usize);
            if p.bands != bands || x0 + p.cols > tile_cols || y0 + p.rows > tile_rows {
                return Err(EngineError::Mismatch(format!(
                    "a {}-band {}×{} piece at ({x0}, {y0}) does not fit a {bands}-band {tile_cols}×{tile_rows} tile",
                    p.bands, p.cols, p.rows
                )));
            }
            let row_bytes = p.cols * bpc;
            for b in 0..bands {
                for r in 0..p.rows {
                    let from =
                        &p.cells[(b * p.rows + r) * row_bytes..(b * p.rows + r + 1) * row_bytes];
                    let at = b * band_bytes + ((y0 + r) * tile_cols + x0) * bpc;
                    let to = &mut dst[at..at + row_bytes];
                    if i == s {
                        to.copy_from_slice(from);
                    } else {
                        for (d, c) in to.chunks_exact_mut(bpc).zip(from.chunks_exact(bpc)) {
                            if is_empty(d) {
                                d.copy_from_slice(c);
                            }
                        }
                    }
                }
            }
        }
        self.out.finish_tile(s, &ct, bands, tile_rows, tile_cols);
        Ok(())
    }

    fn finish(self) -> Result<RecordBatch> {
        self.out.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::retile::tests::{as_f32, f32s, keyed};
    use arrow_array::cast::AsArray;

    fn layout(n: usize, t: usize) -> Layout {
        Layout {
            xmin: 0.0,
            ymin: 0.0,
            xmax: 8.0,
            ymax: 8.0,
            layout_cols: n,
            layout_rows: n,
            tile_cols: t,
            tile_rows: t,
        }
    }

    fn keyed_f32(keys: &[(i32, i32)], tiles: &[Vec<f32>], t: usize) -> RecordBatch {
        let tl: Vec<(&str, usize, usize, usize, Vec<u8>)> = tiles
            .iter()
            .map(|v| ("float32", 1, t, t, f32s(v)))
            .collect();
        keyed(keys, &tl)
    }

    fn cells(b: &RecordBatch, i: usize) -> Vec<f32> {
        as_f32(
            b.column_by_name("cells")
                .unwrap()
                .as_binary::<i32>()
                .value(i),
        )
    }

    #[test]
    fn nearest_takes_bottom_right_and_both_paths_agree() {
        let (src, dst) = (layout(2, 4), layout(1, 4));
        let t: Vec<Vec<f32>> = (0..4)
            .map(|k| (0..16).map(|v| (k * 100 + v) as f32).collect())
            .collect();
        let b = keyed_f32(&[(0, 0), (1, 0), (0, 1), (1, 1)], &t, 4);
        let full = downsample_to_layout(&b, &src, &dst, ResampleMethod::NearestNeighbor).unwrap();
        assert_eq!(full.num_rows(), 4);
        // Tile (1, 0) lands in the top-right quadrant: cells 5, 7, 13, 15 of it.
        let c = cells(&full, 1);
        assert_eq!(&c[2..4], &[105.0, 107.0]);
        assert_eq!(&c[6..8], &[113.0, 115.0]);
        assert!(c[0].is_nan() && c[8..].iter().all(|v| v.is_nan()));

        let q = downsample_quadrants(&b, &src, &dst, ResampleMethod::NearestNeighbor).unwrap();
        let (a, next) = assemble_runs(&q, &["col", "row"], 4, 4, true).unwrap();
        assert_eq!(next, 4);
        assert_eq!(a.num_rows(), 1);
        assert_eq!(a.schema().fields().len(), 7);
        assert_eq!(
            cells(&a, 0),
            vec![
                5., 7., 105., 107., 13., 15., 113., 115., 205., 207., 305., 307., 213., 215., 313.,
                315.
            ]
        );
    }

    #[test]
    fn average_skips_nodata_and_rejects_odd_and_cubic() {
        let (src, dst) = (layout(2, 2), layout(1, 2));
        let b = keyed_f32(&[(0, 0)], &[vec![1.0, f32::NAN, 2.0, 4.0]], 2);
        let q = downsample_quadrants(&b, &src, &dst, ResampleMethod::Average).unwrap();
        assert_eq!(cells(&q, 0), vec![7.0 / 3.0]);
        assert!(downsample_quadrants(&b, &src, &dst, ResampleMethod::CubicSpline).is_err());
        let odd = keyed_f32(&[(0, 0)], &[vec![1.0; 9]], 3);
        assert!(
            downsample_to_layout(&odd, &layout(2, 3), &layout(1, 3), ResampleMethod::Max).is_err()
        );
    }

    #[test]
    fn odd_layout_places_into_every_overlapped_key() {
        // 3 tiles → 2 tiles per axis: the middle tile straddles both new columns.
        let src = Layout {
            xmax: 6.0,
            ymax: 2.0,
            layout_cols: 3,
            layout_rows: 1,
            ..layout(1, 2)
        };
        let dst = Layout {
            xmax: 6.0,
            ymax: 2.0,
            layout_cols: 2,
            layout_rows: 1,
            ..layout(1, 2)
        };
        let b = keyed_f32(&[(1, 0)], &[vec![1.0, 2.0, 3.0, 4.0]], 2);
        let out = downsample_to_layout(&b, &src, &dst, ResampleMethod::NearestNeighbor).unwrap();
        assert_eq!(out.num_rows(), 2);
    }
}
