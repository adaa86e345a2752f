//! The GeoTIFF and Cloud Optimized GeoTIFF writer.
//!
//! Input is one raster in the tile contract's layout (DESIGN §3): band-sequential, row-major,
//! little-endian storage bytes of a GeoTrellis cell type, `bool` one byte per cell. Output follows
//! GeoTrellis' `GeoTiffWriter` where GeoPySpark users can see it (band interleave, GDAL_NODATA text,
//! GDAL_METADATA tags, `bool` as 1-bit samples, striped strip height), and GDAL's COG layout with `cog`.

mod compress;
mod container;
mod metadata;
mod segments;

use std::path::{Path, PathBuf};

pub use compress::Compression;
use compress::Predictor;
use container::{Entry, Image, Order};
use segments::{Grid, SegmentLayout};

use crate::cell_type::{CellType, DataType};
use crate::error::{EngineError, Result};
use crate::geotiff::geokeys;
use crate::resample::{resample_grid, ResampleMethod};

/// One raster to write: `bands × rows × cols` cells, band-sequential.
#[derive(Clone, Copy, Debug)]
pub struct Raster<'a> {
    pub cells: &'a [u8],
    pub cell_type: CellType,
    pub bands: usize,
    pub rows: usize,
    pub cols: usize,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Storage {
    /// Strips of full rows; `None` takes GeoTrellis' default height (`Striped()`: 8000 bytes divided by
    /// `rows × bytes per sample`, at least 1 — GeoTrellis divides by the row count, not the width, and we
    /// keep its numbers).
    Striped { rows_per_strip: Option<usize> },
    /// Tiles; both sizes must be multiples of 16 (TIFF).
    Tiled { tile_cols: usize, tile_rows: usize },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Interleave {
    /// One plane per band (PlanarConfiguration 2), GeoTrellis' default.
    Band,
    /// Samples of a pixel together (PlanarConfiguration 1), GDAL's COG default.
    Pixel,
}

/// Photometric interpretation values we can write (GeoPySpark's `ColorSpace`).
pub const WHITE_IS_ZERO: u16 = 0;
pub const BLACK_IS_ZERO: u16 = 1;
pub const RGB: u16 = 2;
pub const PALETTE: u16 = 3;
pub const CMYK: u16 = 5;

#[derive(Clone, Debug, PartialEq)]
pub struct WriteOptions {
    pub storage: Storage,
    pub compression: Compression,
    /// Horizontal differencing for integer cells, the floating point predictor for float cells; ignored
    /// without compression.
    pub predictor: bool,
    /// `None`: band interleave, or pixel interleave for a COG.
    pub interleave: Option<Interleave>,
    /// TIFF photometric interpretation; `None`: BlackIsZero, or Palette with a colour map.
    pub color_space: Option<u16>,
    /// Palette entries as 0xRRGGBBAA, entry i for cell value i (uint8/uint16, one band).
    pub color_map: Option<Vec<u32>>,
    /// Dataset metadata items; `TIFFTAG_DATETIME` and the other baseline names go to their TIFF tags.
    pub head_tags: Vec<(String, String)>,
    /// Metadata items of each band (empty, or one list per band).
    pub band_tags: Vec<Vec<(String, String)>>,
    /// Overview decimation factors (≥ 2); each overview is ceil(cols/d) × ceil(rows/d).
    pub decimations: Vec<usize>,
    /// GeoPySpark resample method name used to build overviews.
    pub resample_method: String,
    /// Cloud Optimized GeoTIFF layout (tiled, overviews down to one tile unless given, IFDs first).
    pub cog: bool,
}

impl Default for WriteOptions {
    /// GeoPySpark's `to_geotiff_rdd` defaults: 256×256 tiles, no compression, BlackIsZero, no overviews.
    fn default() -> Self {
        WriteOptions {
            storage: Storage::Tiled { tile_cols: 256, tile_rows: 256 },
            compression: Compression::None,
            predictor: false,
            interleave: None,
            color_space: None,
            color_map: None,
            head_tags: Vec::new(),
            band_tags: Vec::new(),
            decimations: Vec::new(),
            resample_method: "NearestNeighbor".to_string(),
            cog: false,
        }
    }
}

fn bad(msg: String) -> EngineError {
    EngineError::Value(msg)
}

/// Encodes `raster` covering `extent` = [xmin, ymin, xmax, ymax] (north-up) in `crs` (EPSG code or proj4;
/// `None` writes no GeoKeys) as a GeoTIFF file's bytes.
pub fn write_geotiff(raster: &Raster, extent: [f64; 4], crs: Option<&str>, options: &WriteOptions) -> Result<Vec<u8>> {
    let plan = Plan::new(raster, extent, options)?;
    let geo = crs.map(geokeys::encode).transpose()?;

    let mut images = Vec::with_capacity(1 + plan.decimations.len());
    let grid = plan.grid(raster.cells, raster.rows, raster.cols);
    let mut main = plan.image(&grid, false)?;
    main.entries.extend(plan.dataset_entries(raster, extent, geo.as_ref()));
    images.push(main);

    if !plan.decimations.is_empty() {
        let method = ResampleMethod::parse(&options.resample_method)?;
        for &d in &plan.decimations {
            let (ocols, orows) = (raster.cols.div_ceil(d), raster.rows.div_ceil(d));
            // Each overview from the full raster, so that errors do not compound level to level.
            let cells = resample_grid(
                raster.cells,
                &raster.cell_type,
                raster.bands,
                raster.cols,
                raster.rows,
                extent,
                ocols,
                orows,
                extent,
                method,
            )?;
            images.push(plan.image(&plan.grid(&cells, orows, ocols), true)?);
        }
    }
    let order = if options.cog { Order::CloudOptimized } else { Order::Sequential };
    container::assemble(&images, order)
}

/// [`write_geotiff`] to a local path (or `file://` URI), atomically: the bytes go to a temporary file in
/// the same directory, which is synced and then renamed over `path`.
pub fn write_geotiff_file(
    path: &str,
    raster: &Raster,
    extent: [f64; 4],
    crs: Option<&str>,
    options: &WriteOptions,
) -> Result<()> {
    let local = crate::io::local_path(path).ok_or_else(|| {
        EngineError::unsupported(path, "only local paths and file:// URIs can be written so far")
    })?;
    let bytes = write_geotiff(raster, extent, crs, options)?;
    write_atomically(Path::new(local), &bytes).map_err(|e| EngineError::io(path, e))
}

fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let name = path
        .file_name()
        .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidInput, "the path names no file"))?;
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let tmp: PathBuf = dir.join(format!(
        ".{}.{}-{}.tmp",
        name.to_string_lossy(),
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        drop(f);
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Everything decided from the options before encoding.
struct Plan {
    cell_type: CellType,
    bands: usize,
    storage: Storage,
    planar: bool,
    predictor: Predictor,
    compression: Compression,
    photometric: u16,
    palette: Option<Vec<u16>>,
    decimations: Vec<usize>,
    head_tags: Vec<(String, String)>,
    band_tags: Vec<Vec<(String, String)>>,
}

impl Plan {
    fn new(r: &Raster, extent: [f64; 4], o: &WriteOptions) -> Result<Plan> {
        if r.bands == 0 || r.rows == 0 || r.cols == 0 {
            return Err(bad(format!("cannot write an empty raster ({} bands, {} rows, {} cols)", r.bands, r.rows, r.cols)));
        }
        if r.bands > u16::MAX as usize || r.rows > u32::MAX as usize || r.cols > u32::MAX as usize {
            return Err(bad(format!("raster too large for TIFF: {} bands, {} rows, {} cols", r.bands, r.rows, r.cols)));
        }
        let expected = r.bands * r.rows * r.cols * r.cell_type.data_type.bytes_per_cell();
        if r.cells.len() != expected {
            return Err(bad(format!(
                "cells hold {} bytes; {} bands × {} rows × {} cols of {} need {expected}",
                r.cells.len(),
                r.bands,
                r.rows,
                r.cols,
                r.cell_type.name()
            )));
        }
        let [x0, y0, x1, y1] = extent;
        if !(extent.iter().all(|v| v.is_finite()) && x1 > x0 && y1 > y0) {
            return Err(bad(format!("extent must be finite with xmin < xmax and ymin < ymax, got {extent:?}")));
        }
        let dt = r.cell_type.data_type;

        let storage = match o.storage {
            Storage::Tiled { tile_cols, tile_rows } => {
                for (key, v) in [("tile_cols", tile_cols), ("tile_rows", tile_rows)] {
                    if v == 0 || v % 16 != 0 || v > 65536 {
                        return Err(bad(format!("{key} must be a positive multiple of 16 up to 65536, got {v}")));
                    }
                }
                o.storage
            }
            Storage::Striped { .. } if o.cog => {
                return Err(bad("storage: a COG must be tiled, not striped".into()));
            }
            Storage::Striped { rows_per_strip: Some(0) } => {
                return Err(bad("rows_per_strip must be positive, got 0".into()));
            }
            Storage::Striped { rows_per_strip } => {
                let rps = rows_per_strip.unwrap_or_else(|| (8000 / (r.rows * dt.bytes_per_cell())).max(1));
                Storage::Striped { rows_per_strip: Some(rps.min(r.rows)) }
            }
        };

        let predictor = match (o.predictor, dt) {
            // Readers apply a predictor only inside a codec (libtiff, GDAL): uncompressed data takes none.
            (false, _) => Predictor::None,
            (true, _) if o.compression == Compression::None => Predictor::None,
            (true, DataType::Bool) => return Err(bad("predictor: 1-bit (bool) cells take no predictor".into())),
            (true, dt) if dt.is_float() => Predictor::FloatingPoint,
            (true, _) => Predictor::Horizontal,
        };
        if let Compression::Deflate { level } = o.compression {
            if level > 9 {
                return Err(bad(format!("compression_level for deflate must be 0..=9, got {level}")));
            }
        }
        if let Compression::Zstd { level } = o.compression {
            if !(1..=22).contains(&level) {
                return Err(bad(format!("compression_level for zstd must be 1..=22, got {level}")));
            }
        }

        let photometric = match (o.color_space, &o.color_map) {
            (None | Some(PALETTE), Some(_)) => PALETTE,
            (Some(cs), Some(_)) => {
                return Err(bad(format!("color_space {cs} cannot go with a color_map; a color map is written as Palette (3)")))
            }
            (Some(PALETTE), None) => return Err(bad("color_space 3 (Palette) needs a color_map".into())),
            (None, None) => BLACK_IS_ZERO,
            (Some(cs @ (WHITE_IS_ZERO | BLACK_IS_ZERO)), None) => cs,
            (Some(RGB), None) if r.bands >= 3 => RGB,
            (Some(RGB), None) => return Err(bad(format!("color_space 2 (RGB) needs at least 3 bands, got {}", r.bands))),
            (Some(CMYK), None) if r.bands >= 4 => CMYK,
            (Some(CMYK), None) => return Err(bad(format!("color_space 5 (CMYK) needs at least 4 bands, got {}", r.bands))),
            (Some(cs), None) => {
                return Err(bad(format!(
                    "color_space {cs} is not supported; expected 0 (WhiteIsZero), 1 (BlackIsZero), 2 (RGB), 3 (Palette) or 5 (CMYK)"
                )))
            }
        };
        let palette = match &o.color_map {
            Some(colors) => {
                if r.bands != 1 {
                    return Err(bad(format!("color_map needs a single band raster, got {} bands", r.bands)));
                }
                Some(metadata::tiff_palette(colors, &r.cell_type)?)
            }
            None => None,
        };

        let mut decimations = o.decimations.clone();
        if let Some(d) = decimations.iter().find(|d| **d < 2) {
            return Err(bad(format!("decimations must all be at least 2, got {d}")));
        }
        decimations.sort_unstable();
        decimations.dedup();
        if o.cog && decimations.is_empty() {
            // GDAL's COG driver: halve until the overview fits in one tile.
            if let Storage::Tiled { tile_cols, tile_rows } = storage {
                let mut d = 1;
                while r.cols.div_ceil(d) > tile_cols || r.rows.div_ceil(d) > tile_rows {
                    d *= 2;
                    decimations.push(d);
                }
            }
        }
        if !decimations.is_empty() {
            ResampleMethod::parse(&o.resample_method)?;
        }

        if !o.band_tags.is_empty() && o.band_tags.len() != r.bands {
            return Err(bad(format!("band_tags has {} entries for {} bands", o.band_tags.len(), r.bands)));
        }

        let interleave = o.interleave.unwrap_or(if o.cog { Interleave::Pixel } else { Interleave::Band });
        Ok(Plan {
            cell_type: r.cell_type,
            bands: r.bands,
            storage,
            planar: interleave == Interleave::Band && r.bands > 1,
            predictor,
            compression: o.compression,
            photometric,
            palette,
            decimations,
            head_tags: o.head_tags.clone(),
            band_tags: o.band_tags.clone(),
        })
    }

    fn grid<'a>(&self, cells: &'a [u8], rows: usize, cols: usize) -> Grid<'a> {
        Grid {
            cells,
            bands: self.bands,
            rows,
            cols,
            cell_bytes: self.cell_type.data_type.bytes_per_cell(),
            one_bit: self.cell_type.data_type == DataType::Bool,
        }
    }

    /// The tags every image (full resolution and overviews) carries, and its segments.
    fn image(&self, g: &Grid, overview: bool) -> Result<Image> {
        let dt = self.cell_type.data_type;
        let layout = match self.storage {
            Storage::Tiled { tile_cols, tile_rows } => SegmentLayout { seg_cols: tile_cols, seg_rows: tile_rows, tiled: true },
            Storage::Striped { rows_per_strip } => {
                SegmentLayout { seg_cols: g.cols, seg_rows: rows_per_strip.unwrap_or(1).min(g.rows), tiled: false }
            }
        };
        let segments = segments::encode_segments(g, layout, self.planar, self.predictor, self.compression)?;
        let n = self.bands;
        let sample_format = match dt {
            DataType::Int8 | DataType::Int16 | DataType::Int32 => 2,
            DataType::Float32 | DataType::Float64 => 3,
            _ => 1,
        };
        let mut e = vec![
            Entry::long(256, g.cols as u32),
            Entry::long(257, g.rows as u32),
            Entry::shorts(258, &vec![dt.bits() as u16; n]),
            Entry::short(259, self.compression.tiff_code()),
            Entry::short(262, self.photometric),
            Entry::short(277, n as u16),
            Entry::short(284, if self.planar { 2 } else { 1 }),
            Entry::shorts(339, &vec![sample_format; n]),
        ];
        if overview {
            e.push(Entry::long(254, 1)); // NewSubfileType: reduced resolution image
        }
        if layout.tiled {
            e.push(Entry::long(322, layout.seg_cols as u32));
            e.push(Entry::long(323, layout.seg_rows as u32));
        } else {
            e.push(Entry::long(278, layout.seg_rows as u32));
        }
        if self.predictor != Predictor::None {
            e.push(Entry::short(317, self.predictor as u16));
        }
        if let Some(p) = &self.palette {
            e.push(Entry::shorts(320, p));
        }
        let colour_channels = match self.photometric {
            RGB => 3,
            CMYK => 4,
            _ => 1,
        };
        if n > colour_channels {
            e.push(Entry::shorts(338, &vec![0; n - colour_channels])); // ExtraSamples: unspecified
        }
        if let Some(nd) = metadata::nodata_text(&self.cell_type) {
            e.push(Entry::ascii(42113, &nd));
        }
        Ok(Image { entries: e, tiled: layout.tiled, segments })
    }

    /// Georeferencing and metadata tags, on the full resolution image only.
    fn dataset_entries(&self, r: &Raster, extent: [f64; 4], geo: Option<&geokeys::GeoKeyTags>) -> Vec<Entry> {
        let [x0, y0, x1, y1] = extent;
        let mut e = vec![
            Entry::doubles(33550, &[(x1 - x0) / r.cols as f64, (y1 - y0) / r.rows as f64, 0.0]),
            Entry::doubles(33922, &[0.0, 0.0, 0.0, x0, y1, 0.0]),
        ];
        if let Some(g) = geo {
            e.push(Entry::shorts(34735, &g.directory));
            if !g.double_params.is_empty() {
                e.push(Entry::doubles(34736, &g.double_params));
            }
            if !g.ascii_params.is_empty() {
                e.push(Entry::ascii(34737, &g.ascii_params));
            }
        }
        let mut head = Vec::new();
        for (k, v) in &self.head_tags {
            match metadata::baseline_ascii_tag(k) {
                Some(tag) => e.push(Entry::ascii(tag, v)),
                // The GeoKeys say PixelIsArea; GDAL derives AREA_OR_POINT from them.
                None if k == "AREA_OR_POINT" => {}
                None => head.push((k.clone(), v.clone())),
            }
        }
        if let Some(xml) = metadata::gdal_metadata_xml(&head, &self.band_tags) {
            e.push(Entry::ascii(42112, &xml));
        }
        e
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;
    use tiff::decoder::{Decoder, DecodingResult};
    use tiff::tags::Tag;

    fn raster(cells: &[u8], ct: &str, bands: usize, rows: usize, cols: usize) -> Raster<'static> {
        Raster {
            cells: Box::leak(cells.to_vec().into_boxed_slice()),
            cell_type: CellType::parse(ct).unwrap(),
            bands,
            rows,
            cols,
        }
    }

    const EXTENT: [f64; 4] = [0.0, 0.0, 10.0, 5.0];

    #[test]
    fn write_round_trips_through_the_tiff_crate() {
        let (rows, cols) = (37, 45);
        let vals: Vec<f32> = (0..rows * cols).map(|i| (i as f32).sin() * 100.0).collect();
        let cells: Vec<u8> = vals.iter().flat_map(|v| v.to_le_bytes()).collect();
        let r = raster(&cells, "float32", 1, rows, cols);
        for compression in [Compression::None, Compression::Deflate { level: 6 }, Compression::Lzw, Compression::Zstd { level: 9 }] {
            for predictor in [false, true] {
                for storage in [Storage::Tiled { tile_cols: 16, tile_rows: 32 }, Storage::Striped { rows_per_strip: Some(5) }] {
                    let o = WriteOptions { compression, predictor, storage, ..Default::default() };
                    let bytes = write_geotiff(&r, EXTENT, Some("EPSG:4326"), &o).unwrap();
                    let mut d = Decoder::new(Cursor::new(bytes)).unwrap();
                    assert_eq!(d.dimensions().unwrap(), (cols as u32, rows as u32));
                    match d.read_image().unwrap() {
                        DecodingResult::F32(got) => assert_eq!(got, vals, "{o:?}"),
                        other => panic!("unexpected {:?}", std::mem::discriminant(&other)),
                    }
                }
            }
        }
    }

    #[test]
    fn write_integer_predictor_round_trips() {
        let (rows, cols) = (20, 33);
        let vals: Vec<i16> = (0..rows * cols).map(|i| (i as i16).wrapping_mul(977)).collect();
        let cells: Vec<u8> = vals.iter().flat_map(|v| v.to_le_bytes()).collect();
        let r = raster(&cells, "int16", 1, rows, cols);
        let o = WriteOptions { compression: Compression::Deflate { level: 6 }, predictor: true, ..Default::default() };
        let mut d = Decoder::new(Cursor::new(write_geotiff(&r, EXTENT, None, &o).unwrap())).unwrap();
        assert_eq!(d.get_tag_u32(Tag::Predictor).unwrap(), 2);
        match d.read_image().unwrap() {
            DecodingResult::I16(got) => assert_eq!(got, vals),
            _ => panic!("not i16"),
        }
    }

    #[test]
    fn write_overviews_are_reduced_resolution_ifds() {
        let cells: Vec<u8> = (0..100 * 70).map(|i| (i % 251) as u8).collect();
        let r = raster(&cells, "uint8", 1, 70, 100);
        let o = WriteOptions { decimations: vec![4, 2], ..Default::default() };
        let mut d = Decoder::new(Cursor::new(write_geotiff(&r, EXTENT, None, &o).unwrap())).unwrap();
        let mut dims = vec![d.dimensions().unwrap()];
        while d.more_images() {
            d.next_image().unwrap();
            assert_eq!(d.get_tag_u32(Tag::NewSubfileType).unwrap(), 1);
            dims.push(d.dimensions().unwrap());
        }
        assert_eq!(dims, vec![(100, 70), (50, 35), (25, 18)]);
    }

    #[test]
    fn write_cog_default_overviews_reach_one_tile() {
        let cells = vec![1u8; 600 * 300];
        let r = raster(&cells, "uint8", 1, 300, 600);
        let o = WriteOptions { cog: true, ..Default::default() };
        let plan = Plan::new(&r, EXTENT, &o).unwrap();
        assert_eq!(plan.decimations, vec![2, 4]);
    }

    #[test]
    fn write_rejects_bad_input() {
        let cells = vec![0u8; 10];
        let r = raster(&cells, "uint8", 1, 2, 5);
        let err = |o: WriteOptions| write_geotiff(&r, EXTENT, None, &o).unwrap_err().to_string();
        assert!(err(WriteOptions { storage: Storage::Tiled { tile_cols: 10, tile_rows: 16 }, ..Default::default() }).contains("tile_cols"));
        assert!(err(WriteOptions { color_space: Some(RGB), ..Default::default() }).contains("3 bands"));
        assert!(err(WriteOptions { decimations: vec![1], ..Default::default() }).contains("decimations"));
        let short = raster(&cells[..9], "uint8", 1, 2, 5);
        assert!(write_geotiff(&short, EXTENT, None, &WriteOptions::default()).is_err());
        assert!(write_geotiff(&r, [0.0, 0.0, 0.0, 1.0], None, &WriteOptions::default()).is_err());
    }

    #[test]
    fn write_default_strip_height_is_geotrellis() {
        let cells = vec![0u8; 100 * 50 * 2];
        let r = raster(&cells, "int16", 1, 50, 100);
        let o = WriteOptions { storage: Storage::Striped { rows_per_strip: None }, ..Default::default() };
        let plan = Plan::new(&r, EXTENT, &o).unwrap();
        assert_eq!(plan.storage, Storage::Striped { rows_per_strip: Some(50) }); // 8000 / (50 × 2) = 80, capped
    }
}
