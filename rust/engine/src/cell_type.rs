//! GeoTrellis cell types: the eight storage types, their NoData flavours (raw, constant, user-defined),
//! names as GeoTrellis writes and parses them, and the conversions between stored cells and the `f64`
//! working values every kernel computes on.
//!
//! Working values follow GeoTrellis' `getDouble`/`setDouble`: a NoData cell loads as NaN, and storing NaN
//! writes the type's NoData (or what GeoTrellis writes for raw types). Integer storage truncates toward
//! zero, saturates to `i32` and then wraps to the storage width, as Scala's `toInt.toByte` does.

use crate::error::{EngineError, Result};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DataType {
    Bool,
    Int8,
    UInt8,
    Int16,
    UInt16,
    Int32,
    Float32,
    Float64,
}

impl DataType {
    pub fn bytes_per_cell(self) -> usize {
        match self {
            DataType::Bool | DataType::Int8 | DataType::UInt8 => 1,
            DataType::Int16 | DataType::UInt16 => 2,
            DataType::Int32 | DataType::Float32 => 4,
            DataType::Float64 => 8,
        }
    }

    pub fn bits(self) -> u32 {
        match self {
            DataType::Bool => 1,
            other => 8 * other.bytes_per_cell() as u32,
        }
    }

    pub fn is_float(self) -> bool {
        matches!(self, DataType::Float32 | DataType::Float64)
    }

