//! Avro binary encoding of one datum (no container): primitives, and a schema-driven decoder that packs
//! arrays of primitives (tile cells) into typed vectors instead of one value per cell.

use std::sync::Arc;

use super::schema::{Record, Schema};

/// Why a datum could not be decoded; the caller adds the file name.
pub type DecodeResult<T> = std::result::Result<T, String>;

/// A decoded datum. Union values are the chosen branch's value.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    Boolean(bool),
    Int(i32),
    Long(i64),
    Float(f32),
    Double(f64),
    Bytes(Vec<u8>),
    String(String),
    Ints(Vec<i32>),
    Longs(Vec<i64>),
    Floats(Vec<f32>),
    Doubles(Vec<f64>),
    Booleans(Vec<bool>),
    Array(Vec<Value>),
    Record(Arc<RecordName>, Vec<Value>),
}

/// Only the name and field names of a decoded record are kept with its values.
#[derive(Debug, PartialEq)]
pub struct RecordName {
    pub name: String,
    pub fields: Vec<String>,
}

impl Value {
    /// A field of a record value, by name.
    pub fn field(&self, name: &str) -> Option<&Value> {
        match self {
            Value::Record(r, values) => r.fields.iter().position(|f| f == name).map(|i| &values[i]),
            _ => None,
        }
    }

    pub fn record_name(&self) -> Option<&str> {
        match self {
            Value::Record(r, _) => Some(&r.name),
            _ => None,
        }
    }
}

pub struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

const TRUNCATED: &str = "the Avro datum ends early (truncated or corrupt)";

impl<'a> Reader<'a> {
    pub fn new(bytes: &'a [u8]) -> Self {
        Reader { bytes, pos: 0 }
    }

    pub fn remaining(&self) -> usize {
        self.bytes.len() - self.pos
    }

    #[inline]
    pub fn long(&mut self) -> DecodeResult<i64> {
        let mut value: u64 = 0;
        let mut shift = 0;
        loop {
            let b = *self.bytes.get(self.pos).ok_or(TRUNCATED)?;
            self.pos += 1;
            value |= ((b & 0x7f) as u64) << shift;
            if b & 0x80 == 0 {
                break;
            }
            shift += 7;
            if shift > 63 {
                return Err("an Avro varint longer than 10 bytes".into());
            }
        }
        Ok(((value >> 1) as i64) ^ -((value & 1) as i64))
    }

    #[inline]
    pub fn int(&mut self) -> DecodeResult<i32> {
        let v = self.long()?;
        i32::try_from(v).map_err(|_| format!("Avro int out of range: {v}"))
    }

