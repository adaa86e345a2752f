//! GeoKeys (GeoTIFF 1.0 §2.7) to a CRS and back.
//!
//! A CRS with an EPSG code is `"EPSG:<n>"`. A user-defined one (code 32767, or no code) becomes a proj4
//! string built from the coordinate-transformation, parameter, datum/ellipsoid and unit keys, with the
//! parameter choice GDAL makes (e.g. Mercator with a standard parallel is Mercator_2SP). `encode` is the
//! inverse for the writer: EPSG codes directly, other proj4 strings as user-defined keys of the
//! projections this file knows.

use std::collections::BTreeMap;

use crate::crs::{crs_to_proj4, epsg_to_proj4, LATLNG_PROJ4, WEB_MERCATOR_PROJ4};
use crate::error::{EngineError, Result};

pub const GEO_KEY_DIRECTORY_TAG: u16 = 34735;
pub const GEO_DOUBLE_PARAMS_TAG: u16 = 34736;
pub const GEO_ASCII_PARAMS_TAG: u16 = 34737;

const GT_MODEL_TYPE: u16 = 1024;
const GT_RASTER_TYPE: u16 = 1025;
const GEOGRAPHIC_TYPE: u16 = 2048;
const GEOG_GEODETIC_DATUM: u16 = 2050;
const GEOG_ANGULAR_UNITS: u16 = 2054;
const GEOG_ELLIPSOID: u16 = 2056;
const GEOG_SEMI_MAJOR: u16 = 2057;
const GEOG_SEMI_MINOR: u16 = 2058;
const GEOG_INV_FLATTENING: u16 = 2059;
const PROJECTED_CS_TYPE: u16 = 3072;
const PROJECTION: u16 = 3074;
const PROJ_COORD_TRANS: u16 = 3075;
const PROJ_LINEAR_UNITS: u16 = 3076;
const STD_PARALLEL1: u16 = 3078;
const STD_PARALLEL2: u16 = 3079;
const NAT_ORIGIN_LONG: u16 = 3080;
const NAT_ORIGIN_LAT: u16 = 3081;
const FALSE_EASTING: u16 = 3082;
const FALSE_NORTHING: u16 = 3083;
const FALSE_ORIGIN_LONG: u16 = 3084;
const FALSE_ORIGIN_LAT: u16 = 3085;
const FALSE_ORIGIN_EASTING: u16 = 3086;
const FALSE_ORIGIN_NORTHING: u16 = 3087;
const CENTER_LONG: u16 = 3088;
const CENTER_LAT: u16 = 3089;
const CENTER_EASTING: u16 = 3090;
const CENTER_NORTHING: u16 = 3091;
const SCALE_AT_NAT_ORIGIN: u16 = 3092;
const SCALE_AT_CENTER: u16 = 3093;
const AZIMUTH_ANGLE: u16 = 3094;
const STRAIGHT_VERT_POLE_LONG: u16 = 3095;
const RECTIFIED_GRID_ANGLE: u16 = 3096;

const USER_DEFINED: u16 = 32767;

/// The three GeoTIFF tags holding GeoKeys, as the writer stores them.
#[derive(Clone, Debug, PartialEq)]
pub struct GeoKeyTags {
    pub directory: Vec<u16>,
    pub double_params: Vec<f64>,
    pub ascii_params: String,
}

#[derive(Clone, Debug, PartialEq)]
pub enum KeyValue {
    Short(u16),
    Doubles(Vec<f64>),
    Ascii(String),
}

/// Parsed GeoKeys by key id.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct GeoKeys(pub BTreeMap<u16, KeyValue>);

impl GeoKeys {
    /// Parses the key directory; malformed entries are skipped, as GDAL does.
    pub fn parse(directory: &[u16], doubles: &[f64], ascii: &str) -> GeoKeys {
        let mut keys = BTreeMap::new();
        if directory.len() < 4 {
            return GeoKeys(keys);
        }
        let n = directory[3] as usize;
        for entry in directory[4..].chunks_exact(4).take(n) {
            let (id, loc, count, value) =
                (entry[0], entry[1], entry[2] as usize, entry[3] as usize);
            let v = match loc {
                0 => KeyValue::Short(entry[3]),
                GEO_DOUBLE_PARAMS_TAG => match doubles.get(value..value + count) {
                    Some(d) => KeyValue::Doubles(d.to_vec()),
                    None => continue,
                },
                GEO_ASCII_PARAMS_TAG => match ascii.get(value..value + count) {
                    Some(s) => KeyValue::Ascii(s.trim_end_matches(['|', '\0']).to_string()),
                    None => continue,
                },
                // Keys stored in the directory itself (count > 1) are not used by any key we read.
                _ => continue,
            };
            keys.insert(id, v);
        }
        GeoKeys(keys)
    }