    /// The storage type's name, the prefix of its cell type names (`int16` in `int16ud-1`).
    pub fn name(self) -> &'static str {
        match self {
            DataType::Bool => "bool",
            DataType::Int8 => "int8",
            DataType::UInt8 => "uint8",
            DataType::Int16 => "int16",
            DataType::UInt16 => "uint16",
            DataType::Int32 => "int32",
            DataType::Float32 => "float32",
            DataType::Float64 => "float64",
        }
    }

    /// The constant NoData sentinel as stored (None for bool).
    fn constant_no_data(self) -> Option<f64> {
        match self {
            DataType::Bool => None,
            DataType::Int8 => Some(i8::MIN as f64),
            DataType::UInt8 | DataType::UInt16 => Some(0.0),
            DataType::Int16 => Some(i16::MIN as f64),
            DataType::Int32 => Some(i32::MIN as f64),
            DataType::Float32 | DataType::Float64 => Some(f64::NAN),
        }
    }

    /// Narrow an integer the way Scala's `Int.toByte`/`toShort`/`toChar` do (wrapping).
    fn wrap_int(self, v: i32) -> f64 {
        match self {
            DataType::Int8 => v as i8 as f64,
            DataType::UInt8 => v as u8 as f64,
            DataType::Int16 => v as i16 as f64,
            DataType::UInt16 => v as u16 as f64,
            _ => v as f64,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum NoData {
    /// `…raw` types (and `bool`): no NoData value.
    Raw,
    /// The type's fixed sentinel (int8 −128, uint 0, int16 −32768, int32 `i32::MIN`, float NaN).
    Constant,
    /// `…ud<N>`: a user-defined NoData, held as its stored value (exact for every type).
    UserDefined(f64),
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CellType {
    pub data_type: DataType,
    pub no_data: NoData,
}

const ALL_TYPES: [DataType; 8] = [
    // Longest prefixes first so that "uint8" is not taken for "int8".
    DataType::Float32,
    DataType::Float64,
    DataType::UInt16,
    DataType::UInt8,
    DataType::Int16,
    DataType::Int32,
    DataType::Int8,
    DataType::Bool,
];

impl CellType {
    pub const fn new(data_type: DataType, no_data: NoData) -> Self {
        CellType { data_type, no_data }
    }

    /// Parse a GeoTrellis cell type name (`CellType.fromName`).
    pub fn parse(name: &str) -> Result<CellType> {
        let unknown = || EngineError::UnknownCellType(name.to_string());
        if name == "bool" || name == "boolraw" {
            return Ok(CellType::new(DataType::Bool, NoData::Raw));
        }
        let dt = ALL_TYPES
            .iter()
            .copied()
            .find(|dt| dt != &DataType::Bool && name.starts_with(dt.name()))
            .ok_or_else(unknown)?;
        let rest = &name[dt.name().len()..];
        let no_data = match rest {
            "" => NoData::Constant,
            "raw" => NoData::Raw,
            _ => {
                let value = rest.strip_prefix("ud").ok_or_else(unknown)?;
                if dt.is_float() {
                    float_no_data(dt, parse_java_double(value).ok_or_else(unknown)?)
                } else {
                    let v: i32 = value.parse().map_err(|_| unknown())?;
                    NoData::UserDefined(dt.wrap_int(v))
                }
            }
        };
        Ok(CellType::new(dt, no_data))
    }

    /// The GeoTrellis name (`CellType.toString`).
    pub fn name(&self) -> String {
        let prefix = self.data_type.name();
        match (self.data_type, self.no_data) {
            (DataType::Bool, _) => "bool".to_string(),
            (_, NoData::Raw) => format!("{prefix}raw"),
            (_, NoData::Constant) => prefix.to_string(),
            (dt, NoData::UserDefined(v)) if dt.is_float() => {
                format!("{prefix}ud{}", java_double_string(v))
            }
            (_, NoData::UserDefined(v)) => format!("{prefix}ud{}", v as i64),
        }
    }

    /// The value stored in a NoData cell, or None for raw types.
    pub fn no_data_value(&self) -> Option<f64> {
        match self.no_data {
            NoData::Raw => None,
            NoData::Constant => self.data_type.constant_no_data(),
            NoData::UserDefined(v) => Some(v),
        }
    }

    /// The same storage type with another NoData value (GeoTrellis `withNoData`): the sentinel of the
    /// constant type normalises to the constant type; bool has no NoData and stays bool.
    pub fn with_no_data(&self, value: Option<f64>) -> CellType {
        let dt = self.data_type;
        let no_data = match value {
            _ if dt == DataType::Bool => NoData::Raw,
            None => NoData::Raw,
            Some(v) if dt.is_float() => float_no_data(dt, v),
            Some(v) => {
                let stored = dt.wrap_int(saturating_i32(v));
                if Some(stored) == dt.constant_no_data() {
                    NoData::Constant
                } else {
                    NoData::UserDefined(stored)
                }
            }
        };
        CellType::new(dt, no_data)
    }

    /// GeoTrellis `CellType.union`: the wider type wins; at equal width a floating type wins.
    pub fn union(&self, other: &CellType) -> CellType {
        if self == other {
            return *self;
        }
        let (a, b) = (self.data_type, other.data_type);
        if a.bits() > b.bits() || (a.bits() == b.bits() && a.is_float() && !b.is_float()) {
            *self
        } else if b.bits() > a.bits() || (a.bits() == b.bits() && b.is_float() && !a.is_float()) {
            *other
        } else {
            // Same storage, different NoData (or int16 vs uint16): keep the left operand's type.
            *self
        }
    }

    pub fn bytes_per_cell(&self) -> usize {
        self.data_type.bytes_per_cell()
    }

    /// `getDouble`: the working value of a stored value (NaN for NoData), cell by cell: the reference
    /// `normalize` and `load` must equal (they choose the test once per call).
    #[cfg(test)]
    fn load_value(&self, stored: f64) -> f64 {
        match self.no_data {
            NoData::Raw => stored,
            NoData::Constant => {
                if self.data_type.is_float() {
                    stored
                } else if Some(stored) == self.data_type.constant_no_data() {
                    f64::NAN
                } else {
                    stored
                }
            }
            NoData::UserDefined(nd) => {
                if stored == nd {
                    f64::NAN
                } else {
                    stored
                }
            }
        }
    }

    /// `setDouble`: the stored value of a working value.
    #[inline(always)]
    fn store_value(&self, v: f64) -> f64 {
        let dt = self.data_type;
        if v.is_nan() {
            return match (dt, self.no_data_value()) {
                (DataType::Bool, _) => 0.0,
                (_, Some(nd)) => nd,
                // Raw types store GeoTrellis' NODATA narrowed to their width.
                (DataType::Float32 | DataType::Float64, None) => f64::NAN,
                (_, None) => dt.wrap_int(i32::MIN),
            };
        }
        match dt {
            DataType::Bool => (saturating_i32(v) & 1) as f64,
            DataType::Float32 => v as f32 as f64,
            DataType::Float64 => v,
            _ => dt.wrap_int(saturating_i32(v)),
        }
    }

    /// Load cells `[start, start + out.len())` of little-endian storage into working values.
    pub fn load(&self, bytes: &[u8], start: usize, out: &mut [f64]) {
        load_values(self, bytes, start, out)
    }

    /// Append the storage of working values to `out`.
    pub fn store(&self, values: &[f64], out: &mut Vec<u8>) {
        store_values(self, values, out)
    }

    /// Round working values through this type's storage, as if a tile of this type had been written and
    /// read back (what GeoTrellis does between two operations).
    pub fn normalize(&self, values: &mut [f64]) {
        normalize_values(self, values)
    }
}

simd_clones! {
    /// [`CellType::load`], cloned for the CPU's SIMD.
    fn load_values(ct: &CellType, bytes: &[u8], start: usize, out: &mut [f64]) {
        // The NoData test is hoisted out of the loop so that each loop is a plain, vectorisable map.
        let nd = match ct.no_data {
            NoData::Raw => None,
            NoData::Constant if ct.data_type.is_float() => None,
            _ => ct.no_data_value(),
        };
        macro_rules! load_as {
            ($t:ty) => {{
                const N: usize = std::mem::size_of::<$t>();
                let n = out.len();
                let src = &bytes[start * N..(start + n) * N];
                let cells = src
                    .chunks_exact(N)
                    .map(|c| <$t>::from_le_bytes(c.try_into().unwrap()) as f64);
                match nd {
                    None => out.iter_mut().zip(cells).for_each(|(o, v)| *o = v),
                    Some(nd) => out
                        .iter_mut()
                        .zip(cells)
                        .for_each(|(o, v)| *o = if v == nd { f64::NAN } else { v }),
                }
            }};
        }
        match ct.data_type {
            DataType::Bool => {
                let src = &bytes[start..start + out.len()];
                out.iter_mut()
                    .zip(src)
                    .for_each(|(o, b)| *o = (*b != 0) as u8 as f64);
            }
            DataType::Int8 => load_as!(i8),
            DataType::UInt8 => load_as!(u8),
            DataType::Int16 => load_as!(i16),
            DataType::UInt16 => load_as!(u16),
            DataType::Int32 => load_as!(i32),
            DataType::Float32 => load_as!(f32),
            DataType::Float64 => load_as!(f64),
        }
    }

    /// [`CellType::store`], cloned for the CPU's SIMD: the saturating float → integer conversions vectorise.
    fn store_values(ct: &CellType, values: &[f64], out: &mut Vec<u8>) {
        macro_rules! store_as {
            ($t:ty, $conv:expr) => {{
                const N: usize = std::mem::size_of::<$t>();
                let begin = out.len();
                out.resize(begin + values.len() * N, 0);
                let conv = $conv;
                for (dst, v) in out[begin..].chunks_exact_mut(N).zip(values) {
                    let stored: $t = conv(*v);
                    dst.copy_from_slice(&stored.to_le_bytes());
                }
            }};
        }
        let ud = ct.no_data_value();
        match (ct.data_type, ct.no_data) {
            // Floats without a user NoData store NaN as NaN: a plain narrowing copy.
            (DataType::Float32, NoData::Raw | NoData::Constant) => {
                store_as!(f32, |v: f64| v as f32)
            }
            (DataType::Float64, NoData::Raw | NoData::Constant) => store_as!(f64, |v: f64| v),
            (DataType::Float32, _) => {
                let nd = ud.unwrap_or(f64::NAN) as f32;
                store_as!(f32, |v: f64| if v.is_nan() { nd } else { v as f32 })
            }
            (DataType::Float64, _) => {
                let nd = ud.unwrap_or(f64::NAN);
                store_as!(f64, |v: f64| if v.is_nan() { nd } else { v })
            }
            // Integers: `store_value` with the type's narrowing chosen once, not per cell, straight to the
            // stored integer (through f64 would convert back with a scalar saturating cast per cell).
            (dt, _) => {
                let nan = ct.store_value(f64::NAN);
                macro_rules! store_int {
                    ($t:ty, $narrow:expr) => {{
                        let nan = nan as $t; // what NoData is stored as: a value of the type, exactly
                        store_as!($t, |v: f64| if v.is_nan() { nan } else { $narrow(v) })
                    }};
                }
                match dt {
                    DataType::Bool => store_int!(u8, to_bool),
                    DataType::Int8 => store_int!(i8, to_i8),
                    DataType::UInt8 => store_int!(u8, to_u8),
                    DataType::Int16 => store_int!(i16, to_i16),
                    DataType::UInt16 => store_int!(u16, to_u16),
                    _ => store_int!(i32, to_i32),
                }
            }
        }
    }

    /// [`CellType::normalize`], cloned for the CPU's SIMD: the saturating float → integer conversions vectorise.
    fn normalize_values(ct: &CellType, values: &mut [f64]) {
        match (ct.data_type, ct.no_data) {
            (DataType::Float64, NoData::Raw | NoData::Constant) => {}
            (DataType::Float32, NoData::Raw | NoData::Constant) => {
                for v in values.iter_mut() {
                    *v = *v as f32 as f64;
                }
            }
            // `load_value(store_value(v))` with the type's narrowing and NoData test chosen once, not per
            // cell, so that each loop is a plain map the compiler vectorises.
            (dt, _) => {
                let (nan, nd) = (ct.store_value(f64::NAN), ct.no_data_value());
                match dt {
                    DataType::Bool => round_trip(values, nan, nd, to_bool),
                    DataType::Int8 => round_trip(values, nan, nd, to_i8),
                    DataType::UInt8 => round_trip(values, nan, nd, to_u8),
                    DataType::Int16 => round_trip(values, nan, nd, to_i16),
                    DataType::UInt16 => round_trip(values, nan, nd, to_u16),
                    DataType::Int32 => round_trip(values, nan, nd, to_i32),
                    DataType::Float32 => round_trip(values, nan, nd, |v| v as f32),
                    DataType::Float64 => round_trip(values, nan, nd, |v| v),
                }
            }
        }
    }
}

/// `DataType::wrap_int` after Scala's `Double.toInt`, one function per type, to the stored integer (what
/// `store_value` does to a non-NaN working value), so that a loop over cells of one type has no match inside.
macro_rules! narrowings {
    ($($name:ident: $t:ty),*) => {
        $(
            #[inline(always)]
            fn $name(v: f64) -> $t {
                saturating_i32(v) as $t
            }
        )*
    };
}
narrowings!(to_i8: i8, to_u8: u8, to_i16: i16, to_u16: u16, to_i32: i32);

#[inline(always)]
fn to_bool(v: f64) -> u8 {
    (saturating_i32(v) & 1) as u8
}

/// Each value through a store and a load: NaN becomes `nan` (what NoData is stored as), others `narrow`ed,
/// and a stored value equal to `nd` reads back as NaN.
#[inline(always)]
fn round_trip<T: Into<f64>>(values: &mut [f64], nan: f64, nd: Option<f64>, narrow: impl Fn(f64) -> T) {
    match nd {
        Some(nd) => values.iter_mut().for_each(|v| {
            let stored = if v.is_nan() { nan } else { narrow(*v).into() };
            *v = if stored == nd { f64::NAN } else { stored };
        }),
        None => values
            .iter_mut()
            .for_each(|v| *v = if v.is_nan() { nan } else { narrow(*v).into() }),
    }
}

impl std::fmt::Display for CellType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.name())
    }
}

