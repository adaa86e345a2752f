//! Reprojection of batches of rasters (rows with `xmin, ymin, xmax, ymax`, the tile columns and optionally
//! `crs` and `instant`).
//!
//! * [`reproject_rasters`]: each raster onto its own suggested grid in the target CRS, independently
//!   (GeoPySpark's `RasterLayer.reproject`).
//! * Tiling into a layout in another CRS takes one shuffle, so that destination tiles sample across the
//!   edges of the rasters (or tiles) they straddle, as GeoTrellis' buffered reprojection does:
//!   [`warp_pieces`] cuts from each raster, for every layout key its footprint reaches, the window of
//!   source cells that key's cells can read (the key's extent transformed back into the source CRS,
//!   grown by the resample method's reach); after the shuffle by key, [`warp_runs`] mosaics the windows
//!   of each key (windows on one source grid become one raster) and warps the mosaic onto the key's tile.

use std::ops::Range;
use std::sync::Arc;

use arrow_array::types::{Float64Type, Int64Type};
use arrow_array::{Array, ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray};
use arrow_schema::{DataType as ArrowType, Field, Schema};

use super::{kernel_radius, suggested_grid, transformed_extent, warp, Grid};
use crate::batch::{copy_window, keyed_tiles, primitive_column, uses_large_types, with_tiles, CellTypeCache, Text, TileBuilder, TileColumns, TileRef};
use crate::cell_type::{CellType, NoData};
use crate::crs::{crs_to_proj4, Transformer};
use crate::error::{EngineError, Result};
use crate::exchange::{reduce_runs, KeyedTiles, RunKernel};
use crate::resample::ResampleMethod;
use crate::layout::{Extent, Layout};
use crate::retile::empty_cell;

const EXTENT_COLUMNS: [&str; 4] = ["xmin", "ymin", "xmax", "ymax"];

struct Extents<'a>([&'a Float64Array; 4]);

impl<'a> Extents<'a> {
    fn new(batch: &'a RecordBatch) -> Result<Self> {
        let [a, b, c, d] = EXTENT_COLUMNS.map(|n| primitive_column::<Float64Type>(batch, n));
        Ok(Extents([a?, b?, c?, d?]))
    }

    fn get(&self, i: usize) -> [f64; 4] {
        self.0.map(|a| a.value(i))
    }
}

fn crs_error(e: crate::crs::CrsError) -> EngineError {
    EngineError::Value(e.to_string())
}

/// Each raster reprojected to `dst_crs` on the grid GDAL would suggest for it. The `crs` column names each
/// raster's CRS; in the output it holds the target's proj4 text. Other columns pass through.
pub fn reproject_rasters(
    batch: &RecordBatch,
    dst_crs: &str,
    method: ResampleMethod,
    error_threshold: f64,
) -> Result<RecordBatch> {
    let dst_proj4 = crs_to_proj4(dst_crs).map_err(crs_error)?;
    let extents = Extents::new(batch)?;
    if batch.column_by_name("crs").is_some_and(|c| c.null_count() > 0) {
        return Err(EngineError::Value("cannot reproject rasters without a CRS (their crs is None)".into()));
    }
    let crs = Text::column(batch, "crs")?;
    let tiles = TileColumns::new(batch, 0)?;
    let mut types = CellTypeCache::default();
    let mut transformers: Vec<(String, Transformer, Transformer)> = Vec::new();
    let n = batch.num_rows();
    let mut out = TileBuilder::with_capacity(n, 0);
    let mut new_extents: [Vec<f64>; 4] = Default::default();
    for i in 0..n {
        let src_crs = crs.value(i);
        let k = match transformers.iter().position(|(c, _, _)| c == src_crs) {
            Some(k) => k,
            None => {
                transformers.push((
                    src_crs.to_string(),
                    Transformer::new(src_crs, &dst_proj4).map_err(crs_error)?,
                    Transformer::new(&dst_proj4, src_crs).map_err(crs_error)?,
                ));
                transformers.len() - 1
            }
        };
        let (_, forward, inverse) = &transformers[k];
        let ct = types.get(tiles.cell_type_name(i))?;
        let tile = tiles.tile(i, &ct)?;
        let src = Grid::new(extents.get(i), tile.cols, tile.rows)
            .map_err(|e| EngineError::Value(format!("raster {i}: {e}")))?;
        let dst = suggested_grid(forward, &src)?;
        let cells = warp(tile.cells, &ct, tile.bands, &src, &dst, inverse, method, error_threshold)?;
        out.push_tile(&ct, tile.bands, dst.rows, dst.cols, &cells);
        for (v, e) in new_extents.iter_mut().zip(dst.extent) {
            v.push(e);
        }
    }
    let [a, b, c, d] = new_extents.map(|v| Arc::new(Float64Array::from(v)) as ArrayRef);
    let crs_col: ArrayRef = match batch.column_by_name("crs").map(|c| c.data_type().clone()) {
        Some(ArrowType::LargeUtf8) => Arc::new(arrow_array::LargeStringArray::from(vec![dst_proj4.as_str(); n])),
        _ => Arc::new(StringArray::from(vec![dst_proj4.as_str(); n])),
    };
    let replaced = with_tiles(batch, out, None)?;
    replace_columns(&replaced, &[("xmin", a), ("ymin", b), ("xmax", c), ("ymax", d), ("crs", crs_col)])
}