    pub fn short(&self, id: u16) -> Option<u16> {
        match self.0.get(&id)? {
            KeyValue::Short(v) => Some(*v),
            _ => None,
        }
    }

    pub fn double(&self, id: u16) -> Option<f64> {
        match self.0.get(&id)? {
            KeyValue::Doubles(v) => v.first().copied(),
            KeyValue::Short(v) => Some(*v as f64),
            _ => None,
        }
    }

    fn first_double(&self, ids: &[u16]) -> Option<f64> {
        ids.iter().find_map(|&id| self.double(id))
    }

    /// PixelIsPoint (GTRasterTypeGeoKey = 2).
    pub fn pixel_is_point(&self) -> bool {
        self.short(GT_RASTER_TYPE) == Some(2)
    }

    /// The CRS: `"EPSG:<n>"`, a proj4 string, or None when the keys name none we can express.
    pub fn crs(&self) -> Option<String> {
        let model = self.short(GT_MODEL_TYPE);
        let pcs = self.short(PROJECTED_CS_TYPE);
        let gcs = self.short(GEOGRAPHIC_TYPE);
        let projected = match model {
            Some(1) => true,
            Some(2) => false,
            // ESRI writes Web Mercator as a user-defined model with only a citation (its WKT name).
            Some(_) => return self.esri_web_mercator(),
            None if pcs.is_none() && gcs.is_none() => return None,
            None => pcs.is_some(),
        };
        if projected {
            match pcs {
                Some(code) if code != USER_DEFINED && code != 0 => Some(format!("EPSG:{code}")),
                _ => self.user_projected(),
            }
        } else {
            match gcs {
                Some(code) if code != USER_DEFINED && code != 0 => Some(format!("EPSG:{code}")),
                _ => Some(format!("+proj=longlat {}+no_defs ", self.datum_params())),
            }
        }
    }

    fn esri_web_mercator(&self) -> Option<String> {
        let cited = [1026u16, 3073].iter().any(
            |id| matches!(self.0.get(id), Some(KeyValue::Ascii(s)) if s.contains("Web_Mercator")),
        );
        cited.then(|| "EPSG:3857".to_string())
    }

    /// Datum or ellipsoid parameters (`"+datum=NAD27 "`), from the geographic keys; WGS84 when none.
    fn datum_params(&self) -> String {
        if let Some(code) = self
            .short(GEOGRAPHIC_TYPE)
            .filter(|&c| c != USER_DEFINED && c != 0)
        {
            if let Ok(p4) = epsg_to_proj4(code as u64) {
                let kept: Vec<&str> = p4
                    .split_whitespace()
                    .filter(|t| {
                        [
                            "+datum=",
                            "+ellps=",
                            "+towgs84=",
                            "+a=",
                            "+b=",
                            "+rf=",
                            "+R=",
                            "+pm=",
                        ]
                        .iter()
                        .any(|p| t.starts_with(p))
                    })
                    .collect();
                if !kept.is_empty() {
                    return kept.iter().map(|t| format!("{t} ")).collect();
                }
            }
        }
        if let Some(d) = self.short(GEOG_GEODETIC_DATUM).and_then(datum_name) {
            return format!("+datum={d} ");
        }
        if let Some(e) = self.short(GEOG_ELLIPSOID).and_then(ellipsoid_params) {
            return format!("{e} ");
        }
        if let Some(a) = self.double(GEOG_SEMI_MAJOR) {
            let b = self.double(GEOG_SEMI_MINOR);
            let rf = self.double(GEOG_INV_FLATTENING);
            return match (b, rf) {
                (_, Some(rf)) if rf > 0.0 => format!("+a={a} +rf={rf} "),
                (Some(b), _) if b != a => format!("+a={a} +b={b} "),
                _ => format!("+R={a} "),
            };
        }
        "+datum=WGS84 ".to_string()
    }

