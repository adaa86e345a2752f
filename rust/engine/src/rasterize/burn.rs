//! Rasterization (GeoTrellis `RasterizeRDD`, GeoPySpark `rasterize`/`rasterize_features`): the keys each
//! geometry reaches, and the reduce kernel that burns every geometry sent to a key into that key's tile.
//!
//! A key gets a geometry when its tile shares area with a polygon, or a line or point touches it
//! (`MapKeyTransform.keysForGeometry`). In a tile, geometries burn in the order given (the `order` column):
//! without z-indexes a later one overwrites an earlier one; with them, a geometry writes a cell that is still
//! empty or holds a lower z-index (ties keep the earlier value), z-indexes first stored in their cell type
//! as GeoTrellis does. Untouched cells are NoData.

use std::ops::Range;

use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, Int32Type};
use arrow_array::{Array, BinaryArray, LargeBinaryArray, RecordBatch};
use arrow_schema::DataType as ArrowType;

use super::cells::{centre_spans, coverage, CellRule, Grid};
use super::geometry::Shape;
use crate::batch::{keyed_tiles, primitive_column, TileBuilder};
use crate::cell_type::CellType;
use crate::error::{EngineError, Result};
use crate::exchange::RunKernel;
use crate::layout::Layout;
use crate::zonal::tile_grid;

/// The keys of `layout` a shape reaches, row-major.
pub fn shape_keys(shape: &Shape, layout: &Layout) -> Result<Vec<(i32, i32)>> {
    layout.validate()?;
    let grid = Grid {
        xmin: layout.xmin,
        ymax: layout.ymax,
        cell_width: layout.tile_width(),
        cell_height: layout.tile_height(),
        cols: layout.layout_cols,
        rows: layout.layout_rows,
    };
    Ok(coverage(shape, &grid, CellRule::AllTouched)?
        .cells()
        .map(|(c, r, _)| (c as i32, r as i32))
        .collect())
}

/// Reads a WKB column of binary or large binary type.
enum Wkb<'a> {
    Small(&'a BinaryArray),
    Large(&'a LargeBinaryArray),
}

impl<'a> Wkb<'a> {
    fn new(batch: &'a RecordBatch) -> Result<Wkb<'a>> {
        let a = batch
            .column_by_name("wkb")
            .ok_or_else(|| EngineError::Contract("missing column \"wkb\"".into()))?;
        Ok(match a.data_type() {
            ArrowType::Binary => Wkb::Small(a.as_binary()),
            ArrowType::LargeBinary => Wkb::Large(a.as_binary()),
            other => return Err(EngineError::Contract(format!("column \"wkb\" has type {other}; expected binary"))),
        })
    }

    fn get(&self, i: usize) -> &'a [u8] {
        match self {
            Wkb::Small(a) => a.value(i),
            Wkb::Large(a) => a.value(i),
        }
    }
}

/// The reduce kernel of rasterization over sorted pieces (`col`, `row`, `order`, `wkb`, `value`, `zindex`):
/// one tile of `cell_type` per key.
pub struct BurnRuns<'a> {
    batch: &'a RecordBatch,
    layout: Layout,
    rule: CellRule,
    cell_type: CellType,
    zindex_type: Option<CellType>,
    keys: (Vec<i32>, Vec<i32>),
    tiles: TileBuilder,
}

impl<'a> BurnRuns<'a> {
    pub fn new(
        batch: &'a RecordBatch,
        layout: &Layout,
        rule: CellRule,
        cell_type: CellType,
        zindex_type: Option<CellType>,
    ) -> Result<BurnRuns<'a>> {
        layout.validate()?;
        // One tile per key: sized once, so that the output never moves while it grows.
        let col = primitive_column::<Int32Type>(batch, "col")?.values();
        let row = primitive_column::<Int32Type>(batch, "row")?.values();
        let keys = (0..batch.num_rows()).filter(|&i| i == 0 || (col[i], row[i]) != (col[i - 1], row[i - 1])).count();
        let bytes = keys * layout.tile_cols * layout.tile_rows * cell_type.bytes_per_cell();
        Ok(BurnRuns {
            batch,
            layout: *layout,
            rule,
            cell_type,
            zindex_type,
            keys: (Vec::new(), Vec::new()),
            tiles: TileBuilder::with_capacity(batch.num_rows(), bytes),
        })
    }
}

