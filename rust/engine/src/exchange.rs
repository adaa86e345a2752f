//! The keyed exchange (DESIGN §4): every shuffle is a map side that emits keyed pieces, a Spark shuffle
//! (`repartition` + `sortWithinPartitions` on the key columns), and a reduce side that streams runs of
//! equal keys through one kernel. This module is the reduce side's run loop, shared by every kernel:
//! [`reduce_runs`] finds the runs of a sorted batch, hands each run to a [`RunKernel`], holds back the last
//! run when it may continue in the next batch, and returns the kernel's output with the row where the
//! held-back run starts (the caller prepends those rows to the next batch).
//!
//! Kernels: `merge::combine_runs` (merge, aggregate_by_cell), `warp::layer::warp_runs` (tiling into a
//! layout in another CRS), `pyramid::assemble_runs` (quadrants of a pyramid level),
//! `catalog::files::write_runs` (one tile file per index value) and `buffer::buffer_runs` (tiles with the
//! border strips of their neighbours).

use std::ops::Range;

use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, Int32Type, Int64Type};
use arrow_array::{Array, PrimitiveArray, RecordBatch};
use arrow_schema::DataType as ArrowType;

use crate::batch::{with_tiles, TileBuilder};
use crate::cell_type::CellType;
use crate::error::{EngineError, Result};

/// What a reduce-side kernel does with the runs of equal keys of one sorted batch.
pub trait RunKernel {
    /// Handle the rows `rows` of the batch, which all hold one key (and, when the caller carries
    /// held-back runs into the next batch, all the rows of that key).
    fn run(&mut self, rows: Range<usize>) -> Result<()>;

    /// The output batch, once every run has been handled.
    fn finish(self) -> Result<RecordBatch>;
}

/// Stream the runs of consecutive rows with equal `key_columns` of `batch` through `kernel`. When
/// `last_run_complete` is false the last run is held back (it may continue in the next batch). Returns
/// the kernel's output and the first row of the held-back run (`batch.num_rows()` when none is).
///
/// # Errors
///
/// A missing key column or one of an unsupported type, and any error of the kernel.
pub fn reduce_runs<K: RunKernel>(
    batch: &RecordBatch,
    key_columns: &[&str],
    last_run_complete: bool,
    mut kernel: K,
) -> Result<(RecordBatch, usize)> {
    let (starts, end) = run_starts(batch, key_columns, last_run_complete)?;
    for (k, &s) in starts.iter().enumerate() {
        let e = starts.get(k + 1).copied().unwrap_or(end);
        kernel.run(s..e)?;
    }
    Ok((kernel.finish()?, end))
}

/// The first row of each run of consecutive rows with equal keys, and the end of the runs to handle now:
/// when `last_run_complete` is false the last run is held back (the end is its first row).
///
/// # Errors
///
/// A missing key column, or one that is not int32, int64, float64 or a string.
pub fn run_starts(
    batch: &RecordBatch,
    key_columns: &[&str],
    last_run_complete: bool,
) -> Result<(Vec<usize>, usize)> {
    let keys: Vec<KeyColumn> = key_columns
        .iter()
        .map(|k| KeyColumn::new(batch, k))
        .collect::<Result<_>>()?;
    let n = batch.num_rows();
    let mut starts: Vec<usize> = Vec::new();
    for i in 0..n {
        if i == 0 || !keys.iter().all(|k| k.same(i - 1, i)) {
            starts.push(i);
        }
    }
    let mut end = n;
    if !last_run_complete {
        if let Some(last) = starts.pop() {
            end = last;
        }
    }
    Ok((starts, end))
}