    fn take(&mut self, n: usize) -> DecodeResult<&'a [u8]> {
        if n > self.remaining() {
            return Err(TRUNCATED.into());
        }
        let out = &self.bytes[self.pos..self.pos + n];
        self.pos += n;
        Ok(out)
    }

    fn length(&mut self) -> DecodeResult<usize> {
        let n = self.long()?;
        usize::try_from(n).map_err(|_| format!("negative Avro length {n}"))
    }

    /// The next array block's item count (0 ends the array); negative counts carry a byte size.
    fn block(&mut self) -> DecodeResult<usize> {
        let n = self.long()?;
        if n < 0 {
            self.long()?;
        }
        let n = n.unsigned_abs() as usize;
        // Every item takes at least one byte except nulls; refuse counts the input cannot hold.
        if n > self.remaining() {
            return Err(format!("Avro array block of {n} items in {} bytes", self.remaining()));
        }
        Ok(n)
    }

    fn fixed<const N: usize>(&mut self) -> DecodeResult<[u8; N]> {
        Ok(self.take(N)?.try_into().unwrap())
    }

    pub fn value(&mut self, schema: &Schema) -> DecodeResult<Value> {
        Ok(match schema {
            Schema::Null => Value::Null,
            Schema::Boolean => Value::Boolean(self.boolean()?),
            Schema::Int => Value::Int(self.int()?),
            Schema::Long => Value::Long(self.long()?),
            Schema::Float => Value::Float(f32::from_le_bytes(self.fixed()?)),
            Schema::Double => Value::Double(f64::from_le_bytes(self.fixed()?)),
            Schema::Bytes => {
                let n = self.length()?;
                Value::Bytes(self.take(n)?.to_vec())
            }
            Schema::String => {
                let n = self.length()?;
                Value::String(String::from_utf8_lossy(self.take(n)?).into_owned())
            }
            Schema::Union(branches) => {
                let i = self.long()?;
                let branch = usize::try_from(i)
                    .ok()
                    .and_then(|i| branches.get(i))
                    .ok_or_else(|| format!("union branch {i} of {}", branches.len()))?;
                self.value(branch)?
            }
            Schema::Record(r) => self.record(r)?,
            Schema::Array(items) => match items.as_ref() {
                Schema::Int => Value::Ints(self.packed(|r| r.int())?),
                Schema::Long => Value::Longs(self.packed(|r| r.long())?),
                Schema::Float => Value::Floats(self.packed(|r| Ok(f32::from_le_bytes(r.fixed()?)))?),
                Schema::Double => Value::Doubles(self.packed(|r| Ok(f64::from_le_bytes(r.fixed()?)))?),
                Schema::Boolean => Value::Booleans(self.packed(|r| r.boolean())?),
                items => Value::Array(self.packed(|r| r.value(items))?),
            },
        })
    }

    fn boolean(&mut self) -> DecodeResult<bool> {
        match self.take(1)?[0] {
            0 => Ok(false),
            1 => Ok(true),
            b => Err(format!("invalid Avro boolean byte {b}")),
        }
    }

    fn record(&mut self, r: &Arc<Record>) -> DecodeResult<Value> {
        let values = r.fields.iter().map(|(_, s)| self.value(s)).collect::<DecodeResult<Vec<_>>>()?;
        let name = RecordName {
            name: r.name.clone(),
            fields: r.fields.iter().map(|(n, _)| n.clone()).collect(),
        };
        Ok(Value::Record(Arc::new(name), values))
    }

    fn packed<T>(&mut self, mut item: impl FnMut(&mut Self) -> DecodeResult<T>) -> DecodeResult<Vec<T>> {
        let mut out = Vec::new();
        loop {
            let n = self.block()?;
            if n == 0 {
                return Ok(out);
            }
            out.reserve(n);
            for _ in 0..n {
                out.push(item(self)?);
            }
        }
    }
}

/// Appends Avro binary primitives to a buffer.
#[derive(Default)]
pub struct Writer {
    pub out: Vec<u8>,
}

impl Writer {
    #[inline]
    pub fn long(&mut self, v: i64) {
        let mut z = ((v << 1) ^ (v >> 63)) as u64;
        while z >= 0x80 {
            self.out.push((z as u8) | 0x80);
            z >>= 7;
        }
        self.out.push(z as u8);
    }

    #[inline]
    pub fn int(&mut self, v: i32) {
        self.long(v as i64)
    }

    pub fn boolean(&mut self, v: bool) {
        self.out.push(v as u8)
    }

    pub fn float(&mut self, v: f32) {
        self.out.extend_from_slice(&v.to_le_bytes())
    }

    pub fn double(&mut self, v: f64) {
        self.out.extend_from_slice(&v.to_le_bytes())
    }

    pub fn bytes(&mut self, v: &[u8]) {
        self.long(v.len() as i64);
        self.out.extend_from_slice(v);
    }

    /// An array as Java writes it: one block of `n` items (written by `items`), then the end marker.
    pub fn array(&mut self, n: usize, items: impl FnOnce(&mut Self)) {
        if n > 0 {
            self.long(n as i64);
            items(self);
        }
        self.long(0);
    }
}
