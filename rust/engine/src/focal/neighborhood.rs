//! Focal neighbourhoods and the cells they include, as GeoTrellis' `Neighborhood` masks define them
//! (`raster/mapalgebra/focal/Neighborhood.scala`; GeoTrellis' masks answer "excluded", ours "included").
//! Distances and angles are between cell centres, `dx` growing east and `dy` south (row order); angles
//! are counter-clockwise from east with north up.

use serde::Deserialize;

use crate::error::{EngineError, Result};

#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Neighborhood {
    /// The (2·extent + 1)² cells around the centre.
    Square { extent: usize },
    /// Cells whose centre lies within `radius` of the centre's.
    Circle { radius: f64 },
    /// The row and column through the centre, `extent` cells each way.
    Nesw { extent: usize },
    /// The cells of a circle between two angles in degrees (wrapping past 0° when start > end), and the
    /// centre.
    Wedge {
        radius: f64,
        start_angle: f64,
        end_angle: f64,
    },
    /// Cells between the two radii, both included.
    Annulus {
        inner_radius: f64,
        outer_radius: f64,
    },
}

/// The neighbourhood's cells, row by row: for each `dy` of `-extent..=extent`, the `[dx0, dx1]` runs of
/// included cells (most shapes have one per row; wedges and annuli can have two).
#[derive(Clone, Debug, PartialEq)]
pub struct Mask {
    pub extent: usize,
    pub rows: Vec<Vec<(isize, isize)>>,
}

impl Mask {
    /// Every included cell as `(dx, dy)`.
    pub fn offsets(&self) -> Vec<(isize, isize)> {
        let e = self.extent as isize;
        let mut out = Vec::new();
        for (i, runs) in self.rows.iter().enumerate() {
            for &(a, b) in runs {
                out.extend((a..=b).map(|dx| (dx, i as isize - e)));
            }
        }
        out
    }

