//! The plan executor: runs a layer's recorded steps over every tile of a batch in the tile contract
//! (DESIGN §3, `crate::batch`), all steps fused in one pass over chunks of working values (DESIGN §4).
//! Steps that need to know where a tile lies (its key, extent, cell size) get a [`TileContext`], computed
//! from the key columns and the layer's layout only when such a step is in the plan.

use std::collections::HashMap;

use arrow_array::types::Int32Type;
use arrow_array::{Array, Int32Array, RecordBatch};

use super::{input_count, needs_tile_context, pointwise_binary, CombineFn, Compiled, Step};
use crate::batch::{
    input_column, primitive_column, with_tiles, CellTypeCache, TileBuilder, TileColumns, TileRef,
};
use crate::cell_type::CellType;
use crate::error::{EngineError, Result};
use crate::layout::{Extent, Layout};

/// Working values are processed in chunks that stay in L1 cache.
const CHUNK: usize = 2048;

/// Where a tile lies in its layer's layout: what steps such as masking, terrain or rendering need.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TileContext {
    /// The tile's key: `col` grows eastwards, `row` southwards (row 0 is the northern row).
    pub col: i32,
    pub row: i32,
    /// The key's extent (`MapKeyTransform.keyToExtent`).
    pub extent: Extent,
    /// The layout's cell size (`LayoutDefinition.cellSize`).
    pub cell_width: f64,
    pub cell_height: f64,
}

/// Reads the [`TileContext`] of each row of a keyed batch.
pub struct TileContexts<'a> {
    layout: Layout,
    col: &'a Int32Array,
    row: &'a Int32Array,
}

impl<'a> TileContexts<'a> {
    /// # Errors
    /// `InvalidPlan` without a layout, `Value` for an invalid one, `Contract` when the batch has no
    /// int32 `col` and `row` columns.
    pub fn new(batch: &'a RecordBatch, layout: Option<&Layout>) -> Result<TileContexts<'a>> {
        let layout = *layout.ok_or_else(|| {
            EngineError::InvalidPlan(
                "a step of this plan needs the tiles' keys and layout, but no layout was given"
                    .into(),
            )
        })?;
        layout.validate()?;
        Ok(TileContexts {
            layout,
            col: primitive_column::<Int32Type>(batch, "col")?,
            row: primitive_column::<Int32Type>(batch, "row")?,
        })
    }

    /// The context of row `i` (`i < num_rows`).
    pub fn at(&self, i: usize) -> TileContext {
        let (col, row) = (self.col.value(i), self.row.value(i));
        let (cell_width, cell_height) = self.layout.cell_size();
        TileContext {
            col,
            row,
            extent: self.layout.key_extent(col as i64, row as i64),
            cell_width,
            cell_height,
        }
    }
}

/// Run a plan over every tile of a batch (one pass, all steps fused). `layout` is the layer's layout; it is
/// needed (with the `col`, `row` key columns) only when a step asks for its tile's [`TileContext`].
///
/// # Errors
/// `Contract` for a batch outside the tile contract, `InvalidPlan` for a plan the input cell types cannot
/// run or a step that needs a layout that was not given, `Mismatch`/`Value` for tiles the steps refuse.
pub fn run_plan(
    batch: &RecordBatch,
    steps: &[Step],
    layout: Option<&Layout>,
) -> Result<RecordBatch> {
    let bytes: usize = (0..input_count(steps))
        .filter_map(|i| batch.column_by_name(&input_column("cells", i)))
        .map(|c| c.get_buffer_memory_size())
        .max()
        .unwrap_or(0);
    let mut out = TileBuilder::with_capacity(batch.num_rows(), bytes);
    run_plan_into(batch, steps, layout, &mut out)?;
    with_tiles(batch, out, None)
}

/// Where a plan's output tiles go: each tile's cells are appended to `values()` (stored bytes of the
/// output cell type, band after band), then `tile_done` is called. A reduction folds each tile and clears
/// the buffer, so it never builds an output batch.
pub trait PlanSink {
    fn values(&mut self) -> &mut Vec<u8>;
    fn tile_done(&mut self, ct: &CellType, bands: usize, rows: usize, cols: usize) -> Result<()>;
}

impl PlanSink for TileBuilder {
    fn values(&mut self) -> &mut Vec<u8> {
        self.values_mut()
    }

