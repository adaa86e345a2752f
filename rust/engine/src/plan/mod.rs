//! A plan is the list of per-tile steps a layer has recorded but not yet run (DESIGN §4). It arrives as
//! JSON from Python, is compiled once per distinct input cell type, and then runs over every tile in chunks
//! of working values, so that a chain of N steps reads and writes each tile once. `execute` runs it over a
//! batch in the tile contract.

pub mod execute;
mod pointwise;

use serde::Deserialize;

use crate::cell_type::{CellType, DataType, NoData};
use crate::error::{EngineError, Result};
pub use execute::{run_plan, TileContext, TileContexts};
pub use pointwise::{BinaryOp, ReclassifyStrategy};

/// One recorded step. `combine` may only come first: it reads several joined tiles (inputs `0..n`).
#[derive(Clone, Debug, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
pub enum Step {
    Combine {
        r#fn: CombineFn,
        inputs: usize,
    },
    Scalar {
        r#fn: BinaryOp,
        #[serde(deserialize_with = "number::one")]
        value: f64,
        #[serde(default)]
        reverse: bool,
    },
    Unary {
        r#fn: UnaryOp,
    },
    Convert {
        cell_type: String,
    },
    Interpret {
        #[serde(default, deserialize_with = "number::optional")]
        no_data: Option<f64>,
    },
    Bands {
        indices: Vec<i64>,
    },
    Reclassify(Reclassify),
    Normalize {
        #[serde(deserialize_with = "number::one")]
        old_min: f64,
        #[serde(deserialize_with = "number::one")]
        old_max: f64,
        #[serde(deserialize_with = "number::one")]
        new_min: f64,
        #[serde(deserialize_with = "number::one")]
        new_max: f64,
    },
}

#[derive(Clone, Copy, Debug, Deserialize, PartialEq)]
#[serde(rename_all = "snake_case")]
pub enum UnaryOp {
    Abs,
    Neg,
}

#[derive(Clone, Copy, Debug, Deserialize, PartialEq)]
#[serde(rename_all = "snake_case")]
pub enum CombineFn {
    /// Fold the inputs left to right with a binary operation (NoData in any input gives NoData).
    Fold(BinaryOp),
    /// Cell-wise mean over the inputs, ignoring NoData (GeoTrellis `localMean`).
    Mean,
    /// Concatenate the bands of the inputs in order.
    ConcatBands,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reclassify {
    pub strategy: ReclassifyStrategy,
    /// Break values, ascending, and the value each maps to.
    #[serde(deserialize_with = "number::many")]
    pub breaks: Vec<f64>,
    #[serde(deserialize_with = "number::many")]
    pub values: Vec<f64>,
    /// Compare cells truncated to integers (GeoPySpark's `data_type=int`).
    pub int_keys: bool,
    #[serde(default, deserialize_with = "number::optional")]
    pub replace_nodata_with: Option<f64>,
    #[serde(default, deserialize_with = "number::optional")]
    pub fallback: Option<f64>,
    pub strict: bool,
}

/// Numbers of a plan: JSON has no NaN or infinities, so the Python layer sends them as the strings
/// `"NaN"`, `"Infinity"` and `"-Infinity"`; every other number is a JSON number (exact, as
/// `serde_json`'s `float_roundtrip` reads it).
mod number {
    use serde::{Deserialize, Deserializer};

    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Number {
        Finite(f64),
        Special(String),
    }

    fn value<E: serde::de::Error>(n: Number) -> Result<f64, E> {
        match n {
            Number::Finite(v) => Ok(v),
            Number::Special(s) => match s.as_str() {
                "NaN" => Ok(f64::NAN),
                "Infinity" => Ok(f64::INFINITY),
                "-Infinity" => Ok(f64::NEG_INFINITY),
                other => Err(E::custom(format!(
                    "expected a number, \"NaN\", \"Infinity\" or \"-Infinity\", got {other:?}"
                ))),
            },
        }
    }

    pub fn one<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        value(Number::deserialize(d)?)
    }