    fn user_projected(&self) -> Option<String> {
        let geog = self.datum_params();
        let (units, to_m) = match self.short(PROJ_LINEAR_UNITS) {
            None | Some(9001) => ("+units=m ", 1.0),
            Some(9002) => ("+units=ft ", 0.3048),
            Some(9003) => ("+units=us-ft ", 1200.0 / 3937.0),
            Some(_) => return None,
        };
        // Projection codes 16001..16060 / 16101..16160 are UTM north / south zones.
        if let Some(p) = self.short(PROJECTION) {
            if (16001..=16060).contains(&p) {
                return Some(format!(
                    "+proj=utm +zone={} {geog}{units}+no_defs ",
                    p - 16000
                ));
            }
            if (16101..=16160).contains(&p) {
                return Some(format!(
                    "+proj=utm +zone={} +south {geog}{units}+no_defs ",
                    p - 16100
                ));
            }
        }
        let ct = self.short(PROJ_COORD_TRANS)?;
        let angular_to_deg = match self.short(GEOG_ANGULAR_UNITS) {
            Some(9101) => 180.0 / std::f64::consts::PI,
            _ => 1.0,
        };
        let lat0 = || {
            self.first_double(&[NAT_ORIGIN_LAT, FALSE_ORIGIN_LAT, CENTER_LAT])
                .unwrap_or(0.0)
                * angular_to_deg
        };
        let lon0 = || {
            self.first_double(&[
                NAT_ORIGIN_LONG,
                FALSE_ORIGIN_LONG,
                CENTER_LONG,
                STRAIGHT_VERT_POLE_LONG,
            ])
            .unwrap_or(0.0)
                * angular_to_deg
        };
        let center_lat = || {
            self.first_double(&[CENTER_LAT, NAT_ORIGIN_LAT, FALSE_ORIGIN_LAT])
                .unwrap_or(0.0)
                * angular_to_deg
        };
        let center_lon = || {
            self.first_double(&[CENTER_LONG, NAT_ORIGIN_LONG, FALSE_ORIGIN_LONG])
                .unwrap_or(0.0)
                * angular_to_deg
        };
        let ang = |id: u16| self.double(id).map(|v| v * angular_to_deg);
        let x0 = self
            .first_double(&[FALSE_EASTING, FALSE_ORIGIN_EASTING, CENTER_EASTING])
            .unwrap_or(0.0)
            * to_m;
        let y0 = self
            .first_double(&[FALSE_NORTHING, FALSE_ORIGIN_NORTHING, CENTER_NORTHING])
            .unwrap_or(0.0)
            * to_m;
        let k = || {
            self.first_double(&[SCALE_AT_NAT_ORIGIN, SCALE_AT_CENTER])
                .unwrap_or(1.0)
        };
        let sp1 = || ang(STD_PARALLEL1).unwrap_or(0.0);
        let sp2 = || ang(STD_PARALLEL2).unwrap_or(0.0);
        let mut p: Vec<(&str, f64)> = Vec::new();
        let name = match ct {
            1 => {
                p.extend([("lat_0", lat0()), ("lon_0", lon0()), ("k", k())]);
                "tmerc"
            }
            3 => {
                p.extend([("lat_0", center_lat()), ("lonc", center_lon())]);
                p.push(("alpha", ang(AZIMUTH_ANGLE).unwrap_or(0.0)));
                if let Some(g) = ang(RECTIFIED_GRID_ANGLE) {
                    p.push(("gamma", g));
                }
                p.push((
                    "k",
                    self.first_double(&[SCALE_AT_CENTER, SCALE_AT_NAT_ORIGIN])
                        .unwrap_or(1.0),
                ));
                "omerc"
            }
            7 => {
                match ang(STD_PARALLEL1) {
                    Some(ts) => p.extend([("lat_ts", ts), ("lon_0", lon0())]),
                    None => p.extend([("lon_0", lon0()), ("k", k())]),
                }
                "merc"
            }
            8 => {
                p.extend([
                    ("lat_0", lat0()),
                    ("lon_0", lon0()),
                    ("lat_1", sp1()),
                    ("lat_2", sp2()),
                ]);
                "lcc"
            }
            9 => {
                p.extend([
                    ("lat_1", lat0()),
                    ("lat_0", lat0()),
                    ("lon_0", lon0()),
                    ("k_0", k()),
                ]);
                "lcc"
            }
            10 => {
                p.extend([("lat_0", center_lat()), ("lon_0", center_lon())]);
                "laea"
            }
            11 => {
                p.extend([
                    ("lat_0", lat0()),
                    ("lon_0", lon0()),
                    ("lat_1", sp1()),
                    ("lat_2", sp2()),
                ]);
                "aea"
            }
            12 => {
                p.extend([("lat_0", center_lat()), ("lon_0", center_lon())]);
                "aeqd"
            }
            13 => {
                p.extend([
                    ("lat_0", lat0()),
                    ("lon_0", lon0()),
                    ("lat_1", sp1()),
                    ("lat_2", sp2()),
                ]);
                "eqdc"
            }
            14 => {
                p.extend([("lat_0", center_lat()), ("lon_0", center_lon()), ("k", k())]);
                "stere"
            }
            15 => {
                let lat = lat0();
                let lon = self
                    .first_double(&[STRAIGHT_VERT_POLE_LONG, NAT_ORIGIN_LONG])
                    .unwrap_or(0.0)
                    * angular_to_deg;
                if lat.abs() == 90.0 {
                    p.extend([("lat_0", lat), ("lon_0", lon), ("k", k())]);
                } else {
                    p.extend([
                        ("lat_0", 90f64.copysign(lat)),
                        ("lat_ts", lat),
                        ("lon_0", lon),
                    ]);
                }
                "stere"
            }
            16 => {
                p.extend([("lat_0", lat0()), ("lon_0", lon0()), ("k", k())]);
                "sterea"
            }
            17 => {
                p.extend([("lat_ts", sp1()), ("lat_0", lat0()), ("lon_0", lon0())]);
                "eqc"
            }
            18 => {
                p.extend([("lat_0", lat0()), ("lon_0", lon0())]);
                "cass"
            }
            20 => {
                p.extend([("lat_0", lat0()), ("lon_0", lon0())]);
                "mill"
            }
            21 => {
                p.extend([("lat_0", lat0()), ("lon_0", lon0())]);
                "ortho"
            }
            22 => {
                p.extend([("lat_0", lat0()), ("lon_0", lon0())]);
                "poly"
            }
            23 => {
                p.push(("lon_0", lon0()));
                "robin"
            }
            24 => {
                p.push(("lon_0", center_lon()));
                "sinu"
            }
            25 => {
                p.push(("lon_0", lon0()));
                "vandg"
            }
            26 => {
                p.extend([("lat_0", lat0()), ("lon_0", lon0())]);
                "nzmg"
            }
            28 => {
                p.extend([("lat_ts", sp1()), ("lon_0", lon0())]);
                "cea"
            }
            _ => return None,
        };
        let mut s = format!("+proj={name} ");
        for (k, v) in p.iter().chain([("x_0", x0), ("y_0", y0)].iter()) {
            s.push_str(&format!("+{k}={v} "));
        }
        s.push_str(&geog);
        s.push_str(units);
        s.push_str("+no_defs ");
        Some(s)
    }
}