/// The NoData of a float type given its value: NaN is the constant type's, anything else user-defined
/// (held at the storage precision).
fn float_no_data(dt: DataType, v: f64) -> NoData {
    if v.is_nan() {
        NoData::Constant
    } else if dt == DataType::Float32 {
        NoData::UserDefined(v as f32 as f64)
    } else {
        NoData::UserDefined(v)
    }
}

/// Scala's `Double.toInt`: truncate toward zero, saturate, NaN → 0.
#[inline(always)]
fn saturating_i32(v: f64) -> i32 {
    // Rust's `v as i32` (NaN → 0, saturating), written as a select, a clamp and an in-range conversion:
    // those vectorise (`as` alone compiles to a scalar conversion per cell, the hot spot of integer plans).
    let clamped = if v.is_nan() { 0.0 } else { v.clamp(i32::MIN as f64, i32::MAX as f64) };
    // SAFETY: `clamped` is finite and within i32's range.
    unsafe { clamped.to_int_unchecked::<i32>() }
}

/// Parse a number the way Java's `Double.parseDouble` accepts the values GeoTrellis writes.
fn parse_java_double(s: &str) -> Option<f64> {
    match s {
        "NaN" => Some(f64::NAN),
        "Infinity" => Some(f64::INFINITY),
        "-Infinity" => Some(f64::NEG_INFINITY),
        _ => s.trim_end_matches(['d', 'D', 'f', 'F']).parse().ok(),
    }
}

