//! TIFF structure: the header (classic or BigTIFF, either byte order) and the chain of IFDs with their
//! tag values. Every offset and count comes from the file, so each is checked against its length.
//!
//! Hand-written rather than the `tiff` crate's directory reader: we need every IFD of the chain
//! (overviews, masks) with its raw values and offsets, and errors instead of the crate's panics on
//! some malformed inputs.

use std::collections::{BTreeMap, HashSet};

use super::cached::CachedSource;
use crate::error::{EngineError, Result};

/// At most this many IFDs are followed (a looping or absurd chain is corrupt).
const MAX_IFDS: usize = 1024;
/// At most this many bytes are read for one tag's value.
const MAX_VALUE_BYTES: u64 = 512 * 1024 * 1024;

#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Unsigned(Vec<u64>),
    Signed(Vec<i64>),
    Float(Vec<f64>),
    Ascii(String),
    /// UNDEFINED bytes (JPEGTables and the like).
    Bytes(Vec<u8>),
}

impl Value {
    pub fn as_u64s(&self) -> Option<Vec<u64>> {
        match self {
            Value::Unsigned(v) => Some(v.clone()),
            Value::Signed(v) => v.iter().map(|&x| u64::try_from(x).ok()).collect(),
            Value::Bytes(v) => Some(v.iter().map(|&b| b as u64).collect()),
            _ => None,
        }
    }

    pub fn as_f64s(&self) -> Option<Vec<f64>> {
        match self {
            Value::Unsigned(v) => Some(v.iter().map(|&x| x as f64).collect()),
            Value::Signed(v) => Some(v.iter().map(|&x| x as f64).collect()),
            Value::Float(v) => Some(v.clone()),
            _ => None,
        }
    }