fn datum_name(code: u16) -> Option<&'static str> {
    Some(match code {
        6326 => "WGS84",
        6269 => "NAD83",
        6267 => "NAD27",
        _ => return None,
    })
}

fn ellipsoid_params(code: u16) -> Option<&'static str> {
    Some(match code {
        7030 => "+ellps=WGS84",
        7019 => "+ellps=GRS80",
        7008 => "+ellps=clrk66",
        7043 => "+ellps=WGS72",
        7004 => "+ellps=bessel",
        7022 => "+ellps=intl",
        7001 => "+ellps=airy",
        7059 => "+R=6378137",
        7035 | 7047 => "+R=6371000",
        7048 => "+R=6371007",
        _ => return None,
    })
}

fn ellipsoid_code(name: &str) -> Option<u16> {
    Some(match name {
        "WGS84" => 7030,
        "GRS80" => 7019,
        "clrk66" => 7008,
        "WGS72" => 7043,
        "bessel" => 7004,
        "intl" => 7022,
        "airy" => 7001,
        _ => return None,
    })
}

/// Builds the three GeoKey tags from sorted entries.
struct KeyWriter {
    entries: BTreeMap<u16, (u16, u16, u16)>,
    doubles: Vec<f64>,
    ascii: String,
}

impl KeyWriter {
    fn new() -> Self {
        KeyWriter {
            entries: BTreeMap::new(),
            doubles: Vec::new(),
            ascii: String::new(),
        }
    }
    fn short(&mut self, id: u16, v: u16) {
        self.entries.insert(id, (0, 1, v));
    }
    fn double(&mut self, id: u16, v: f64) {
        self.entries
            .insert(id, (GEO_DOUBLE_PARAMS_TAG, 1, self.doubles.len() as u16));
        self.doubles.push(v);
    }
    fn finish(self) -> GeoKeyTags {
        let mut directory = vec![1, 1, 0, self.entries.len() as u16];
        for (id, (loc, count, v)) in self.entries {
            directory.extend([id, loc, count, v]);
        }
        GeoKeyTags {
            directory,
            double_params: self.doubles,
            ascii_params: self.ascii,
        }
    }
}

