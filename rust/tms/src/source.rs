//! Where tiles come from: the levels of a GeoTrellis Avro layer in a catalog (any store the engine's `io`
//! reaches), or any other [`TileSource`] (the Python binding supplies one for layers only Python reads).

use std::collections::BTreeMap;

use gps_engine::catalog::avro::{Key, Schema, Tile};
use gps_engine::catalog::files;
use gps_engine::catalog::index::{encode_index, KeyIndex};
use gps_engine::io::StoreOptions;
use gps_engine::{EngineError, Result};

/// Tiles by zoom and SpatialKey (`x` = col, `y` = row, row 0 north).
pub trait TileSource: Send + Sync {
    /// The tile at `(z, x, y)`, None when the source has none there.
    fn tile(&self, z: u32, x: i64, y: i64) -> Result<Option<Tile>>;
    /// The zooms the source has, ascending.
    fn zooms(&self) -> Vec<u32>;
}

/// One zoom level of an Avro layer: where its tile files are and how keys name them.
pub struct Level {
    tile_dir: String,
    key_index: KeyIndex,
    width: usize,
    schema: Schema,
    options: StoreOptions,
}

impl Level {
    /// # Errors
    /// A key index or writer schema that does not parse.
    pub fn new(tile_dir: &str, key_index_json: &str, schema_json: &str, options: StoreOptions) -> Result<Level> {
        let value: serde_json::Value = serde_json::from_str(key_index_json)?;
        let key_index = KeyIndex::from_json(&value, false)?;
        Ok(Level {
            tile_dir: tile_dir.trim_end_matches('/').to_string(),
            width: key_index.file_name_width()?,
            key_index,
            schema: Schema::parse(schema_json)?,
            options,
        })
    }

    fn tile(&self, col: i64, row: i64) -> Result<Option<Tile>> {
        let (Ok(col), Ok(row)) = (i32::try_from(col), i32::try_from(row)) else {
            return Ok(None);
        };
        let key = Key { col, row, instant: None };
        // A key the index cannot hold (outside a Hilbert index's space) has no tile.
        let Ok(index) = self.key_index.to_index(&key) else {
            return Ok(None);
        };
        let path = format!("{}/{}", self.tile_dir, encode_index(index, self.width));
        files::read_value(&path, &self.schema, &key, &self.options)
    }
}

/// The zoom levels of one SPATIAL Avro layer.
#[derive(Default)]
pub struct CatalogSource {
    levels: BTreeMap<u32, Level>,
}

impl CatalogSource {
    pub fn insert(&mut self, zoom: u32, level: Level) {
        self.levels.insert(zoom, level);
    }
}

impl TileSource for CatalogSource {
    fn tile(&self, z: u32, x: i64, y: i64) -> Result<Option<Tile>> {
        match self.levels.get(&z) {
            Some(level) => level.tile(x, y),
            None => Ok(None),
        }
    }

    fn zooms(&self) -> Vec<u32> {
        self.levels.keys().copied().collect()
    }
}

/// `tile` cropped to sub-tile `(sx, sy)` of `2^dz × 2^dz` and resampled to its full size by nearest
/// neighbour (the cell under each new cell's centre): a tile of an overzoomed level.
///
/// # Errors
/// A shift over 30 levels.
pub fn overzoom(tile: &Tile, dz: u32, sx: i64, sy: i64) -> Result<Tile> {
    if dz > 30 {
        return Err(EngineError::Value(format!("cannot overzoom {dz} levels")));
    }
    if tile.rows == 0 || tile.cols == 0 {
        return Ok(tile.clone());
    }
    let parts = 1i64 << dz;
    let bpc = tile.cell_type.bytes_per_cell();
    let (rows, cols) = (tile.rows, tile.cols);
    let (sub_w, sub_h) = (cols as f64 / parts as f64, rows as f64 / parts as f64);
    let (x0, y0) = (sx as f64 * sub_w, sy as f64 * sub_h);
    let src_col: Vec<usize> = (0..cols)
        .map(|c| ((x0 + (c as f64 + 0.5) * sub_w / cols as f64).floor() as usize).min(cols - 1))
        .collect();
    let src_row: Vec<usize> = (0..rows)
        .map(|r| ((y0 + (r as f64 + 0.5) * sub_h / rows as f64).floor() as usize).min(rows - 1))
        .collect();
    let mut cells = Vec::with_capacity(tile.cells.len());
    for b in 0..tile.bands {
        let band = &tile.cells[b * rows * cols * bpc..(b + 1) * rows * cols * bpc];
        for &r in &src_row {
            for &c in &src_col {
                let at = (r * cols + c) * bpc;
                cells.extend_from_slice(&band[at..at + bpc]);
            }
        }
    }
    Ok(Tile { cell_type: tile.cell_type, bands: tile.bands, rows, cols, cells })
}

#[cfg(test)]
mod tests {
    use super::*;
    use gps_engine::CellType;

    #[test]
    fn overzoom_takes_the_cells_under_new_centres() {
        // 4×4 uint8 tile holding 0..16; one level down, sub-tile (1, 0) is the top-right 2×2 quarter.
        let tile = Tile { cell_type: CellType::parse("uint8raw").unwrap(), bands: 1, rows: 4, cols: 4, cells: (0..16).collect() };
        let z = overzoom(&tile, 1, 1, 0).unwrap();
        assert_eq!(z.cells, vec![2, 2, 3, 3, 2, 2, 3, 3, 6, 6, 7, 7, 6, 6, 7, 7]);
        assert_eq!(overzoom(&tile, 0, 0, 0).unwrap().cells, tile.cells);
        // Deeper than the tile has cells: every new cell is the one source cell.
        assert!(overzoom(&tile, 3, 7, 7).unwrap().cells.iter().all(|&v| v == 15));
    }
}
