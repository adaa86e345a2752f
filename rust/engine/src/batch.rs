//! The tile contract over Arrow (DESIGN §3): reading the tile columns of a record batch and building the
//! output batch. Columns other than the tile columns (the keys) pass through untouched; the tile columns of
//! extra inputs (`cells__1`, … after a join) are consumed. The plan executor that uses them is
//! `crate::plan::execute`.

use std::collections::HashMap;
use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::{Int32Type, Int64Type};
use arrow_array::{
    Array, ArrayRef, ArrowPrimitiveType, GenericBinaryArray, GenericStringArray, Int32Array,
    OffsetSizeTrait, PrimitiveArray, RecordBatch,
};
use arrow_buffer::{Buffer, OffsetBuffer, ScalarBuffer};
use arrow_schema::{DataType as ArrowType, Field, Schema};

use crate::cell_type::CellType;
use crate::error::{EngineError, Result};

/// The tile columns, in contract order.
pub const TILE_COLUMNS: [&str; 5] = ["cell_type", "bands", "rows", "cols", "cells"];

/// Name of a tile column of input `i` (0 → the plain name).
pub fn input_column(name: &str, i: usize) -> String {
    if i == 0 {
        name.to_string()
    } else {
        format!("{name}__{i}")
    }
}

fn is_extra_input_column(name: &str) -> bool {
    TILE_COLUMNS.iter().any(|c| {
        name.strip_prefix(c)
            .is_some_and(|rest| rest.starts_with("__"))
    })
}

/// Binary columns as Spark may send them.
enum Bytes<'a> {
    Small(&'a GenericBinaryArray<i32>),
    Large(&'a GenericBinaryArray<i64>),
    View(&'a arrow_array::BinaryViewArray),
}

impl<'a> Bytes<'a> {
    fn value(&self, i: usize) -> &'a [u8] {
        match self {
            Bytes::Small(a) => a.value(i),
            Bytes::Large(a) => a.value(i),
            Bytes::View(a) => a.value(i),
        }
    }
}

/// String columns as Spark may send them.
pub enum Text<'a> {
    Small(&'a GenericStringArray<i32>),
    Large(&'a GenericStringArray<i64>),
    View(&'a arrow_array::StringViewArray),
}

impl<'a> Text<'a> {
    /// The non-null string column `name`.
    pub fn column(batch: &'a RecordBatch, name: &str) -> Result<Text<'a>> {
        let c = column(batch, name)?;
        no_nulls(name, c)?;
        Ok(match c.data_type() {
            ArrowType::Utf8 => Text::Small(c.as_string::<i32>()),
            ArrowType::LargeUtf8 => Text::Large(c.as_string::<i64>()),
            ArrowType::Utf8View => Text::View(c.as_string_view()),
            other => {
                return Err(EngineError::Contract(format!(
                    "column {name:?} must be a string, is {other}"
                )))
            }
        })
    }

    pub fn value(&self, i: usize) -> &'a str {
        match self {
            Text::Small(a) => a.value(i),
            Text::Large(a) => a.value(i),
            Text::View(a) => a.value(i),
        }
    }
}

/// Borrowed tile columns of one input.
pub struct TileColumns<'a> {
    cell_type: Text<'a>,
    bands: &'a Int32Array,
    rows: &'a Int32Array,
    cols: &'a Int32Array,
    cells: Bytes<'a>,
}

/// One tile borrowed from a batch.
#[derive(Clone, Copy)]
pub struct TileRef<'a> {
    pub cell_type: &'a str,
    pub bands: usize,
    pub rows: usize,
    pub cols: usize,
    pub cells: &'a [u8],
}

impl<'a> TileRef<'a> {
    pub fn cells_per_band(&self) -> usize {
        self.rows * self.cols
    }
}

fn column<'a>(batch: &'a RecordBatch, name: &str) -> Result<&'a ArrayRef> {
    batch
        .column_by_name(name)
        .ok_or_else(|| EngineError::Contract(format!("missing column {name:?}")))
}

