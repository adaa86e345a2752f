//! Kernels of the pointwise steps over chunks of working values (NaN = NoData). Each step's loop is
//! monomorphic so that the compiler vectorises it; NoData rules follow GeoTrellis' local operations.

use serde::Deserialize;

use super::{Reclassify, Step, UnaryOp};
use crate::cell_type::CellType;
use crate::error::{EngineError, Result};

#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum BinaryOp {
    Add,
    Sub,
    Mul,
    Div,
    Pow,
    Max,
    Min,
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
    Ne,
}

impl BinaryOp {
    pub fn is_comparison(self) -> bool {
        matches!(
            self,
            BinaryOp::Lt | BinaryOp::Le | BinaryOp::Gt | BinaryOp::Ge | BinaryOp::Eq | BinaryOp::Ne
        )
    }
}

#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
pub enum ReclassifyStrategy {
    GreaterThan,
    GreaterThanOrEqualTo,
    LessThan,
    LessThanOrEqualTo,
    Exact,
}

/// `x op y` on working values, stored in `out`. NoData (NaN) in gives NoData out; comparisons with NoData
/// are false; integer division by zero is NoData (GeoTrellis `Divide`).
#[inline(always)]
pub fn binary(op: BinaryOp, x: f64, y: f64, int_out: bool) -> f64 {
    let nodata = x.is_nan() || y.is_nan();
    let b = |c: bool| if nodata { 0.0 } else { c as u8 as f64 };
    match op {
        BinaryOp::Add => x + y,
        BinaryOp::Sub => x - y,
        BinaryOp::Mul => x * y,
        BinaryOp::Div => {
            if int_out && y == 0.0 {
                f64::NAN
            } else {
                x / y
            }
        }
        BinaryOp::Pow => {
            if nodata {
                f64::NAN
            } else {
                x.powf(y)
            }
        }
        BinaryOp::Max => {
            if nodata {
                f64::NAN
            } else {
                x.max(y)
            }
        }
        BinaryOp::Min => {
            if nodata {
                f64::NAN
            } else {
                x.min(y)
            }
        }
        BinaryOp::Lt => b(x < y),
        BinaryOp::Le => b(x <= y),
        BinaryOp::Gt => b(x > y),
        BinaryOp::Ge => b(x >= y),
        BinaryOp::Eq => b(x == y),
        BinaryOp::Ne => b(x != y),
    }
}

/// Expand `$body` once per operation, with `$op` a constant, so that every loop is specialised.
macro_rules! specialise {
    ($which:expr, $op:ident => $body:expr) => {
        match $which {
            BinaryOp::Add => {
                const $op: BinaryOp = BinaryOp::Add;
                $body
            }
            BinaryOp::Sub => {
                const $op: BinaryOp = BinaryOp::Sub;
                $body
            }
            BinaryOp::Mul => {
                const $op: BinaryOp = BinaryOp::Mul;
                $body
            }
            BinaryOp::Div => {
                const $op: BinaryOp = BinaryOp::Div;
                $body
            }
            BinaryOp::Pow => {
                const $op: BinaryOp = BinaryOp::Pow;
                $body
            }
            BinaryOp::Max => {
                const $op: BinaryOp = BinaryOp::Max;
                $body
            }
            BinaryOp::Min => {
                const $op: BinaryOp = BinaryOp::Min;
                $body
            }
            BinaryOp::Lt => {
                const $op: BinaryOp = BinaryOp::Lt;
                $body
            }
            BinaryOp::Le => {
                const $op: BinaryOp = BinaryOp::Le;
                $body
            }
            BinaryOp::Gt => {
                const $op: BinaryOp = BinaryOp::Gt;
                $body
            }
            BinaryOp::Ge => {
                const $op: BinaryOp = BinaryOp::Ge;
                $body
            }
            BinaryOp::Eq => {
                const $op: BinaryOp = BinaryOp::Eq;
                $body
            }
            BinaryOp::Ne => {
                const $op: BinaryOp = BinaryOp::Ne;
                $body
            }
        }
    };
}

simd_clones! {
    /// Apply `op` between each value of `acc` and the matching value of `other`, in place.
    pub fn binary_slices(op: BinaryOp, acc: &mut [f64], other: &[f64], int_out: bool) {
        specialise!(op, OP => for (a, b) in acc.iter_mut().zip(other) {
            *a = binary(OP, *a, *b, int_out);
        })
    }

    /// A scalar step over working values, cloned for the CPU's SIMD (the paths of integer and float64 tiles).
    fn scalar(op: BinaryOp, value: f64, reverse: bool, values: &mut [f64], int_out: bool) {
        if reverse {
            specialise!(op, OP => values.iter_mut().for_each(|v| *v = binary(OP, value, *v, int_out)))
        } else {
            specialise!(op, OP => values.iter_mut().for_each(|v| *v = binary(OP, *v, value, int_out)))
        }
    }
}

