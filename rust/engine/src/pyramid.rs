//! One pyramid level up (GeoTrellis `Pyramid.up`, format reference §5.5): every tile of a layer is
//! resampled to half resolution over its own key extent, then placed into the next, coarser layout.
//! Both layout schemes keep the tile size (GeoTrellis' ZoomedLayoutScheme and LocalLayoutScheme alike), so
//! any tile size pyramids, odd ones included.
//!
//! Two ways of placing, both ending in a shuffle on the new keys:
//! * [`downsample_to_layout`] (any pair of layouts): each tile is resampled straight onto the cells of every
//!   new key its extent overlaps, as GeoTrellis' `merge(extent, otherExtent, tile, method)` does; the rows
//!   of one key are then combined by the "fill" merge. GeoTrellis only places a tile into the key holding
//!   its centre, which leaves holes when a tile straddles two keys (odd local layouts); we place it into all
//!   of them.
//! * [`downsample_quadrants`] + [`assemble_runs`] (the new layout has exactly half the tiles per axis over
//!   the same extent, as every ZoomedLayoutScheme level and even LocalLayoutScheme levels): each source tile
//!   is one quadrant of its new tile. With an even tile size the map side halves it, so only a quarter of
//!   the bytes cross the shuffle; with an odd one a 2×2 block of cells would straddle two source tiles, so
//!   full tiles cross and the reduce side assembles the `2T × 2T` mosaic and halves that.
//!
//! Halving is `resample::resample_grid` from `2n × 2m` to `n × m` over the same extent. For that 2×
//! reduction its methods give what §5.5 says of GeoTrellis: NearestNeighbor takes the bottom-right cell
//! `(2c+1, 2r+1)` of each 2×2 block (the target centre is the block's shared corner, floored with
//! tolerance), Average the mean of the block's data cells (integer types truncate), Max/Min/Median/Mode
//! over the block's data cells, Bilinear the rounded mean of the four.

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
use crate::retile::{empty_cell, place, push_empty_cells};


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

/// Whether the quadrant path halves tiles on the map side: only when a 2×2 block of cells never
/// straddles two source tiles, i.e. the tile size is even along both axes.
pub fn halves_on_map_side(tile_cols: usize, tile_rows: usize) -> bool {
    tile_cols % 2 == 0 && tile_rows % 2 == 0
}

/// Every band of `cells` (`cols × rows`, band-sequential) halved to `cols/2 × rows/2` with `method`.
fn halve(cells: &[u8], ct: &CellType, bands: usize, cols: usize, rows: usize, method: ResampleMethod) -> Result<Vec<u8>> {
    // Only the ratio matters: any extent shared by both grids.
    let ext = [0.0, 0.0, cols as f64, rows as f64];
    resample_grid(cells, ct, bands, cols, rows, ext, cols / 2, rows / 2, ext, method)
}