/// A non-null primitive column of the given Arrow type, or a contract error naming what is wrong.
pub fn primitive_column<'a, T: ArrowPrimitiveType>(
    batch: &'a RecordBatch,
    name: &str,
) -> Result<&'a PrimitiveArray<T>> {
    let a = column(batch, name)?;
    no_nulls(name, a)?;
    a.as_primitive_opt::<T>().ok_or_else(|| {
        EngineError::Contract(format!(
            "column {name:?} must be {}, is {}",
            T::DATA_TYPE,
            a.data_type()
        ))
    })
}

/// All tiles have the shape of the first, else a mismatch error saying what could not be done.
pub fn check_same_shape<'a>(
    tiles: impl IntoIterator<Item = &'a TileRef<'a>>,
    what: &str,
) -> Result<()> {
    let mut tiles = tiles.into_iter();
    let Some(t0) = tiles.next() else {
        return Ok(());
    };
    if let Some(t) = tiles.find(|t| (t.bands, t.rows, t.cols) != (t0.bands, t0.rows, t0.cols)) {
        return Err(EngineError::Mismatch(format!(
            "cannot {what} a tile of {} bands × {}×{} with one of {} bands × {}×{}: the tiles must have the same shape",
            t0.bands, t0.rows, t0.cols, t.bands, t.rows, t.cols
        )));
    }
    Ok(())
}

fn no_nulls(name: &str, a: &dyn Array) -> Result<()> {
    if a.null_count() > 0 {
        return Err(EngineError::Contract(format!("column {name:?} has nulls")));
    }
    Ok(())
}

impl<'a> TileColumns<'a> {
    pub fn new(batch: &'a RecordBatch, input: usize) -> Result<TileColumns<'a>> {
        let name = |c: &str| input_column(c, input);
        let int = |c: &str| primitive_column::<Int32Type>(batch, &name(c));
        let cell_type = Text::column(batch, &name("cell_type"))?;
        let cells_name = name("cells");
        let c = column(batch, &cells_name)?;
        no_nulls(&cells_name, c)?;
        let cells = match c.data_type() {
            ArrowType::Binary => Bytes::Small(c.as_binary::<i32>()),
            ArrowType::LargeBinary => Bytes::Large(c.as_binary::<i64>()),
            ArrowType::BinaryView => Bytes::View(c.as_binary_view()),
            other => {
                return Err(EngineError::Contract(format!(
                    "column {cells_name:?} must be binary, is {other}"
                )))
            }
        };
        Ok(TileColumns {
            cell_type,
            bands: int("bands")?,
            rows: int("rows")?,
            cols: int("cols")?,
            cells,
        })
    }

    /// The tile of row `i`, with its size checked against its shape and cell type.
    pub fn tile(&self, i: usize, ct: &CellType) -> Result<TileRef<'a>> {
        let dims = [self.bands.value(i), self.rows.value(i), self.cols.value(i)];
        if dims.iter().any(|d| *d < 0) {
            return Err(EngineError::Contract(format!(
                "row {i}: negative tile shape {dims:?}"
            )));
        }
        let [bands, rows, cols] = dims.map(|d| d as usize);
        let cells = self.cells.value(i);
        let expected = bands * rows * cols * ct.bytes_per_cell();
        if cells.len() != expected {
            return Err(EngineError::Contract(format!(
                "row {i}: {} bytes of cells for a {bands}×{rows}×{cols} {} tile, expected {expected}",
                cells.len(),
                ct.name()
            )));
        }
        Ok(TileRef {
            cell_type: self.cell_type.value(i),
            bands,
            rows,
            cols,
            cells,
        })
    }

    pub fn cell_type_name(&self, i: usize) -> &'a str {
        self.cell_type.value(i)
    }
}

/// Appends the cells of the window `[c0, c1) × [r0, r1)` of a tile to `out`, band by band. The window must
/// lie inside the tile.
pub fn copy_window(
    tile: &TileRef,
    ct: &CellType,
    (c0, r0, c1, r1): (usize, usize, usize, usize),
    out: &mut Vec<u8>,
) {
    let bpc = ct.bytes_per_cell();
    let band_bytes = tile.cells_per_band() * bpc;
    for b in 0..tile.bands {
        for r in r0..r1 {
            let start = b * band_bytes + (r * tile.cols + c0) * bpc;
            out.extend_from_slice(&tile.cells[start..start + (c1 - c0) * bpc]);
        }
    }
}