/// Java's `Double.toString` (shortest digits that round-trip): plain notation with at least one
/// fractional digit for 1e-3 ≤ |v| < 1e7, otherwise `d.dddE±n`.
pub fn java_double_string(v: f64) -> String {
    if v.is_nan() {
        return "NaN".into();
    }
    if v.is_infinite() {
        return if v > 0.0 {
            "Infinity".into()
        } else {
            "-Infinity".into()
        };
    }
    if v == 0.0 {
        return if v.is_sign_negative() {
            "-0.0".into()
        } else {
            "0.0".into()
        };
    }
    let a = v.abs();
    if (1e-3..1e7).contains(&a) {
        let s = format!("{v}");
        if s.contains('.') {
            s
        } else {
            format!("{s}.0")
        }
    } else {
        let s = format!("{v:e}");
        let (mantissa, exp) = s.split_once('e').expect("exponent form");
        let mantissa = if mantissa.contains('.') {
            mantissa.to_string()
        } else {
            format!("{mantissa}.0")
        };
        format!("{mantissa}E{exp}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every cell type of every NoData kind, and values that probe narrowing, saturation and NoData.
    fn every_type_and_awkward_values() -> (Vec<CellType>, Vec<f64>) {
        let dts = [
            DataType::Bool,
            DataType::Int8,
            DataType::UInt8,
            DataType::Int16,
            DataType::UInt16,
            DataType::Int32,
            DataType::Float32,
            DataType::Float64,
        ];
        let mut types = Vec::new();
        for dt in dts {
            types.push(CellType::new(dt, NoData::Raw));
            if dt == DataType::Bool {
                continue; // bool has no NoData (`with_no_data`, `parse`)
            }
            types.push(CellType::new(dt, NoData::Constant));
            // User NoData values are stored values: only those the type can hold.
            for nd in [-128.0, 0.0, 1.0, 255.0, -32768.0, 65535.0, 7.0, -1e30, 3.5] {
                let holds = match dt {
                    DataType::Float64 => true,
                    DataType::Float32 => nd as f32 as f64 == nd,
                    _ => nd.fract() == 0.0 && dt.wrap_int(saturating_i32(nd)) == nd,
                };
                if holds {
                    types.push(CellType::new(dt, NoData::UserDefined(nd)));
                }
            }
        }
        let mut values = vec![
            f64::NAN, f64::INFINITY, f64::NEG_INFINITY, 0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 1.5, 7.0, 3.5,
            127.0, 128.0, -128.0, -129.0, 255.0, 256.0, 32767.0, 32768.0, -32768.0, -32769.0, 65535.0,
            65536.0, 2147483647.0, 2147483648.0, -2147483648.0, -2147483649.0, 1e30, -1e30, 1e300,
        ];
        values.extend((0..2000).map(|i| ((i as f64) * 7919.37).sin() * 10f64.powi(i % 12)));
        (types, values)
    }

    #[test]
    fn normalize_and_store_narrow_each_value_as_store_value_does() {
        let (types, values) = every_type_and_awkward_values();
        for ct in types {
            let mut fast = values.clone();
            ct.normalize(&mut fast);
            let mut stored = Vec::new();
            ct.store(&values, &mut stored);
            let mut back = vec![0.0; values.len()];
            ct.load(&stored, 0, &mut back);
            for (i, &v) in values.iter().enumerate() {
                let want = ct.load_value(ct.store_value(v));
                let same = |x: f64| x.to_bits() == want.to_bits() || (x.is_nan() && want.is_nan());
                assert!(same(fast[i]), "{ct:?} normalize({v}) = {}, want {want}", fast[i]);
                assert!(same(back[i]), "{ct:?} store+load({v}) = {}, want {want}", back[i]);
            }
        }
    }

    #[test]
    fn saturating_i32_is_rusts_as_cast() {
        let (_, values) = every_type_and_awkward_values();
        let edges = [f64::MAX, f64::MIN, f64::MIN_POSITIVE, -2147483648.5, 2147483647.5, -2147483647.9];
        for v in values.iter().chain(&edges) {
            assert_eq!(saturating_i32(*v), *v as i32, "{v}");
        }
    }

    #[test]
    fn names_round_trip() {
        for name in [
            "bool",
            "int8raw",
            "int8",
            "int8ud-1",
            "uint8raw",
            "uint8",
            "uint8ud255",
            "int16raw",
            "int16",
            "int16ud-9999",
            "uint16raw",
            "uint16",
            "uint16ud65535",
            "int32raw",
            "int32",
            "int32ud-1",
            "float32raw",
            "float32",
            "float32ud-9999.0",
            "float32ud-3.4028234663852886E38",
            "float64raw",
            "float64",
            "float64ud1.0E-5",
            "float64ud18.0",
        ] {
            assert_eq!(CellType::parse(name).unwrap().name(), name, "{name}");
        }
        assert_eq!(CellType::parse("boolraw").unwrap().name(), "bool");
        assert_eq!(CellType::parse("float32udNaN").unwrap().name(), "float32");
        assert_eq!(
            CellType::parse("float64ud-9999").unwrap().name(),
            "float64ud-9999.0"
        );
        // GeoTrellis narrows with toByte: -1 read as uint8 is 255.
        assert_eq!(CellType::parse("uint8ud-1").unwrap().name(), "uint8ud255");
        assert!(CellType::parse("int64").is_err());
        assert!(CellType::parse("int16udx").is_err());
        assert!(CellType::parse("").is_err());
    }

    #[test]
    fn java_doubles() {
        assert_eq!(java_double_string(-9999.0), "-9999.0");
        assert_eq!(java_double_string(1e-5), "1.0E-5");
        assert_eq!(java_double_string(1e7), "1.0E7");
        assert_eq!(java_double_string(0.001), "0.001");
        assert_eq!(
            java_double_string(f32::MIN as f64),
            "-3.4028234663852886E38"
        );
    }

    #[test]
    fn with_no_data_normalises_sentinels() {
        let i16 = CellType::parse("int16raw").unwrap();
        assert_eq!(i16.with_no_data(Some(-32768.0)).name(), "int16");
        assert_eq!(i16.with_no_data(Some(-1.0)).name(), "int16ud-1");
        let f32t = CellType::parse("float32raw").unwrap();
        assert_eq!(f32t.with_no_data(Some(-10.0)).name(), "float32ud-10.0");
        assert_eq!(f32t.with_no_data(Some(f64::NAN)).name(), "float32");
        assert_eq!(
            CellType::parse("bool")
                .unwrap()
                .with_no_data(Some(1.0))
                .name(),
            "bool"
        );
        assert_eq!(
            CellType::parse("uint8raw")
                .unwrap()
                .with_no_data(Some(0.0))
                .name(),
            "uint8"
        );
    }

    #[test]
    fn union_rules() {
        let p = |s| CellType::parse(s).unwrap();
        assert_eq!(p("int32").union(&p("float32")).name(), "float32");
        assert_eq!(p("uint8").union(&p("int16")).name(), "int16");
        assert_eq!(p("float32").union(&p("float64")).name(), "float64");
        assert_eq!(p("bool").union(&p("int8")).name(), "int8");
    }

    #[test]
    fn load_store_nodata() {
        let t = CellType::parse("int16ud-9999").unwrap();
        let bytes: Vec<u8> = [-9999i16, 5, -32768]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        let mut vals = [0.0; 3];
        t.load(&bytes, 0, &mut vals);
        assert!(vals[0].is_nan());
        assert_eq!(&vals[1..], &[5.0, -32768.0]);
        let mut out = Vec::new();
        t.store(&vals, &mut out);
        assert_eq!(out, bytes);
        // uint8: 0 is NoData, 256 wraps to 0 and so becomes NoData.
        let u = CellType::parse("uint8").unwrap();
        let mut v = [256.0, 255.9, -1.0, f64::NAN];
        u.normalize(&mut v);
        assert!(v[0].is_nan() && v[3].is_nan());
        assert_eq!(&v[1..3], &[255.0, 255.0]);
        // Raw ints store GeoTrellis' NODATA narrowed: 0 for int8raw.
        let r = CellType::parse("int8raw").unwrap();
        let mut out = Vec::new();
        r.store(&[f64::NAN, 127.0, 128.0], &mut out);
        assert_eq!(out, vec![0u8, 127, 0x80]);
    }
}