/// The cells of the dst key extent `de` (a `tc × tr` grid) that overlap `ke`: their count per axis and
/// their extent; None when they share no cell.
fn overlapped_window(ke: &Extent, de: &Extent, tc: usize, tr: usize) -> Option<(usize, usize, Extent)> {
    const EPS: f64 = 1e-9;
    let (cw, ch) = ((de.xmax - de.xmin) / tc as f64, (de.ymax - de.ymin) / tr as f64);
    let c0 = (((ke.xmin.max(de.xmin) - de.xmin) / cw + EPS).floor().max(0.0) as usize).min(tc);
    let c1 = (((ke.xmax.min(de.xmax) - de.xmin) / cw - EPS).ceil().max(0.0) as usize).min(tc);
    let r0 = (((de.ymax - ke.ymax.min(de.ymax)) / ch + EPS).floor().max(0.0) as usize).min(tr);
    let r1 = (((de.ymax - ke.ymin.max(de.ymin)) / ch - EPS).ceil().max(0.0) as usize).min(tr);
    if c0 >= c1 || r0 >= r1 {
        return None;
    }
    let ext = Extent {
        xmin: de.xmin + c0 as f64 * cw,
        ymin: de.ymax - r1 as f64 * ch,
        xmax: de.xmin + c1 as f64 * cw,
        ymax: de.ymax - r0 as f64 * ch,
    };
    Some((c1 - c0, r1 - r0, ext))
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

/// Resample every tile (`col`, `row`, optional `instant`, tile columns; keys in `src`) onto the full
/// tiles of `dst` its extent overlaps: one output row per (tile, overlapped new key), in the tile contract,
/// cells outside the tile empty. Combine the rows of one key with the "fill" merge after shuffling.
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
        let ct = types.get(tiles.cell_type_name(i))?;
        let tile = tiles.tile(i, &ct)?;
        if tile.cols == 0 || tile.rows == 0 || tile.bands == 0 {
            continue;
        }
        let Some((c0, r0, c1, r1)) = dst.key_bounds_in_layout(&ke) else {
            continue;
        };
        for key_row in r0..=r1 {
            for key_col in c0..=c1 {
                let de = dst.key_extent(key_col, key_row);
                let Some((wc, wr, we)) = overlapped_window(&ke, &de, tc, tr) else {
                    continue;
                };
                if method == ResampleMethod::NearestNeighbor {
                    // Nearest placement of the source cells is the nearest resample.
                    place(&tile, &ct, &ke, &de, tc, tr, out.values_mut());
                } else {
                    let ext = [ke.xmin, ke.ymin, ke.xmax, ke.ymax];
                    let window = [we.xmin, we.ymin, we.xmax, we.ymax];
                    let cells =
                        resample_grid(tile.cells, &ct, tile.bands, tile.cols, tile.rows, ext, wc, wr, window, method)?;
                    let piece = TileRef { cells: &cells, cols: wc, rows: wr, ..tile };
                    place(&piece, &ct, &we, &de, tc, tr, out.values_mut());
                }
                out.finish_tile(&ct, tile.bands, tr, tc);
                out_cols.push(key_col as i32);
                out_rows.push(key_row as i32);
                if let Some(t) = keys.instant {
                    out_inst.push(t.value(i));
                }
            }
        }
    }
    let instants = keys.instant.map(|_| (out_inst, false));
    output_batch(out_cols, out_rows, instants, vec![], out, uses_large_types(batch))
}