fn reclassify(r: &Reclassify, values: &mut [f64]) -> Result<()> {
    for v in values.iter_mut() {
        if v.is_nan() {
            *v = r.replace_nodata_with.unwrap_or(f64::NAN);
            continue;
        }
        let key = if r.int_keys { v.trunc() } else { *v };
        let found = match r.strategy {
            ReclassifyStrategy::LessThanOrEqualTo => Some(r.breaks.partition_point(|b| *b < key)),
            ReclassifyStrategy::LessThan => Some(r.breaks.partition_point(|b| *b <= key)),
            ReclassifyStrategy::GreaterThan => {
                r.breaks.partition_point(|b| *b < key).checked_sub(1)
            }
            ReclassifyStrategy::GreaterThanOrEqualTo => {
                r.breaks.partition_point(|b| *b <= key).checked_sub(1)
            }
            ReclassifyStrategy::Exact => r.breaks.binary_search_by(|b| b.total_cmp(&key)).ok(),
        }
        .filter(|i| *i < r.breaks.len());
        *v = match (found, r.fallback) {
            (Some(i), _) => r.values[i],
            (None, Some(f)) => f,
            (None, None) if r.strict => {
                return Err(EngineError::Value(format!(
                    "reclassify (strict): the value {key} matches no break"
                )))
            }
            (None, None) => f64::NAN,
        };
    }
    Ok(())
}

/// Apply one pointwise step to working values whose result is stored as `out`.
pub(crate) fn apply(
    step: &Step,
    values: &mut [f64],
    input: &CellType,
    out: &CellType,
) -> Result<()> {
    let int_out = !out.data_type.is_float();
    match step {
        Step::Scalar {
            r#fn,
            value,
            reverse,
        } => scalar(*r#fn, *value, *reverse, values, int_out),
        Step::Unary { r#fn: UnaryOp::Abs } => values.iter_mut().for_each(|v| *v = v.abs()),
        Step::Unary { r#fn: UnaryOp::Neg } => values.iter_mut().for_each(|v| *v = -*v),
        // Conversion is the store into the new type, done by the caller's normalise.
        Step::Convert { .. } => {}
        Step::Interpret { .. } => {
            // Cells keep their stored value: the old type's NoData turns back into its stored value, and the
            // caller's normalise then recognises the new type's NoData.
            if let Some(stored) = input.no_data_value() {
                values
                    .iter_mut()
                    .filter(|v| v.is_nan())
                    .for_each(|v| *v = stored);
            }
        }
        Step::Reclassify(r) => reclassify(r, values)?,
        Step::Normalize {
            old_min,
            old_max,
            new_min,
            new_max,
        } => {
            let scale = (new_max - new_min) / (old_max - old_min);
            values
                .iter_mut()
                .for_each(|v| *v = (*v - old_min) * scale + new_min);
        }
        Step::Combine { .. } | Step::Bands { .. } => {}
    }
    Ok(())
}

/// Whether a step gives the same float32 cells when computed in f32 as in f64 then rounded: `+ - * /`
/// are correctly rounded and f64 has more than 2·24+2 bits, so rounding twice cannot differ from
/// rounding once (given an operand that f32 holds exactly); max, min, abs and negation are exact.
pub(crate) fn exact_in_f32(step: &Step) -> bool {
    match step {
        Step::Scalar {
            r#fn,
            value,
            reverse: _,
        } => {
            matches!(
                r#fn,
                BinaryOp::Add
                    | BinaryOp::Sub
                    | BinaryOp::Mul
                    | BinaryOp::Div
                    | BinaryOp::Max
                    | BinaryOp::Min
            ) && (*value as f32 as f64 == *value || value.is_nan())
        }
        Step::Unary { .. } | Step::Convert { .. } => true,
        _ => false,
    }
}

#[inline(always)]
fn binary_f32(op: BinaryOp, x: f32, y: f32) -> f32 {
    let nodata = x.is_nan() || y.is_nan();
    match op {
        BinaryOp::Add => x + y,
        BinaryOp::Sub => x - y,
        BinaryOp::Mul => x * y,
        BinaryOp::Div => x / y,
        BinaryOp::Max if !nodata => x.max(y),
        BinaryOp::Min if !nodata => x.min(y),
        // Only the operations `exact_in_f32` accepts reach here.
        _ => f32::NAN,
    }
}

/// Apply a step that `exact_in_f32` accepts to float32 working values.
#[inline(always)]
pub(crate) fn apply_f32(step: &Step, values: &mut [f32]) {
    match step {
        Step::Scalar {
            r#fn,
            value,
            reverse,
        } => {
            let c = *value as f32;
            if *reverse {
                specialise!(*r#fn, OP => values.iter_mut().for_each(|v| *v = binary_f32(OP, c, *v)))
            } else {
                specialise!(*r#fn, OP => values.iter_mut().for_each(|v| *v = binary_f32(OP, *v, c)))
            }
        }
        Step::Unary { r#fn: UnaryOp::Abs } => values.iter_mut().for_each(|v| *v = v.abs()),
        Step::Unary { r#fn: UnaryOp::Neg } => values.iter_mut().for_each(|v| *v = -*v),
        _ => {}
    }
}
