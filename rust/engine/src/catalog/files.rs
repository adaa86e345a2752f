//! Reading and writing a layer's tile files (one zlib'd `KeyValueRecord` per index value) on any store
//! the `io` module reaches: local paths, `file://`, S3 and the other object stores.

use std::collections::BTreeMap;
use std::ops::Range;
use std::sync::Arc;

use arrow_array::types::{Int32Type, Int64Type};
use arrow_array::{ArrayRef, Int32Array, Int64Array, RecordBatch};
use arrow_schema::{DataType as ArrowType, Field, Schema as ArrowSchema};

use super::index::encode_index;
use super::avro::{decode_record, encode_record_with, Compression, Key, Schema, Tile, TileView};
use crate::batch::{primitive_column, CellTypeCache, TileBuilder, TileColumns};
use crate::error::Result;
use crate::exchange::{reduce_runs, RunKernel};
use crate::io::{self, StoreOptions};

/// An inclusive box of keys; instants are compared only when both bounds have one.
#[derive(Clone, Copy, Debug)]
pub struct KeyBox {
    pub min: Key,
    pub max: Key,
}

impl KeyBox {
    pub fn contains(&self, k: &Key) -> bool {
        let in_time = match (self.min.instant, self.max.instant, k.instant) {
            (Some(lo), Some(hi), Some(t)) => lo <= t && t <= hi,
            _ => true,
        };
        self.min.col <= k.col && k.col <= self.max.col && self.min.row <= k.row && k.row <= self.max.row && in_time
    }
}

/// Every (key, tile) pair of the files at `paths` whose key lies in `keys` (all pairs when None),
/// in file order.
pub fn read_tiles(
    paths: &[String],
    schema: &Schema,
    keys: Option<&KeyBox>,
    options: &StoreOptions,
) -> Result<Vec<(Key, Tile)>> {
    let mut out = Vec::new();
    for path in paths {
        let bytes = io::read_all(path, options)?;
        let pairs = decode_record(&bytes, schema, path)?;
        out.extend(pairs.into_iter().filter(|(k, _)| keys.is_none_or(|b| b.contains(k))));
    }
    Ok(out)
}

/// [`read_tiles`] with the files fetched and decoded on every core (rayon), for a whole job run in one
/// process; pairs in file order.
pub fn read_tiles_parallel(
    paths: &[String],
    schema: &Schema,
    keys: Option<&KeyBox>,
    options: &StoreOptions,
) -> Result<Vec<(Key, Tile)>> {
    use rayon::prelude::*;

    let per_file: Vec<Vec<(Key, Tile)>> = paths
        .par_iter()
        .map(|path| read_tiles(std::slice::from_ref(path), schema, keys, options))
        .collect::<Result<_>>()?;
    Ok(per_file.into_iter().flatten().collect())
}

/// The tile of `key` in the file at `path`; None when the file or the key in it is absent.
pub fn read_value(path: &str, schema: &Schema, key: &Key, options: &StoreOptions) -> Result<Option<Tile>> {
    let Some(bytes) = io::read_if_exists(path, options)? else {
        return Ok(None);
    };
    Ok(decode_record(&bytes, schema, path)?.into_iter().find(|(k, _)| k == key).map(|(_, t)| t))
}

/// Write the pairs of one index value to `path` (atomically). With `existing` (the layer's stored
/// writer schema), pairs already in the file are kept unless a new pair has the same key, as
/// GeoTrellis' layer update does. `compression` chooses GeoTrellis' exact bytes or a faster zlib
/// stream. Returns the bytes written.
pub fn write_tiles(
    path: &str,
    pairs: &[(Key, TileView)],
    multiband: bool,
    existing: Option<&Schema>,
    options: &StoreOptions,
    compression: Compression,
) -> Result<usize> {
    let old_bytes = match existing {
        Some(_) => io::read_if_exists(path, options)?,
        None => None,
    };
    let bytes = match (existing, old_bytes) {
        (Some(schema), Some(old_bytes)) => {
            let old = decode_record(&old_bytes, schema, path)?;
            let mut merged: BTreeMap<Key, TileView> = BTreeMap::new();
            for (k, t) in &old {
                merged.insert(
                    *k,
                    TileView { cell_type: t.cell_type, bands: t.bands, rows: t.rows, cols: t.cols, cells: &t.cells },
                );
            }
            for (k, t) in pairs {
                merged.insert(*k, *t);
            }
            let merged: Vec<(Key, TileView)> = merged.into_iter().collect();
            encode_record_with(&merged, multiband, compression)?
        }
        _ => encode_record_with(pairs, multiband, compression)?,
    };
    io::write(path, &bytes, options)?;
    Ok(bytes.len())
}

/// Decoded pairs as a batch in the tile contract: `col`, `row`, (`instant`), then the tile columns.
pub fn pairs_to_batch(pairs: &[(Key, Tile)], space_time: bool) -> Result<RecordBatch> {
    let bytes: usize = pairs.iter().map(|(_, t)| t.cells.len()).sum();
    let mut tiles = TileBuilder::with_capacity(pairs.len(), bytes);
    for (_, t) in pairs {
        tiles.push_tile(&t.cell_type, t.bands, t.rows, t.cols, &t.cells);
    }
    let mut fields = vec![Field::new("col", ArrowType::Int32, false), Field::new("row", ArrowType::Int32, false)];
    let mut columns: Vec<ArrayRef> = vec![
        Arc::new(Int32Array::from_iter_values(pairs.iter().map(|(k, _)| k.col))),
        Arc::new(Int32Array::from_iter_values(pairs.iter().map(|(k, _)| k.row))),
    ];
    if space_time {
        fields.push(Field::new("instant", ArrowType::Int64, false));
        columns.push(Arc::new(Int64Array::from_iter_values(pairs.iter().map(|(k, _)| k.instant.unwrap_or(0)))));
    }
    for (f, c) in tiles.finish(bytes > i32::MAX as usize)? {
        fields.push(f);
        columns.push(c);
    }
    Ok(RecordBatch::try_new(Arc::new(ArrowSchema::new(fields)), columns)?)
}