fn replace_columns(batch: &RecordBatch, new: &[(&str, ArrayRef)]) -> Result<RecordBatch> {
    let schema = batch.schema();
    let mut fields = Vec::new();
    let mut columns = Vec::new();
    for (f, c) in schema.fields().iter().zip(batch.columns()) {
        match new.iter().find(|(n, _)| n == f.name()) {
            Some((_, a)) => {
                fields.push(Field::new(f.name(), a.data_type().clone(), false));
                columns.push(a.clone());
            }
            None => {
                fields.push(f.as_ref().clone());
                columns.push(c.clone());
            }
        }
    }
    Ok(RecordBatch::try_new(Arc::new(Schema::new(fields)), columns)?)
}

/// The window of source cells `[c0, c1) × [r0, r1)` that the cells of a destination tile can read: the
/// tile's extent transformed back into the source CRS, grown by the method's reach. None when it misses
/// the source grid or does not transform.
fn source_window(
    dst_to_src: &Transformer,
    key_grid: &Grid,
    src: &Grid,
    method: ResampleMethod,
) -> Option<(usize, usize, usize, usize)> {
    let [sxmin, symin, sxmax, symax] = transformed_extent_coarse(dst_to_src, key_grid)?;
    let (cw, ch) = (src.cell_width(), src.cell_height());
    let mut reach = kernel_radius(method) as f64;
    if method.is_aggregate() {
        // Aggregates read the source cells under a whole destination cell.
        let scale = ((sxmax - sxmin) / key_grid.cols as f64 / cw).max((symax - symin) / key_grid.rows as f64 / ch);
        reach += scale.ceil();
    }
    let [xmin, _, _, ymax] = src.extent;
    let clamp = |v: f64, n: usize| v.max(0.0).min(n as f64) as usize;
    let c0 = clamp(((sxmin - xmin) / cw).floor() - reach, src.cols);
    let c1 = clamp(((sxmax - xmin) / cw).ceil() + reach, src.cols);
    let r0 = clamp(((ymax - symax) / ch).floor() - reach, src.rows);
    let r1 = clamp(((ymax - symin) / ch).ceil() + reach, src.rows);
    (c0 < c1 && r0 < r1).then_some((c0, r0, c1, r1))
}

/// Like [`transformed_extent`] with 9 points per edge: destination tiles are small.
fn transformed_extent_coarse(t: &Transformer, grid: &Grid) -> Option<[f64; 4]> {
    let mut xy = super::outline(grid, 8);
    t.transform(&mut xy);
    if xy.iter().any(|v| v.is_nan()) {
        return transformed_extent(t, grid);
    }
    super::bounds(&xy)
}

