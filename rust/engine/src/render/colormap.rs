//! GeoTrellis' `ColorMap`: sorted breaks, one `0xRRGGBBAA` colour per break, a classification strategy,
//! and the NoData and fallback colours. Int maps classify the cell's integer value (floats truncated, as
//! GeoTrellis' `tile.map` reads them); double maps classify the value itself.

use serde::Deserialize;

use crate::error::{EngineError, Result};

/// Which break a value belongs to (GeoTrellis' `ClassBoundaryType`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
pub enum Strategy {
    /// The smallest break greater than the value.
    LessThan,
    /// The smallest break greater than or equal to the value (the default).
    LessThanOrEqualTo,
    /// The largest break less than the value.
    GreaterThan,
    /// The largest break less than or equal to the value.
    GreaterThanOrEqualTo,
    /// The break equal to the value.
    Exact,
}

impl Strategy {
    pub fn parse(name: &str) -> Result<Strategy> {
        Ok(match name {
            "LessThan" => Strategy::LessThan,
            "LessThanOrEqualTo" => Strategy::LessThanOrEqualTo,
            "GreaterThan" => Strategy::GreaterThan,
            "GreaterThanOrEqualTo" => Strategy::GreaterThanOrEqualTo,
            "Exact" => Strategy::Exact,
            other => {
                return Err(EngineError::Value(format!(
                    "unknown classification strategy {other:?}; expected LessThan, LessThanOrEqualTo, \
                     GreaterThan, GreaterThanOrEqualTo or Exact"
                )))
            }
        })
    }
}

/// A colour map as the Python layer sends it (JSON): `breaks` ascending, `colors` one per break.
#[derive(Clone, Debug, Deserialize)]
pub struct ColorMapSpec {
    pub breaks: Vec<f64>,
    pub colors: Vec<u32>,
    /// Integer breaks: cells are classified by their integer value.
    pub integer: bool,
    pub no_data_color: u32,
    pub fallback: u32,
    pub strategy: String,
    #[serde(default)]
    pub strict: bool,
}

/// Where a cell's colour comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Class {
    NoData,
    Fallback,
    Break(usize),
}

#[derive(Clone, Debug)]
pub struct ColorMap {
    breaks: Vec<f64>,
    colors: Vec<u32>,
    integer: bool,
    no_data_color: u32,
    fallback: u32,
    strategy: Strategy,
    strict: bool,
}

impl ColorMap {
    /// # Errors
    /// [`EngineError::Value`] when breaks and colours differ in number, breaks are not strictly ascending
    /// or are NaN, or the strategy is unknown.
    pub fn new(spec: ColorMapSpec) -> Result<ColorMap> {
        if spec.breaks.len() != spec.colors.len() {
            return Err(EngineError::Value(format!(
                "a colour map needs one colour per break: {} breaks, {} colours",
                spec.breaks.len(),
                spec.colors.len()
            )));
        }
        if spec.breaks.iter().any(|b| b.is_nan()) {
            return Err(EngineError::Value("colour map breaks must not be NaN".into()));
        }
        if let Some(w) = spec.breaks.windows(2).find(|w| w[0] >= w[1]) {
            return Err(EngineError::Value(format!(
                "colour map breaks must be strictly ascending, but {} is followed by {}",
                w[0], w[1]
            )));
        }
        Ok(ColorMap {
            breaks: spec.breaks,
            colors: spec.colors,
            integer: spec.integer,
            no_data_color: spec.no_data_color,
            fallback: spec.fallback,
            strategy: Strategy::parse(&spec.strategy)?,
            strict: spec.strict,
        })
    }

    /// # Errors
    /// As [`ColorMap::new`], and a JSON text that is not a colour map.
    pub fn from_json(text: &str) -> Result<ColorMap> {
        ColorMap::new(serde_json::from_str(text)?)
    }

    pub fn colors(&self) -> &[u32] {
        &self.colors
    }

    pub fn no_data_color(&self) -> u32 {
        self.no_data_color
    }

    pub fn fallback(&self) -> u32 {
        self.fallback
    }

    pub fn is_strict(&self) -> bool {
        self.strict
    }

