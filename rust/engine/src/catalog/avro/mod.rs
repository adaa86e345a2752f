//! GeoTrellis' Avro tile files: a zlib-compressed raw Avro datum of a `KeyValueRecord` holding every
//! (key, tile) pair whose key maps to one index (format reference §1). Reading resolves through the
//! writer schema stored with the layer; writing emits GeoTrellis 3.x bytes exactly.

mod datum;
mod schema;
mod tile;
mod zlib;

use std::io::Read;

use flate2::read::ZlibDecoder;

pub use datum::Value;
pub use schema::{geotrellis_schema, KeyKind, Schema};
pub use tile::Band;

use crate::cell_type::CellType;
use crate::error::{EngineError, Result};
use datum::{DecodeResult, Reader, Writer};

pub use super::index::Key;
pub use zlib::Compression;

/// A decoded tile value: its bands, all of one cell type, band-sequential.
#[derive(Clone, Debug, PartialEq)]
pub struct Tile {
    pub cell_type: CellType,
    pub bands: usize,
    pub rows: usize,
    pub cols: usize,
    pub cells: Vec<u8>,
}

/// A tile to encode, borrowing its cells (band-sequential, the engine's storage).
#[derive(Clone, Copy, Debug)]
pub struct TileView<'a> {
    pub cell_type: CellType,
    pub bands: usize,
    pub rows: usize,
    pub cols: usize,
    pub cells: &'a [u8],
}

fn corrupt(path: &str, message: impl std::fmt::Display) -> EngineError {
    EngineError::Corrupt { path: path.to_string(), message: format!("not a readable GeoTrellis tile file: {message}") }
}

/// Inflate and decode a tile file's `KeyValueRecord` with the layer's writer schema. `path` names the
/// file in errors.
pub fn decode_record(bytes: &[u8], schema: &Schema, path: &str) -> Result<Vec<(Key, Tile)>> {
    let raw = inflate_bounded(bytes, MAX_INFLATED_BYTES).map_err(|e| corrupt(path, e))?;
    decode_datum(&raw, schema).map_err(|e| corrupt(path, e))
}

/// The most bytes a tile file may inflate to: a datum holds its cells in at most 1.5 bytes per decoded
/// byte (Avro varints of 16-bit cells), plus keys and headers. A file inflating to more is a zlib bomb,
/// refused before it takes the memory.
const MAX_INFLATED_BYTES: usize = tile::MAX_DECODED_BYTES / 2 * 3 + (1 << 20);

/// The zlib stream at the start of `bytes` (bytes after its end are ignored, as GeoTrellis does),
/// refused if it inflates to more than `limit` bytes.
fn inflate_bounded(bytes: &[u8], limit: usize) -> DecodeResult<Vec<u8>> {
    let mut raw = Vec::with_capacity((bytes.len() * 4).min(limit));
    ZlibDecoder::new(bytes)
        .take(limit as u64 + 1)
        .read_to_end(&mut raw)
        .map_err(|e| format!("zlib: {e}"))?;
    if raw.len() > limit {
        return Err(format!("the tile file inflates to more than {limit} bytes"));
    }
    Ok(raw)
}

fn decode_datum(raw: &[u8], schema: &Schema) -> DecodeResult<Vec<(Key, Tile)>> {
    let mut reader = Reader::new(raw);
    let value = reader.value(schema)?;
    if reader.remaining() != 0 {
        return Err(format!("{} bytes after the record", reader.remaining()));
    }
    let pairs = match value.field("pairs") {
        Some(Value::Array(pairs)) => pairs,
        _ => return Err("the datum is not a KeyValueRecord".into()),
    };
    check_decoded_size(pairs)?;
    pairs
        .iter()
        .map(|pair| {
            let key = pair.field("_1").ok_or("a pair without a key")?;
            let value = pair.field("_2").ok_or("a pair without a value")?;
            Ok((decode_key(key)?, decode_value(value)?))
        })
        .collect()
}

/// Refuses a record whose tiles would decode to more than [`tile::MAX_DECODED_BYTES`], before any cells
/// are made: constant and padded tiles take their size from their header alone.
fn check_decoded_size(pairs: &[Value]) -> DecodeResult<()> {
    let mut total: Option<usize> = Some(0);
    for value in pairs.iter().filter_map(|p| p.field("_2")) {
        let bands: Vec<&Value> = match (value.record_name(), value.field("bands")) {
            (Some("ArrayMultibandTile"), Some(Value::Array(bands))) => bands.iter().collect(),
            _ => vec![value],
        };
        for b in bands {
            total = total.zip(tile::band_bytes(b)).and_then(|(t, n)| t.checked_add(n));
        }
    }
    match total {
        Some(n) if n <= tile::MAX_DECODED_BYTES => Ok(()),
        _ => Err(format!(
            "its tiles would decode to {} bytes, more than the {} a tile file may hold (corrupt tile sizes)",
            total.map_or_else(|| "over 2^64".to_string(), |n| n.to_string()),
            tile::MAX_DECODED_BYTES
        )),
    }
}