    pub fn optional<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
        Option::<Number>::deserialize(d)?.map(value).transpose()
    }

    pub fn many<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<f64>, D::Error> {
        Vec::<Number>::deserialize(d)?
            .into_iter()
            .map(value)
            .collect()
    }
}

/// Parse the JSON plan sent by the Python layer.
pub fn parse_plan(json: &str) -> Result<Vec<Step>> {
    let steps: Vec<Step> =
        serde_json::from_str(json).map_err(|e| EngineError::InvalidPlan(e.to_string()))?;
    for (i, step) in steps.iter().enumerate() {
        match step {
            Step::Combine { inputs, .. } if i > 0 || *inputs == 0 => {
                return Err(EngineError::InvalidPlan(
                    "combine must be the first step and have inputs".into(),
                ))
            }
            Step::Reclassify(r) => {
                if r.breaks.len() != r.values.len() {
                    return Err(EngineError::InvalidPlan(
                        "reclassify needs one value per break".into(),
                    ));
                }
                if r.breaks.iter().any(|b| b.is_nan()) || r.breaks.windows(2).any(|w| w[0] >= w[1])
                {
                    return Err(EngineError::InvalidPlan(
                        "reclassify breaks must be sorted and distinct".into(),
                    ));
                }
            }
            _ => {}
        }
    }
    Ok(steps)
}

impl Step {
    /// Whether the step needs its tile's [`TileContext`] (key, extent, cell size), so that the executor
    /// reads the key columns and the layout for it. None of today's steps does; masking, terrain and
    /// rendering steps will.
    pub fn needs_tile_context(&self) -> bool {
        match self {
            Step::Combine { .. }
            | Step::Scalar { .. }
            | Step::Unary { .. }
            | Step::Convert { .. }
            | Step::Interpret { .. }
            | Step::Bands { .. }
            | Step::Reclassify(_)
            | Step::Normalize { .. } => false,
        }
    }
}

/// Whether any step of a plan needs its tile's [`TileContext`].
pub fn needs_tile_context(steps: &[Step]) -> bool {
    steps.iter().any(Step::needs_tile_context)
}

/// How many tiles a plan reads per row (1 unless it starts with `combine`).
pub fn input_count(steps: &[Step]) -> usize {
    match steps.first() {
        Some(Step::Combine { inputs, .. }) => *inputs,
        _ => 1,
    }
}

/// A step that maps working values one by one, with the cell type its output is stored in.
#[derive(Clone, Debug)]
pub(crate) struct TypedStep {
    pub step: Step,
    pub input: CellType,
    pub out: CellType,
}

/// A plan compiled for given input cell types.
#[derive(Clone, Debug)]
pub struct Compiled {
    pub combine: Option<(CombineFn, CellType)>,
    pub(crate) pointwise: Vec<TypedStep>,
    /// Each `bands` step's indices, in order; they compose into one band selection per tile.
    pub band_selections: Vec<Vec<i64>>,
    pub out: CellType,
    /// Float32 in and out with only steps that are exact in f32: run on f32 values (twice the lanes,
    /// no rounding pass between steps) with bit-identical results.
    pub f32_path: bool,
}

