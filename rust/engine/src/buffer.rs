//! Buffering every tile of a tiled layer with the border strips of its eight neighbours, the input of
//! focal operations (GeoTrellis `BufferTiles`), as one keyed exchange (DESIGN §4):
//!
//! * map side, [`buffer_pieces`]: each tile is emitted whole for its own key, and for each neighbour only
//!   the strip that neighbour reads (the neighbour to the east gets the tile's easternmost `width`
//!   columns, the one to the north-east the `width × width` corner). Every piece is keyed by the tile that
//!   receives it, with its place relative to the receiver in `dx`, `dy` (−1, 0 or 1; 0, 0 is the tile
//!   itself; `dy = −1` is the northern neighbour, row 0 being the northern row).
//! * after a shuffle on the key columns, [`buffer_runs`] (a [`RunKernel`]) assembles the pieces of each
//!   key into one tile of `(rows + 2·width) × (cols + 2·width)` cells, every band. Cells no neighbour
//!   provides hold what a cell with no source holds (`retile::empty_cell`), as GeoTrellis leaves the border of
//!   a tile without a neighbour empty; a key that received strips but has no tile of its own gives no row.

use std::collections::HashMap;
use std::ops::Range;
use std::sync::Arc;

use arrow_array::types::{Int32Type, Int64Type};
use arrow_array::{Array, ArrayRef, Int32Array, Int64Array, RecordBatch};
use arrow_schema::{DataType as ArrowType, Field};

use crate::batch::{
    copy_window, keyed_tiles, primitive_column, uses_large_types, CellTypeCache, TileBuilder,
    TileColumns, TileRef,
};
use crate::cell_type::CellType;
use crate::error::{EngineError, Result};
use crate::exchange::{reduce_runs, KeyedTiles, RunKernel};
use crate::layout::KeyBounds;
use crate::retile::push_empty_cells;

/// The columns placing a piece relative to the tile that receives it.
pub const PIECE_COLUMNS: [&str; 2] = ["dx", "dy"];

/// The error for a buffer wider than a tile: GeoTrellis' buffers never reach past the next tile.
fn check_width(
    width: usize,
    rows: usize,
    cols: usize,
    what: impl FnOnce() -> String,
) -> Result<()> {
    if width > rows || width > cols {
        return Err(EngineError::Value(format!(
            "a buffer of {width} cells is wider than the {cols}×{rows} tile {}; use at most the tile's side",
            what()
        )));
    }
    Ok(())
}

/// The rows (or columns) `[start, end)` of a tile of `n` that the piece at offset `d` reads.
fn strip(d: i32, n: usize, width: usize) -> (usize, usize) {
    match d {
        -1 => (n - width, n),
        1 => (0, width),
        _ => (0, n),
    }
}

/// Every tile of a tiled batch (`col`, `row`, optional `instant`, the tile columns) as the pieces its own
/// key and its neighbours' keys receive: the tile itself, and, for `width > 0`, the border strips of
/// `width` cells for each of its up to eight neighbours. With `key_bounds` (`col_min, row_min, col_max,
/// row_max`, inclusive), strips for keys outside them are not emitted (the tile itself always is).
/// Output columns: `col`, `row`, optional `instant`, `dx`, `dy` (int32), then the tile columns.
///
/// # Errors
///
/// A batch outside the tile contract, or a `width` larger than a tile's side.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use arrow_array::{ArrayRef, BinaryArray, Int32Array, RecordBatch, StringArray};
/// use gps_engine::buffer::buffer_pieces;
///
/// let int = |v: i32| Arc::new(Int32Array::from(vec![v])) as ArrayRef;
/// let batch = RecordBatch::try_from_iter([
///     ("col", int(0)), ("row", int(0)),
///     ("cell_type", Arc::new(StringArray::from(vec!["uint8"])) as ArrayRef),
///     ("bands", int(1)), ("rows", int(2)), ("cols", int(2)),
///     ("cells", Arc::new(BinaryArray::from_vec(vec![&[1u8, 2, 3, 4][..]])) as ArrayRef),
/// ]).unwrap();
/// // The tile itself and strips for its 8 neighbours; only 3 neighbours lie in the bounds.
/// assert_eq!(buffer_pieces(&batch, 1, None).unwrap().num_rows(), 9);
/// assert_eq!(buffer_pieces(&batch, 1, Some((0, 0, 1, 1))).unwrap().num_rows(), 4);
/// ```
pub fn buffer_pieces(
    batch: &RecordBatch,
    width: usize,
    key_bounds: Option<KeyBounds>,
) -> Result<RecordBatch> {
    pieces(batch, width, key_bounds, true)
}

