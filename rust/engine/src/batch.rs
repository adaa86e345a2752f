//! The tile contract over Arrow (DESIGN §3): reading the tile columns of a record batch, running a plan
//! over every row, and building the output batch. Columns other than the tile columns (the keys) pass
//! through untouched; the tile columns of extra inputs (`cells__1`, … after a join) are consumed.

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
use crate::plan::{self, CombineFn, Compiled, Step};

/// The tile columns, in contract order.
pub const TILE_COLUMNS: [&str; 5] = ["cell_type", "bands", "rows", "cols", "cells"];

/// Working values are processed in chunks that stay in L1 cache.
const CHUNK: usize = 2048;

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

/// Run a plan over every tile of a batch (one pass, all steps fused).
pub fn run_plan(batch: &RecordBatch, steps: &[Step]) -> Result<RecordBatch> {
    let n_inputs = plan::input_count(steps);
    let inputs: Vec<TileColumns> = (0..n_inputs)
        .map(|i| TileColumns::new(batch, i))
        .collect::<Result<_>>()?;
    let mut types = CellTypeCache::default();
    let mut compiled: HashMap<Vec<String>, Compiled> = HashMap::new();
    let bytes: usize = (0..n_inputs)
        .filter_map(|i| batch.column_by_name(&input_column("cells", i)))
        .map(|c| c.get_buffer_memory_size())
        .max()
        .unwrap_or(0);
    let mut out = TileBuilder::with_capacity(batch.num_rows(), bytes);
    let mut work = vec![0.0f64; CHUNK];
    let mut other = vec![0.0f64; CHUNK];
    let mut work32 = vec![0.0f32; CHUNK];
    for row in 0..batch.num_rows() {
        let names: Vec<String> = inputs
            .iter()
            .map(|c| c.cell_type_name(row).to_string())
            .collect();
        let in_types: Vec<CellType> = names.iter().map(|n| types.get(n)).collect::<Result<_>>()?;
        let plan = match compiled.get(&names) {
            Some(p) => p,
            None => {
                let p = Compiled::new(steps, &in_types)?;
                compiled.entry(names).or_insert(p)
            }
        };
        let tiles: Vec<TileRef> = inputs
            .iter()
            .zip(&in_types)
            .map(|(c, t)| c.tile(row, t))
            .collect::<Result<_>>()?;
        let sources = virtual_bands(plan, &tiles)?;
        let bands = select_bands(&plan.band_selections, sources)?;
        let t0 = tiles[0];
        let n = t0.cells_per_band();
        if plan.f32_path {
            run_f32(plan, &t0, &bands, &mut work32, out.values_mut());
            out.finish_tile(&plan.out, bands.len(), t0.rows, t0.cols);
            continue;
        }
        for &source in &bands {
            let mut start = 0;
            while start < n {
                let len = CHUNK.min(n - start);
                let (w, o) = (&mut work[..len], &mut other[..len]);
                load_virtual(plan, &tiles, &in_types, source, start, w, o);
                plan.apply_pointwise(w)?;
                plan.out.store(w, out.values_mut());
                start += len;
            }
        }
        out.finish_tile(&plan.out, bands.len(), t0.rows, t0.cols);
    }
    with_tiles(batch, out, None)
}

/// The float32 path of `run_plan` for one tile (single input, see `Compiled::f32_path`).
fn run_f32(plan: &Compiled, tile: &TileRef, bands: &[Source], work: &mut [f32], out: &mut Vec<u8>) {
    let n = tile.cells_per_band();
    for &source in bands {
        let (Source::Band(b) | Source::Input(_, b)) = source;
        let band = &tile.cells[b * n * 4..(b + 1) * n * 4];
        for chunk in band.chunks(CHUNK * 4) {
            let w = &mut work[..chunk.len() / 4];
            for (v, c) in w.iter_mut().zip(chunk.chunks_exact(4)) {
                *v = f32::from_le_bytes(c.try_into().unwrap());
            }
            plan.apply_pointwise_f32(w);
            let begin = out.len();
            out.resize(begin + chunk.len(), 0);
            for (dst, v) in out[begin..].chunks_exact_mut(4).zip(w.iter()) {
                dst.copy_from_slice(&v.to_le_bytes());
            }
        }
    }
}

