//! CRS text → proj4 string, the way GeoTrellis stores a CRS in layer metadata.
//!
//! GeoTrellis writes `CRS.toProj4String`, which is proj4j's `getParameterString`: every parameter token
//! followed by one space, so the string ends with a trailing space
//! (`"+proj=longlat +datum=WGS84 +no_defs "`). We accept an EPSG code (`"4326"`, `"EPSG:4326"`, any case)
//! or a proj4 string and always answer in that form.
//!
//! EPSG codes are looked up in `crs-definitions` (generated from the EPSG database). LatLng (4326) and
//! WebMercator (3857) are pinned to GeoTrellis' canonical strings because GeoTrellis special-cases those two
//! CRSs by their exact text. For other codes the proj4 text of `crs-definitions` is re-tokenised in proj4j's
//! layout; its parameters may differ from proj4j's bundled EPSG file for some codes (for example where the
//! older proj4j file also spells out `+ellps=`), which names the same CRS with a different string.

use thiserror::Error;

/// GeoTrellis' `LatLng.toProj4String` (EPSG:4326).
pub const LATLNG_PROJ4: &str = "+proj=longlat +datum=WGS84 +no_defs ";

/// GeoTrellis' `WebMercator.toProj4String` (EPSG:3857).
pub const WEB_MERCATOR_PROJ4: &str =
    "+proj=merc +a=6378137 +b=6378137 +lat_ts=0.0 +lon_0=0.0 +x_0=0.0 +y_0=0 \
+k=1.0 +units=m +nadgrids=@null +wktext +no_defs ";

const ACCEPTED: &str =
    "an EPSG code (\"4326\" or \"EPSG:4326\") or a proj4 string (\"+proj=... \")";

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CrsError {
    #[error("empty CRS; expected {ACCEPTED}")]
    Empty,
    #[error("unknown EPSG code {0}: it has no proj4 definition in the bundled EPSG database")]
    UnknownEpsgCode(u64),
    #[error("invalid proj4 string {text:?}: {reason}")]
    InvalidProj4 { text: String, reason: String },
    #[error("unrecognised CRS {0:?}; expected {ACCEPTED}")]
    Unrecognised(String),
}

/// Converts an EPSG code (`"4326"`, `"EPSG:4326"`, `"epsg:4326"`) or a proj4 string to the proj4 string
/// GeoTrellis would write for it (tokens separated by single spaces, with a trailing space).
pub fn crs_to_proj4(text: &str) -> Result<String, CrsError> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(CrsError::Empty);
    }
    if trimmed.starts_with('+') {
        return normalise_proj4(trimmed);
    }
    let code_text = match strip_prefix_ignore_case(trimmed, "EPSG:") {
        Some(rest) => rest.trim(),
        None => trimmed,
    };
    if !code_text.is_empty() && code_text.bytes().all(|b| b.is_ascii_digit()) {
        let code: u64 = code_text
            .parse()
            .map_err(|_| CrsError::UnknownEpsgCode(u64::MAX))?;
        return epsg_to_proj4(code);
    }
    Err(CrsError::Unrecognised(text.to_string()))
}

/// The proj4 string, in GeoTrellis' form, of an EPSG code.
pub fn epsg_to_proj4(code: u64) -> Result<String, CrsError> {
    match code {
        4326 => return Ok(LATLNG_PROJ4.to_string()),
        3857 => return Ok(WEB_MERCATOR_PROJ4.to_string()),
        _ => {}
    }
    let def = u16::try_from(code)
        .ok()
        .and_then(crs_definitions::from_code)
        .filter(|d| !d.proj4.trim().is_empty())
        .ok_or(CrsError::UnknownEpsgCode(code))?;
    normalise_proj4(def.proj4)
}