/// [`buffer_pieces`] without the tiles themselves: only the border strips. When the tiles are already in
/// the JVM (a cached layer without pending steps), the exchange takes them from there and the Python pass
/// returns only the strips, so the cells cross to Python and not back.
///
/// # Errors
///
/// As [`buffer_pieces`].
pub fn border_strips(
    batch: &RecordBatch,
    width: usize,
    key_bounds: Option<KeyBounds>,
) -> Result<RecordBatch> {
    pieces(batch, width, key_bounds, false)
}

fn pieces(
    batch: &RecordBatch,
    width: usize,
    key_bounds: Option<KeyBounds>,
    with_centre: bool,
) -> Result<RecordBatch> {
    let cols = primitive_column::<Int32Type>(batch, "col")?;
    let rows = primitive_column::<Int32Type>(batch, "row")?;
    let instant = match batch.column_by_name("instant") {
        None => None,
        Some(_) => Some(primitive_column::<Int64Type>(batch, "instant")?),
    };
    let tiles = TileColumns::new(batch, 0)?;
    let mut types = CellTypeCache::default();
    let n = batch.num_rows();
    let pieces = if width == 0 { n } else { 9 * n };
    let bytes = batch
        .column_by_name("cells")
        .map_or(0, |c| c.get_buffer_memory_size());
    // A capacity hint: the tiles, or the strips alone (a few percent of them for narrow buffers).
    let bytes = if with_centre { bytes } else { bytes / 16 };
    let mut out = TileBuilder::with_capacity(pieces, bytes.min(1 << 30));
    let (mut out_cols, mut out_rows) = (Vec::with_capacity(pieces), Vec::with_capacity(pieces));
    let (mut dxs, mut dys, mut instants) = (
        Vec::with_capacity(pieces),
        Vec::with_capacity(pieces),
        Vec::new(),
    );
    let inside = |c: i64, r: i64| {
        key_bounds.is_none_or(|(c0, r0, c1, r1)| c0 <= c && c <= c1 && r0 <= r && r <= r1)
    };
    for i in 0..n {
        let ct = types.get(tiles.cell_type_name(i))?;
        let tile = tiles.tile(i, &ct)?;
        let (c, r) = (cols.value(i), rows.value(i));
        check_width(width, tile.rows, tile.cols, || format!("at key ({c}, {r})"))?;
        // (dx, dy): where this tile sits relative to the receiver; the receiver is at (c - dx, r - dy).
        for dy in -1i32..=1 {
            for dx in -1i32..=1 {
                let centre = dx == 0 && dy == 0;
                if (!centre && width == 0) || (centre && !with_centre) {
                    continue;
                }
                let (rc, rr) = (c as i64 - dx as i64, r as i64 - dy as i64);
                let (Ok(rc32), Ok(rr32)) = (i32::try_from(rc), i32::try_from(rr)) else {
                    continue; // no key exists there
                };
                if !centre && !inside(rc, rr) {
                    continue;
                }
                let (c0, c1) = strip(dx, tile.cols, width);
                let (r0, r1) = strip(dy, tile.rows, width);
                if centre {
                    out.push_tile(&ct, tile.bands, tile.rows, tile.cols, tile.cells);
                } else {
                    copy_window(&tile, &ct, (c0, r0, c1, r1), out.values_mut());
                    out.finish_tile(&ct, tile.bands, r1 - r0, c1 - c0);
                }
                out_cols.push(rc32);
                out_rows.push(rr32);
                dxs.push(dx);
                dys.push(dy);
                if let Some(t) = instant {
                    instants.push(t.value(i));
                }
            }
        }
    }
    let mut extra: Vec<(Field, ArrayRef)> = Vec::new();
    if instant.is_some() {
        extra.push((
            Field::new("instant", ArrowType::Int64, false),
            Arc::new(Int64Array::from(instants)),
        ));
    }
    for (name, v) in PIECE_COLUMNS.iter().zip([dxs, dys]) {
        extra.push((
            Field::new(*name, ArrowType::Int32, false),
            Arc::new(Int32Array::from(v)),
        ));
    }
    keyed_tiles(out_cols, out_rows, extra, out, uses_large_types(batch))
}

/// Assemble each run of rows with equal `key_columns` of [`buffer_pieces`] output (sorted by key) into
/// the key's tile grown by `width` cells on every side, in the tile contract (the key columns and the
/// tile columns). Cells no piece covers are empty (`retile::empty_cell`); a key without its own
/// tile (`dx = dy = 0`) gives no row; when a key holds the same piece twice the later row wins. Runs as
/// in [`crate::exchange::reduce_runs`]: returns the batch and the first row of the held-back last run.
///
/// # Errors
///
/// A batch outside the piece schema, a `width` larger than a tile's side, and pieces of one key that do
/// not fit together (cell types, bands, or shapes other than [`buffer_pieces`] cuts for `width`).
pub fn buffer_runs(
    batch: &RecordBatch,
    key_columns: &[&str],
    width: usize,
    last_run_complete: bool,
) -> Result<(RecordBatch, usize)> {
    let assemble = Assemble::new(batch, width, &PIECE_COLUMNS);
    reduce_runs(
        batch,
        key_columns,
        last_run_complete,
        Runs::new(batch, width, assemble)?,
    )
}

