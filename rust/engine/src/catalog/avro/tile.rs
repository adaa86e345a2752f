//! GeoTrellis tile records ↔ tiles in the engine's storage (little-endian cells, bool one byte per
//! cell), with GeoTrellis' NoData encodings and signedness quirks (format reference §1.3).

use super::datum::{DecodeResult, Value, Writer};
use crate::cell_type::{CellType, DataType, NoData};

/// One band: `rows × cols` cells of `cell_type`, row-major, little-endian.
#[derive(Clone, Debug, PartialEq)]
pub struct Band {
    pub cell_type: CellType,
    pub cols: usize,
    pub rows: usize,
    pub cells: Vec<u8>,
}

fn int_field(v: &Value, name: &str) -> DecodeResult<i32> {
    match v.field(name) {
        Some(Value::Int(i)) => Ok(*i),
        Some(Value::Long(i)) => i32::try_from(*i).map_err(|_| format!("{name} out of range: {i}")),
        _ => Err(format!("{} has no int field {name:?}", v.record_name().unwrap_or("record"))),
    }
}

fn dims(v: &Value) -> DecodeResult<(usize, usize)> {
    let (cols, rows) = (int_field(v, "cols")?, int_field(v, "rows")?);
    if cols < 0 || rows < 0 {
        return Err(format!("negative tile size {cols}×{rows}"));
    }
    Ok((cols as usize, rows as usize))
}

/// The cell type a tile record's `noDataValue` stands for.
fn cell_type_of(data_type: DataType, no_data: Option<&Value>) -> DecodeResult<CellType> {
    let raw = CellType::new(data_type, NoData::Raw);
    Ok(match (data_type, no_data) {
        (DataType::Bool, _) => raw,
        (_, Some(Value::Null)) => raw,
        // Unsigned NoData values come as Java's signed byte/short; with_no_data wraps them.
        (_, Some(Value::Int(v))) if !data_type.is_float() => raw.with_no_data(Some(*v as f64)),
        (_, Some(Value::Boolean(true))) => CellType::new(data_type, NoData::Constant),
        (_, Some(Value::Boolean(false))) => raw,
        (_, Some(Value::Float(v))) => raw.with_no_data(Some(*v as f64)),
        (_, Some(Value::Double(v))) => raw.with_no_data(Some(*v)),
        // Without the field (schemas older than user-defined NoData) the constant type is meant.
        (_, None) => CellType::new(data_type, NoData::Constant),
        (_, Some(other)) => return Err(format!("unexpected noDataValue {other:?}")),
    })
}

fn check_len(found: usize, cols: usize, rows: usize, what: &str) -> DecodeResult<()> {
    if found != cols * rows {
        return Err(format!("{what} holds {found} cells for a {cols}×{rows} tile"));
    }
    Ok(())
}

fn le_bytes<T: Copy, const N: usize>(values: &[T], conv: impl Fn(T) -> [u8; N]) -> Vec<u8> {
    let mut out = Vec::with_capacity(values.len() * N);
    for v in values {
        out.extend_from_slice(&conv(*v));
    }
    out
}

fn array_tile(v: &Value, name: &str, data_type: DataType) -> DecodeResult<Band> {
    let (cols, rows) = dims(v)?;
    let cell_type = cell_type_of(data_type, v.field("noDataValue"))?;
    let cells = match (data_type, v.field("cells")) {
        (DataType::Bool, Some(Value::Bytes(b))) => {
            let n = cols * rows;
            if b.len() != n.div_ceil(8) {
                return Err(format!("{name} holds {} bytes for {n} bits", b.len()));
            }
            (0..n).map(|i| (b[i >> 3] >> (i & 7)) & 1).collect()
        }
        (DataType::Int8 | DataType::UInt8, Some(Value::Bytes(b))) => {
            check_len(b.len(), cols, rows, name)?;
            b.clone()
        }
        (DataType::Int16, Some(Value::Ints(c))) => {
            check_len(c.len(), cols, rows, name)?;
            le_bytes(c, |x| (x as i16).to_le_bytes())
        }
        (DataType::UInt16, Some(Value::Ints(c))) => {
            check_len(c.len(), cols, rows, name)?;
            le_bytes(c, |x| (x as u16).to_le_bytes())
        }
        (DataType::Int32, Some(Value::Ints(c))) => {
            check_len(c.len(), cols, rows, name)?;
            le_bytes(c, |x| x.to_le_bytes())
        }
        (DataType::Float32, Some(Value::Floats(c))) => {
            check_len(c.len(), cols, rows, name)?;
            le_bytes(c, |x| x.to_le_bytes())
        }
        (DataType::Float64, Some(Value::Doubles(c))) => {
            check_len(c.len(), cols, rows, name)?;
            le_bytes(c, |x| x.to_le_bytes())
        }
        _ => return Err(format!("{name} has no cells of the expected type")),
    };
    Ok(Band { cell_type, cols, rows, cells })
}