/// A band of the combined tile: `(input, band)` for a concatenation, else band `b` of every input.
#[derive(Clone, Copy, Debug)]
enum Source {
    Band(usize),
    Input(usize, usize),
}

fn virtual_bands(plan: &Compiled, tiles: &[TileRef]) -> Result<Vec<Source>> {
    let t0 = tiles[0];
    for (i, t) in tiles.iter().enumerate().skip(1) {
        if (t.rows, t.cols) != (t0.rows, t0.cols) {
            return Err(EngineError::Mismatch(format!(
                "cannot combine a {}×{} tile with a {}×{} tile (input {i})",
                t0.rows, t0.cols, t.rows, t.cols
            )));
        }
    }
    Ok(match plan.combine {
        Some((CombineFn::ConcatBands, _)) => tiles
            .iter()
            .enumerate()
            .flat_map(|(i, t)| (0..t.bands).map(move |b| Source::Input(i, b)))
            .collect(),
        _ => {
            if let Some(t) = tiles.iter().find(|t| t.bands != t0.bands) {
                return Err(EngineError::Mismatch(format!(
                    "cannot combine tiles with {} and {} bands: band counts must match",
                    t0.bands, t.bands
                )));
            }
            (0..t0.bands).map(Source::Band).collect()
        }
    })
}

fn select_bands(selections: &[Vec<i64>], mut bands: Vec<Source>) -> Result<Vec<Source>> {
    for sel in selections {
        bands = sel
            .iter()
            .map(|&i| {
                usize::try_from(i)
                    .ok()
                    .and_then(|i| bands.get(i).copied())
                    .ok_or_else(|| {
                        EngineError::Value(format!(
                            "band index {i} is out of range for a tile with {} bands",
                            bands.len()
                        ))
                    })
            })
            .collect::<Result<_>>()?;
    }
    Ok(bands)
}

fn load_virtual(
    plan: &Compiled,
    tiles: &[TileRef],
    types: &[CellType],
    source: Source,
    start: usize,
    work: &mut [f64],
    other: &mut [f64],
) {
    let band_start = |t: &TileRef, b: usize| b * t.cells_per_band() + start;
    match (source, plan.combine) {
        (Source::Input(i, b), Some((_, out))) => {
            types[i].load(tiles[i].cells, band_start(&tiles[i], b), work);
            out.normalize(work);
        }
        (Source::Band(b), None) | (Source::Input(_, b), None) => {
            types[0].load(tiles[0].cells, band_start(&tiles[0], b), work)
        }
        (Source::Band(b), Some((f, out))) => {
            types[0].load(tiles[0].cells, band_start(&tiles[0], b), work);
            let int_out = !out.data_type.is_float();
            match f {
                CombineFn::Fold(op) => {
                    for (t, ct) in tiles.iter().zip(types).skip(1) {
                        ct.load(t.cells, band_start(t, b), other);
                        plan::pointwise_binary(op, work, other, int_out);
                    }
                }
                CombineFn::Mean => mean_into(tiles, types, b, start, work, other),
                CombineFn::ConcatBands => {}
            }
            out.normalize(work);
        }
    }
}