/// [`buffer_runs`] for tiles whose neighbours' strips arrive apart: `tiles` in the tile contract (any
/// order, each key once) and `strips`, [`border_strips`] output of the layer. Every tile gives its tile
/// grown by `width` cells, keyed as its row.
///
/// # Errors
///
/// As [`buffer_runs`].
pub fn buffer_with_strips(
    tiles: &RecordBatch,
    strips: &RecordBatch,
    width: usize,
) -> Result<RecordBatch> {
    let assemble = Assemble::new(tiles, width, &[]);
    each_with_strips(tiles, strips, width, assemble)
}

/// A tile and the pieces it receives, placed in its buffered tile (the tile itself is a piece at
/// `(width, width)`).
pub(crate) struct PlacedRun<'a> {
    /// The input row whose key columns the result keeps.
    pub centre: usize,
    pub cell_type: CellType,
    pub bands: usize,
    /// The shape of the key's own tile; the buffered tile is `(rows + 2w) × (cols + 2w)`.
    pub rows: usize,
    pub cols: usize,
    /// Each piece and the buffered-tile column and row of its first cell, in the order they apply.
    pub pieces: Vec<(TileRef<'a>, usize, usize)>,
}

/// What a reduce side does with each buffered tile; its output is the batch [`PerTile::finish`] makes.
pub(crate) trait PerTile {
    fn tile(&mut self, run: &PlacedRun) -> Result<()>;
    fn finish(self) -> Result<RecordBatch>;
}

/// Where a piece at (`dx`, `dy`) of a tile of `tr × tc` cells goes in its buffered tile, checking that it
/// has the shape [`buffer_pieces`] cuts for `width` there.
fn place_piece(
    (dx, dy): (i32, i32),
    p: &TileRef,
    (bands, tr, tc): (usize, usize, usize),
    w: usize,
    row: usize,
) -> Result<(usize, usize)> {
    if !(-1..=1).contains(&dx) || !(-1..=1).contains(&dy) {
        return Err(EngineError::Value(format!(
            "row {row}: a piece at ({dx}, {dy}) from its tile; dx and dy must be -1, 0 or 1"
        )));
    }
    let place = |d: i32, n: usize| match d {
        -1 => (0, w),
        1 => (w + n, w),
        _ => (w, n),
    };
    let (x0, pc) = place(dx, tc);
    let (y0, pr) = place(dy, tr);
    if (p.bands, p.rows, p.cols) != (bands, pr, pc) {
        return Err(EngineError::Mismatch(format!(
            "row {row}: a {}-band {}×{} piece at ({dx}, {dy}) of a {bands}-band {tc}×{tr} tile buffered by {w}; expected {pc}×{pr}",
            p.bands, p.cols, p.rows
        )));
    }
    Ok((x0, y0))
}

fn check_cell_type(types: &mut CellTypeCache, name: &str, ct: &CellType, row: usize) -> Result<()> {
    let pct = types.get(name)?;
    if pct != *ct {
        return Err(EngineError::Mismatch(format!(
            "row {row}: a {} piece for a {} tile",
            pct.name(),
            ct.name()
        )));
    }
    Ok(())
}

/// The reduce side over runs of [`buffer_pieces`] rows sorted by key.
pub(crate) struct Runs<'a, T> {
    dx: &'a Int32Array,
    dy: &'a Int32Array,
    tiles: TileColumns<'a>,
    types: CellTypeCache,
    width: usize,
    per_tile: T,
}

impl<'a, T: PerTile> Runs<'a, T> {
    pub(crate) fn new(batch: &'a RecordBatch, width: usize, per_tile: T) -> Result<Self> {
        Ok(Runs {
            dx: primitive_column::<Int32Type>(batch, "dx")?,
            dy: primitive_column::<Int32Type>(batch, "dy")?,
            tiles: TileColumns::new(batch, 0)?,
            types: CellTypeCache::default(),
            width,
            per_tile,
        })
    }
}

