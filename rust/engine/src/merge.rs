//! Combining runs of rows with equal keys (the kernel after a `repartition` + `sortWithinPartitions` on the
//! key columns, DESIGN §4): GeoTrellis `merge` and GeoPySpark's `aggregate_by_cell`.
//!
//! Semantics, as in `geopyspark-backend` `TiledRasterLayer.aggregateByCell` and GeoTrellis'
//! `mapalgebra/local/{Add,Min,Max,Mean,Variance,Sqrt}.scala`, `merge/SinglebandTileMergeMethods.scala`:
//! * `Fill` (`merge`): the first tile, then each later tile fills the cells that are still empty: NoData
//!   for types with NoData and NaN for raw floats (what a cell with no source holds, `retile::empty_cell`),
//!   0 or GeoTrellis' NODATA for raw integer types (0 is transparent there; for `bool` that is a cell-wise
//!   OR).
//! * `Sum`, `Min`, `Max`: GeoPySpark reduces with `localAdd` / `Min(tiles)` / `Max(tiles)`, whose NoData rule
//!   is that a NoData operand gives NoData. Each step is stored in the result type, as GeoTrellis does.
//! * `Mean`: NoData ignored, all NoData → NoData; integer result types truncate (`sum / count` on Ints).
//! * `Variance`: NoData ignored, sample variance (n − 1) by Welford's update; fewer than two values → NoData;
//!   integer result types round (`Math.round`).
//! * `StandardDeviation`: GeoPySpark's `Sqrt(Variance(tiles))`: the variance stored in the result type, then
//!   its square root (truncated for integer types).
//! * Result cell type: `CellType::union` of the run's types (GeoTrellis uses the union for all of these).

use std::ops::Range;

use arrow_array::{Array, RecordBatch};

use crate::batch::{check_same_shape, CellTypeCache, TileColumns, TileRef};
use crate::cell_type::{CellType, NoData};
use crate::error::{EngineError, Result};
use crate::exchange::{reduce_runs, KeyedTiles, RunKernel};
use crate::plan::{pointwise_binary, BinaryOp};

/// Cells processed at a time (working values stay in L1/L2 cache).
const CHUNK: usize = 2048;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunOp {
    Fill,
    Sum,
    Mean,
    Min,
    Max,
    Variance,
    StandardDeviation,
}

impl RunOp {
    /// `fill`, `sum`, `mean`, `min`, `max`, `variance`, `standard_deviation`.
    pub fn parse(name: &str) -> Result<RunOp> {
        Ok(match name {
            "fill" => RunOp::Fill,
            "sum" => RunOp::Sum,
            "mean" => RunOp::Mean,
            "min" => RunOp::Min,
            "max" => RunOp::Max,
            "variance" => RunOp::Variance,
            "standard_deviation" => RunOp::StandardDeviation,
            other => {
                return Err(EngineError::Value(format!(
                    "unknown run operation {other:?}; expected fill, sum, mean, min, max, variance or standard_deviation"
                )))
            }
        })
    }
}

/// Combine each run of consecutive rows with equal keys into one row (keys and other columns of the run's
/// first row). When `last_run_complete` is false the last run is held back and its first row index is
/// returned (the caller prepends those rows to the next batch); otherwise `batch.num_rows()` is returned.
///
/// # Errors
///
/// A batch outside the tile contract, a missing key column, or tiles of one key with different shapes.
pub fn combine_runs(
    batch: &RecordBatch,
    key_columns: &[&str],
    op: RunOp,
    last_run_complete: bool,
) -> Result<(RecordBatch, usize)> {
    let bytes = batch
        .column_by_name("cells")
        .map_or(0, |c| c.get_buffer_memory_size());
    let kernel = Combine {
        tiles: TileColumns::new(batch, 0)?,
        types: CellTypeCache::default(),
        op,
        out: KeyedTiles::new(batch, bytes.min(1 << 30), &[]),
        scratch: Scratch::default(),
    };
    reduce_runs(batch, key_columns, last_run_complete, kernel)
}

