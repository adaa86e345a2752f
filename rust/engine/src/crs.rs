//! CRS text → proj4 string, the way GeoTrellis stores a CRS in layer metadata.
//!
//! GeoTrellis writes `CRS.toProj4String`, which is proj4j's `getParameterString`: every parameter token
//! followed by one space, so the string ends with a trailing space
//! (`"+proj=longlat +datum=WGS84 +no_defs "`). We accept an EPSG code (`"4326"`, `"EPSG:4326"`, any case)
//! or a proj4 string and always answer in that form. WKT (WKT1 `PROJCS[`/`GEOGCS[`, WKT2 `PROJCRS[`/`GEOGCRS[`)
//! is accepted when it names its EPSG code at the top level (WKT1: the last `AUTHORITY["EPSG","n"]` directly
//! inside the outer object; WKT2: a top-level `ID["EPSG",n]`), or when it is, up to whitespace outside quoted
//! names, the WKT of a bundled EPSG definition; it then answers that code's proj4 string.
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
    "an EPSG code (\"4326\" or \"EPSG:4326\"), a proj4 string (\"+proj=... \") or WKT with an EPSG authority";

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
    #[error("cannot use WKT CRS ({reason}): it needs a top-level EPSG authority (WKT1 AUTHORITY[\"EPSG\",\"n\"], WKT2 ID[\"EPSG\",n]) or must equal a bundled EPSG definition's WKT; WKT: {text:?}")]
    Wkt { text: String, reason: String },
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
    if trimmed.contains('[') && trimmed.starts_with(|c: char| c.is_ascii_alphabetic()) {
        return wkt_to_proj4(trimmed);
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

/// The outer WKT keywords we accept, and whether they are WKT2.
const WKT_ROOTS: [(&str, bool); 5] = [
    ("PROJCS", false),
    ("GEOGCS", false),
    ("PROJCRS", true),
    ("GEOGCRS", true),
    ("GEODCRS", true),
];

/// The proj4 string of a WKT CRS, through its EPSG code (see the module notes).
pub fn wkt_to_proj4(text: &str) -> Result<String, CrsError> {
    let err = |reason: &str| CrsError::Wkt {
        text: text.to_string(),
        reason: reason.to_string(),
    };
    let (root, children) = wkt_top_level(text).map_err(|r| err(&r))?;
    let wkt2 = WKT_ROOTS
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(&root))
        .map(|&(_, v)| v);
    let code = match wkt2 {
        Some(true) => children
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case("ID"))
            .find_map(|(_, body)| epsg_authority(body)),
        Some(false) => children
            .iter()
            .rev()
            .find(|(k, _)| k.eq_ignore_ascii_case("AUTHORITY"))
            .and_then(|(_, body)| epsg_authority(body)),
        None => None,
    };
    if let Some(code) = code {
        return epsg_to_proj4(code);
    }
    let wanted = squeeze_wkt(text);
    for code in 0..=u16::MAX {
        if let Some(def) = crs_definitions::from_code(code) {
            if !def.wkt.is_empty() && squeeze_wkt(def.wkt) == wanted {
                return epsg_to_proj4(code.into());
            }
        }
    }
    Err(err(&match wkt2 {
        None => format!(
            "outer object {root} is not one of PROJCS, GEOGCS, PROJCRS, GEOGCRS, GEODCRS \
                         and the text is no bundled definition's WKT"
        ),
        Some(_) => {
            "no top-level EPSG authority and the text is no bundled definition's WKT".to_string()
        }
    }))
}

/// The outer keyword and the `(keyword, body)` of each element directly inside it (body without brackets).
fn wkt_top_level(text: &str) -> Result<(String, Vec<(String, String)>), String> {
    let open = text.find(['[', '(']).ok_or("no '['")?;
    let root = text[..open].trim().to_string();
    if root.is_empty() || !root.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(format!("bad outer keyword {root:?}"));
    }
    let mut children = Vec::new();
    let mut depth = 0usize;
    let mut in_quote = false;
    let mut token_start = open + 1; // start of the current depth-1 element
    let mut child: Option<(String, usize)> = None; // keyword and body start of the open depth-1 child
    let mut closed_at = None;
    let bytes = text.as_bytes();
    let mut i = open;
    while i < bytes.len() {
        let b = bytes[i];
        if in_quote {
            if b == b'"' {
                if bytes.get(i + 1) == Some(&b'"') {
                    i += 1; // escaped quote
                } else {
                    in_quote = false;
                }
            }
        } else {
            match b {
                b'"' => in_quote = true,
                b'[' | b'(' => {
                    depth += 1;
                    if depth == 2 {
                        child = Some((text[token_start..i].trim().to_string(), i + 1));
                    }
                }
                b']' | b')' => {
                    if depth == 0 {
                        return Err("unbalanced brackets".into());
                    }
                    if depth == 2 {
                        if let Some((keyword, start)) = child.take() {
                            children.push((keyword, text[start..i].to_string()));
                        }
                    }
                    depth -= 1;
                    if depth == 0 {
                        closed_at = Some(i);
                        break;
                    }
                }
                b',' if depth == 1 => token_start = i + 1,
                _ => {}
            }
        }
        i += 1;
    }
    match closed_at {
        None => Err("unbalanced brackets or unterminated string".into()),
        Some(end) if !text[end + 1..].trim().is_empty() => {
            Err("text after the outer object".into())
        }
        Some(_) => Ok((root, children)),
    }
}