impl<T: PerTile> RunKernel for Runs<'_, T> {
    fn run(&mut self, rows: Range<usize>) -> Result<()> {
        let w = self.width;
        let Some(centre) = rows
            .clone()
            .rev()
            .find(|&i| self.dx.value(i) == 0 && self.dy.value(i) == 0)
        else {
            return Ok(()); // strips for a key the layer has no tile of
        };
        let ct = self.types.get(self.tiles.cell_type_name(centre))?;
        let tile = self.tiles.tile(centre, &ct)?;
        let shape = (tile.bands, tile.rows, tile.cols);
        check_width(w, tile.rows, tile.cols, || format!("of row {centre}"))?;
        let mut pieces = Vec::with_capacity(rows.len());
        for i in rows {
            check_cell_type(&mut self.types, self.tiles.cell_type_name(i), &ct, i)?;
            let p = self.tiles.tile(i, &ct)?;
            let (x0, y0) = place_piece((self.dx.value(i), self.dy.value(i)), &p, shape, w, i)?;
            pieces.push((p, x0, y0)); // a later copy of a piece is placed after, so it wins
        }
        let (bands, rows, cols) = shape;
        self.per_tile.tile(&PlacedRun {
            centre,
            cell_type: ct,
            bands,
            rows,
            cols,
            pieces,
        })
    }

    fn finish(self) -> Result<RecordBatch> {
        self.per_tile.finish()
    }
}

/// The keys of a tiled batch: `col`, `row` and, for space-time layers, `instant`.
fn keys_of(batch: &RecordBatch) -> Result<impl Fn(usize) -> (i32, i32, i64) + '_> {
    let col = primitive_column::<Int32Type>(batch, "col")?;
    let row = primitive_column::<Int32Type>(batch, "row")?;
    let instant = match batch.column_by_name("instant") {
        None => None,
        Some(_) => Some(primitive_column::<Int64Type>(batch, "instant")?),
    };
    Ok(move |i: usize| {
        (
            col.value(i),
            row.value(i),
            instant.map_or(0, |t| t.value(i)),
        )
    })
}

/// The per-tile side over tiles and, apart, the strips they receive ([`buffer_with_strips`]' input).
pub(crate) fn each_with_strips<T: PerTile>(
    batch: &RecordBatch,
    strips: &RecordBatch,
    width: usize,
    mut per_tile: T,
) -> Result<RecordBatch> {
    let strip_key = keys_of(strips)?;
    let mut received: HashMap<(i32, i32, i64), Vec<usize>> = HashMap::new();
    for j in 0..strips.num_rows() {
        received.entry(strip_key(j)).or_default().push(j);
    }
    let strip_tiles = TileColumns::new(strips, 0)?;
    let (dx, dy) = (
        primitive_column::<Int32Type>(strips, "dx")?,
        primitive_column::<Int32Type>(strips, "dy")?,
    );
    let tile_key = keys_of(batch)?;
    let tiles = TileColumns::new(batch, 0)?;
    let mut types = CellTypeCache::default();
    for i in 0..batch.num_rows() {
        let ct = types.get(tiles.cell_type_name(i))?;
        let tile = tiles.tile(i, &ct)?;
        let shape = (tile.bands, tile.rows, tile.cols);
        check_width(width, tile.rows, tile.cols, || format!("of row {i}"))?;
        let mut pieces = vec![(tile, width, width)];
        for &j in received.get(&tile_key(i)).map_or(&[][..], Vec::as_slice) {
            check_cell_type(&mut types, strip_tiles.cell_type_name(j), &ct, i)?;
            let p = strip_tiles.tile(j, &ct)?;
            let (x0, y0) = place_piece((dx.value(j), dy.value(j)), &p, shape, width, i)?;
            pieces.push((p, x0, y0));
        }
        let (bands, rows, cols) = shape;
        per_tile.tile(&PlacedRun {
            centre: i,
            cell_type: ct,
            bands,
            rows,
            cols,
            pieces,
        })?;
    }
    per_tile.finish()
}

/// Builds the buffered tiles themselves.
struct Assemble<'a> {
    width: usize,
    out: KeyedTiles<'a>,
}

impl<'a> Assemble<'a> {
    fn new(batch: &'a RecordBatch, width: usize, drop: &'static [&'static str]) -> Self {
        let bytes = batch
            .column_by_name("cells")
            .map_or(0, |c| c.get_buffer_memory_size());
        Assemble {
            width,
            out: KeyedTiles::new(batch, bytes.min(1 << 30), drop),
        }
    }
}

impl PerTile for Assemble<'_> {
    fn tile(&mut self, run: &PlacedRun) -> Result<()> {
        let w = self.width;
        let ct = &run.cell_type;
        let (out_rows, out_cols) = (run.rows + 2 * w, run.cols + 2 * w);
        let bpc = ct.bytes_per_cell();
        let values = self.out.values_mut();
        let base = values.len();
        let band_cells = out_rows * out_cols;
        push_empty_cells(values, ct, run.bands * band_cells);
        let dst = &mut values[base..];
        for (p, x0, y0) in &run.pieces {
            let row_bytes = p.cols * bpc;
            for b in 0..run.bands {
                for r in 0..p.rows {
                    let from = (b * p.rows + r) * row_bytes;
                    let at = (b * band_cells + (y0 + r) * out_cols + x0) * bpc;
                    dst[at..at + row_bytes].copy_from_slice(&p.cells[from..from + row_bytes]);
                }
            }
        }
        self.out
            .finish_tile(run.centre, ct, run.bands, out_rows, out_cols);
        Ok(())
    }