/// The layout keys a raster's cells can reach in the destination CRS: its transformed extent grown by a
/// few of its own cells, clamped to the layout.
fn reachable_keys(forward: &Transformer, src: &Grid, layout: &Layout, method: ResampleMethod) -> Option<(i64, i64, i64, i64)> {
    let [xmin, ymin, xmax, ymax] = transformed_extent(forward, src)?;
    let cells = (kernel_radius(method) + 2) as f64;
    let (gx, gy) = (cells * (xmax - xmin) / src.cols as f64, cells * (ymax - ymin) / src.rows as f64);
    layout.key_bounds_in_layout(&Extent {
        xmin: xmin - gx,
        ymin: ymin - gy,
        xmax: xmax + gx,
        ymax: ymax + gy,
    })
}

/// For every raster and every layout key it can reach in `dst_crs`, the window of the raster's cells that
/// key reads. Output columns: `col`, `row` (int32), `instant` if present, the window's `xmin, ymin, xmax,
/// ymax` in the source CRS, and the window's tile.
pub fn warp_pieces(
    batch: &RecordBatch,
    src_crs: &str,
    dst_crs: &str,
    layout: &Layout,
    method: ResampleMethod,
) -> Result<RecordBatch> {
    layout.validate()?;
    let forward = Transformer::new(src_crs, dst_crs).map_err(crs_error)?;
    let inverse = Transformer::new(dst_crs, src_crs).map_err(crs_error)?;
    let extents = Extents::new(batch)?;
    let instant = match batch.column_by_name("instant") {
        None => None,
        Some(_) => Some(primitive_column::<Int64Type>(batch, "instant")?),
    };
    let tiles = TileColumns::new(batch, 0)?;
    let mut types = CellTypeCache::default();
    let mut out = TileBuilder::with_capacity(batch.num_rows(), 0);
    let (mut cols, mut rows, mut instants) = (Vec::new(), Vec::new(), Vec::new());
    let mut window_extents: [Vec<f64>; 4] = Default::default();
    for i in 0..batch.num_rows() {
        let ct = types.get(tiles.cell_type_name(i))?;
        let tile = tiles.tile(i, &ct)?;
        if tile.cols == 0 || tile.rows == 0 {
            continue;
        }
        let src = Grid::new(extents.get(i), tile.cols, tile.rows)
            .map_err(|e| EngineError::Value(format!("raster {i}: {e}")))?;
        let Some((kc0, kr0, kc1, kr1)) = reachable_keys(&forward, &src, layout, method) else {
            continue;
        };
        for key_row in kr0..=kr1 {
            for key_col in kc0..=kc1 {
                let ke = layout.key_extent(key_col, key_row);
                let key_grid = Grid::new([ke.xmin, ke.ymin, ke.xmax, ke.ymax], layout.tile_cols, layout.tile_rows)?;
                let Some((c0, r0, c1, r1)) = source_window(&inverse, &key_grid, &src, method) else {
                    continue;
                };
                copy_window(&tile, &ct, (c0, r0, c1, r1), out.values_mut());
                out.finish_tile(&ct, tile.bands, r1 - r0, c1 - c0);
                let (x0, y1) = src.point(c0 as f64, r0 as f64);
                let (x1, y0) = src.point(c1 as f64, r1 as f64);
                for (v, e) in window_extents.iter_mut().zip([x0, y0, x1, y1]) {
                    v.push(e);
                }
                cols.push(key_col as i32);
                rows.push(key_row as i32);
                if let Some(inst) = instant {
                    instants.push(inst.value(i));
                }
            }
        }
    }
    let mut extra: Vec<(Field, ArrayRef)> = Vec::new();
    if instant.is_some() {
        extra.push((Field::new("instant", ArrowType::Int64, false), Arc::new(Int64Array::from(instants))));
    }
    for (name, v) in EXTENT_COLUMNS.iter().zip(window_extents) {
        extra.push((Field::new(*name, ArrowType::Float64, false), Arc::new(Float64Array::from(v))));
    }
    keyed_tiles(cols, rows, extra, out, uses_large_types(batch))
}

/// Windows of one source grid (same cell type, bands, cell size and alignment), mosaicked into one raster.
struct Mosaic {
    ct: CellType,
    bands: usize,
    cw: f64,
    ch: f64,
    extent: [f64; 4],
    pieces: Vec<usize>,
}