/// Key every tile by its new key (`col/2`, `row/2`) with the pixel offset of its quadrant in the new tile
/// (`x_off`, `y_off`): halved when [`halves_on_map_side`], else whole, offsets then in the `2T × 2T`
/// mosaic that [`assemble_runs`] halves. Requires [`is_quadrant_step`]. Output columns: `col`, `row`,
/// optional `instant`, `x_off`, `y_off`, tile columns.
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
    let halves = halves_on_map_side(dst.tile_cols, dst.tile_rows);
    let keys = Keys::new(batch)?;
    let tiles = TileColumns::new(batch, 0)?;
    let mut types = CellTypeCache::default();
    let n = batch.num_rows();
    let (mut out_cols, mut out_rows, mut out_inst) =
        (Vec::with_capacity(n), Vec::with_capacity(n), Vec::new());
    let (mut xo, mut yo) = (Vec::with_capacity(n), Vec::with_capacity(n));
    let bytes = batch
        .column_by_name("cells")
        .map_or(0, |c| c.get_buffer_memory_size() / if halves { 4 } else { 1 });
    let mut out = TileBuilder::with_capacity(n, bytes);
    for i in 0..n {
        let (c, r) = (keys.col.value(i), keys.row.value(i));
        if c < 0 || r < 0 || c as usize >= src.layout_cols || r as usize >= src.layout_rows {
            continue; // outside the layout: no new key holds it
        }
        let ct = types.get(tiles.cell_type_name(i))?;
        let tile = tiles.tile(i, &ct)?;
        if tile.cols == 0 || tile.rows == 0 || tile.bands == 0 {
            continue;
        }
        if tile.cols != src.tile_cols || tile.rows != src.tile_rows {
            return Err(EngineError::Mismatch(format!(
                "a {}×{} tile in a layout of {}×{} tiles",
                tile.cols, tile.rows, src.tile_cols, src.tile_rows
            )));
        }
        let (pc, pr) = if halves {
            let half = halve(tile.cells, &ct, tile.bands, tile.cols, tile.rows, method)?;
            out.push_tile(&ct, tile.bands, tile.rows / 2, tile.cols / 2, &half);
            (tile.cols / 2, tile.rows / 2)
        } else {
            out.push_tile(&ct, tile.bands, tile.rows, tile.cols, tile.cells);
            (tile.cols, tile.rows)
        };
        out_cols.push(c / 2);
        out_rows.push(r / 2);
        xo.push((c % 2) * pc as i32);
        yo.push((r % 2) * pr as i32);
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
/// When the map side did not halve (odd tile sizes), the pieces make a `2T × 2T` mosaic halved here with
/// `method`. Returns the batch in the tile contract and the row where the held-back last run starts
/// (`num_rows` when `last_run_complete`), as [`crate::exchange::reduce_runs`] does.
///
/// # Errors
///
/// A batch outside the piece schema, or pieces of one key that do not fit one tile.
pub fn assemble_runs(
    batch: &RecordBatch,
    key_columns: &[&str],
    tile_cols: usize,
    tile_rows: usize,
    method: ResampleMethod,
    last_run_complete: bool,
) -> Result<(RecordBatch, usize)> {
    check_method(method)?;
    let kernel = Assemble {
        pieces: Pieces {
            xo: primitive_column::<Int32Type>(batch, "x_off")?,
            yo: primitive_column::<Int32Type>(batch, "y_off")?,
            tiles: TileColumns::new(batch, 0)?,
            types: CellTypeCache::default(),
        },
        tile_cols,
        tile_rows,
        mosaic: (!halves_on_map_side(tile_cols, tile_rows)).then_some(method),
        scratch: Vec::new(),
        out: KeyedTiles::new(batch, 0, &["x_off", "y_off"]),
    };
    reduce_runs(batch, key_columns, last_run_complete, kernel)
}

/// The run kernel of [`assemble_runs`].
struct Assemble<'a> {
    pieces: Pieces<'a>,
    tile_cols: usize,
    tile_rows: usize,
    /// The method halving a `2T × 2T` mosaic of whole tiles, or None when the pieces are halves already.
    mosaic: Option<ResampleMethod>,
    scratch: Vec<u8>,
    out: KeyedTiles<'a>,
}

/// The quadrant pieces of a batch and their offsets.
struct Pieces<'a> {
    xo: &'a Int32Array,
    yo: &'a Int32Array,
    tiles: TileColumns<'a>,
    types: CellTypeCache,
}