    fn finish(self) -> Result<RecordBatch> {
        self.out.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cell_type::CellType;
    use crate::retile::empty_cell;
    use crate::retile::tests::tile_batch;
    use arrow_array::cast::AsArray;
    use proptest::prelude::*;

    /// One row of a piece batch (or of a buffered batch, with dx = dy = 0).
    #[derive(Clone, Debug, PartialEq)]
    struct Piece {
        col: i32,
        row: i32,
        dx: i32,
        dy: i32,
        ct: String,
        bands: usize,
        rows: usize,
        cols: usize,
        cells: Vec<u8>,
    }

    fn to_batch(pieces: &[Piece], with_offsets: bool) -> RecordBatch {
        let int = |f: fn(&Piece) -> i32| -> ArrayRef {
            Arc::new(Int32Array::from_iter_values(pieces.iter().map(f)))
        };
        let mut extra = vec![("col", int(|p| p.col)), ("row", int(|p| p.row))];
        if with_offsets {
            extra.push(("dx", int(|p| p.dx)));
            extra.push(("dy", int(|p| p.dy)));
        }
        let tiles: Vec<(&str, usize, usize, usize, Vec<u8>)> = pieces
            .iter()
            .map(|p| (p.ct.as_str(), p.bands, p.rows, p.cols, p.cells.clone()))
            .collect();
        tile_batch(extra, &tiles)
    }

    fn from_batch(b: &RecordBatch) -> Vec<Piece> {
        let int = |name: &str| -> Vec<i32> {
            b.column_by_name(name)
                .map(|c| c.as_primitive::<Int32Type>().values().to_vec())
                .unwrap_or_else(|| vec![0; b.num_rows()])
        };
        let (col, row, dx, dy) = (int("col"), int("row"), int("dx"), int("dy"));
        let (bands, rows, cols) = (int("bands"), int("rows"), int("cols"));
        let ct = b.column_by_name("cell_type").unwrap().as_string::<i32>();
        let cells = b.column_by_name("cells").unwrap().as_binary::<i32>();
        (0..b.num_rows())
            .map(|i| Piece {
                col: col[i],
                row: row[i],
                dx: dx[i],
                dy: dy[i],
                ct: ct.value(i).to_string(),
                bands: bands[i] as usize,
                rows: rows[i] as usize,
                cols: cols[i] as usize,
                cells: cells.value(i).to_vec(),
            })
            .collect()
    }

    /// Pieces sorted by key, streamed through `buffer_runs` in batches of `chunk` rows with the
    /// held-back run carried into the next batch (as the Python reduce side does).
    fn stream(pieces: &[Piece], width: usize, chunk: usize) -> Result<Vec<Piece>> {
        let mut out = Vec::new();
        let mut carry: Vec<Piece> = Vec::new();
        for part in pieces.chunks(chunk.max(1)) {
            carry.extend_from_slice(part);
            let (b, held) = buffer_runs(&to_batch(&carry, true), &["col", "row"], width, false)?;
            assert!(b.column_by_name("dx").is_none() && b.column_by_name("dy").is_none());
            out.extend(from_batch(&b));
            carry.drain(..held);
        }
        let (b, held) = buffer_runs(&to_batch(&carry, true), &["col", "row"], width, true)?;
        assert_eq!(held, carry.len());
        out.extend(from_batch(&b));
        Ok(out)
    }

    /// A layer cut from a random raster, with its stitched, NoData-padded reference.
    struct Case {
        ct: CellType,
        bands: usize,
        tile: (usize, usize),   // rows, cols
        layout: (usize, usize), // cols, rows
        tiles: Vec<Piece>,
        /// `bands × (H + 2w) × (W + 2w)` cells: the stitched raster, NoData where tiles are missing and
        /// in the `width`-cell frame around it.
        padded: Vec<u8>,
        width: usize,
    }

    impl Case {
        #[allow(clippy::too_many_arguments)]
        fn new(
            ct_name: &str,
            bands: usize,
            tile: (usize, usize),
            layout: (usize, usize),
            present: &[bool],
            bytes: &[u8],
            width: usize,
        ) -> Case {
            let ct = CellType::parse(ct_name).unwrap();
            let bpc = ct.bytes_per_cell();
            let ((tr, tc), (lc, lr)) = (tile, layout);
            let (h, w) = (lr * tr + 2 * width, lc * tc + 2 * width);
            let empty = empty_cell(&ct);
            let mut padded: Vec<u8> = empty
                .iter()
                .copied()
                .cycle()
                .take(bands * h * w * bpc)
                .collect();
            let mut tiles = Vec::new();
            let mut next = bytes.iter().copied().cycle();
            for r in 0..lr {
                for c in 0..lc {
                    if !present[r * lc + c] {
                        continue;
                    }
                    let cells: Vec<u8> = (&mut next).take(bands * tr * tc * bpc).collect();
                    for b in 0..bands {
                        for y in 0..tr {
                            let from = ((b * tr + y) * tc) * bpc;
                            let to = ((b * h + width + r * tr + y) * w + width + c * tc) * bpc;
                            padded[to..to + tc * bpc]
                                .copy_from_slice(&cells[from..from + tc * bpc]);
                        }
                    }
                    tiles.push(Piece {
                        col: c as i32,
                        row: r as i32,
                        dx: 0,
                        dy: 0,
                        ct: ct_name.to_string(),
                        bands,
                        rows: tr,
                        cols: tc,
                        cells,
                    });
                }
            }
            Case {
                ct,
                bands,
                tile,
                layout,
                tiles,
                padded,
                width,
            }
        }

        /// The reference buffered tile of key (c, r): the padded raster cropped to the tile's cells grown
        /// by `width`.
        fn expected(&self, c: usize, r: usize) -> Vec<u8> {
            let bpc = self.ct.bytes_per_cell();
            let ((tr, tc), (lc, lr), wd) = (self.tile, self.layout, self.width);
            let (h, w) = (lr * tr + 2 * wd, lc * tc + 2 * wd);
            let (oh, ow) = (tr + 2 * wd, tc + 2 * wd);
            let mut out = Vec::with_capacity(self.bands * oh * ow * bpc);
            for b in 0..self.bands {
                for y in 0..oh {
                    let from = ((b * h + r * tr + y) * w + c * tc) * bpc;
                    out.extend_from_slice(&self.padded[from..from + ow * bpc]);
                }
            }
            out
        }

        fn check(&self, buffered: &[Piece]) {
            let mut keys: Vec<(i32, i32)> = buffered.iter().map(|p| (p.col, p.row)).collect();
            keys.sort();
            let mut want: Vec<(i32, i32)> = self.tiles.iter().map(|p| (p.col, p.row)).collect();
            want.sort();
            assert_eq!(keys, want, "one buffered tile per tile of the layer");
            let (tr, tc) = self.tile;
            for p in buffered {
                assert_eq!(p.ct, self.ct.name());
                assert_eq!(
                    (p.bands, p.rows, p.cols),
                    (self.bands, tr + 2 * self.width, tc + 2 * self.width)
                );
                assert!(
                    p.cells == self.expected(p.col as usize, p.row as usize),
                    "tile ({}, {}) differs from the cropped raster",
                    p.col,
                    p.row
                );
            }
        }
    }

    /// Shuffle with a small xorshift (the map side's order must not matter).
    fn shuffle<T>(v: &mut [T], mut seed: u64) {
        for i in (1..v.len()).rev() {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            v.swap(i, (seed % (i as u64 + 1)) as usize);
        }
    }

    fn sorted_pieces(case: &Case, bounds: Option<KeyBounds>, seed: u64) -> Vec<Piece> {
        let mut tiles = case.tiles.clone();
        shuffle(&mut tiles, seed | 1);
        let mut pieces =
            from_batch(&buffer_pieces(&to_batch(&tiles, false), case.width, bounds).unwrap());
        shuffle(&mut pieces, seed.rotate_left(17) | 1);
        pieces.sort_by_key(|p| (p.col, p.row)); // stable: pieces of a key stay in any order
        pieces
    }

    const CELL_TYPES: [&str; 14] = [
        "bool",
        "int8",
        "int8raw",
        "uint8",
        "uint8ud7",
        "int16",
        "uint16raw",
        "int16ud-7",
        "int32",
        "int32raw",
        "float32",
        "float32ud-9999.0",
        "float64",
        "float64ud1.5",
    ];

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]