impl Mosaic {
    fn accepts(&self, ct: &CellType, bands: usize, e: &[f64; 4], cols: usize, rows: usize) -> bool {
        let (cw, ch) = ((e[2] - e[0]) / cols as f64, (e[3] - e[1]) / rows as f64);
        let near = |a: f64, b: f64| (a - b).abs() <= 1e-9 * a.abs().max(b.abs());
        let aligned = |d: f64, size: f64| ((d / size) - (d / size).round()).abs() < 1e-6;
        self.ct == *ct
            && self.bands == bands
            && near(self.cw, cw)
            && near(self.ch, ch)
            && aligned(e[0] - self.extent[0], self.cw)
            && aligned(self.extent[3] - e[3], self.ch)
    }
}

/// Each run of rows with equal keys (from [`warp_pieces`], sorted by key) warped into the tile of its
/// key: the windows are mosaicked per source grid, each mosaic is warped onto the key's tile, and when
/// several source grids meet the later ones fill the cells the earlier left empty. Output: the key columns
/// and the tile columns (the window extents are dropped). Runs as in [`crate::exchange::reduce_runs`].
///
/// # Errors
///
/// An invalid layout or CRS, a batch outside the piece schema, or pieces of one key that cannot meet.
#[allow(clippy::too_many_arguments)]
pub fn warp_runs(
    batch: &RecordBatch,
    key_columns: &[&str],
    src_crs: &str,
    dst_crs: &str,
    layout: &Layout,
    method: ResampleMethod,
    error_threshold: f64,
    last_run_complete: bool,
) -> Result<(RecordBatch, usize)> {
    layout.validate()?;
    let kernel = Warp {
        inverse: Transformer::new(dst_crs, src_crs).map_err(crs_error)?,
        layout,
        method,
        error_threshold,
        extents: Extents::new(batch)?,
        key_cols: primitive_column::<arrow_array::types::Int32Type>(batch, "col")?,
        key_rows: primitive_column::<arrow_array::types::Int32Type>(batch, "row")?,
        tiles: TileColumns::new(batch, 0)?,
        types: CellTypeCache::default(),
        out: KeyedTiles::new(batch, 0, &EXTENT_COLUMNS),
    };
    reduce_runs(batch, key_columns, last_run_complete, kernel)
}

/// The run kernel of [`warp_runs`].
struct Warp<'a> {
    inverse: Transformer,
    layout: &'a Layout,
    method: ResampleMethod,
    error_threshold: f64,
    extents: Extents<'a>,
    key_cols: &'a arrow_array::Int32Array,
    key_rows: &'a arrow_array::Int32Array,
    tiles: TileColumns<'a>,
    types: CellTypeCache,
    out: KeyedTiles<'a>,
}

impl RunKernel for Warp<'_> {
    fn run(&mut self, rows: Range<usize>) -> Result<()> {
        let s = rows.start;
        let (layout, extents) = (self.layout, &self.extents);
        let ke = layout.key_extent(self.key_cols.value(s) as i64, self.key_rows.value(s) as i64);
        let key_grid = Grid::new([ke.xmin, ke.ymin, ke.xmax, ke.ymax], layout.tile_cols, layout.tile_rows)?;
        let mut mosaics: Vec<Mosaic> = Vec::new();
        let mut run: Vec<(TileRef, CellType)> = Vec::with_capacity(rows.len());
        for i in rows {
            let ct = self.types.get(self.tiles.cell_type_name(i))?;
            let tile = self.tiles.tile(i, &ct)?;
            let ext = extents.get(i);
            let j = i - s;
            match mosaics.iter_mut().find(|m| m.accepts(&ct, tile.bands, &ext, tile.cols, tile.rows)) {
                Some(m) => {
                    m.extent = [m.extent[0].min(ext[0]), m.extent[1].min(ext[1]), m.extent[2].max(ext[2]), m.extent[3].max(ext[3])];
                    m.pieces.push(j);
                }
                None => mosaics.push(Mosaic {
                    ct,
                    bands: tile.bands,
                    cw: (ext[2] - ext[0]) / tile.cols as f64,
                    ch: (ext[3] - ext[1]) / tile.rows as f64,
                    extent: ext,
                    pieces: vec![j],
                }),
            }
            run.push((tile, ct));
        }
        let mut warped: Vec<(CellType, usize, Vec<u8>)> = Vec::with_capacity(mosaics.len());
        for m in &mosaics {
            let (grid, cells) = assemble(m, &run, |j| extents.get(s + j))?;
            let cells = warp(&cells, &m.ct, m.bands, &grid, &key_grid, &self.inverse, self.method, self.error_threshold)?;
            warped.push((m.ct, m.bands, cells));
        }
        let (ct, bands, cells) = fill_merge(warped, key_grid.cols * key_grid.rows)?;
        self.out.push_tile(s, &ct, bands, key_grid.rows, key_grid.cols, &cells);
        Ok(())
    }

    fn finish(self) -> Result<RecordBatch> {
        self.out.finish()
    }
}