/// GeoKeys for `crs` ("EPSG:<n>" or a proj4 string); PixelIsArea.
pub fn encode(crs: &str) -> Result<GeoKeyTags> {
    let bad =
        |msg: String| EngineError::Value(format!("cannot write CRS {crs:?} as GeoKeys: {msg}"));
    let proj4 = crs_to_proj4(crs).map_err(|e| bad(e.to_string()))?;
    let trimmed = crs.trim();
    let code = if trimmed.starts_with('+') {
        if proj4 == LATLNG_PROJ4 {
            Some(4326)
        } else if proj4 == WEB_MERCATOR_PROJ4 {
            Some(3857)
        } else {
            None
        }
    } else {
        let digits = trimmed.rsplit(':').next().unwrap_or("");
        Some(
            digits
                .trim()
                .parse::<u16>()
                .map_err(|_| bad("EPSG code out of range".into()))?,
        )
    };
    let params = proj4_params(&proj4);
    let is_geographic = matches!(
        params.get("proj").map(String::as_str),
        Some("longlat" | "latlong" | "lonlat" | "latlon")
    );
    let mut w = KeyWriter::new();
    w.short(GT_RASTER_TYPE, 1);
    if let Some(code) = code {
        if is_geographic {
            w.short(GT_MODEL_TYPE, 2);
            w.short(GEOGRAPHIC_TYPE, code);
        } else {
            w.short(GT_MODEL_TYPE, 1);
            w.short(PROJECTED_CS_TYPE, code);
        }
        return Ok(w.finish());
    }
    encode_geographic(&mut w, &params).map_err(bad)?;
    if is_geographic {
        w.short(GT_MODEL_TYPE, 2);
        w.short(GEOG_ANGULAR_UNITS, 9102);
        return Ok(w.finish());
    }
    w.short(GT_MODEL_TYPE, 1);
    w.short(PROJECTED_CS_TYPE, USER_DEFINED);
    w.short(PROJECTION, USER_DEFINED);
    let unit = match params.get("units").map(String::as_str) {
        None | Some("m") => {
            w.short(PROJ_LINEAR_UNITS, 9001);
            1.0
        }
        Some("ft") => {
            w.short(PROJ_LINEAR_UNITS, 9002);
            0.3048
        }
        Some("us-ft") => {
            w.short(PROJ_LINEAR_UNITS, 9003);
            1200.0 / 3937.0
        }
        Some(u) => return Err(bad(format!("unsupported +units={u}"))),
    };
    let num = |k: &str, default: f64| -> std::result::Result<f64, String> {
        match params.get(k) {
            None => Ok(default),
            Some(v) => v
                .parse::<f64>()
                .map_err(|_| format!("+{k}={v} is not a number")),
        }
    };
    let name = params.get("proj").cloned().unwrap_or_default();
    // (proj4 parameter, key, default) for each projection; `utm` is written as transverse Mercator.
    let (ct, keys): (u16, Vec<(&str, u16, f64)>) = match name.as_str() {
        "utm" => {
            let zone = num("zone", f64::NAN).map_err(bad)?;
            if !(1.0..=60.0).contains(&zone) {
                return Err(bad("+proj=utm needs +zone=1..60".into()));
            }
            let south = params.contains_key("south");
            w.short(PROJ_COORD_TRANS, 1);
            w.double(NAT_ORIGIN_LAT, 0.0);
            w.double(NAT_ORIGIN_LONG, zone.trunc() * 6.0 - 183.0);
            w.double(SCALE_AT_NAT_ORIGIN, 0.9996);
            w.double(FALSE_EASTING, 500_000.0 / unit);
            w.double(
                FALSE_NORTHING,
                if south { 10_000_000.0 } else { 0.0 } / unit,
            );
            return Ok(w.finish());
        }
        "tmerc" => (
            1,
            vec![
                ("lat_0", NAT_ORIGIN_LAT, 0.0),
                ("lon_0", NAT_ORIGIN_LONG, 0.0),
                ("k", SCALE_AT_NAT_ORIGIN, 1.0),
            ],
        ),
        "merc" if params.contains_key("lat_ts") => (
            7,
            vec![
                ("lat_ts", STD_PARALLEL1, 0.0),
                ("lon_0", NAT_ORIGIN_LONG, 0.0),
            ],
        ),
        "merc" => (
            7,
            vec![
                ("lon_0", NAT_ORIGIN_LONG, 0.0),
                ("k", SCALE_AT_NAT_ORIGIN, 1.0),
            ],
        ),
        "lcc" if params.contains_key("lat_2") => (
            8,
            vec![
                ("lat_1", STD_PARALLEL1, 0.0),
                ("lat_2", STD_PARALLEL2, 0.0),
                ("lat_0", FALSE_ORIGIN_LAT, 0.0),
                ("lon_0", FALSE_ORIGIN_LONG, 0.0),
            ],
        ),
        "lcc" => (
            9,
            vec![
                ("lat_0", NAT_ORIGIN_LAT, 0.0),
                ("lon_0", NAT_ORIGIN_LONG, 0.0),
                ("k_0", SCALE_AT_NAT_ORIGIN, 1.0),
            ],
        ),
        "laea" => (
            10,
            vec![("lat_0", CENTER_LAT, 0.0), ("lon_0", CENTER_LONG, 0.0)],
        ),
        "aea" => (
            11,
            vec![
                ("lat_1", STD_PARALLEL1, 0.0),
                ("lat_2", STD_PARALLEL2, 0.0),
                ("lat_0", NAT_ORIGIN_LAT, 0.0),
                ("lon_0", NAT_ORIGIN_LONG, 0.0),
            ],
        ),
        "aeqd" => (
            12,
            vec![("lat_0", CENTER_LAT, 0.0), ("lon_0", CENTER_LONG, 0.0)],
        ),
        "eqdc" => (
            13,
            vec![
                ("lat_1", STD_PARALLEL1, 0.0),
                ("lat_2", STD_PARALLEL2, 0.0),
                ("lat_0", NAT_ORIGIN_LAT, 0.0),
                ("lon_0", NAT_ORIGIN_LONG, 0.0),
            ],
        ),
        "stere"
            if num("lat_0", 0.0).map_err(bad)?.abs() == 90.0 && params.contains_key("lat_ts") =>
        {
            (
                15,
                vec![
                    ("lat_ts", NAT_ORIGIN_LAT, 0.0),
                    ("lon_0", STRAIGHT_VERT_POLE_LONG, 0.0),
                ],
            )
        }
        "stere" => (
            14,
            vec![
                ("lat_0", CENTER_LAT, 0.0),
                ("lon_0", CENTER_LONG, 0.0),
                ("k", SCALE_AT_NAT_ORIGIN, 1.0),
            ],
        ),
        "sterea" => (
            16,
            vec![
                ("lat_0", NAT_ORIGIN_LAT, 0.0),
                ("lon_0", NAT_ORIGIN_LONG, 0.0),
                ("k", SCALE_AT_NAT_ORIGIN, 1.0),
            ],
        ),
        "eqc" => (
            17,
            vec![
                ("lat_ts", STD_PARALLEL1, 0.0),
                ("lat_0", NAT_ORIGIN_LAT, 0.0),
                ("lon_0", NAT_ORIGIN_LONG, 0.0),
            ],
        ),
        "cass" => (
            18,
            vec![
                ("lat_0", NAT_ORIGIN_LAT, 0.0),
                ("lon_0", NAT_ORIGIN_LONG, 0.0),
            ],
        ),
        "mill" => (
            20,
            vec![
                ("lat_0", NAT_ORIGIN_LAT, 0.0),
                ("lon_0", NAT_ORIGIN_LONG, 0.0),
            ],
        ),
        "ortho" => (
            21,
            vec![
                ("lat_0", NAT_ORIGIN_LAT, 0.0),
                ("lon_0", NAT_ORIGIN_LONG, 0.0),
            ],
        ),
        "poly" => (
            22,
            vec![
                ("lat_0", NAT_ORIGIN_LAT, 0.0),
                ("lon_0", NAT_ORIGIN_LONG, 0.0),
            ],
        ),
        "robin" => (23, vec![("lon_0", NAT_ORIGIN_LONG, 0.0)]),
        "sinu" => (24, vec![("lon_0", CENTER_LONG, 0.0)]),
        "vandg" => (25, vec![("lon_0", NAT_ORIGIN_LONG, 0.0)]),
        "nzmg" => (
            26,
            vec![
                ("lat_0", NAT_ORIGIN_LAT, 0.0),
                ("lon_0", NAT_ORIGIN_LONG, 0.0),
            ],
        ),
        "cea" => (
            28,
            vec![
                ("lat_ts", STD_PARALLEL1, 0.0),
                ("lon_0", NAT_ORIGIN_LONG, 0.0),
            ],
        ),
        other => {
            return Err(bad(format!(
                "projection +proj={other} has no GeoTIFF encoding here"
            )))
        }
    };
    w.short(PROJ_COORD_TRANS, ct);
    for (k, id, default) in keys {
        w.double(id, num(k, default).map_err(bad)?);
    }
    let (fe, fn_) = if ct == 8 {
        (FALSE_ORIGIN_EASTING, FALSE_ORIGIN_NORTHING)
    } else {
        (FALSE_EASTING, FALSE_NORTHING)
    };
    w.double(fe, num("x_0", 0.0).map_err(bad)? / unit);
    w.double(fn_, num("y_0", 0.0).map_err(bad)? / unit);
    Ok(w.finish())
}