/// Where and how `write_runs` writes tile files.
pub struct FileTarget<'a> {
    /// The layer's directory or object prefix; files are `<directory>/<zero-padded index>`.
    pub directory: &'a str,
    /// Width of the zero-padded file names (format reference §2.2).
    pub width: usize,
    pub multiband: bool,
    /// The stored writer schema when updating a layer (existing pairs are merged), else None.
    pub existing: Option<&'a Schema>,
    pub options: &'a StoreOptions,
    /// GeoTrellis' zlib level 6 (byte-identical files, the default) or a faster zlib stream.
    pub compression: Compression,
}

/// Write one file per run of equal `index_column` values in a batch sorted by index (keys in `col`,
/// `row`, optional `instant`, tiles in the contract's columns). Unless `last_run_complete`, the final run
/// is held back because it may continue in the next batch. Returns a one-row batch of what was written
/// (`files`, `bytes`, both int64) and the start of the held-back run, as
/// [`crate::exchange::reduce_runs`] does.
///
/// # Errors
///
/// A batch outside the tile contract, an index column that is not int64, and storage errors.
pub fn write_runs(
    batch: &RecordBatch,
    index_column: &str,
    target: &FileTarget,
    last_run_complete: bool,
) -> Result<(RecordBatch, usize)> {
    let kernel = WriteFiles {
        index: primitive_column::<Int64Type>(batch, index_column)?,
        cols: primitive_column::<Int32Type>(batch, "col")?,
        rows: primitive_column::<Int32Type>(batch, "row")?,
        instants: match batch.column_by_name("instant") {
            Some(_) => Some(primitive_column::<Int64Type>(batch, "instant")?),
            None => None,
        },
        tiles: TileColumns::new(batch, 0)?,
        cell_types: CellTypeCache::default(),
        target,
        files: 0,
        bytes: 0,
    };
    reduce_runs(batch, &[index_column], last_run_complete, kernel)
}

/// Write one file per run of equal `index_column` values of a whole batch sorted by index, the runs
/// encoded and stored on every core (rayon). Returns `(files, bytes)`.
pub fn write_all_runs_parallel(batch: &RecordBatch, index_column: &str, target: &FileTarget) -> Result<(i64, i64)> {
    use rayon::prelude::*;

    let index = primitive_column::<Int64Type>(batch, index_column)?;
    let values = index.values();
    let mut starts: Vec<usize> = (0..values.len()).filter(|&i| i == 0 || values[i] != values[i - 1]).collect();
    starts.push(values.len());
    // Runs grouped in chunks so that each task slices and writes many small files.
    let chunks: Vec<Range<usize>> = starts
        .windows(2)
        .map(|w| w[0]..w[1])
        .collect::<Vec<_>>()
        .chunks(64)
        .map(|c| c[0].start..c[c.len() - 1].end)
        .collect();
    let totals: Vec<(i64, i64)> = chunks
        .into_par_iter()
        .map(|rows| {
            let slice = batch.slice(rows.start, rows.len());
            let (out, _) = write_runs(&slice, index_column, target, true)?;
            let col = |i: usize| out.column(i).as_any().downcast_ref::<Int64Array>().map_or(0, |a| a.value(0));
            Ok((col(0), col(1)))
        })
        .collect::<Result<_>>()?;
    Ok(totals.into_iter().fold((0, 0), |(f, b), (f2, b2)| (f + f2, b + b2)))
}

/// The run kernel of [`write_runs`]: one file per index value.
struct WriteFiles<'a> {
    index: &'a Int64Array,
    cols: &'a Int32Array,
    rows: &'a Int32Array,
    instants: Option<&'a Int64Array>,
    tiles: TileColumns<'a>,
    cell_types: CellTypeCache,
    target: &'a FileTarget<'a>,
    files: i64,
    bytes: i64,
}

impl RunKernel for WriteFiles<'_> {
    fn run(&mut self, rows: Range<usize>) -> Result<()> {
        let value = self.index.value(rows.start);
        let mut pairs = Vec::with_capacity(rows.len());
        for i in rows {
            let ct = self.cell_types.get(self.tiles.cell_type_name(i))?;
            let t = self.tiles.tile(i, &ct)?;
            let key = Key {
                col: self.cols.value(i),
                row: self.rows.value(i),
                instant: self.instants.map(|a| a.value(i)),
            };
            pairs.push((key, TileView { cell_type: ct, bands: t.bands, rows: t.rows, cols: t.cols, cells: t.cells }));
        }
        let target = self.target;
        let path = format!("{}/{}", target.directory.trim_end_matches('/'), encode_index(value, target.width));
        self.bytes += write_tiles(&path, &pairs, target.multiband, target.existing, target.options, target.compression)? as i64;
        self.files += 1;
        Ok(())
    }

    fn finish(self) -> Result<RecordBatch> {
        let schema = ArrowSchema::new(vec![
            Field::new("files", ArrowType::Int64, false),
            Field::new("bytes", ArrowType::Int64, false),
        ]);
        let columns: Vec<ArrayRef> =
            vec![Arc::new(Int64Array::from(vec![self.files])), Arc::new(Int64Array::from(vec![self.bytes]))];
        Ok(RecordBatch::try_new(Arc::new(schema), columns)?)
    }
}