impl Pieces<'_> {
    /// Fill `dst` (`bands × height × width` cells, all empty) from the pieces of `rows`.
    fn fill(&mut self, rows: Range<usize>, ct: &CellType, bands: usize, width: usize, height: usize, dst: &mut [u8]) -> Result<()> {
        let bpc = ct.bytes_per_cell();
        let is_empty = empty_bytes_test(ct);
        let band_bytes = width * height * bpc;
        let s = rows.start;
        for i in rows {
            let pct = self.types.get(self.tiles.cell_type_name(i))?;
            if pct != *ct {
                return Err(EngineError::Mismatch(format!(
                    "pieces of one key have cell types {} and {}",
                    ct.name(),
                    pct.name()
                )));
            }
            let p = self.tiles.tile(i, ct)?;
            let (x0, y0) = (self.xo.value(i).max(0) as usize, self.yo.value(i).max(0) as usize);
            if p.bands != bands || x0 + p.cols > width || y0 + p.rows > height {
                return Err(EngineError::Mismatch(format!(
                    "a {}-band {}×{} piece at ({x0}, {y0}) does not fit a {bands}-band {width}×{height} tile",
                    p.bands, p.cols, p.rows
                )));
            }
            let row_bytes = p.cols * bpc;
            for b in 0..bands {
                for r in 0..p.rows {
                    let from = &p.cells[(b * p.rows + r) * row_bytes..(b * p.rows + r + 1) * row_bytes];
                    let at = b * band_bytes + ((y0 + r) * width + x0) * bpc;
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
        Ok(())
    }
}

impl RunKernel for Assemble<'_> {
    fn run(&mut self, rows: Range<usize>) -> Result<()> {
        let (tile_cols, tile_rows) = (self.tile_cols, self.tile_rows);
        let s = rows.start;
        let ct = self.pieces.types.get(self.pieces.tiles.cell_type_name(s))?;
        let bands = self.pieces.tiles.tile(s, &ct)?.bands;
        match self.mosaic {
            None => {
                let values = self.out.values_mut();
                let base = values.len();
                push_empty_cells(values, &ct, bands * tile_cols * tile_rows);
                self.pieces.fill(rows, &ct, bands, tile_cols, tile_rows, &mut values[base..])?;
            }
            Some(method) => {
                let (w, h) = (2 * tile_cols, 2 * tile_rows);
                self.scratch.clear();
                push_empty_cells(&mut self.scratch, &ct, bands * w * h);
                self.pieces.fill(rows, &ct, bands, w, h, &mut self.scratch)?;
                let halved = halve(&self.scratch, &ct, bands, w, h, method)?;
                self.out.values_mut().extend_from_slice(&halved);
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
        let (a, next) =
            assemble_runs(&q, &["col", "row"], 4, 4, ResampleMethod::NearestNeighbor, true).unwrap();
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
    fn average_skips_nodata_and_rejects_cubic() {
        let (src, dst) = (layout(2, 2), layout(1, 2));
        let b = keyed_f32(&[(0, 0)], &[vec![1.0, f32::NAN, 2.0, 4.0]], 2);
        let q = downsample_quadrants(&b, &src, &dst, ResampleMethod::Average).unwrap();
        assert_eq!(cells(&q, 0), vec![7.0 / 3.0]);
        assert!(downsample_quadrants(&b, &src, &dst, ResampleMethod::CubicSpline).is_err());
    }

    #[test]
    fn odd_tiles_are_halved_as_one_mosaic() {
        // Four 3×3 tiles of the 6×6 raster v = 10·row + col; the new 3×3 tile halves the whole raster, so
        // the 2×2 blocks straddling two source tiles average cells of both.
        let (src, dst) = (layout(2, 3), layout(1, 3));
        let value = |r: usize, c: usize| (10 * r + c) as f32;
        let keys = [(0, 0), (1, 0), (0, 1), (1, 1)];
        let t: Vec<Vec<f32>> = keys
            .iter()
            .map(|&(kc, kr)| {
                (0..9).map(|i| value(3 * kr as usize + i / 3, 3 * kc as usize + i % 3)).collect()
            })
            .collect();
        let b = keyed_f32(&keys, &t, 3);
        for method in [ResampleMethod::Average, ResampleMethod::NearestNeighbor, ResampleMethod::Max] {
            let q = downsample_quadrants(&b, &src, &dst, method).unwrap();
            assert_eq!(cells(&q, 1).len(), 9, "whole tiles cross the shuffle");
            let (a, _) = assemble_runs(&q, &["col", "row"], 3, 3, method, true).unwrap();
            let got = cells(&a, 0);
            for r in 0..3 {
                for c in 0..3 {
                    let block = [value(2 * r, 2 * c), value(2 * r, 2 * c + 1), value(2 * r + 1, 2 * c), value(2 * r + 1, 2 * c + 1)];
                    let want = match method {
                        ResampleMethod::Average => block.iter().sum::<f32>() / 4.0,
                        _ => block[3], // nearest: the bottom-right cell; max: also the largest
                    };
                    assert_eq!(got[r * 3 + c], want, "{method:?} ({c}, {r})");
                }
            }
        }
        // The general path resamples odd tiles too, with the same bottom-right nearest rule.
        let full = downsample_to_layout(&b, &src, &dst, ResampleMethod::NearestNeighbor).unwrap();
        assert_eq!(full.num_rows(), 4);
        assert_eq!(cells(&full, 0)[0], value(1, 1));
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