fn decode_key(v: &Value) -> DecodeResult<Key> {
    let int = |name: &str| match v.field(name) {
        Some(Value::Int(i)) => Ok(*i),
        _ => Err(format!("the key has no int field {name:?}")),
    };
    let instant = match v.field("instant").or_else(|| v.field("millis")) {
        Some(Value::Long(t)) => Some(*t),
        Some(Value::Int(t)) => Some(*t as i64),
        Some(_) => return Err("the key's instant is not a long".into()),
        None => None,
    };
    Ok(Key { col: int("col")?, row: int("row")?, instant })
}

fn decode_value(v: &Value) -> DecodeResult<Tile> {
    let bands = match (v.record_name(), v.field("bands")) {
        (Some("ArrayMultibandTile"), Some(Value::Array(bands))) => {
            bands.iter().map(tile::band).collect::<DecodeResult<Vec<_>>>()?
        }
        _ => vec![tile::band(v)?],
    };
    join_bands(bands)
}

/// Bands of one multiband tile into one tile of their common cell type (GeoTrellis' cell type union).
fn join_bands(bands: Vec<Band>) -> DecodeResult<Tile> {
    let first = bands.first().ok_or("a multiband tile without bands")?;
    let (cols, rows) = (first.cols, first.rows);
    if bands.iter().any(|b| b.cols != cols || b.rows != rows) {
        return Err("bands of different sizes in one multiband tile".into());
    }
    let cell_type = bands.iter().skip(1).fold(first.cell_type, |ct, b| ct.union(&b.cell_type));
    let count = bands.len();
    let size = count
        .checked_mul(cols * rows)
        .and_then(|n| n.checked_mul(cell_type.bytes_per_cell()))
        .filter(|&n| n <= tile::MAX_DECODED_BYTES)
        .ok_or_else(|| format!("a {count}-band {cols}×{rows} {} tile is larger than a tile file may hold", cell_type.name()))?;
    let mut cells = Vec::with_capacity(size);
    let mut work = vec![0.0; cols * rows];
    for b in bands {
        if b.cell_type == cell_type {
            cells.extend_from_slice(&b.cells);
        } else {
            b.cell_type.load(&b.cells, 0, &mut work);
            cell_type.store(&work, &mut cells);
        }
    }
    Ok(Tile { cell_type, bands: count, rows, cols, cells })
}

/// A tile file's bytes as GeoTrellis 3.x writes them: the raw datum of the `KeyValueRecord` of `pairs`
/// (multiband = `ArrayMultibandTile` values, else single `Tile`s), zlib level 6.
pub fn encode_record(pairs: &[(Key, TileView)], multiband: bool) -> Result<Vec<u8>> {
    encode_record_with(pairs, multiband, Compression::GeoTrellis)
}

/// `encode_record` with a choice of compression: `Compression::GeoTrellis` gives GeoTrellis' bytes,
/// `Compression::Fast(level)` a faster zlib stream GeoTrellis reads all the same.
pub fn encode_record_with(pairs: &[(Key, TileView)], multiband: bool, compression: Compression) -> Result<Vec<u8>> {
    zlib::compress(&encode_datum(pairs, multiband)?, compression)
}

/// The raw Avro datum of a `KeyValueRecord` (uncompressed).
pub fn encode_datum(pairs: &[(Key, TileView)], multiband: bool) -> Result<Vec<u8>> {
    for (key, t) in pairs {
        let expected = t.bands * t.rows * t.cols * t.cell_type.bytes_per_cell();
        if t.cells.len() != expected {
            return Err(EngineError::Contract(format!(
                "tile at ({}, {}) holds {} bytes, {} expected",
                key.col,
                key.row,
                t.cells.len(),
                expected
            )));
        }
        if !multiband && t.bands != 1 {
            return Err(EngineError::Mismatch(format!(
                "a singleband layer cannot hold a tile of {} bands",
                t.bands
            )));
        }
    }
    let mut w = Writer::default();
    w.array(pairs.len(), |w| {
        for (key, t) in pairs {
            w.int(key.col);
            w.int(key.row);
            if let Some(instant) = key.instant {
                w.long(instant);
            }
            let band_bytes = t.rows * t.cols * t.cell_type.bytes_per_cell();
            let band = |w: &mut Writer, b: usize| {
                let cells = &t.cells[b * band_bytes..(b + 1) * band_bytes];
                tile::encode_band(w, &t.cell_type, t.cols, t.rows, cells)
            };
            if multiband {
                w.array(t.bands, |w| (0..t.bands).for_each(|b| band(w, b)));
            } else {
                band(w, 0);
            }
        }
    });
    Ok(w.out)
}

#[cfg(test)]
mod tests;