/// Geographic (datum/ellipsoid) keys of a user-defined CRS.
fn encode_geographic(
    w: &mut KeyWriter,
    params: &BTreeMap<String, String>,
) -> std::result::Result<(), String> {
    if params.contains_key("towgs84") || params.contains_key("nadgrids") {
        return Err("datum shifts (+towgs84, +nadgrids) have no GeoKey encoding here".into());
    }
    let num = |k: &str| {
        params.get(k).map(|v| {
            v.parse::<f64>()
                .map_err(|_| format!("+{k}={v} is not a number"))
        })
    };
    match params.get("datum").map(String::as_str) {
        Some("WGS84") => w.short(GEOGRAPHIC_TYPE, 4326),
        Some("NAD83") => w.short(GEOGRAPHIC_TYPE, 4269),
        Some("NAD27") => w.short(GEOGRAPHIC_TYPE, 4267),
        Some(d) => return Err(format!("unsupported +datum={d}")),
        None => {
            w.short(GEOGRAPHIC_TYPE, USER_DEFINED);
            w.short(GEOG_GEODETIC_DATUM, USER_DEFINED);
            if let Some(e) = params.get("ellps") {
                let code = ellipsoid_code(e).ok_or_else(|| format!("unsupported +ellps={e}"))?;
                w.short(GEOG_ELLIPSOID, code);
            } else if let Some(r) = num("R") {
                let r = r?;
                w.short(GEOG_ELLIPSOID, USER_DEFINED);
                w.double(GEOG_SEMI_MAJOR, r);
                w.double(GEOG_SEMI_MINOR, r);
            } else if let Some(a) = num("a") {
                let a = a?;
                w.short(GEOG_ELLIPSOID, USER_DEFINED);
                w.double(GEOG_SEMI_MAJOR, a);
                match (num("b"), num("rf")) {
                    (_, Some(rf)) => w.double(GEOG_INV_FLATTENING, rf?),
                    (Some(b), None) => w.double(GEOG_SEMI_MINOR, b?),
                    (None, None) => w.double(GEOG_SEMI_MINOR, a),
                }
            } else {
                // proj4's default ellipsoid.
                w.short(GEOG_ELLIPSOID, 7030);
            }
        }
    }
    Ok(())
}