    /// The class of a working value (NaN is NoData).
    pub fn class_of(&self, v: f64) -> Class {
        if v.is_nan() {
            return Class::NoData;
        }
        // Scala's toInt: truncate toward zero, saturating.
        let v = if self.integer { v as i32 as f64 } else { v };
        let b = &self.breaks;
        let found = match self.strategy {
            Strategy::LessThanOrEqualTo => Some(b.partition_point(|&x| x < v)).filter(|&i| i < b.len()),
            Strategy::LessThan => Some(b.partition_point(|&x| x <= v)).filter(|&i| i < b.len()),
            Strategy::GreaterThanOrEqualTo => b.partition_point(|&x| x <= v).checked_sub(1),
            Strategy::GreaterThan => b.partition_point(|&x| x < v).checked_sub(1),
            Strategy::Exact => Some(b.partition_point(|&x| x < v)).filter(|&i| i < b.len() && b[i] == v),
        };
        found.map_or(Class::Fallback, Class::Break)
    }

    /// The colour of a working value.
    ///
    /// # Errors
    /// [`EngineError::Value`] for a value outside every class of a strict map.
    pub fn color_of(&self, v: f64) -> Result<u32> {
        match self.class_of(v) {
            Class::NoData => Ok(self.no_data_color),
            Class::Break(i) => Ok(self.colors[i]),
            Class::Fallback if self.strict => Err(self.unmapped(v)),
            Class::Fallback => Ok(self.fallback),
        }
    }

    pub(crate) fn unmapped(&self, v: f64) -> EngineError {
        EngineError::Value(format!("value {v} has no class in this strict colour map"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(breaks: &[f64], strategy: &str, integer: bool) -> ColorMap {
        ColorMap::new(ColorMapSpec {
            breaks: breaks.to_vec(),
            colors: (1..=breaks.len() as u32).collect(),
            integer,
            no_data_color: 100,
            fallback: 200,
            strategy: strategy.into(),
            strict: false,
        })
        .unwrap()
    }

    #[test]
    fn class_boundaries_per_strategy() {
        let b = [10.0, 20.0, 30.0];
        let at = |s: &str, v: f64| map(&b, s, false).color_of(v).unwrap();
        // value:               5    10   15   20   30   35
        let expect = [
            ("LessThanOrEqualTo", [1, 1, 2, 2, 3, 200]),
            ("LessThan", [1, 2, 2, 3, 200, 200]),
            ("GreaterThanOrEqualTo", [200, 1, 1, 2, 3, 3]),
            ("GreaterThan", [200, 200, 1, 1, 2, 3]),
            ("Exact", [200, 1, 200, 2, 3, 200]),
        ];
        for (s, want) in expect {
            let got: Vec<u32> = [5.0, 10.0, 15.0, 20.0, 30.0, 35.0].iter().map(|&v| at(s, v)).collect();
            assert_eq!(got, want, "{s}");
            assert_eq!(at(s, f64::NAN), 100);
        }
    }

    #[test]
    fn integer_maps_truncate() {
        let m = map(&[1.0, 2.0], "Exact", true);
        assert_eq!(m.color_of(1.9).unwrap(), 1);
        assert_eq!(m.color_of(-0.5).unwrap(), 200);
        assert_eq!(map(&[1.0, 2.0], "Exact", false).color_of(1.9).unwrap(), 200);
    }

    #[test]
    fn strict_and_bad_maps() {
        let mut spec = ColorMapSpec {
            breaks: vec![1.0],
            colors: vec![5],
            integer: false,
            no_data_color: 0,
            fallback: 0,
            strategy: "Exact".into(),
            strict: true,
        };
        let m = ColorMap::new(spec.clone()).unwrap();
        assert!(m.color_of(2.0).unwrap_err().to_string().contains("strict"));
        assert_eq!(m.color_of(f64::NAN).unwrap(), 0);
        spec.breaks = vec![2.0, 1.0];
        spec.colors = vec![1, 2];
        assert!(ColorMap::new(spec.clone()).unwrap_err().to_string().contains("ascending"));
        spec.breaks = vec![1.0];
        assert!(ColorMap::new(spec.clone()).unwrap_err().to_string().contains("one colour per break"));
        spec.colors = vec![1];
        spec.strategy = "Nope".into();
        assert!(ColorMap::new(spec).unwrap_err().to_string().contains("strategy"));
    }
}