    pub fn len(&self) -> usize {
        self.rows
            .iter()
            .flatten()
            .map(|(a, b)| (b - a + 1) as usize)
            .sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Neighborhood {
    /// How many cells from the centre the neighbourhood reaches (GeoTrellis `extent`: the extent, or the
    /// outer radius rounded up).
    pub fn extent(&self) -> usize {
        let up = |r: f64| r.max(0.0).ceil() as usize;
        match self {
            Neighborhood::Square { extent } | Neighborhood::Nesw { extent } => *extent,
            Neighborhood::Circle { radius } | Neighborhood::Wedge { radius, .. } => up(*radius),
            Neighborhood::Annulus { outer_radius, .. } => up(*outer_radius),
        }
    }

    /// # Errors
    ///
    /// `Value` naming the parameter: a radius or angle that is negative, NaN or infinite, an inner
    /// radius above the outer one, or a neighbourhood wider than 1000 cells.
    pub fn validate(&self) -> Result<()> {
        let check = |name: &str, v: f64, signed: bool| -> Result<()> {
            if !v.is_finite() || (!signed && v < 0.0) {
                let what = if signed {
                    "a finite number"
                } else {
                    "a finite number ≥ 0"
                };
                return Err(EngineError::Value(format!(
                    "{name} must be {what}, got {v}"
                )));
            }
            Ok(())
        };
        match self {
            Neighborhood::Square { .. } | Neighborhood::Nesw { .. } => {}
            Neighborhood::Circle { radius } => check("Circle's radius", *radius, false)?,
            Neighborhood::Wedge {
                radius,
                start_angle,
                end_angle,
            } => {
                check("Wedge's radius", *radius, false)?;
                check("Wedge's start_angle", *start_angle, true)?;
                check("Wedge's end_angle", *end_angle, true)?;
            }
            Neighborhood::Annulus {
                inner_radius,
                outer_radius,
            } => {
                check("Annulus' inner_radius", *inner_radius, false)?;
                check("Annulus' outer_radius", *outer_radius, false)?;
                if inner_radius > outer_radius {
                    return Err(EngineError::Value(format!(
                        "Annulus' inner_radius ({inner_radius}) must not exceed its outer_radius ({outer_radius})"
                    )));
                }
            }
        }
        if self.extent() > 1000 {
            return Err(EngineError::Value(format!(
                "a neighbourhood reaching {} cells from its centre is too large (at most 1000)",
                self.extent()
            )));
        }
        Ok(())
    }

    /// Whether the cell at (`dx`, `dy`) from the centre is part of the neighbourhood.
    pub fn includes(&self, dx: isize, dy: isize) -> bool {
        let d2 = (dx * dx + dy * dy) as f64;
        match self {
            Neighborhood::Square { .. } => true,
            Neighborhood::Nesw { .. } => dx == 0 || dy == 0,
            Neighborhood::Circle { radius } => d2 <= radius * radius,
            Neighborhood::Annulus {
                inner_radius,
                outer_radius,
            } => inner_radius * inner_radius <= d2 && d2 <= outer_radius * outer_radius,
            Neighborhood::Wedge {
                radius,
                start_angle,
                end_angle,
            } => {
                if dx == 0 && dy == 0 {
                    return true;
                }
                // North is up: a cell above the centre (dy < 0) has a positive y.
                let angle = (-dy as f64).atan2(dx as f64).to_degrees().rem_euclid(360.0);
                let (start, end) = (start_angle.rem_euclid(360.0), end_angle.rem_euclid(360.0));
                let inside = if start <= end {
                    start <= angle && angle <= end
                } else {
                    angle >= start || angle <= end
                };
                d2 <= radius * radius && inside
            }
        }
    }

    /// The included cells as runs per row.
    pub fn mask(&self) -> Mask {
        let e = self.extent() as isize;
        let rows = (-e..=e)
            .map(|dy| {
                let mut runs: Vec<(isize, isize)> = Vec::new();
                for dx in -e..=e {
                    if self.includes(dx, dy) {
                        match runs.last_mut() {
                            Some((_, b)) if *b == dx - 1 => *b = dx,
                            _ => runs.push((dx, dx)),
                        }
                    }
                }
                runs
            })
            .collect();
        Mask {
            extent: e as usize,
            rows,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn picture(n: &Neighborhood) -> Vec<String> {
        let e = n.extent() as isize;
        (-e..=e)
            .map(|dy| {
                (-e..=e)
                    .map(|dx| if n.includes(dx, dy) { '#' } else { '.' })
                    .collect()
            })
            .collect()
    }

    #[test]
    fn shapes() {
        assert_eq!(
            picture(&Neighborhood::Square { extent: 1 }),
            ["###", "###", "###"]
        );
        assert_eq!(
            picture(&Neighborhood::Nesw { extent: 1 }),
            [".#.", "###", ".#."]
        );
        // A radius of 1.5 reaches 2 cells out but takes only the corners at √2 ≈ 1.41, not the cells
        // at 2; 2.0 takes those.
        assert_eq!(
            picture(&Neighborhood::Circle { radius: 1.5 }),
            [".....", ".###.", ".###.", ".###.", "....."]
        );
        assert_eq!(
            picture(&Neighborhood::Circle { radius: 2.0 }),
            ["..#..", ".###.", "#####", ".###.", "..#.."]
        );
        assert_eq!(
            picture(&Neighborhood::Circle { radius: 1.0 }),
            [".#.", "###", ".#."]
        );
        // The annulus leaves out its inner disc, the centre included.
        assert_eq!(
            picture(&Neighborhood::Annulus {
                inner_radius: 1.0,
                outer_radius: 1.5
            }),
            [".....", ".###.", ".#.#.", ".###.", "....."]
        );
    }

    #[test]
    fn wedges_point_counter_clockwise_from_east_and_wrap_past_zero() {
        // 45°..135°: the northern quarter.
        let north = Neighborhood::Wedge {
            radius: 2.0,
            start_angle: 45.0,
            end_angle: 135.0,
        };
        assert_eq!(
            picture(&north),
            ["..#..", ".###.", "..#..", ".....", "....."]
        );
        // 315°..45° wraps through 0°: the eastern quarter.
        let east = Neighborhood::Wedge {
            radius: 2.0,
            start_angle: 315.0,
            end_angle: 45.0,
        };
        assert_eq!(
            picture(&east),
            [".....", "...#.", "..###", "...#.", "....."]
        );
        let mask = east.mask();
        assert_eq!(mask.len(), 5);
        assert_eq!(mask.rows[2], vec![(0, 2)]);
    }

    #[test]
    fn masks_list_the_included_cells() {
        let ring = Neighborhood::Annulus {
            inner_radius: 1.0,
            outer_radius: 1.0,
        };
        let mask = ring.mask();
        assert_eq!(mask.rows[1], vec![(-1, -1), (1, 1)]); // two runs in the middle row
        let mut got = mask.offsets();
        got.sort();
        assert_eq!(got, vec![(-1, 0), (0, -1), (0, 1), (1, 0)]);
    }

    #[test]
    fn bad_parameters_name_themselves() {
        let err = |n: Neighborhood| n.validate().unwrap_err().to_string();
        assert!(err(Neighborhood::Circle { radius: -1.0 }).contains("Circle's radius"));
        assert!(err(Neighborhood::Circle { radius: f64::NAN }).contains("radius"));
        assert!(err(Neighborhood::Annulus {
            inner_radius: 3.0,
            outer_radius: 2.0
        })
        .contains("inner_radius"));
        assert!(err(Neighborhood::Square { extent: 5000 }).contains("too large"));
    }
}