/// A key column, compared row to row.
enum KeyColumn<'a> {
    I32(&'a PrimitiveArray<Int32Type>),
    I64(&'a PrimitiveArray<Int64Type>),
    F64(&'a PrimitiveArray<Float64Type>),
    Utf8(&'a arrow_array::StringArray),
    LargeUtf8(&'a arrow_array::LargeStringArray),
    Utf8View(&'a arrow_array::StringViewArray),
}

impl<'a> KeyColumn<'a> {
    fn new(batch: &'a RecordBatch, name: &str) -> Result<KeyColumn<'a>> {
        let a = batch
            .column_by_name(name)
            .ok_or_else(|| EngineError::Contract(format!("missing key column {name:?}")))?;
        Ok(match a.data_type() {
            ArrowType::Int32 => KeyColumn::I32(a.as_primitive()),
            ArrowType::Int64 => KeyColumn::I64(a.as_primitive()),
            ArrowType::Float64 => KeyColumn::F64(a.as_primitive()),
            ArrowType::Utf8 => KeyColumn::Utf8(a.as_string()),
            ArrowType::LargeUtf8 => KeyColumn::LargeUtf8(a.as_string()),
            ArrowType::Utf8View => KeyColumn::Utf8View(a.as_string_view()),
            other => {
                return Err(EngineError::Contract(format!(
                    "key column {name:?} has type {other}; expected int32, int64, float64 or utf8"
                )))
            }
        })
    }

    /// Whether rows `i` and `j` hold the same key (nulls equal nulls, NaN equals NaN).
    fn same(&self, i: usize, j: usize) -> bool {
        fn eq<A: Array, T: PartialEq>(a: &A, i: usize, j: usize, v: impl Fn(usize) -> T) -> bool {
            match (a.is_valid(i), a.is_valid(j)) {
                (true, true) => v(i) == v(j),
                (vi, vj) => vi == vj,
            }
        }
        match self {
            KeyColumn::I32(a) => eq(*a, i, j, |k| a.value(k)),
            KeyColumn::I64(a) => eq(*a, i, j, |k| a.value(k)),
            KeyColumn::F64(a) => eq(*a, i, j, |k| {
                let v = a.value(k);
                if v.is_nan() {
                    u64::MAX
                } else {
                    (v + 0.0).to_bits()
                }
            }),
            KeyColumn::Utf8(a) => eq(*a, i, j, |k| a.value(k)),
            KeyColumn::LargeUtf8(a) => eq(*a, i, j, |k| a.value(k)),
            KeyColumn::Utf8View(a) => eq(*a, i, j, |k| a.value(k)),
        }
    }
}

/// The output of a kernel that emits at most one tile per run: each tile keeps the key columns (and any
/// other pass-through columns) of a row of its run, the tile columns are the new tiles, and the piece
/// columns named in `drop` (offsets, extents) are left out so the result follows the tile contract.
pub struct KeyedTiles<'a> {
    batch: &'a RecordBatch,
    drop: &'static [&'static str],
    tiles: TileBuilder,
    rows: Vec<u32>,
}

impl<'a> KeyedTiles<'a> {
    /// An empty output for runs of `batch`, with room for about `bytes` bytes of cells.
    pub fn new(batch: &'a RecordBatch, bytes: usize, drop: &'static [&'static str]) -> Self {
        KeyedTiles {
            batch,
            drop,
            tiles: TileBuilder::with_capacity(batch.num_rows(), bytes),
            rows: Vec::new(),
        }
    }

    /// The buffer the next tile's cells are appended to; close the tile with [`KeyedTiles::finish_tile`].
    pub fn values_mut(&mut self) -> &mut Vec<u8> {
        self.tiles.values_mut()
    }

    /// Close the tile whose cells were appended since the last one; its keys are those of `row`.
    pub fn finish_tile(
        &mut self,
        row: usize,
        ct: &CellType,
        bands: usize,
        rows: usize,
        cols: usize,
    ) {
        self.tiles.finish_tile(ct, bands, rows, cols);
        self.rows.push(row as u32);
    }

    /// Append a whole tile keyed as `row`.
    pub fn push_tile(
        &mut self,
        row: usize,
        ct: &CellType,
        bands: usize,
        rows: usize,
        cols: usize,
        cells: &[u8],
    ) {
        self.tiles.push_tile(ct, bands, rows, cols, cells);
        self.rows.push(row as u32);
    }

    /// The output batch: the pass-through columns of the kept rows, the new tile columns, without the
    /// dropped piece columns.
    ///
    /// # Errors
    ///
    /// Cells over 2 GiB in a batch without 64-bit offsets, or a pass-through column that cannot be taken.
    pub fn finish(self) -> Result<RecordBatch> {
        if self.drop.is_empty() {
            return with_tiles(self.batch, self.tiles, Some(&self.rows));
        }
        let schema = self.batch.schema();
        let keep: Vec<usize> = (0..schema.fields().len())
            .filter(|&j| !self.drop.contains(&schema.field(j).name().as_str()))
            .collect();
        with_tiles(&self.batch.project(&keep)?, self.tiles, Some(&self.rows))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::{ArrayRef, Int32Array, StringArray};
    use std::sync::Arc;

    /// Counts rows per run, and fails on a chosen run.
    struct Count(Vec<usize>);

    impl RunKernel for Count {
        fn run(&mut self, rows: Range<usize>) -> Result<()> {
            self.0.push(rows.len());
            Ok(())
        }

        fn finish(self) -> Result<RecordBatch> {
            let lens: Vec<i32> = self.0.iter().map(|n| *n as i32).collect();
            Ok(RecordBatch::try_from_iter([(
                "n",
                Arc::new(Int32Array::from(lens)) as ArrayRef,
            )])?)
        }
    }

    fn lens(b: &RecordBatch) -> Vec<i32> {
        b.column(0).as_primitive::<Int32Type>().values().to_vec()
    }

    #[test]
    fn runs_hold_back_the_last_one() {
        let b = RecordBatch::try_from_iter([
            (
                "k",
                Arc::new(Int32Array::from(vec![1, 1, 2, 3, 3, 3])) as ArrayRef,
            ),
            (
                "s",
                Arc::new(StringArray::from(vec!["a", "a", "a", "a", "b", "b"])) as ArrayRef,
            ),
        ])
        .unwrap();
        let (out, end) = reduce_runs(&b, &["k"], true, Count(vec![])).unwrap();
        assert_eq!((lens(&out), end), (vec![2, 1, 3], 6));
        let (out, end) = reduce_runs(&b, &["k"], false, Count(vec![])).unwrap();
        assert_eq!((lens(&out), end), (vec![2, 1], 3));
        let (out, end) = reduce_runs(&b, &["k", "s"], false, Count(vec![])).unwrap();
        assert_eq!((lens(&out), end), (vec![2, 1, 1], 4));
        let (out, end) = reduce_runs(&b.slice(0, 0), &["k"], false, Count(vec![])).unwrap();
        assert_eq!((lens(&out), end), (vec![], 0));
        let (out, end) = reduce_runs(&b.slice(3, 3), &["k"], false, Count(vec![])).unwrap();
        assert_eq!((lens(&out), end), (vec![], 0));
        assert!(matches!(
            reduce_runs(&b, &["nope"], true, Count(vec![])),
            Err(EngineError::Contract(_))
        ));
    }
}