/// The run kernel of [`combine_runs`].
struct Combine<'a> {
    tiles: TileColumns<'a>,
    types: CellTypeCache,
    op: RunOp,
    out: KeyedTiles<'a>,
    scratch: Scratch,
}

impl RunKernel for Combine<'_> {
    fn run(&mut self, rows: Range<usize>) -> Result<()> {
        let first = rows.start;
        let run: Vec<(TileRef, CellType)> = rows
            .map(|i| {
                let ct = self.types.get(self.tiles.cell_type_name(i))?;
                Ok((self.tiles.tile(i, &ct)?, ct))
            })
            .collect::<Result<_>>()?;
        combine_run(&run, self.op, first, &mut self.out, &mut self.scratch)
    }

    fn finish(self) -> Result<RecordBatch> {
        self.out.finish()
    }
}

#[derive(Default)]
struct Scratch {
    work: Vec<f64>,
    other: Vec<f64>,
    count: Vec<f64>,
    mean: Vec<f64>,
    m2: Vec<f64>,
}

/// Whether a cell of the result type is still empty for `Fill`.
/// Whether a working value is a cell the "fill" merge may still fill.
pub(crate) fn is_empty(ct: &CellType, v: f64) -> bool {
    match ct.no_data {
        // Raw floats: NaN, what a cell with no source holds (a 0 is data).
        NoData::Raw if ct.data_type.is_float() => v.is_nan(),
        // Raw integers: 0 is transparent, and so is GeoTrellis' NODATA, which int32raw cells with no source hold.
        NoData::Raw => v == 0.0 || v == f64::from(i32::MIN),
        _ => v.is_nan(),
    }
}

/// Load a chunk of a tile's band as working values of the result type.
fn load(t: &(TileRef, CellType), out: &CellType, b: usize, start: usize, into: &mut [f64]) {
    let (tile, ct) = t;
    ct.load(tile.cells, b * tile.cells_per_band() + start, into);
    if ct != out {
        out.normalize(into);
    }
}