/// Parses each distinct cell type name once per batch.
#[derive(Default)]
pub struct CellTypeCache(HashMap<String, CellType>);

impl CellTypeCache {
    pub fn get(&mut self, name: &str) -> Result<CellType> {
        if let Some(ct) = self.0.get(name) {
            return Ok(*ct);
        }
        let ct = CellType::parse(name)?;
        self.0.insert(name.to_string(), ct);
        Ok(ct)
    }
}

/// Output tile columns under construction.
pub struct TileBuilder {
    cell_types: Vec<String>,
    bands: Vec<i32>,
    rows: Vec<i32>,
    cols: Vec<i32>,
    offsets: Vec<i64>,
    values: Vec<u8>,
}

impl TileBuilder {
    pub fn with_capacity(rows: usize, bytes: usize) -> Self {
        let mut offsets = Vec::with_capacity(rows + 1);
        offsets.push(0);
        TileBuilder {
            cell_types: Vec::with_capacity(rows),
            bands: Vec::with_capacity(rows),
            rows: Vec::with_capacity(rows),
            cols: Vec::with_capacity(rows),
            offsets,
            values: Vec::with_capacity(bytes),
        }
    }

    /// The buffer the next tile's cells are appended to; close the tile with `finish_tile`.
    pub fn values_mut(&mut self) -> &mut Vec<u8> {
        &mut self.values
    }

    pub fn finish_tile(&mut self, ct: &CellType, bands: usize, rows: usize, cols: usize) {
        self.cell_types.push(ct.name());
        self.bands.push(bands as i32);
        self.rows.push(rows as i32);
        self.cols.push(cols as i32);
        self.offsets.push(self.values.len() as i64);
    }

    pub fn push_tile(
        &mut self,
        ct: &CellType,
        bands: usize,
        rows: usize,
        cols: usize,
        cells: &[u8],
    ) {
        self.values.extend_from_slice(cells);
        self.finish_tile(ct, bands, rows, cols);
    }

    /// The five tile columns; `large` chooses 64-bit offsets for strings and binaries.
    pub fn finish(self, large: bool) -> Result<Vec<(Field, ArrayRef)>> {
        let strings: ArrayRef = if large {
            Arc::new(GenericStringArray::<i64>::from_iter_values(
                self.cell_types.iter(),
            ))
        } else {
            Arc::new(GenericStringArray::<i32>::from_iter_values(
                self.cell_types.iter(),
            ))
        };
        let cells: ArrayRef = if large {
            binary_array::<i64>(self.offsets, self.values)?
        } else {
            if self.values.len() > i32::MAX as usize {
                return Err(EngineError::Contract(
                    "batch of tiles exceeds 2 GiB; use smaller Arrow batches".into(),
                ));
            }
            binary_array::<i32>(
                self.offsets.iter().map(|o| *o as i32).collect(),
                self.values,
            )?
        };
        let int = |v: Vec<i32>| -> ArrayRef { Arc::new(Int32Array::from(v)) };
        Ok(vec![
            (
                Field::new("cell_type", strings.data_type().clone(), false),
                strings,
            ),
            (
                Field::new("bands", ArrowType::Int32, false),
                int(self.bands),
            ),
            (Field::new("rows", ArrowType::Int32, false), int(self.rows)),
            (Field::new("cols", ArrowType::Int32, false), int(self.cols)),
            (Field::new("cells", cells.data_type().clone(), false), cells),
        ])
    }
}

fn binary_array<O: OffsetSizeTrait>(offsets: Vec<O>, values: Vec<u8>) -> Result<ArrayRef> {
    let offsets = OffsetBuffer::new(ScalarBuffer::from(offsets));
    Ok(Arc::new(GenericBinaryArray::<O>::try_new(
        offsets,
        Buffer::from_vec(values),
        None,
    )?))
}

