//! Cost distance over a tiled layer (the batches the Python driver loop moves around): the search state
//! of each tile is a row `col`, `row`, `friction` and `cost` (little-endian f64 cells, row-major, the
//! layout's tile shape) and `changed`; edges travel as rows `col`, `row` (the receiving key) and `cells`
//! (f64 quadruples row, col, friction, cost).

use std::collections::HashMap;
use std::sync::Arc;

use arrow_array::builder::BinaryBuilder;
use arrow_array::cast::AsArray;
use arrow_array::types::Int32Type;
use arrow_array::{ArrayRef, BinaryArray, BooleanArray, Int32Array, RecordBatch};
use arrow_schema::{DataType as ArrowType, Field, Schema};

use super::cost::{edge_for_neighbour, search_tile, EdgeCell};
use crate::batch::{primitive_column, CellTypeCache, TileColumns};
use crate::error::{EngineError, Result};
use crate::layout::Layout;
use crate::rasterize::{coverage, CellRule, Shape};
use crate::zonal::tile_grid;

/// How far a search goes and what one step costs.
#[derive(Clone, Copy, Debug)]
pub struct CostParams {
    pub resolution: f64,
    pub max_cost: f64,
}

fn f64s(bytes: &[u8]) -> Vec<f64> {
    bytes.chunks_exact(8).map(|b| f64::from_le_bytes(b.try_into().expect("8 bytes"))).collect()
}

fn put_f64s(values: &[f64], out: &mut BinaryBuilder) {
    let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
    out.append_value(bytes);
}

fn binary<'a>(batch: &'a RecordBatch, name: &str) -> Result<&'a BinaryArray> {
    batch
        .column_by_name(name)
        .and_then(|a| a.as_binary_opt::<i32>())
        .ok_or_else(|| EngineError::Contract(format!("missing binary column {name:?}")))
}

fn state_batch(
    cols: Vec<i32>,
    rows: Vec<i32>,
    mut friction: BinaryBuilder,
    mut cost: BinaryBuilder,
    changed: Vec<bool>,
) -> Result<RecordBatch> {
    let fields = vec![
        Field::new("col", ArrowType::Int32, false),
        Field::new("row", ArrowType::Int32, false),
        Field::new("friction", ArrowType::Binary, false),
        Field::new("cost", ArrowType::Binary, false),
        Field::new("changed", ArrowType::Boolean, false),
    ];
    let columns: Vec<ArrayRef> = vec![
        Arc::new(Int32Array::from(cols)),
        Arc::new(Int32Array::from(rows)),
        Arc::new(friction.finish()),
        Arc::new(cost.finish()),
        Arc::new(BooleanArray::from(changed)),
    ];
    Ok(RecordBatch::try_new(Arc::new(Schema::new(fields)), columns)?)
}

/// The first search of every tile of a friction batch (tile contract, band 0 used) from the start cells
/// `starts` burns (GeoTrellis' default rasterization: cell centres for polygons).
///
/// # Errors
/// `Contract` for a batch outside the tile contract or tiles not of the layout's shape.
pub fn start(batch: &RecordBatch, layout: &Layout, starts: &Shape, params: CostParams) -> Result<RecordBatch> {
    layout.validate()?;
    let col = primitive_column::<Int32Type>(batch, "col")?;
    let row = primitive_column::<Int32Type>(batch, "row")?;
    let tiles = TileColumns::new(batch, 0)?;
    let mut types = CellTypeCache::default();
    let (tr, tc) = (layout.tile_rows, layout.tile_cols);
    let (mut fb, mut cb, mut changed) = (BinaryBuilder::new(), BinaryBuilder::new(), Vec::new());
    for i in 0..batch.num_rows() {
        let ct = types.get(tiles.cell_type_name(i))?;
        let tile = tiles.tile(i, &ct)?;
        if (tile.rows, tile.cols) != (tr, tc) {
            return Err(EngineError::Mismatch(format!(
                "friction tile ({}, {}) is {}×{} cells; the layout's tiles are {tr}×{tc}",
                col.value(i), row.value(i), tile.rows, tile.cols
            )));
        }
        let mut friction = vec![0.0; tr * tc];
        if tile.bands > 0 {
            ct.load(tile.cells, 0, &mut friction);
        } else {
            friction.fill(f64::NAN);
        }
        let grid = tile_grid(&layout.key_extent(col.value(i) as i64, row.value(i) as i64), tc, tr);
        let start_cells: Vec<usize> =
            coverage(starts, &grid, CellRule::Centre)?.cells().map(|(c, r, _)| r * tc + c).collect();
        let mut cost = vec![f64::NAN; tr * tc];
        changed.push(search_tile(&friction, &mut cost, tr, tc, &start_cells, &[], params.resolution, params.max_cost));
        put_f64s(&friction, &mut fb);
        put_f64s(&cost, &mut cb);
    }
    state_batch(col.values().to_vec(), row.values().to_vec(), fb, cb, changed)
}