/// Checks that `text` looks like a proj4 parameter list and lays it out like proj4j's
/// `getParameterString`: each token followed by one space.
fn normalise_proj4(text: &str) -> Result<String, CrsError> {
    let invalid = |reason: String| CrsError::InvalidProj4 {
        text: text.to_string(),
        reason,
    };
    let mut out = String::with_capacity(text.len() + 1);
    let mut has_proj = false;
    for token in text.split_whitespace() {
        let body = token
            .strip_prefix('+')
            .ok_or_else(|| invalid(format!("parameter {token:?} does not start with '+'")))?;
        let key = body.split('=').next().unwrap_or("");
        if key.is_empty() {
            return Err(invalid(format!("parameter {token:?} has no name")));
        }
        if key == "proj" {
            let value = &body[4..];
            if value.len() < 2 || !value.starts_with('=') {
                return Err(invalid("+proj has no value".to_string()));
            }
            has_proj = true;
        }
        out.push_str(token);
        out.push(' ');
    }
    if !has_proj {
        return Err(invalid("no +proj= parameter".to_string()));
    }
    Ok(out)
}

fn strip_prefix_ignore_case<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &text[prefix.len()..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latlng_from_every_spelling() {
        for text in ["4326", " 4326 ", "EPSG:4326", "epsg:4326", "Epsg: 4326"] {
            assert_eq!(crs_to_proj4(text).unwrap(), LATLNG_PROJ4, "{text}");
        }
        assert_eq!(
            crs_to_proj4("+proj=longlat +datum=WGS84 +no_defs").unwrap(),
            LATLNG_PROJ4
        );
    }

    #[test]
    fn web_mercator_is_geotrellis_canonical() {
        let expected =
            "+proj=merc +a=6378137 +b=6378137 +lat_ts=0.0 +lon_0=0.0 +x_0=0.0 +y_0=0 +k=1.0 \
+units=m +nadgrids=@null +wktext +no_defs ";
        assert_eq!(crs_to_proj4("EPSG:3857").unwrap(), expected);
        assert_eq!(crs_to_proj4("3857").unwrap(), expected);
        assert_eq!(crs_to_proj4(expected).unwrap(), expected);
    }

    #[test]
    fn other_codes_come_from_the_epsg_database() {
        assert_eq!(
            crs_to_proj4("EPSG:32633").unwrap(),
            "+proj=utm +zone=33 +datum=WGS84 +units=m +no_defs "
        );
        let osgb = crs_to_proj4("27700").unwrap();
        assert!(osgb.starts_with("+proj=tmerc "), "{osgb}");
        assert!(osgb.ends_with("+no_defs "), "{osgb}");
    }

    #[test]
    fn proj4_is_retokenised_with_trailing_space() {
        assert_eq!(
            crs_to_proj4("  +proj=utm   +zone=10\t+datum=NAD83 +units=m +no_defs  ").unwrap(),
            "+proj=utm +zone=10 +datum=NAD83 +units=m +no_defs "
        );
        // Normalising twice changes nothing.
        let once = crs_to_proj4("+proj=longlat +ellps=GRS80 +no_defs").unwrap();
        assert_eq!(crs_to_proj4(&once).unwrap(), once);
    }

    #[test]
    fn unknown_codes_are_errors() {
        assert_eq!(crs_to_proj4("1"), Err(CrsError::UnknownEpsgCode(1)));
        assert_eq!(
            crs_to_proj4("EPSG:99999"),
            Err(CrsError::UnknownEpsgCode(99999))
        );
        assert!(matches!(
            crs_to_proj4("99999999999999999999999"),
            Err(CrsError::UnknownEpsgCode(_))
        ));
        let msg = crs_to_proj4("EPSG:1").unwrap_err().to_string();
        assert!(msg.contains("unknown EPSG code 1"), "{msg}");
    }

    #[test]
    fn bad_text_is_an_error() {
        assert_eq!(crs_to_proj4(""), Err(CrsError::Empty));
        assert_eq!(crs_to_proj4("   "), Err(CrsError::Empty));
        for text in [
            "not a crs",
            "EPSG:",
            "EPSG:abc",
            "-4326",
            "4326.0",
            "WebMercator",
        ] {
            assert!(
                matches!(crs_to_proj4(text), Err(CrsError::Unrecognised(_))),
                "{text}"
            );
        }
        for text in [
            "+datum=WGS84 +no_defs",
            "+proj=longlat datum=WGS84",
            "+proj= +no_defs",
            "+ +proj=merc",
            "+proj",
        ] {
            assert!(
                matches!(crs_to_proj4(text), Err(CrsError::InvalidProj4 { .. })),
                "{text}"
            );
        }
        let msg = crs_to_proj4("bogus").unwrap_err().to_string();
        assert!(msg.contains("EPSG:4326") && msg.contains("proj4"), "{msg}");
    }

    #[test]
    fn every_bundled_code_with_a_definition_normalises() {
        let mut found = 0;
        for code in 0..=u16::MAX {
            if let Some(def) = crs_definitions::from_code(code) {
                if def.proj4.trim().is_empty() {
                    assert_eq!(
                        crs_to_proj4(&code.to_string()),
                        Err(CrsError::UnknownEpsgCode(code.into()))
                    );
                    continue;
                }
                let s = crs_to_proj4(&format!("EPSG:{code}")).unwrap();
                assert!(s.ends_with(' ') && !s.ends_with("  "), "{code}: {s:?}");
                assert_eq!(crs_to_proj4(&s).unwrap(), s);
                found += 1;
            }
        }
        assert!(found > 6000, "{found}");
    }
}