        #[test]
        fn buffered_tiles_are_the_stitched_raster_cropped(
            ct in 0..CELL_TYPES.len(),
            bands in 1usize..=3,
            tr in 1usize..=5,
            tc in 1usize..=5,
            lc in 1usize..=4,
            lr in 1usize..=4,
            present in prop::collection::vec(prop::bool::weighted(0.7), 16),
            bytes in prop::collection::vec(any::<u8>(), 1..512),
            width_frac in 0.0f64..=1.0,
            bounded in any::<bool>(),
            chunk in 1usize..=12,
            seed in any::<u64>(),
        ) {
            let width = (width_frac * tr.min(tc) as f64).round() as usize;
            let case = Case::new(CELL_TYPES[ct], bands, (tr, tc), (lc, lr), &present, &bytes, width);
            let bounds = bounded.then_some((0, 0, lc as i64 - 1, lr as i64 - 1));
            let pieces = sorted_pieces(&case, bounds, seed);
            if let Some((c0, r0, c1, r1)) = bounds {
                prop_assert!(pieces.iter().all(|p| (c0..=c1).contains(&(p.col as i64)) && (r0..=r1).contains(&(p.row as i64))));
            }
            if width == 0 {
                prop_assert_eq!(pieces.len(), case.tiles.len());
            }
            case.check(&stream(&pieces, width, chunk).unwrap());
        }
    }

    fn int16s(v: &[i16]) -> Vec<u8> {
        v.iter().flat_map(|x| x.to_le_bytes()).collect()
    }

    #[test]
    fn strips_and_nodata_by_hand() {
        // Two 2×2 int16 tiles side by side, buffered by 1.
        let a = [1, 2, 3, 4];
        let b = [5, 6, 7, 8];
        let tile = |col, cells: &[i16]| Piece {
            col,
            row: 0,
            dx: 0,
            dy: 0,
            ct: "int16".into(),
            bands: 1,
            rows: 2,
            cols: 2,
            cells: int16s(cells),
        };
        let layer = to_batch(&[tile(0, &a), tile(1, &b)], false);
        let pieces = from_batch(&buffer_pieces(&layer, 1, Some((0, 0, 1, 0))).unwrap());
        // Each tile: itself and one strip for the other.
        assert_eq!(pieces.len(), 4);
        let east = pieces.iter().find(|p| p.col == 1 && p.dx == -1).unwrap();
        assert_eq!(
            (east.dy, east.rows, east.cols, east.cells.clone()),
            (0, 2, 1, int16s(&[2, 4]))
        );
        let mut sorted = pieces.clone();
        sorted.sort_by_key(|p| (p.col, p.row));
        let out = stream(&sorted, 1, 100).unwrap();
        let nd = i16::MIN;
        assert_eq!(
            out[0].cells,
            int16s(&[nd, nd, nd, nd, nd, 1, 2, 5, nd, 3, 4, 7, nd, nd, nd, nd])
        );
        assert_eq!(
            out[1].cells,
            int16s(&[nd, nd, nd, nd, 2, 5, 6, nd, 4, 7, 8, nd, nd, nd, nd, nd])
        );
        // Unbounded: strips also go to the 8 keys around the pair that have no tile (no output rows).
        let pieces = from_batch(&buffer_pieces(&layer, 1, None).unwrap());
        assert_eq!(pieces.len(), 18);
        let mut sorted = pieces;
        sorted.sort_by_key(|p| (p.col, p.row));
        assert_eq!(stream(&sorted, 1, 3).unwrap(), out);
    }

    #[test]
    fn border_strips_are_the_pieces_without_the_tiles() {
        let tiles: Vec<Piece> = (0..4)
            .map(|i| Piece {
                col: i % 2,
                row: i / 2,
                dx: 0,
                dy: 0,
                ct: "int16".into(),
                bands: 2,
                rows: 3,
                cols: 4,
                cells: (0..48).map(|v| (v * 7 + i) as u8).collect(),
            })
            .collect();
        let layer = to_batch(&tiles, false);
        for bounds in [None, Some((0, 0, 1, 1))] {
            let strips = from_batch(&border_strips(&layer, 2, bounds).unwrap());
            let all = from_batch(&buffer_pieces(&layer, 2, bounds).unwrap());
            let without_tiles: Vec<Piece> = all
                .iter()
                .filter(|p| (p.dx, p.dy) != (0, 0))
                .cloned()
                .collect();
            assert_eq!(strips, without_tiles);
            // Tiles given their strips apart, in any order, buffer as the shuffled pieces do.
            let mut sorted = all;
            sorted.sort_by_key(|p| (p.col, p.row));
            let mut reversed = tiles.clone();
            reversed.reverse();
            let apart = buffer_with_strips(
                &to_batch(&reversed, false),
                &border_strips(&layer, 2, bounds).unwrap(),
                2,
            )
            .unwrap();
            let mut got = from_batch(&apart);
            got.sort_by_key(|p| (p.col, p.row));
            assert_eq!(got, stream(&sorted, 2, 5).unwrap());
        }
    }

    #[test]
    fn width_zero_is_the_identity_and_too_wide_is_an_error() {
        let t = Piece {
            col: 3,
            row: 4,
            dx: 0,
            dy: 0,
            ct: "float32".into(),
            bands: 2,
            rows: 2,
            cols: 3,
            cells: (0..48).collect(),
        };
        let layer = to_batch(std::slice::from_ref(&t), false);
        let pieces = buffer_pieces(&layer, 0, None).unwrap();
        assert_eq!(from_batch(&pieces), vec![t.clone()]);
        assert_eq!(stream(&from_batch(&pieces), 0, 1).unwrap(), vec![t.clone()]);
        assert!(matches!(
            buffer_pieces(&layer, 3, None),
            Err(EngineError::Value(_))
        ));
        let piece_batch = to_batch(std::slice::from_ref(&t), true);
        assert!(matches!(
            buffer_runs(&piece_batch, &["col", "row"], 3, true),
            Err(EngineError::Value(_))
        ));
        // A strip of the wrong shape for the width.
        let mut strip = t.clone();
        (strip.dx, strip.cols, strip.cells) = (1, 1, vec![0; 16]);
        let bad = to_batch(&[t.clone(), strip], true);
        assert!(matches!(
            buffer_runs(&bad, &["col", "row"], 2, true),
            Err(EngineError::Mismatch(_))
        ));
        // Offsets out of range, and a missing column.
        let mut far = t.clone();
        far.dx = 2;
        assert!(matches!(
            buffer_runs(&to_batch(&[t.clone(), far], true), &["col", "row"], 0, true),
            Err(EngineError::Value(_))
        ));
        assert!(matches!(
            buffer_runs(&layer, &["col", "row"], 0, true),
            Err(EngineError::Contract(_))
        ));
    }

    #[test]
    fn space_time_keys_keep_instants_apart() {
        let t = |inst: i64, v: u8| (inst, vec![v; 4]);
        let tiles = [t(10, 1), t(20, 2)];
        let int = |v: Vec<i32>| Arc::new(Int32Array::from(v)) as ArrayRef;
        let layer = tile_batch(
            vec![
                ("col", int(vec![0, 1])),
                ("row", int(vec![0, 0])),
                (
                    "instant",
                    Arc::new(Int64Array::from(
                        tiles.iter().map(|t| t.0).collect::<Vec<_>>(),
                    )) as ArrayRef,
                ),
            ],
            &tiles
                .iter()
                .map(|(_, c)| ("uint8", 1, 2, 2, c.clone()))
                .collect::<Vec<_>>(),
        );
        let pieces = buffer_pieces(&layer, 1, Some((0, 0, 1, 0))).unwrap();
        let names: Vec<String> = pieces
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect();
        assert_eq!(
            names,
            [
                "col",
                "row",
                "instant",
                "dx",
                "dy",
                "cell_type",
                "bands",
                "rows",
                "cols",
                "cells"
            ]
        );
        // Sorted by (col, row, instant): the strips of instant 10 and 20 meet no tile of their instant.
        let rows = from_batch(&pieces);
        let instants = pieces
            .column_by_name("instant")
            .unwrap()
            .as_primitive::<Int64Type>()
            .values()
            .to_vec();
        let mut keyed: Vec<(Piece, i64)> = rows.into_iter().zip(instants).collect();
        keyed.sort_by_key(|(p, i)| (p.col, p.row, *i));
        let (ps, is): (Vec<Piece>, Vec<i64>) = keyed.into_iter().unzip();
        let mut b = to_batch(&ps, true);
        let mut columns = b.columns().to_vec();
        let mut fields: Vec<Field> = b
            .schema()
            .fields()
            .iter()
            .map(|f| f.as_ref().clone())
            .collect();
        columns.insert(2, Arc::new(Int64Array::from(is)));
        fields.insert(2, Field::new("instant", ArrowType::Int64, false));
        b = RecordBatch::try_new(Arc::new(arrow_schema::Schema::new(fields)), columns).unwrap();
        let (out, _) = buffer_runs(&b, &["col", "row", "instant"], 1, true).unwrap();
        assert_eq!(out.num_rows(), 2);
        let instants = out
            .column_by_name("instant")
            .unwrap()
            .as_primitive::<Int64Type>();
        assert_eq!(instants.values().to_vec(), vec![10, 20]);
        let nd = 0u8; // uint8 NoData
        for (k, v) in [(0usize, 1u8), (1, 2)] {
            let cells = out
                .column_by_name("cells")
                .unwrap()
                .as_binary::<i32>()
                .value(k);
            let inner: Vec<u8> = [5, 6, 9, 10].iter().map(|&j| cells[j]).collect();
            assert_eq!(inner, vec![v; 4]);
            assert_eq!(cells.iter().filter(|&&c| c == nd).count(), 12);
        }
    }
}