/// The edges the changed tiles of a state batch send to their eight neighbours.
///
/// # Errors
/// `Contract` for a batch that is not a search state.
pub fn edges(batch: &RecordBatch, layout: &Layout) -> Result<RecordBatch> {
    let col = primitive_column::<Int32Type>(batch, "col")?;
    let row = primitive_column::<Int32Type>(batch, "row")?;
    let (friction, cost) = (binary(batch, "friction")?, binary(batch, "cost")?);
    let changed = batch
        .column_by_name("changed")
        .and_then(|a| a.as_boolean_opt().cloned())
        .ok_or_else(|| EngineError::Contract("missing boolean column \"changed\"".into()))?;
    let (tr, tc) = (layout.tile_rows, layout.tile_cols);
    let (mut cols, mut rows, mut cells) = (Vec::new(), Vec::new(), BinaryBuilder::new());
    for i in 0..batch.num_rows() {
        if !changed.value(i) {
            continue;
        }
        let (f, c) = (f64s(friction.value(i)), f64s(cost.value(i)));
        for dy in -1..=1i64 {
            for dx in -1..=1i64 {
                let (nc, nr) = (col.value(i) as i64 + dx, row.value(i) as i64 + dy);
                if (dx, dy) == (0, 0) || nc < 0 || nr < 0 || nc >= layout.layout_cols as i64 || nr >= layout.layout_rows as i64 {
                    continue;
                }
                let e = edge_for_neighbour(&f, &c, tr, tc, dx, dy);
                if e.is_empty() {
                    continue;
                }
                let packed: Vec<f64> = e.iter().flat_map(|e| [e.row as f64, e.col as f64, e.friction, e.cost]).collect();
                cols.push(nc as i32);
                rows.push(nr as i32);
                put_f64s(&packed, &mut cells);
            }
        }
    }
    let fields = vec![
        Field::new("col", ArrowType::Int32, false),
        Field::new("row", ArrowType::Int32, false),
        Field::new("cells", ArrowType::Binary, false),
    ];
    let columns: Vec<ArrayRef> =
        vec![Arc::new(Int32Array::from(cols)), Arc::new(Int32Array::from(rows)), Arc::new(cells.finish())];
    Ok(RecordBatch::try_new(Arc::new(Schema::new(fields)), columns)?)
}

/// One more search of every tile of a state batch that receives edges (`edges`: batches of [`edges`]
/// output); `changed` says which tiles lowered a cost.
///
/// # Errors
/// `Contract` for batches that are not search states or edges.
pub fn step(batch: &RecordBatch, edge_batches: &[RecordBatch], layout: &Layout, params: CostParams) -> Result<RecordBatch> {
    let mut incoming: HashMap<(i32, i32), Vec<EdgeCell>> = HashMap::new();
    for e in edge_batches {
        let (ec, er, cells) = (primitive_column::<Int32Type>(e, "col")?, primitive_column::<Int32Type>(e, "row")?, binary(e, "cells")?);
        for i in 0..e.num_rows() {
            let list = incoming.entry((ec.value(i), er.value(i))).or_default();
            for q in f64s(cells.value(i)).chunks_exact(4) {
                list.push(EdgeCell { row: q[0] as i64, col: q[1] as i64, friction: q[2], cost: q[3] });
            }
        }
    }
    let col = primitive_column::<Int32Type>(batch, "col")?;
    let row = primitive_column::<Int32Type>(batch, "row")?;
    let (friction, cost) = (binary(batch, "friction")?, binary(batch, "cost")?);
    let (tr, tc) = (layout.tile_rows, layout.tile_cols);
    let (mut fb, mut cb, mut changed) = (BinaryBuilder::new(), BinaryBuilder::new(), Vec::new());
    for i in 0..batch.num_rows() {
        let mut c = f64s(cost.value(i));
        let mut did = false;
        if let Some(edges) = incoming.get(&(col.value(i), row.value(i))) {
            let f = f64s(friction.value(i));
            did = search_tile(&f, &mut c, tr, tc, &[], edges, params.resolution, params.max_cost);
        }
        fb.append_value(friction.value(i));
        put_f64s(&c, &mut cb);
        changed.push(did);
    }
    state_batch(col.values().to_vec(), row.values().to_vec(), fb, cb, changed)
}