fn constant_tile(v: &Value, name: &str, data_type: DataType) -> DecodeResult<Band> {
    let (cols, rows) = dims(v)?;
    let cell_type = cell_type_of(data_type, v.field("noDataValue"))?;
    let one: Vec<u8> = match (data_type, v.field("cell")) {
        (DataType::Bool, Some(Value::Boolean(b))) => vec![*b as u8],
        (DataType::Int8 | DataType::UInt8, Some(Value::Int(c))) => vec![*c as u8],
        (DataType::Int16 | DataType::UInt16, Some(Value::Int(c))) => (*c as i16).to_le_bytes().to_vec(),
        (DataType::Int32, Some(Value::Int(c))) => c.to_le_bytes().to_vec(),
        (DataType::Float32, Some(Value::Float(c))) => c.to_le_bytes().to_vec(),
        (DataType::Float64, Some(Value::Double(c))) => c.to_le_bytes().to_vec(),
        _ => return Err(format!("{name} has no cell of the expected type")),
    };
    Ok(Band { cell_type, cols, rows, cells: one.repeat(cols * rows) })
}

/// A `cols × rows` tile holding `chunk` at the offsets and NoData (0 for raw types) elsewhere.
fn padded_tile(v: &Value) -> DecodeResult<Band> {
    let chunk = band(v.field("chunk").ok_or("PaddedTile has no chunk")?)?;
    let (cols, rows) = dims(v)?;
    let (dc, dr) = (int_field(v, "colOffset")?, int_field(v, "rowOffset")?);
    if dc < 0 || dr < 0 || dc as usize + chunk.cols > cols || dr as usize + chunk.rows > rows {
        return Err(format!(
            "PaddedTile chunk {}×{} at ({dc}, {dr}) does not fit in {cols}×{rows}",
            chunk.cols, chunk.rows
        ));
    }
    let ct = chunk.cell_type;
    let mut fill = Vec::new();
    ct.store(&[f64::NAN], &mut fill);
    if ct.no_data == NoData::Raw {
        fill.iter_mut().for_each(|b| *b = 0);
    }
    let mut cells = fill.repeat(cols * rows);
    let n = ct.bytes_per_cell();
    for r in 0..chunk.rows {
        let src = &chunk.cells[r * chunk.cols * n..(r + 1) * chunk.cols * n];
        let start = ((r + dr as usize) * cols + dc as usize) * n;
        cells[start..start + src.len()].copy_from_slice(src);
    }
    Ok(Band { cell_type: ct, cols, rows, cells })
}

/// The most bytes the tiles of one tile file may decode to (all pairs and bands, in the engine's
/// storage). Constant and padded tiles are expanded from their header alone, so without a bound a few
/// corrupt bytes could ask for gigabytes; real GeoTrellis tiles are far smaller (4096×4096 float64 is
/// 128 MiB, and the JVM cannot hold a tile of more than 2³¹ cells). Fuzz builds use 4 MiB: the same
/// checks, with executions that stay fast.
#[cfg(not(fuzzing))]
pub const MAX_DECODED_BYTES: usize = 1 << 30;
#[cfg(fuzzing)]
pub const MAX_DECODED_BYTES: usize = 1 << 22;

/// The array or constant tile record `name` and its cell data type.
fn record_kind(name: &str) -> Option<(bool, DataType)> {
    use DataType::*;
    Some(match name {
        "ByteArrayTile" => (true, Int8),
        "UByteArrayTile" => (true, UInt8),
        "ShortArrayTile" => (true, Int16),
        "UShortArrayTile" => (true, UInt16),
        "IntArrayTile" => (true, Int32),
        "FloatArrayTile" => (true, Float32),
        "DoubleArrayTile" => (true, Float64),
        "BitArrayTile" => (true, Bool),
        "ByteConstantTile" => (false, Int8),
        "UByteConstantTile" => (false, UInt8),
        "ShortConstantTile" => (false, Int16),
        "UShortConstantTile" => (false, UInt16),
        "IntConstantTile" => (false, Int32),
        "FloatConstantTile" => (false, Float32),
        "DoubleConstantTile" => (false, Float64),
        "BitConstantTile" => (false, Bool),
        _ => return None,
    })
}