fn combine_run(
    run: &[(TileRef, CellType)],
    op: RunOp,
    first: usize,
    out: &mut KeyedTiles,
    s: &mut Scratch,
) -> Result<()> {
    let (t0, _) = run[0];
    check_same_shape(run.iter().map(|(t, _)| t), "combine")?;
    let ct = run
        .iter()
        .skip(1)
        .fold(run[0].1, |acc, (_, t)| acc.union(t));
    let single_copy = run.len() == 1 && !matches!(op, RunOp::Variance | RunOp::StandardDeviation);
    if single_copy && run[0].1 == ct {
        out.push_tile(first, &ct, t0.bands, t0.rows, t0.cols, t0.cells);
        return Ok(());
    }
    let int_out = !ct.data_type.is_float();
    let n = t0.cells_per_band();
    for buf in [
        &mut s.work,
        &mut s.other,
        &mut s.count,
        &mut s.mean,
        &mut s.m2,
    ] {
        buf.resize(CHUNK, 0.0);
    }
    for b in 0..t0.bands {
        let mut start = 0;
        while start < n {
            let len = CHUNK.min(n - start);
            let (work, other) = (&mut s.work[..len], &mut s.other[..len]);
            match op {
                RunOp::Fill => {
                    load(&run[0], &ct, b, start, work);
                    for t in &run[1..] {
                        if !work.iter().any(|v| is_empty(&ct, *v)) {
                            break;
                        }
                        load(t, &ct, b, start, other);
                        for (w, o) in work.iter_mut().zip(other.iter()) {
                            if is_empty(&ct, *w) {
                                *w = *o;
                            }
                        }
                    }
                }
                RunOp::Sum | RunOp::Min | RunOp::Max => {
                    let bop = match op {
                        RunOp::Sum => BinaryOp::Add,
                        RunOp::Min => BinaryOp::Min,
                        _ => BinaryOp::Max,
                    };
                    load(&run[0], &ct, b, start, work);
                    for t in &run[1..] {
                        load(t, &ct, b, start, other);
                        pointwise_binary(bop, work, other, int_out);
                        ct.normalize(work);
                    }
                }
                RunOp::Mean => {
                    let count = &mut s.count[..len];
                    work.fill(0.0);
                    count.fill(0.0);
                    for t in run {
                        load(t, &ct, b, start, other);
                        for ((w, c), o) in work.iter_mut().zip(count.iter_mut()).zip(other.iter()) {
                            if !o.is_nan() {
                                *w += o;
                                *c += 1.0;
                            }
                        }
                    }
                    for (w, c) in work.iter_mut().zip(count.iter()) {
                        // Integer types: storing truncates toward zero, as Scala's Int division does.
                        *w = if *c == 0.0 { f64::NAN } else { *w / *c };
                    }
                }
                RunOp::Variance | RunOp::StandardDeviation => {
                    let (count, mean, m2) =
                        (&mut s.count[..len], &mut s.mean[..len], &mut s.m2[..len]);
                    count.fill(0.0);
                    mean.fill(0.0);
                    m2.fill(0.0);
                    for t in run {
                        load(t, &ct, b, start, other);
                        for (((v, c), m), q) in other
                            .iter()
                            .zip(count.iter_mut())
                            .zip(mean.iter_mut())
                            .zip(m2.iter_mut())
                        {
                            if !v.is_nan() {
                                *c += 1.0;
                                let delta = v - *m;
                                *m += delta / *c;
                                *q += delta * (v - *m);
                            }
                        }
                    }
                    for ((w, c), q) in work.iter_mut().zip(count.iter()).zip(m2.iter()) {
                        *w = if *c > 1.0 {
                            let var = q / (c - 1.0);
                            if int_out {
                                var.round()
                            } else {
                                var
                            }
                        } else {
                            f64::NAN
                        };
                    }
                    if op == RunOp::StandardDeviation {
                        // The variance tile as GeoTrellis stores it, then `Sqrt`.
                        ct.normalize(work);
                        for w in work.iter_mut() {
                            *w = if int_out {
                                if w.is_nan() || *w < 0.0 {
                                    f64::NAN
                                } else {
                                    w.sqrt().trunc()
                                }
                            } else {
                                w.sqrt()
                            };
                        }
                    }
                }
            }
            ct.store(work, out.values_mut());
            start += len;
        }
    }
    out.finish_tile(first, &ct, t0.bands, t0.rows, t0.cols);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::cast::AsArray;
    use crate::retile::tests::{as_f32, f32s, tile_batch};
    use arrow_array::{ArrayRef, Int32Array, StringArray};
    use std::sync::Arc;

    fn keyed(
        keys: &[i32],
        names: &[&str],
        tiles: &[(&str, usize, usize, usize, Vec<u8>)],
    ) -> RecordBatch {
        tile_batch(
            vec![
                ("col", Arc::new(Int32Array::from(keys.to_vec())) as ArrayRef),
                (
                    "name",
                    Arc::new(StringArray::from(names.to_vec())) as ArrayRef,
                ),
            ],
            tiles,
        )
    }

    fn cells(b: &RecordBatch) -> Vec<Vec<u8>> {
        let c = b.column_by_name("cells").unwrap().as_binary::<i32>();
        (0..c.len()).map(|i| c.value(i).to_vec()).collect()
    }

    const ND: f32 = f32::NAN;

    fn same(a: &[f32], b: &[f32]) -> bool {
        a.len() == b.len()
            && a.iter()
                .zip(b)
                .all(|(x, y)| x == y || (x.is_nan() && y.is_nan()))
    }

    #[test]
    fn runs_and_carry() {
        let t = |v: f32| ("float32", 1, 1, 2, f32s(&[v, ND]));
        let b = keyed(
            &[1, 1, 2, 3, 3],
            &["a", "b", "c", "d", "e"],
            &[t(1.0), t(2.0), t(3.0), t(4.0), t(5.0)],
        );
        let (out, next) = combine_runs(&b, &["col"], RunOp::Sum, true).unwrap();
        assert_eq!(next, 5);
        assert_eq!(out.num_rows(), 3);
        let names = out.column_by_name("name").unwrap().as_string::<i32>();
        assert_eq!(
            (names.value(0), names.value(1), names.value(2)),
            ("a", "c", "d")
        );
        let c = cells(&out);
        assert!(same(&as_f32(&c[0]), &[3.0, ND]));
        assert!(same(&as_f32(&c[2]), &[9.0, ND]));

        let (out, next) = combine_runs(&b, &["col"], RunOp::Sum, false).unwrap();
        assert_eq!((out.num_rows(), next), (2, 3));
        // Two key columns: "name" differs on every row, so no run has two rows.
        let (out, _) = combine_runs(&b, &["col", "name"], RunOp::Sum, true).unwrap();
        assert_eq!(out.num_rows(), 5);
        // Empty batch, and a batch that is one incomplete run.
        let (out, next) = combine_runs(&b.slice(0, 0), &["col"], RunOp::Fill, false).unwrap();
        assert_eq!((out.num_rows(), next), (0, 0));
        let (out, next) = combine_runs(&b.slice(0, 2), &["col"], RunOp::Fill, false).unwrap();
        assert_eq!((out.num_rows(), next), (0, 0));
        assert!(combine_runs(&b, &["nope"], RunOp::Sum, true).is_err());
    }

    #[test]
    fn fill_semantics() {
        // NoData types: later tiles fill NoData.
        let b = keyed(
            &[0, 0, 0],
            &["a", "b", "c"],
            &[
                ("float32", 1, 1, 3, f32s(&[1.0, ND, ND])),
                ("float32", 1, 1, 3, f32s(&[9.0, 2.0, ND])),
                ("float32", 1, 1, 3, f32s(&[9.0, 9.0, 3.0])),
            ],
        );
        let (out, _) = combine_runs(&b, &["col"], RunOp::Fill, true).unwrap();
        assert_eq!(as_f32(&cells(&out)[0]), vec![1.0, 2.0, 3.0]);
        // Raw types: 0 is the transparent value.
        let b = keyed(
            &[0, 0],
            &["a", "b"],
            &[
                ("uint8raw", 1, 1, 3, vec![0, 5, 0]),
                ("uint8raw", 1, 1, 3, vec![7, 7, 0]),
            ],
        );
        let (out, _) = combine_runs(&b, &["col"], RunOp::Fill, true).unwrap();
        assert_eq!(cells(&out)[0], vec![7, 5, 0]);
        // Mixed types: union (int16 + float32 → float32).
        let b = keyed(
            &[0, 0],
            &["a", "b"],
            &[
                (
                    "int16",
                    1,
                    1,
                    2,
                    [i16::MIN, 4].iter().flat_map(|v| v.to_le_bytes()).collect(),
                ),
                ("float32", 1, 1, 2, f32s(&[1.5, 2.0])),
            ],
        );
        let (out, _) = combine_runs(&b, &["col"], RunOp::Fill, true).unwrap();
        assert_eq!(
            out.column_by_name("cell_type")
                .unwrap()
                .as_string::<i32>()
                .value(0),
            "float32"
        );
        assert_eq!(as_f32(&cells(&out)[0]), vec![1.5, 4.0]);
    }

    #[test]
    fn aggregate_semantics() {
        // Two bands; GeoPySpark's aggregate_cells_test layout (first/second swapped in the second tile).
        let first = [1.0f32, 2.0, 3.0, -1.0];
        let second = [1.0f32, 1.0, 5.0, 7.0];
        let t1 = ("float32ud-1.0", 2, 2, 2, f32s(&[first, second].concat()));
        let t2 = ("float32ud-1.0", 2, 2, 2, f32s(&[second, first].concat()));
        let b = keyed(&[0, 0, 1], &["a", "b", "c"], &[t1.clone(), t2, t1]);
        let run = |op| {
            let (out, _) = combine_runs(&b, &["col"], op, true).unwrap();
            assert_eq!(
                out.column_by_name("cell_type")
                    .unwrap()
                    .as_string::<i32>()
                    .value(0),
                "float32ud-1.0"
            );
            cells(&out).iter().map(|c| as_f32(c)).collect::<Vec<_>>()
        };
        // Sum/Min/Max: a NoData operand gives NoData (GeoTrellis localAdd/Min/Max).
        assert_eq!(
            run(RunOp::Sum)[0],
            vec![2.0, 3.0, 8.0, -1.0, 2.0, 3.0, 8.0, -1.0]
        );
        assert_eq!(
            run(RunOp::Min)[0],
            vec![1.0, 1.0, 3.0, -1.0, 1.0, 1.0, 3.0, -1.0]
        );
        assert_eq!(run(RunOp::Max)[0][..4], [1.0, 2.0, 5.0, -1.0]);
        // Mean ignores NoData.
        assert_eq!(run(RunOp::Mean)[0][..4], [1.0, 1.5, 4.0, 7.0]);
        // Sample variance; one value → NoData; a single-tile run → all NoData.
        let v = run(RunOp::Variance);
        assert_eq!(v[0][..4], [0.0, 0.5, 2.0, -1.0]);
        assert_eq!(v[1], vec![-1.0; 8]);
        let sd = run(RunOp::StandardDeviation);
        assert_eq!(sd[0][..4], [0.0, 0.5f32.sqrt(), 2.0f32.sqrt(), -1.0]);
        // A single-tile run passes through for Sum.
        assert_eq!(run(RunOp::Sum)[1], as_f32(&f32s(&[first, second].concat())));
    }

    #[test]
    fn integer_aggregates() {
        let i16s = |v: &[i16]| -> Vec<u8> { v.iter().flat_map(|x| x.to_le_bytes()).collect() };
        let from = |b: &[u8]| -> Vec<i16> {
            b.chunks_exact(2)
                .map(|c| i16::from_le_bytes(c.try_into().unwrap()))
                .collect()
        };
        let nd = i16::MIN;
        let b = keyed(
            &[0, 0, 0],
            &["a", "b", "c"],
            &[
                ("int16", 1, 1, 4, i16s(&[1, -7, nd, 10])),
                ("int16", 1, 1, 4, i16s(&[2, 0, nd, 0])),
                ("int16", 1, 1, 4, i16s(&[2, nd, 4, 0])),
            ],
        );
        let run = |op| from(&cells(&combine_runs(&b, &["col"], op, true).unwrap().0)[0]);
        assert_eq!(run(RunOp::Mean), vec![1, -3, 4, 3]); // 5/3 → 1, -7/2 → -3 (truncation)
        assert_eq!(run(RunOp::Variance), vec![0, 25, nd, 33]); // 1/3 → 0, 24.5 → 25 (round), 33.33 → 33
        assert_eq!(run(RunOp::StandardDeviation), vec![0, 5, nd, 5]);
        assert_eq!(run(RunOp::Sum), vec![5, nd, nd, 10]);
        // uint8: the sum wraps through storage at every step (200 + 56 = 256 → 0 = NoData).
        let b = keyed(
            &[0, 0, 0],
            &["a", "b", "c"],
            &[
                ("uint8", 1, 1, 1, vec![200]),
                ("uint8", 1, 1, 1, vec![56]),
                ("uint8", 1, 1, 1, vec![3]),
            ],
        );
        assert_eq!(
            cells(&combine_runs(&b, &["col"], RunOp::Sum, true).unwrap().0)[0],
            vec![0]
        );
    }

    #[test]
    fn mismatched_shapes() {
        let b = keyed(
            &[0, 0],
            &["a", "b"],
            &[
                ("uint8", 1, 1, 2, vec![1, 2]),
                ("uint8", 2, 1, 2, vec![1, 2, 3, 4]),
            ],
        );
        assert!(matches!(
            combine_runs(&b, &["col"], RunOp::Fill, true),
            Err(EngineError::Mismatch(_))
        ));
        assert!(RunOp::parse("median").is_err());
        assert_eq!(
            RunOp::parse("standard_deviation").unwrap(),
            RunOp::StandardDeviation
        );
    }
}
