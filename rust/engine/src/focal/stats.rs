use serde::Deserialize;
use super::neighborhood::Neighborhood;
use crate::cell_type::CellType;
use crate::error::Result;
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FocalStat { Sum, Min, Max, Mean, Median, Mode, StandardDeviation, Variance }
pub struct Window<'a> { pub cells: &'a [f64], pub rows: usize, pub cols: usize }
#[allow(clippy::too_many_arguments)]
pub fn focal_stat(w: &Window, stat: FocalStat, n: &Neighborhood, ints: bool, row0: usize, col0: usize, tr: usize, tc: usize, out: &mut [f64]) -> Result<()> {
    let offs = n.offsets();
    let mut v = Vec::new();
    for r in 0..tr { for c in 0..tc {
        v.clear();
        for &(dx, dy) in &offs {
            let (y, x) = ((row0 + r) as isize + dy, (col0 + c) as isize + dx);
            if y < 0 || x < 0 || y >= w.rows as isize || x >= w.cols as isize { continue; }
            let x = w.cells[y as usize * w.cols + x as usize];
            if !x.is_nan() { v.push(if ints && matches!(stat, FocalStat::Median | FocalStat::Mode) { x.trunc() } else { x }); }
        }
        let n = v.len() as f64;
        out[r * tc + c] = if v.is_empty() { f64::NAN } else { match stat {
            FocalStat::Sum => v.iter().sum(),
            FocalStat::Min => v.iter().cloned().fold(f64::INFINITY, f64::min),
            FocalStat::Max => v.iter().cloned().fold(f64::NEG_INFINITY, f64::max),
            FocalStat::Mean => v.iter().sum::<f64>() / n,
            FocalStat::Variance | FocalStat::StandardDeviation => {
                let m = v.iter().sum::<f64>() / n;
                let var = v.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / n;
                if stat == FocalStat::Variance { var } else { var.sqrt() }
            }
            FocalStat::Median => { v.sort_by(|a, b| a.partial_cmp(b).unwrap()); let k = v.len();
                if k % 2 == 1 { v[k / 2] } else { ((v[k / 2 - 1] + v[k / 2]) / 2.0).trunc() } }
            FocalStat::Mode => { v.sort_by(|a, b| a.partial_cmp(b).unwrap());
                let (mut best, mut bc, mut tie) = (f64::NAN, 0, false); let mut i = 0;
                while i < v.len() { let mut j = i; while j < v.len() && v[j] == v[i] { j += 1; }
                    let cnt = j - i; if cnt > bc { bc = cnt; best = v[i]; tie = false } else if cnt == bc { tie = true } i = j; }
                if tie { f64::NAN } else { best } }
        }};
    }}
    Ok(())
}
pub fn stat_cell_type(stat: FocalStat, input: &CellType) -> CellType {
    match stat { FocalStat::Mean | FocalStat::StandardDeviation | FocalStat::Variance => CellType::parse("float64").unwrap(), _ => input.clone() }
}