impl Compiled {
    pub fn new(steps: &[Step], inputs: &[CellType]) -> Result<Compiled> {
        let mut current = inputs[0];
        let mut combine = None;
        let mut pointwise = Vec::new();
        let mut band_selections = Vec::new();
        for step in steps {
            match step {
                Step::Combine { r#fn, inputs: n } => {
                    if *n != inputs.len() {
                        return Err(EngineError::InvalidPlan(format!(
                            "combine expects {n} inputs, got {}",
                            inputs.len()
                        )));
                    }
                    let union = inputs.iter().skip(1).fold(inputs[0], |acc, t| acc.union(t));
                    current = match r#fn {
                        CombineFn::Fold(op) if op.is_comparison() => bool_type(),
                        _ => union,
                    };
                    combine = Some((*r#fn, current));
                }
                Step::Bands { indices } => band_selections.push(indices.clone()),
                other => {
                    let input = current;
                    current = step_output_type(other, &input)?;
                    pointwise.push(TypedStep {
                        step: other.clone(),
                        input,
                        out: current,
                    });
                }
            }
        }
        let plain_f32 = |ct: &CellType| {
            ct.data_type == DataType::Float32 && !matches!(ct.no_data, NoData::UserDefined(_))
        };
        let f32_path = combine.is_none()
            && plain_f32(&inputs[0])
            && pointwise
                .iter()
                .all(|ts| plain_f32(&ts.out) && pointwise::exact_in_f32(&ts.step));
        Ok(Compiled {
            combine,
            pointwise,
            band_selections,
            out: current,
            f32_path,
        })
    }

    /// Run the pointwise steps over a chunk of float32 values (only when `f32_path`).
    #[inline(always)]
    pub fn apply_pointwise_f32(&self, values: &mut [f32]) {
        for ts in &self.pointwise {
            pointwise::apply_f32(&ts.step, values);
        }
    }

    /// Run the pointwise steps over a chunk of working values. `_tile` is the tile's context when the plan
    /// has a step that needs it (`needs_tile_context`); no pointwise step reads it yet.
    #[inline]
    pub fn apply_pointwise(&self, values: &mut [f64], _tile: Option<&TileContext>) -> Result<()> {
        for ts in &self.pointwise {
            pointwise::apply(&ts.step, values, &ts.input, &ts.out)?;
            ts.out.normalize(values);
        }
        Ok(())
    }
}

fn bool_type() -> CellType {
    CellType::new(DataType::Bool, NoData::Raw)
}

fn step_output_type(step: &Step, input: &CellType) -> Result<CellType> {
    Ok(match step {
        Step::Scalar { r#fn, .. } if r#fn.is_comparison() => bool_type(),
        Step::Convert { cell_type } => CellType::parse(cell_type)?,
        Step::Interpret { no_data } => input.with_no_data(*no_data),
        _ => *input,
    })
}

/// The cell type a plan produces from the given input cell types (used by the driver for metadata).
pub fn output_cell_type(steps: &[Step], inputs: &[CellType]) -> Result<CellType> {
    Ok(Compiled::new(steps, inputs)?.out)
}

/// `acc[i] = acc[i] op other[i]` with GeoTrellis' NoData rules.
pub fn pointwise_binary(op: BinaryOp, acc: &mut [f64], other: &[f64], int_out: bool) {
    pointwise::binary_slices(op, acc, other, int_out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plans_carry_nan_infinities_and_exact_numbers() {
        let json = r#"[{"op": "scalar", "fn": "add", "value": "NaN"},
            {"op": "interpret", "no_data": "-Infinity"},
            {"op": "reclassify", "strategy": "LessThanOrEqualTo", "breaks": [-1.7976931348623157e308, 0.1, "Infinity"],
             "values": ["NaN", 9007199254740993, 5e-324], "int_keys": false, "replace_nodata_with": "NaN",
             "fallback": null, "strict": false}]"#;
        let steps = parse_plan(json).unwrap();
        assert!(matches!(steps[0], Step::Scalar { value, .. } if value.is_nan()));
        assert!(matches!(steps[1], Step::Interpret { no_data: Some(v) } if v == f64::NEG_INFINITY));
        let Step::Reclassify(r) = &steps[2] else {
            panic!("not a reclassify")
        };
        assert_eq!(r.breaks, vec![f64::MIN, 0.1, f64::INFINITY]);
        assert!(r.values[0].is_nan());
        assert_eq!(r.values[1], 9007199254740993_i64 as f64);
        assert_eq!(r.values[2], 5e-324);
        assert!(r.replace_nodata_with.unwrap().is_nan() && r.fallback.is_none());
        let bad = r#"[{"op": "scalar", "fn": "add", "value": "lots"}]"#;
        assert!(
            matches!(parse_plan(bad), Err(EngineError::InvalidPlan(m)) if m.contains("\"lots\""))
        );
        let nan_break = json.replace("0.1", "\"NaN\"");
        assert!(parse_plan(&nan_break).is_err());
    }
}