/// Points `[x0, y0, x1, y1, …]` in place, for proj4rs. A point that cannot be transformed becomes
/// `(NaN, NaN)` and the others carry on (proj4rs stops at the first error otherwise).
struct Points<'a>(&'a mut [f64]);

impl proj4rs::transform::Transform for Points<'_> {
    fn transform_coordinates<F: proj4rs::transform::TransformClosure>(
        &mut self,
        f: &mut F,
    ) -> proj4rs::errors::Result<()> {
        for p in self.0.chunks_exact_mut(2) {
            if p[0].is_nan() || p[1].is_nan() {
                continue;
            }
            (p[0], p[1]) = match f(p[0], p[1], 0.0) {
                Ok((x, y, _)) if x.is_finite() && y.is_finite() => (x, y),
                _ => (f64::NAN, f64::NAN),
            };
        }
        Ok(())
    }
}

fn projection(proj4: &str) -> Result<proj4rs::Proj, CrsError> {
    proj4rs::Proj::from_proj_string(proj4).map_err(|e| CrsError::InvalidProj4 {
        text: proj4.to_string(),
        reason: e.to_string(),
    })
}

/// An exact point transform between two CRSs, parsed once (geographic coordinates in degrees).
pub struct Transformer {
    from: proj4rs::Proj,
    to: proj4rs::Proj,
    /// Both CRSs name the same proj4 text: points are left as they are.
    identity: bool,
}

impl Transformer {
    /// `src` and `dst` are anything [`crs_to_proj4`] accepts.
    pub fn new(src: &str, dst: &str) -> Result<Self, CrsError> {
        let (src, dst) = (crs_to_proj4(src)?, crs_to_proj4(dst)?);
        Ok(Transformer {
            from: projection(&src)?,
            to: projection(&dst)?,
            identity: src == dst,
        })
    }

    pub fn is_identity(&self) -> bool {
        self.identity
    }

    /// Transforms points `[x0, y0, x1, y1, …]` in place; points outside either projection's domain become
    /// NaN.
    pub fn transform(&self, xy: &mut [f64]) {
        if self.identity {
            return;
        }
        if self.from.is_latlong() {
            xy.iter_mut().for_each(|v| *v = v.to_radians());
        }
        if proj4rs::transform::transform(&self.from, &self.to, &mut Points(xy)).is_err() {
            xy.fill(f64::NAN); // only whole-projection failures (no inverse) end here
        }
        if self.to.is_latlong() {
            xy.iter_mut().for_each(|v| *v = v.to_degrees());
        }
    }
}

/// Transforms points `[x0, y0, x1, y1, …]` in place from CRS `src` to CRS `dst` (EPSG codes or proj4
/// strings; geographic coordinates in degrees), exactly, point by point. A point that cannot be
/// transformed is an error.
pub fn transform_points(src: &str, dst: &str, xy: &mut [f64]) -> Result<(), CrsError> {
    let t = Transformer::new(src, dst)?;
    let before: Vec<bool> = xy.chunks_exact(2).map(|p| p[0].is_nan() || p[1].is_nan()).collect();
    t.transform(xy);
    for (i, p) in xy.chunks_exact(2).enumerate() {
        if !before[i] && (p[0].is_nan() || p[1].is_nan()) {
            return Err(CrsError::InvalidProj4 {
                text: format!("{src} → {dst}"),
                reason: format!("point {i} cannot be transformed"),
            });
        }
    }
    Ok(())
}