/// A batch of `col`, `row`, then `extra` columns (an instant, offsets, extents…), then the tile columns.
pub fn keyed_tiles(
    cols: Vec<i32>,
    rows: Vec<i32>,
    extra: Vec<(Field, ArrayRef)>,
    tiles: TileBuilder,
    large: bool,
) -> Result<RecordBatch> {
    let mut fields = vec![
        Field::new("col", ArrowType::Int32, false),
        Field::new("row", ArrowType::Int32, false),
    ];
    let mut columns: Vec<ArrayRef> = vec![Arc::new(Int32Array::from(cols)), Arc::new(Int32Array::from(rows))];
    for (f, c) in extra.into_iter().chain(tiles.finish(large)?) {
        fields.push(f);
        columns.push(c);
    }
    Ok(RecordBatch::try_new(Arc::new(Schema::new(fields)), columns)?)
}

/// Whether a batch carries its tile columns with 64-bit offsets (Spark's `useLargeVarTypes`).
pub fn uses_large_types(batch: &RecordBatch) -> bool {
    batch
        .column_by_name("cells")
        .is_some_and(|c| matches!(c.data_type(), ArrowType::LargeBinary))
}

/// Replace the tile columns of `batch` with `tiles`, keeping the other columns (the keys) and their
/// order, and dropping the tile columns of extra inputs. `keep` selects the rows kept (None = all).
pub fn with_tiles(
    batch: &RecordBatch,
    tiles: TileBuilder,
    keep: Option<&[u32]>,
) -> Result<RecordBatch> {
    let large = uses_large_types(batch);
    let mut new: HashMap<&str, (Field, ArrayRef)> = TILE_COLUMNS
        .iter()
        .copied()
        .zip(tiles.finish(large)?)
        .collect();
    let mut fields = Vec::new();
    let mut columns = Vec::new();
    let indices = keep.map(|k| arrow_array::UInt32Array::from(k.to_vec()));
    for (field, col) in batch.schema().fields().iter().zip(batch.columns()) {
        let name = field.name().as_str();
        if is_extra_input_column(name) {
            continue;
        }
        if let Some((f, c)) = new.remove(name) {
            fields.push(f);
            columns.push(c);
        } else {
            fields.push(field.as_ref().clone());
            columns.push(match &indices {
                Some(ix) => arrow_select_take(col, ix)?,
                None => col.clone(),
            });
        }
    }
    Ok(RecordBatch::try_new(
        Arc::new(Schema::new(fields)),
        columns,
    )?)
}

/// Take rows of a pass-through key column (keys are primitive or string columns).
fn arrow_select_take(col: &ArrayRef, ix: &arrow_array::UInt32Array) -> Result<ArrayRef> {
    use arrow_array::types::Float64Type;
    let idx: Vec<usize> = ix.values().iter().map(|i| *i as usize).collect();
    macro_rules! prim {
        ($t:ty) => {{
            let a = col.as_primitive::<$t>();
            Arc::new(arrow_array::PrimitiveArray::<$t>::from_iter(
                idx.iter().map(|i| a.is_valid(*i).then(|| a.value(*i))),
            )) as ArrayRef
        }};
    }
    Ok(match col.data_type() {
        ArrowType::Int32 => prim!(Int32Type),
        ArrowType::Int64 => prim!(Int64Type),
        ArrowType::Float64 => prim!(Float64Type),
        ArrowType::Utf8 => {
            let a = col.as_string::<i32>();
            Arc::new(GenericStringArray::<i32>::from_iter(
                idx.iter().map(|i| a.is_valid(*i).then(|| a.value(*i))),
            ))
        }
        ArrowType::LargeUtf8 => {
            let a = col.as_string::<i64>();
            Arc::new(GenericStringArray::<i64>::from_iter(
                idx.iter().map(|i| a.is_valid(*i).then(|| a.value(*i))),
            ))
        }
        other => {
            return Err(EngineError::Contract(format!(
                "cannot select rows of a key column of type {other}"
            )))
        }
    })
}