    pub fn first_u64(&self) -> Option<u64> {
        self.as_u64s()?.first().copied()
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Ascii(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_bytes(&self) -> Option<Vec<u8>> {
        match self {
            Value::Bytes(b) => Some(b.clone()),
            Value::Unsigned(v) => v.iter().map(|&x| u8::try_from(x).ok()).collect(),
            Value::Ascii(s) => Some(s.as_bytes().to_vec()),
            _ => None,
        }
    }
}

#[derive(Clone, Debug, Default)]
pub struct Ifd {
    pub tags: BTreeMap<u16, Value>,
}

impl Ifd {
    pub fn get(&self, tag: u16) -> Option<&Value> {
        self.tags.get(&tag)
    }

    pub fn u64(&self, tag: u16) -> Option<u64> {
        self.get(tag)?.first_u64()
    }
}

#[derive(Clone, Debug)]
pub struct TiffStructure {
    pub little_endian: bool,
    pub bigtiff: bool,
    pub ifds: Vec<Ifd>,
}

struct Endian(bool);

impl Endian {
    fn u16(&self, b: &[u8]) -> u16 {
        let a = [b[0], b[1]];
        if self.0 {
            u16::from_le_bytes(a)
        } else {
            u16::from_be_bytes(a)
        }
    }
    fn u32(&self, b: &[u8]) -> u32 {
        let a = [b[0], b[1], b[2], b[3]];
        if self.0 {
            u32::from_le_bytes(a)
        } else {
            u32::from_be_bytes(a)
        }
    }
    fn u64(&self, b: &[u8]) -> u64 {
        let mut a = [0u8; 8];
        a.copy_from_slice(&b[..8]);
        if self.0 {
            u64::from_le_bytes(a)
        } else {
            u64::from_be_bytes(a)
        }
    }
}

/// Size in bytes of one value of a TIFF field type; None for unknown types.
fn type_size(t: u16) -> Option<u64> {
    Some(match t {
        1 | 2 | 6 | 7 => 1,
        3 | 8 => 2,
        4 | 9 | 11 | 13 => 4,
        5 | 10 | 12 | 16 | 17 | 18 => 8,
        _ => return None,
    })
}

fn decode_value(e: &Endian, t: u16, count: usize, b: &[u8]) -> Value {
    match t {
        1 => Value::Unsigned(b[..count].iter().map(|&x| x as u64).collect()),
        7 => Value::Bytes(b[..count].to_vec()),
        6 => Value::Signed(b[..count].iter().map(|&x| x as i8 as i64).collect()),
        2 => {
            // NUL-terminated; several strings are joined by NULs (keep the first as GDAL shows).
            let end = b[..count].iter().position(|&c| c == 0).unwrap_or(count);
            Value::Ascii(String::from_utf8_lossy(&b[..end]).into_owned())
        }
        3 => Value::Unsigned(
            b.chunks_exact(2)
                .take(count)
                .map(|c| e.u16(c) as u64)
                .collect(),
        ),
        8 => Value::Signed(
            b.chunks_exact(2)
                .take(count)
                .map(|c| e.u16(c) as i16 as i64)
                .collect(),
        ),
        4 | 13 => Value::Unsigned(
            b.chunks_exact(4)
                .take(count)
                .map(|c| e.u32(c) as u64)
                .collect(),
        ),
        9 => Value::Signed(
            b.chunks_exact(4)
                .take(count)
                .map(|c| e.u32(c) as i32 as i64)
                .collect(),
        ),
        16 | 18 => Value::Unsigned(b.chunks_exact(8).take(count).map(|c| e.u64(c)).collect()),
        17 => Value::Signed(
            b.chunks_exact(8)
                .take(count)
                .map(|c| e.u64(c) as i64)
                .collect(),
        ),
        11 => Value::Float(
            b.chunks_exact(4)
                .take(count)
                .map(|c| f32::from_bits(e.u32(c)) as f64)
                .collect(),
        ),
        12 => Value::Float(
            b.chunks_exact(8)
                .take(count)
                .map(|c| f64::from_bits(e.u64(c)))
                .collect(),
        ),
        5 => Value::Float(
            b.chunks_exact(8)
                .take(count)
                .map(|c| e.u32(c) as f64 / e.u32(&c[4..]) as f64)
                .collect(),
        ),
        10 => Value::Float(
            b.chunks_exact(8)
                .take(count)
                .map(|c| e.u32(c) as i32 as f64 / e.u32(&c[4..]) as i32 as f64)
                .collect(),
        ),
        _ => Value::Bytes(Vec::new()),
    }
}

/// Reads the header and every IFD of the main chain.
pub fn read_structure(src: &CachedSource) -> Result<TiffStructure> {
    let bad = |msg: String| EngineError::geotiff(src.name(), msg);
    if src.len() < 8 {
        return Err(bad(format!("not a TIFF file: only {} bytes", src.len())));
    }
    let head = src.read_at(0, 16.min(src.len()))?;
    let little_endian = match &head[..2] {
        b"II" => true,
        b"MM" => false,
        _ => return Err(bad("not a TIFF file: no II/MM byte-order mark".into())),
    };
    let e = Endian(little_endian);
    let bigtiff = match e.u16(&head[2..]) {
        42 => false,
        43 => true,
        n => {
            return Err(bad(format!(
                "not a TIFF file: version {n} is neither 42 (TIFF) nor 43 (BigTIFF)"
            )))
        }
    };
    let mut next = if bigtiff {
        if head.len() < 16 || e.u16(&head[4..]) != 8 {
            return Err(bad("corrupt BigTIFF header".into()));
        }
        e.u64(&head[8..])
    } else {
        e.u32(&head[4..]) as u64
    };
    let (count_size, entry_size, offset_size) = if bigtiff {
        (8u64, 20u64, 8u64)
    } else {
        (2, 12, 4)
    };
    let mut seen = HashSet::new();
    let mut ifds = Vec::new();
    while next != 0 {
        if !seen.insert(next) || ifds.len() >= MAX_IFDS {
            return Err(bad(format!(
                "IFD chain loops or is too long (at byte {next})"
            )));
        }
        let cb = src.read_at(next, count_size)?;
        let n = if bigtiff {
            e.u64(&cb)
        } else {
            e.u16(&cb) as u64
        };
        if n > 65_535 {
            return Err(bad(format!("IFD at byte {next} claims {n} entries")));
        }
        let table = src.read_at(next + count_size, n * entry_size + offset_size)?;
        let mut ifd = Ifd::default();
        for i in 0..n as usize {
            let ent = &table[i * entry_size as usize..(i + 1) * entry_size as usize];
            let tag = e.u16(ent);
            let typ = e.u16(&ent[2..]);
            let Some(size) = type_size(typ) else { continue };
            let count = if bigtiff {
                e.u64(&ent[4..])
            } else {
                e.u32(&ent[4..]) as u64
            };
            let total = count
                .checked_mul(size)
                .filter(|&t| t <= MAX_VALUE_BYTES)
                .ok_or_else(|| bad(format!("tag {tag} claims {count} values")))?;
            let inline = &ent[if bigtiff { 12 } else { 8 }..];
            let bytes = if total <= offset_size {
                inline[..total as usize].to_vec()
            } else {
                let off = if bigtiff {
                    e.u64(inline)
                } else {
                    e.u32(inline) as u64
                };
                src.read_at(off, total)
                    .map_err(|err| bad(format!("value of tag {tag}: {err}")))?
            };
            ifd.tags
                .insert(tag, decode_value(&e, typ, count as usize, &bytes));
        }
        let tail = &table[(n * entry_size) as usize..];
        next = if bigtiff {
            e.u64(tail)
        } else {
            e.u32(tail) as u64
        };
        ifds.push(ifd);
    }
    if ifds.is_empty() {
        return Err(bad("TIFF file has no image (no IFD)".into()));
    }
    Ok(TiffStructure {
        little_endian,
        bigtiff,
        ifds,
    })
}