/// Write one cell's bytes at cell `k` (sizes known at compile time, so each write is one store).
#[inline(always)]
fn write_cell(cells: &mut [u8], k: usize, v: &[u8]) {
    match v.len() {
        1 => cells[k] = v[0],
        2 => cells[2 * k..2 * k + 2].copy_from_slice(&v[..2]),
        4 => cells[4 * k..4 * k + 4].copy_from_slice(&v[..4]),
        n => cells[n * k..n * (k + 1)].copy_from_slice(v),
    }
}

/// Write one value's bytes into cells `ks`.
fn write_span(cells: &mut [u8], ks: Range<usize>, v: &[u8]) {
    match v.len() {
        1 => cells[ks].fill(v[0]),
        n => cells[n * ks.start..n * ks.end].chunks_exact_mut(n).for_each(|c| c.copy_from_slice(v)),
    }
}

/// The bytes of one cell holding `v` (NaN: NoData) in a cell type.
fn stored_bytes(ct: &CellType, v: f64) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(8);
    ct.store(&[v], &mut bytes);
    bytes
}

/// A value as its cell type stores it (GeoTrellis converts z-indexes into their tile's cell type).
fn stored(ct: &CellType, v: f64) -> f64 {
    let mut out = [0.0];
    ct.load(&stored_bytes(ct, v), 0, &mut out);
    out[0]
}

impl RunKernel for BurnRuns<'_> {
    fn run(&mut self, rows: Range<usize>) -> Result<()> {
        let col = primitive_column::<Int32Type>(self.batch, "col")?;
        let row = primitive_column::<Int32Type>(self.batch, "row")?;
        let value = primitive_column::<Float64Type>(self.batch, "value")?;
        let zindex = primitive_column::<Float64Type>(self.batch, "zindex")?;
        let wkb = Wkb::new(self.batch)?;
        let (c, r) = (col.value(rows.start), row.value(rows.start));
        let (tc, tr) = (self.layout.tile_cols, self.layout.tile_rows);
        let grid = tile_grid(&self.layout.key_extent(c as i64, r as i64), tc, tr);
        // Cells are written straight in the output cell type: NoData everywhere, then each geometry's value.
        let size = self.cell_type.bytes_per_cell();
        let nodata = stored_bytes(&self.cell_type, f64::NAN);
        let out = self.tiles.values_mut();
        let start = out.len();
        let row: Vec<u8> = nodata.iter().copied().cycle().take(tc * size).collect();
        for _ in 0..tr {
            out.extend_from_slice(&row);
        }
        let cells = &mut out[start..];
        // z-index of each written cell (NaN: not written yet), only when features carry them.
        let mut z = vec![f64::NAN; if self.zindex_type.is_some() { tc * tr } else { 0 }];
        for i in rows {
            let shape = Shape::from_wkb(wkb.get(i))?;
            let v = stored_bytes(&self.cell_type, value.value(i));
            let zi = self.zindex_type.as_ref().map(|t| stored(t, zindex.value(i)));
            if self.rule == CellRule::Centre && shape.lines.is_empty() && shape.points.is_empty() {
                for span in centre_spans(&shape, &grid) {
                    let (k0, k1) = (span.row * tc + span.col0, span.row * tc + span.col1);
                    match zi {
                        None => write_span(cells, k0..k1, &v),
                        Some(zi) => {
                            for k in k0..k1 {
                                if z[k].is_nan() || z[k] < zi {
                                    z[k] = zi;
                                    write_cell(cells, k, &v);
                                }
                            }
                        }
                    }
                }
                continue;
            }
            let cover = coverage(&shape, &grid, self.rule)?;
            for r in 0..cover.rows {
                let weights = &cover.weights[r * cover.cols..(r + 1) * cover.cols];
                let first = (cover.row0 + r) * tc + cover.col0;
                for (j, w) in weights.iter().enumerate() {
                    if *w <= 0.0 {
                        continue;
                    }
                    let k = first + j;
                    if let Some(zi) = zi {
                        if !(z[k].is_nan() || z[k] < zi) {
                            continue;
                        }
                        z[k] = zi;
                    }
                    write_cell(cells, k, &v);
                }
            }
        }
        self.tiles.finish_tile(&self.cell_type, 1, tr, tc);
        self.keys.0.push(c);
        self.keys.1.push(r);
        Ok(())
    }

    fn finish(self) -> Result<RecordBatch> {
        keyed_tiles(self.keys.0, self.keys.1, Vec::new(), self.tiles, false)
    }
}