/// The mosaic's raster: its grid and band-sequential cells, empty (`retile::empty_cell`) where no
/// window covers it.
fn assemble(
    m: &Mosaic,
    run: &[(TileRef, CellType)],
    extent_of: impl Fn(usize) -> [f64; 4],
) -> Result<(Grid, Vec<u8>)> {
    let cols = ((m.extent[2] - m.extent[0]) / m.cw).round().max(1.0) as usize;
    let rows = ((m.extent[3] - m.extent[1]) / m.ch).round().max(1.0) as usize;
    let grid = Grid::new(m.extent, cols, rows)?;
    let bpc = m.ct.bytes_per_cell();
    let n = cols * rows;
    let empty = empty_cell(&m.ct);
    let mut cells: Vec<u8> = empty.iter().copied().cycle().take(m.bands * n * bpc).collect();
    for &j in &m.pieces {
        let (tile, _) = &run[j];
        let e = extent_of(j);
        let c0 = (((e[0] - m.extent[0]) / m.cw).round().max(0.0) as usize).min(cols);
        let r0 = (((m.extent[3] - e[3]) / m.ch).round().max(0.0) as usize).min(rows);
        let w = tile.cols.min(cols - c0);
        let h = tile.rows.min(rows - r0);
        for b in 0..m.bands {
            for r in 0..h {
                let from = (b * tile.cells_per_band() + r * tile.cols) * bpc;
                let to = (b * n + (r0 + r) * cols + c0) * bpc;
                cells[to..to + w * bpc].copy_from_slice(&tile.cells[from..from + w * bpc]);
            }
        }
    }
    Ok((grid, cells))
}

/// One tile from the warps of several source grids: the first, with each later one filling the cells
/// still empty (`retile::empty_cell`), in the union of their cell types.
fn fill_merge(mut warped: Vec<(CellType, usize, Vec<u8>)>, n: usize) -> Result<(CellType, usize, Vec<u8>)> {
    if warped.len() == 1 {
        return Ok(warped.pop().unwrap());
    }
    let bands = warped[0].1;
    if warped.iter().any(|w| w.1 != bands) {
        return Err(EngineError::Mismatch("rasters with different band counts meet in one tile".into()));
    }
    let ct = warped.iter().skip(1).fold(warped[0].0, |acc, w| acc.union(&w.0));
    let empty = |v: f64| if ct.no_data == NoData::Raw { v == 0.0 } else { v.is_nan() };
    let mut result = vec![0.0; bands * n];
    let mut other = vec![0.0; bands * n];
    for (k, (wct, _, cells)) in warped.iter().enumerate() {
        let into = if k == 0 { &mut result } else { &mut other };
        wct.load(cells, 0, into);
        if *wct != ct {
            ct.normalize(into);
        }
        if k > 0 {
            for (r, o) in result.iter_mut().zip(&other) {
                if empty(*r) {
                    *r = *o;
                }
            }
        }
    }
    let mut out = Vec::with_capacity(bands * n * ct.bytes_per_cell());
    ct.store(&result, &mut out);
    Ok((ct, bands, out))
}