/// The bytes a tile record decodes to, from its header alone (before any cells are made); `None` when
/// that overflows. Records `band` refuses count as 0 (their error comes from `band`).
pub fn band_bytes(v: &Value) -> Option<usize> {
    let Some(name) = v.record_name() else { return Some(0) };
    // A padded tile decodes its chunk, then the tile around it.
    let (data_type, chunk) = match (name, v.field("chunk")) {
        ("PaddedTile", Some(chunk)) => match chunk.record_name().and_then(record_kind) {
            Some((_, dt)) => (dt, band_bytes(chunk)?),
            None => return Some(0),
        },
        (other, _) => match record_kind(other) {
            Some((_, dt)) => (dt, 0),
            None => return Some(0),
        },
    };
    let Ok((cols, rows)) = dims(v) else { return Some(chunk) };
    cols.checked_mul(rows)?.checked_mul(data_type.bytes_per_cell())?.checked_add(chunk)
}

/// Decode one tile record of the union, by record name (the union's branch order differs between
/// GeoTrellis versions).
pub fn band(v: &Value) -> DecodeResult<Band> {
    let name = v.record_name().ok_or("a tile value that is not a record")?;
    match (name, record_kind(name)) {
        (_, Some((true, dt))) => array_tile(v, name, dt),
        (_, Some((false, dt))) => constant_tile(v, name, dt),
        ("PaddedTile", None) => padded_tile(v),
        (other, None) => Err(format!("unknown tile record {other:?}")),
    }
}

/// Branch of each array tile in the GeoTrellis 3.x tile union (format reference §1.3).
fn union_branch(dt: DataType) -> i64 {
    match dt {
        DataType::Int8 => 0,
        DataType::Float32 => 1,
        DataType::Float64 => 2,
        DataType::Int16 => 3,
        DataType::Int32 => 4,
        DataType::Bool => 5,
        DataType::UInt8 => 6,
        DataType::UInt16 => 7,
    }
}

/// Append one band as its 3.x union branch and array tile record, as GeoTrellis writes it.
pub fn encode_band(w: &mut Writer, ct: &CellType, cols: usize, rows: usize, cells: &[u8]) {
    let dt = ct.data_type;
    w.long(union_branch(dt));
    w.int(cols as i32);
    w.int(rows as i32);
    let n = cols * rows;
    macro_rules! ints {
        ($t:ty) => {{
            const N: usize = std::mem::size_of::<$t>();
            w.array(n, |w| {
                for c in cells.chunks_exact(N) {
                    // Java boxes the stored (signed) short: uint16 65535 is written as -1.
                    w.int(<$t>::from_le_bytes(c.try_into().unwrap()) as i32)
                }
            })
        }};
    }
    match dt {
        DataType::Bool => {
            let mut packed = vec![0u8; n.div_ceil(8)];
            for (i, c) in cells.iter().enumerate() {
                packed[i >> 3] |= (*c != 0) as u8 * (1 << (i & 7));
            }
            w.bytes(&packed);
            return;
        }
        DataType::Int8 | DataType::UInt8 => w.bytes(cells),
        DataType::Int16 | DataType::UInt16 => ints!(i16),
        DataType::Int32 => ints!(i32),
        DataType::Float32 => w.array(n, |w| w.out.extend_from_slice(cells)),
        DataType::Float64 => w.array(n, |w| w.out.extend_from_slice(cells)),
    }
    match (dt.is_float(), ct.no_data) {
        (true, NoData::Constant) => {
            w.long(0);
            w.boolean(true)
        }
        (true, NoData::Raw) => {
            w.long(0);
            w.boolean(false)
        }
        (true, NoData::UserDefined(v)) => {
            w.long(1);
            if dt == DataType::Float32 {
                w.float(v as f32)
            } else {
                w.double(v)
            }
        }
        (false, NoData::Raw) => w.long(1),
        (false, _) => {
            w.long(0);
            // Unsigned NoData values are Java's signed byte/short (uint8 255 → -1).
            let v = ct.no_data_value().unwrap_or(0.0) as i64;
            let stored = match dt {
                DataType::UInt8 => v as u8 as i8 as i32,
                DataType::UInt16 => v as u16 as i16 as i32,
                _ => v as i32,
            };
            w.int(stored)
        }
    }
}