    fn tile_done(&mut self, ct: &CellType, bands: usize, rows: usize, cols: usize) -> Result<()> {
        self.finish_tile(ct, bands, rows, cols);
        Ok(())
    }
}

/// [`run_plan`] into any [`PlanSink`].
pub fn run_plan_into(
    batch: &RecordBatch,
    steps: &[Step],
    layout: Option<&Layout>,
    out: &mut impl PlanSink,
) -> Result<()> {
    let n_inputs = input_count(steps);
    let contexts = if needs_tile_context(steps) {
        Some(TileContexts::new(batch, layout)?)
    } else {
        None
    };
    let inputs: Vec<TileColumns> = (0..n_inputs)
        .map(|i| TileColumns::new(batch, i))
        .collect::<Result<_>>()?;
    let mut types = CellTypeCache::default();
    let mut compiled: HashMap<Vec<String>, Compiled> = HashMap::new();
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
        let context = contexts.as_ref().map(|c| c.at(row));
        let sources = virtual_bands(plan, &tiles)?;
        let bands = select_bands(&plan.band_selections, sources)?;
        let t0 = tiles[0];
        let n = t0.cells_per_band();
        if plan.f32_path {
            run_f32(plan, &t0, &bands, &mut work32, out.values());
            out.tile_done(&plan.out, bands.len(), t0.rows, t0.cols)?;
            continue;
        }
        for &source in &bands {
            let mut start = 0;
            while start < n {
                let len = CHUNK.min(n - start);
                let (w, o) = (&mut work[..len], &mut other[..len]);
                load_virtual(plan, &tiles, &in_types, source, start, w, o);
                plan.apply_pointwise(w, context.as_ref())?;
                plan.out.store(w, out.values());
                start += len;
            }
        }
        out.tile_done(&plan.out, bands.len(), t0.rows, t0.cols)?;
    }
    Ok(())
}

simd_clones! {
    /// The float32 path of `run_plan` for one tile (single input, see `Compiled::f32_path`). Cloned for the
    /// CPU's SIMD (the steps inline into each clone): AVX-512 runs it ~1.8× faster than baseline x86-64.
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
                        pointwise_binary(op, work, other, int_out);
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
    use crate::batch::TILE_COLUMNS;
    use crate::plan::parse_plan;
    use arrow_array::cast::AsArray;
    use arrow_array::{ArrayRef, StringArray};
    use proptest::prelude::*;
    use std::sync::Arc;

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
        let out = run_plan(&b, &steps, None).unwrap();
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
            let out = run_plan(&b, &parse_plan(&plan_json(&ops)).unwrap(), None).unwrap();
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
        let out = run_plan(&b, &parse_plan(plan).unwrap(), None).unwrap();
        assert_eq!(out.num_columns(), 6, "extra input columns are dropped");
        let got: Vec<f32> = cells_of(&out)
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
            .collect();
        assert_eq!(got, vec![2.0, 3.0]);
        let bad = parse_plan(r#"[{"op":"bands","indices":[3]}]"#).unwrap();
        assert!(run_plan(
            &batch("float32", std::slice::from_ref(&a), 1, 1, 2),
            &bad,
            None
        )
        .unwrap_err()
        .to_string()
        .contains("out of range"));
        let short = batch("float32", &[a[..4].to_vec()], 1, 1, 2);
        assert!(matches!(
            run_plan(&short, &[], None),
            Err(EngineError::Contract(_))
        ));
        assert!(parse_plan(r#"[{"op":"scalar","fn":"plus","value":1}]"#).is_err());
    }

    #[test]
    fn tile_context_of_a_keyed_batch() {
        use crate::retile::tests::{f32s, keyed};
        // 4 × 3 tiles of 2 × 2 cells over (100, 200)-(140, 230): tiles 10 × 10, cells 5 × 5.
        let layout = Layout {
            xmin: 100.0,
            ymin: 200.0,
            xmax: 140.0,
            ymax: 230.0,
            layout_cols: 4,
            layout_rows: 3,
            tile_cols: 2,
            tile_rows: 2,
        };
        let tile = || ("float32", 1, 2, 2, f32s(&[1.0, 2.0, 3.0, 4.0]));
        let b = keyed(&[(0, 0), (3, 2), (1, 2)], &[tile(), tile(), tile()]);
        let contexts = TileContexts::new(&b, Some(&layout)).unwrap();
        let ext = |xmin, ymin, xmax, ymax| Extent {
            xmin,
            ymin,
            xmax,
            ymax,
        };
        let want = [
            (0, 0, ext(100.0, 220.0, 110.0, 230.0)),
            (3, 2, ext(130.0, 200.0, 140.0, 210.0)),
            (1, 2, ext(110.0, 200.0, 120.0, 210.0)),
        ];
        for (i, (col, row, extent)) in want.into_iter().enumerate() {
            assert_eq!(
                contexts.at(i),
                TileContext {
                    col,
                    row,
                    extent,
                    cell_width: 5.0,
                    cell_height: 5.0
                }
            );
        }
        // Without a layout, or without keys, there is no context to give.
        assert!(matches!(
            TileContexts::new(&b, None),
            Err(EngineError::InvalidPlan(_))
        ));
        let unkeyed = batch("float32", &[f32s(&[1.0])], 1, 1, 1);
        assert!(matches!(
            TileContexts::new(&unkeyed, Some(&layout)),
            Err(EngineError::Contract(_))
        ));
        assert!(matches!(
            TileContexts::new(
                &b,
                Some(&Layout {
                    layout_cols: 0,
                    ..layout
                })
            ),
            Err(EngineError::Value(_))
        ));
        // A plan none of whose steps needs the context runs the same with or without the layout.
        let steps = parse_plan(r#"[{"op":"scalar","fn":"add","value":1.0}]"#).unwrap();
        assert!(!needs_tile_context(&steps));
        let with = run_plan(&b, &steps, Some(&layout)).unwrap();
        assert_eq!(with, run_plan(&b, &steps, None).unwrap());
        assert_eq!(cells_of(&with), f32s(&[2.0, 3.0, 4.0, 5.0]));
    }
}