/// The code of an authority body `"EPSG","4326"` / `"EPSG",4326`, if the authority is EPSG.
fn epsg_authority(body: &str) -> Option<u64> {
    let mut parts = body.splitn(3, ',');
    let name = parts.next()?.trim().trim_matches('"');
    let code = parts.next()?.trim().trim_matches('"').trim();
    if !name.eq_ignore_ascii_case("EPSG") {
        return None;
    }
    code.parse().ok()
}

/// WKT without the whitespace outside quoted strings (insignificant in WKT).
fn squeeze_wkt(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_quote = false;
    for c in text.chars() {
        if c == '"' {
            in_quote = !in_quote;
        }
        if in_quote || !c.is_whitespace() {
            out.push(c);
        }
    }
    out
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

    const UTM33_WKT1_RASTERIO: &str = r#"PROJCS["WGS 84 / UTM zone 33N",GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563,AUTHORITY["EPSG","7030"]],AUTHORITY["EPSG","6326"]],PRIMEM["Greenwich",0,AUTHORITY["EPSG","8901"]],UNIT["degree",0.0174532925199433,AUTHORITY["EPSG","9122"]],AUTHORITY["EPSG","4326"]],PROJECTION["Transverse_Mercator"],PARAMETER["latitude_of_origin",0],PARAMETER["central_meridian",15],PARAMETER["scale_factor",0.9996],PARAMETER["false_easting",500000],PARAMETER["false_northing",0],UNIT["metre",1,AUTHORITY["EPSG","9001"]],AXIS["Easting",EAST],AXIS["Northing",NORTH],AUTHORITY["EPSG","32633"]]"#;

    const UTM33_WKT2_RASTERIO: &str = r#"PROJCRS["WGS 84 / UTM zone 33N",BASEGEOGCRS["WGS 84",ENSEMBLE["World Geodetic System 1984 ensemble",MEMBER["World Geodetic System 1984 (Transit)"],MEMBER["World Geodetic System 1984 (G730)"],MEMBER["World Geodetic System 1984 (G873)"],MEMBER["World Geodetic System 1984 (G1150)"],MEMBER["World Geodetic System 1984 (G1674)"],MEMBER["World Geodetic System 1984 (G1762)"],MEMBER["World Geodetic System 1984 (G2139)"],MEMBER["World Geodetic System 1984 (G2296)"],ELLIPSOID["WGS 84",6378137,298.257223563,LENGTHUNIT["metre",1]],ENSEMBLEACCURACY[2.0]],PRIMEM["Greenwich",0,ANGLEUNIT["degree",0.0174532925199433]],ID["EPSG",4326]],CONVERSION["UTM zone 33N",METHOD["Transverse Mercator",ID["EPSG",9807]],PARAMETER["Latitude of natural origin",0,ANGLEUNIT["degree",0.0174532925199433],ID["EPSG",8801]],PARAMETER["Longitude of natural origin",15,ANGLEUNIT["degree",0.0174532925199433],ID["EPSG",8802]],PARAMETER["Scale factor at natural origin",0.9996,SCALEUNIT["unity",1],ID["EPSG",8805]],PARAMETER["False easting",500000,LENGTHUNIT["metre",1],ID["EPSG",8806]],PARAMETER["False northing",0,LENGTHUNIT["metre",1],ID["EPSG",8807]]],CS[Cartesian,2],AXIS["(E)",east,ORDER[1],LENGTHUNIT["metre",1]],AXIS["(N)",north,ORDER[2],LENGTHUNIT["metre",1]],USAGE[SCOPE["Navigation and medium accuracy spatial referencing."],AREA["Between 12°E and 18°E, northern hemisphere between equator and 84°N, onshore and offshore. Austria. Bosnia and Herzegovina. Cameroon. Central African Republic. Chad. Congo. Croatia. Czechia. Democratic Republic of the Congo (Zaire). Gabon. Germany. Hungary. Italy. Libya. Malta. Niger. Nigeria. Norway. Poland. San Marino. Slovakia. Slovenia. Svalbard. Sweden. Vatican City State."],BBOX[0,12,84,18]],ID["EPSG",32633]]"#;

    const UTM33_PROJ4: &str = "+proj=utm +zone=33 +datum=WGS84 +units=m +no_defs ";

    #[test]
    fn wkt1_uses_the_last_top_level_authority() {
        // The nested GEOGCS carries AUTHORITY 4326 and UNITs carry 9001/9122: only the outer one counts.
        assert_eq!(crs_to_proj4(UTM33_WKT1_RASTERIO).unwrap(), UTM33_PROJ4);
        let pretty = UTM33_WKT1_RASTERIO
            .replace(",", ",\n    ")
            .replace("[", "[ ");
        assert_eq!(crs_to_proj4(&pretty).unwrap(), UTM33_PROJ4);
        for code in [4326u16, 3857, 3035, 27700, 32618] {
            let def = crs_definitions::from_code(code).unwrap();
            assert_eq!(
                crs_to_proj4(def.wkt).unwrap(),
                crs_to_proj4(&code.to_string()).unwrap(),
                "{code}"
            );
        }
    }

    #[test]
    fn wkt2_uses_the_top_level_id() {
        // Many nested IDs (4326, 9807, 8801, ...) precede the top-level one.
        assert_eq!(crs_to_proj4(UTM33_WKT2_RASTERIO).unwrap(), UTM33_PROJ4);
        let geog = r#"GEOGCRS["WGS 84",DATUM["World Geodetic System 1984",ELLIPSOID["WGS 84",6378137,298.257223563,LENGTHUNIT["metre",1]]],PRIMEM["Greenwich",0,ANGLEUNIT["degree",0.0174532925199433]],CS[ellipsoidal,2],AXIS["geodetic latitude (Lat)",north,ORDER[1],ANGLEUNIT["degree",0.0174532925199433]],AXIS["geodetic longitude (Lon)",east,ORDER[2],ANGLEUNIT["degree",0.0174532925199433]],ID["EPSG",4326]]"#;
        assert_eq!(crs_to_proj4(geog).unwrap(), LATLNG_PROJ4);
    }

    #[test]
    fn wkt_without_top_level_epsg_matches_bundled_text_or_fails() {
        // Only nested authorities: the outer AUTHORITY is removed.
        let no_auth = UTM33_WKT1_RASTERIO.replace(r#",AUTHORITY["EPSG","32633"]]"#, "]");
        let e = crs_to_proj4(&no_auth).unwrap_err();
        assert!(matches!(e, CrsError::Wkt { .. }), "{e:?}");
        assert!(e.to_string().contains("EPSG authority"), "{e}");
        // A non-EPSG outer authority is not taken for an EPSG code.
        let esri = UTM33_WKT1_RASTERIO.replace(
            r#"AUTHORITY["EPSG","32633"]]"#,
            r#"AUTHORITY["ESRI","32633"]]"#,
        );
        assert!(matches!(crs_to_proj4(&esri), Err(CrsError::Wkt { .. })));
        // User-defined sinusoidal (no authority at all).
        let sinu = r#"PROJCS["unknown",GEOGCS["unknown",DATUM["unknown",SPHEROID["unknown",6371007.181,0]],PRIMEM["Greenwich",0,AUTHORITY["EPSG","8901"]],UNIT["degree",0.0174532925199433,AUTHORITY["EPSG","9122"]]],PROJECTION["Sinusoidal"],PARAMETER["longitude_of_center",0],PARAMETER["false_easting",0],PARAMETER["false_northing",0],UNIT["metre",1,AUTHORITY["EPSG","9001"]],AXIS["Easting",EAST],AXIS["Northing",NORTH]]"#;
        assert!(matches!(crs_to_proj4(sinu), Err(CrsError::Wkt { .. })));
        // Malformed and unsupported roots.
        for bad in [
            r#"PROJCS["x",GEOGCS["y"]"#,
            r#"PROJCS["x"]] trailing"#,
            r#"VERT_CS["x",AUTHORITY["EPSG","5703"]]"#,
            r#"PROJCS["unterminated]"#,
        ] {
            assert!(
                matches!(crs_to_proj4(bad), Err(CrsError::Wkt { .. })),
                "{bad}"
            );
        }
    }

    #[test]
    fn wkt_text_match_ignores_whitespace_outside_names() {
        // EPSG:3823's bundled WKT is a BOUNDCRS without a top-level EPSG ID: only the text match finds it.
        let def = crs_definitions::from_code(3823).unwrap();
        assert!(def.wkt.starts_with("BOUNDCRS["));
        let spaced = def.wkt.replace(",", " , ").replace("[", "[\n   ");
        assert_eq!(crs_to_proj4(&spaced), crs_to_proj4("3823"));
        assert!(crs_to_proj4("3823").is_ok());
        assert_ne!(
            squeeze_wkt(r#"GEOGCS["WGS 84"]"#),
            squeeze_wkt(r#"GEOGCS["WGS84"]"#)
        );
        // A changed name inside quotes is a different text.
        let renamed = def.wkt.replacen("TWD97", "TWD 97", 1);
        assert!(matches!(crs_to_proj4(&renamed), Err(CrsError::Wkt { .. })));
    }

    #[test]
    fn wkt_transforms_points() {
        let mut a = [15.0, 45.0];
        let mut b = a;
        transform_points("EPSG:4326", UTM33_WKT2_RASTERIO, &mut a).unwrap();
        transform_points("4326", "EPSG:32633", &mut b).unwrap();
        assert_eq!(a, b);
        assert!((a[0] - 500000.0).abs() < 1e-6, "{a:?}");
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