/// `+key=value` tokens of a proj4 string (flags map to "").
fn proj4_params(proj4: &str) -> BTreeMap<String, String> {
    proj4
        .split_whitespace()
        .filter_map(|t| t.strip_prefix('+'))
        .map(|t| match t.split_once('=') {
            Some((k, v)) => (k.to_string(), v.to_string()),
            None => (t.to_string(), String::new()),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(crs: &str) -> String {
        let t = encode(crs).unwrap();
        GeoKeys::parse(&t.directory, &t.double_params, &t.ascii_params)
            .crs()
            .unwrap()
    }

    /// Numeric parameters agree; flags and strings match exactly.
    fn assert_same_params(a: &str, b: &str) {
        let (pa, pb) = (proj4_params(a), proj4_params(b));
        for (k, va) in &pa {
            if k == "no_defs" || k == "units" {
                continue;
            }
            let vb = pb.get(k).unwrap_or_else(|| panic!("{k} missing in {b}"));
            match (va.parse::<f64>(), vb.parse::<f64>()) {
                (Ok(x), Ok(y)) => assert!((x - y).abs() < 1e-9, "{k}: {x} vs {y}"),
                _ => assert_eq!(va, vb, "{k}"),
            }
        }
    }

    #[test]
    fn epsg_codes_round_trip() {
        assert_eq!(round_trip("EPSG:4326"), "EPSG:4326");
        assert_eq!(round_trip("EPSG:32618"), "EPSG:32618");
        assert_eq!(round_trip("epsg:3857"), "EPSG:3857");
        assert_eq!(round_trip(LATLNG_PROJ4), "EPSG:4326");
        assert_eq!(round_trip(WEB_MERCATOR_PROJ4), "EPSG:3857");
        let t = encode("EPSG:4269").unwrap();
        let keys = GeoKeys::parse(&t.directory, &t.double_params, &t.ascii_params);
        assert_eq!(keys.short(GT_MODEL_TYPE), Some(2));
        assert!(!keys.pixel_is_point());
    }

    #[test]
    fn user_defined_projections_round_trip() {
        for p in [
            "+proj=cea +lat_ts=33.75 +lon_0=-117.333333333333 +x_0=0 +y_0=0 +datum=NAD27 +units=m +no_defs",
            "+proj=eqdc +lat_0=33.76 +lon_0=-117.47 +lat_1=33.9 +lat_2=33.6 +x_0=10 +y_0=20 +datum=NAD27 +units=m +no_defs",
            "+proj=merc +lat_ts=0 +lon_0=0 +x_0=0 +y_0=0 +R=6378137 +units=m +no_defs",
            "+proj=lcc +lat_1=33 +lat_2=45 +lat_0=39 +lon_0=-96 +x_0=0 +y_0=0 +datum=NAD83 +units=m +no_defs",
            "+proj=aea +lat_1=29.5 +lat_2=45.5 +lat_0=23 +lon_0=-96 +x_0=0 +y_0=0 +ellps=GRS80 +units=m +no_defs",
            "+proj=laea +lat_0=52 +lon_0=10 +x_0=4321000 +y_0=3210000 +ellps=GRS80 +units=m +no_defs",
            "+proj=tmerc +lat_0=0 +lon_0=9 +k=0.9996 +x_0=500000 +y_0=0 +a=6378137 +rf=298.257223563 +units=m +no_defs",
            "+proj=sinu +lon_0=0 +x_0=0 +y_0=0 +R=6371007.181 +units=m +no_defs",
            "+proj=stere +lat_0=90 +lat_ts=70 +lon_0=-45 +x_0=0 +y_0=0 +datum=WGS84 +units=m +no_defs",
            "+proj=longlat +ellps=clrk66 +no_defs",
            "+proj=longlat +R=6371000 +no_defs",
            "+proj=longlat +a=6378137 +b=6356752.3 +no_defs",
        ] {
            let back = round_trip(p);
            assert_same_params(p, &back);
        }
        let utm = round_trip("+proj=utm +zone=33 +south +datum=WGS84 +units=m +no_defs");
        assert_same_params(
            "+proj=tmerc +lon_0=15 +k=0.9996 +x_0=500000 +y_0=10000000 +datum=WGS84",
            &utm,
        );
    }

    #[test]
    fn feet_are_converted_to_metres_in_proj4() {
        let t = encode("+proj=tmerc +lat_0=0 +lon_0=-81 +k=0.9999 +x_0=152400.3048 +y_0=0 +datum=NAD83 +units=us-ft +no_defs").unwrap();
        let keys = GeoKeys::parse(&t.directory, &t.double_params, &t.ascii_params);
        assert!((keys.double(FALSE_EASTING).unwrap() - 500_000.0).abs() < 1e-3);
        let back = keys.crs().unwrap();
        assert!(back.contains("+units=us-ft"));
        assert_same_params("+proj=tmerc +x_0=152400.3048", &back);
    }

    #[test]
    fn unencodable_crs_is_an_error() {
        assert!(encode("+proj=longlat +towgs84=1,2,3 +no_defs").is_err());
        assert!(encode("+proj=geos +h=35785831 +no_defs").is_err());
        assert!(encode("not a crs").is_err());
    }

    #[test]
    fn malformed_directories_do_not_panic() {
        assert_eq!(GeoKeys::parse(&[1, 1], &[], "").crs(), None);
        let k = GeoKeys::parse(&[1, 1, 0, 9, 3072, 34736, 5, 100], &[1.0], "");
        assert_eq!(k.crs(), None);
    }
}
