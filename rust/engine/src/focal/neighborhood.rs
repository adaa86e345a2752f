use serde::Deserialize;
use crate::error::{EngineError, Result};
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Neighborhood {
    Square { extent: usize },
    Circle { radius: f64 },
    Nesw { extent: usize },
    Wedge { radius: f64, start_angle: f64, end_angle: f64 },
    Annulus { inner_radius: f64, outer_radius: f64 },
}
impl Neighborhood {
    pub fn extent(&self) -> usize {
        match self {
            Neighborhood::Square { extent } | Neighborhood::Nesw { extent } => *extent,
            Neighborhood::Circle { radius } | Neighborhood::Wedge { radius, .. } => radius.ceil() as usize,
            Neighborhood::Annulus { outer_radius, .. } => outer_radius.ceil() as usize,
        }
    }
    pub fn validate(&self) -> Result<()> {
        let bad = match self {
            Neighborhood::Circle { radius } | Neighborhood::Wedge { radius, .. } => !(*radius >= 0.0),
            Neighborhood::Annulus { inner_radius, outer_radius } => !(*inner_radius >= 0.0 && outer_radius >= inner_radius),
            _ => false,
        };
        if bad { return Err(EngineError::Value(format!("bad radius in {self:?}"))); }
        Ok(())
    }
    pub fn offsets(&self) -> Vec<(isize, isize)> {
        let e = self.extent() as isize;
        let mut out = vec![];
        for dy in -e..=e { for dx in -e..=e {
            let d2 = (dx * dx + dy * dy) as f64;
            let keep = match self {
                Neighborhood::Square { .. } => true,
                Neighborhood::Nesw { .. } => dx == 0 || dy == 0,
                Neighborhood::Circle { radius } => d2 <= radius * radius,
                Neighborhood::Annulus { inner_radius, outer_radius } => inner_radius * inner_radius <= d2 && d2 <= outer_radius * outer_radius,
                Neighborhood::Wedge { radius, start_angle, end_angle } => {
                    let a = ((-dy as f64).atan2(dx as f64).to_degrees()).rem_euclid(360.0);
                    let (s, t) = (start_angle.rem_euclid(360.0), end_angle.rem_euclid(360.0));
                    let inside = if s <= t { s <= a && a <= t } else { a >= s || a <= t };
                    d2 == 0.0 || (d2 <= radius * radius && inside)
                }
            };
            if keep { out.push((dx, dy)); }
        }}
        out
    }
}