/// Cell-wise mean over the inputs, NoData ignored (all NoData → NoData).
fn mean_into(
    tiles: &[TileRef],
    types: &[CellType],
    b: usize,
    start: usize,
    work: &mut [f64],
    other: &mut [f64],
) {
    let mut counts = vec![0u32; work.len()];
    for (c, w) in counts.iter_mut().zip(work.iter_mut()) {
        if w.is_nan() {
            *w = 0.0;
        } else {
            *c = 1;
        }
    }
    for (t, ct) in tiles.iter().zip(types).skip(1) {
        ct.load(t.cells, b * t.cells_per_band() + start, other);
        for ((w, c), o) in work.iter_mut().zip(counts.iter_mut()).zip(other.iter()) {
            if !o.is_nan() {
                *w += o;
                *c += 1;
            }
        }
    }
    for (w, c) in work.iter_mut().zip(&counts) {
        *w = if *c == 0 { f64::NAN } else { *w / *c as f64 };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::parse_plan;
    use arrow_array::{Int32Array, StringArray};
    use proptest::prelude::*;

    fn batch(cell_type: &str, tiles: &[Vec<u8>], bands: i32, rows: i32, cols: i32) -> RecordBatch {
        let n = tiles.len();
        let cells = arrow_array::BinaryArray::from_iter_values(tiles.iter());
        RecordBatch::try_from_iter(vec![
            (
                "col",
                Arc::new(Int32Array::from((0..n as i32).collect::<Vec<_>>())) as ArrayRef,
            ),
            (
                "cell_type",
                Arc::new(StringArray::from(vec![cell_type; n])) as ArrayRef,
            ),
            (
                "bands",
                Arc::new(Int32Array::from(vec![bands; n])) as ArrayRef,
            ),
            (
                "rows",
                Arc::new(Int32Array::from(vec![rows; n])) as ArrayRef,
            ),
            (
                "cols",
                Arc::new(Int32Array::from(vec![cols; n])) as ArrayRef,
            ),
            ("cells", Arc::new(cells) as ArrayRef),
        ])
        .unwrap()
    }

    fn cells_of(b: &RecordBatch) -> Vec<u8> {
        b.column_by_name("cells")
            .unwrap()
            .as_binary::<i32>()
            .value(0)
            .to_vec()
    }

    /// GeoTrellis' per-operation semantics on one float32 cell: compute in f64, NaN in → NaN out, store f32.
    fn naive_f32(mut v: f32, ops: &[(&str, f64)]) -> f32 {
        for (op, c) in ops {
            let x = v as f64;
            let r = if x.is_nan() {
                f64::NAN
            } else {
                match *op {
                    "add" => x + c,
                    "sub" => x - c,
                    "mul" => x * c,
                    "div" => x / c,
                    "max" => x.max(*c),
                    "min" => x.min(*c),
                    _ => unreachable!(),
                }
            };
            v = r as f32;
        }
        v
    }

    fn naive_i16(mut v: i16, ops: &[(&str, f64)]) -> i16 {
        for (op, c) in ops {
            if v == i16::MIN {
                continue; // NoData stays NoData
            }
            let x = v as f64;
            let r = match *op {
                "add" => x + c,
                "sub" => x - c,
                "mul" => x * c,
                "div" if *c == 0.0 => f64::NAN,
                "div" => x / c,
                "max" => x.max(*c),
                "min" => x.min(*c),
                _ => unreachable!(),
            };
            // Truncate, saturate to i32, wrap to i16 (Scala's toInt.toShort); i16::MIN becomes NoData.
            v = if r.is_nan() {
                i16::MIN
            } else {
                (r as i32) as i16
            };
        }
        v
    }

    fn op_strategy() -> impl Strategy<Value = (&'static str, f64)> {
        (
            prop::sample::select(vec!["add", "sub", "mul", "div", "max", "min"]),
            -50.0f64..50.0,
        )
            .prop_map(|(op, c)| (op, (c * 4.0).round() / 4.0))
    }

    fn plan_json(ops: &[(&str, f64)]) -> String {
        let steps: Vec<String> = ops
            .iter()
            .map(|(op, c)| format!(r#"{{"op":"scalar","fn":"{op}","value":{c:?}}}"#))
            .collect();
        format!("[{}]", steps.join(","))
    }

    fn check_float32_chain(
        values: &[f32],
        ops: &[(&str, f64)],
        f32_path: bool,
    ) -> std::result::Result<(), TestCaseError> {
        let steps = parse_plan(&plan_json(ops)).unwrap();
        let ct = CellType::parse("float32").unwrap();
        prop_assert_eq!(Compiled::new(&steps, &[ct]).unwrap().f32_path, f32_path);
        let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        let b = batch("float32", &[bytes], 1, 1, values.len() as i32);
        let out = run_plan(&b, &steps).unwrap();
        let got: Vec<f32> = cells_of(&out)
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
            .collect();
        for (v, g) in values.iter().zip(&got) {
            let want = naive_f32(*v, ops);
            prop_assert!(
                want.to_bits() == g.to_bits() || (want.is_nan() && g.is_nan()),
                "{v} -> {g}, want {want}"
            );
        }
        Ok(())
    }

    proptest! {
        #[test]
        fn fused_float32_chain_in_f32_matches_per_step_semantics(
            values in prop::collection::vec(prop_oneof![Just(f32::NAN), -1000.0f32..1000.0], 1..3000),
            ops in prop::collection::vec(op_strategy(), 1..6),
        ) {
            check_float32_chain(&values, &ops, true)?;
        }

        #[test]
        fn fused_float32_chain_in_f64_matches_per_step_semantics(
            values in prop::collection::vec(prop_oneof![Just(f32::NAN), -1000.0f32..1000.0], 1..3000),
            ops in prop::collection::vec(op_strategy(), 1..6),
        ) {
            // 0.1 is not an f32: the chain runs on f64 working values.
            let mut ops = ops;
            ops.push(("add", 0.1));
            check_float32_chain(&values, &ops, false)?;
        }

        #[test]
        fn fused_int16_chain_matches_per_step_semantics(
            values in prop::collection::vec(any::<i16>(), 1..3000),
            ops in prop::collection::vec(op_strategy(), 1..6),
        ) {
            let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
            let b = batch("int16", &[bytes], 1, 1, values.len() as i32);
            let out = run_plan(&b, &parse_plan(&plan_json(&ops)).unwrap()).unwrap();
            let got: Vec<i16> = cells_of(&out).chunks_exact(2).map(|c| i16::from_le_bytes(c.try_into().unwrap())).collect();
            for (v, g) in values.iter().zip(&got) {
                prop_assert_eq!(*g, naive_i16(*v, &ops), "input {}", v);
            }
        }
    }

    #[test]
    fn combine_bands_and_errors() {
        let a: Vec<u8> = [1.0f32, 2.0].iter().flat_map(|v| v.to_le_bytes()).collect();
        let mut b = batch("float32", std::slice::from_ref(&a), 1, 1, 2);
        // A second input, as after a join: concatenate bands, then pick band 1 and add.
        let mut cols: Vec<(String, ArrayRef)> = b
            .schema()
            .fields()
            .iter()
            .zip(b.columns())
            .map(|(f, c)| (f.name().clone(), c.clone()))
            .collect();
        for c in TILE_COLUMNS {
            let col = b.column_by_name(c).unwrap().clone();
            cols.push((format!("{c}__1"), col));
        }
        b = RecordBatch::try_from_iter(cols).unwrap();
        let plan = r#"[{"op":"combine","fn":"concat_bands","inputs":2},{"op":"bands","indices":[1]},
                       {"op":"scalar","fn":"add","value":1.0}]"#;
        let out = run_plan(&b, &parse_plan(plan).unwrap()).unwrap();
        assert_eq!(out.num_columns(), 6, "extra input columns are dropped");
        let got: Vec<f32> = cells_of(&out)
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
            .collect();
        assert_eq!(got, vec![2.0, 3.0]);
        let bad = parse_plan(r#"[{"op":"bands","indices":[3]}]"#).unwrap();
        assert!(run_plan(&batch("float32", std::slice::from_ref(&a), 1, 1, 2), &bad)
            .unwrap_err()
            .to_string()
            .contains("out of range"));
        let short = batch("float32", &[a[..4].to_vec()], 1, 1, 2);
        assert!(matches!(
            run_plan(&short, &[]),
            Err(EngineError::Contract(_))
        ));
        assert!(parse_plan(r#"[{"op":"scalar","fn":"plus","value":1}]"#).is_err());
    }
}
