//! What a GeoTIFF header says: image layout of the full-resolution image and its overviews (each with
//! its internal mask, if any), the GeoTrellis cell type, georeferencing (geotransform, extent, CRS) and
//! metadata tags under GDAL's names.

use std::collections::BTreeMap;

use super::cached::CachedSource;
use super::geokeys::{GeoKeys, GEO_ASCII_PARAMS_TAG, GEO_DOUBLE_PARAMS_TAG, GEO_KEY_DIRECTORY_TAG};
use super::ifd::{read_structure, Ifd};
use crate::cell_type::{CellType, DataType, NoData};
use crate::error::{EngineError, Result};

const NEW_SUBFILE_TYPE: u16 = 254;
const IMAGE_WIDTH: u16 = 256;
const IMAGE_LENGTH: u16 = 257;
const BITS_PER_SAMPLE: u16 = 258;
const COMPRESSION: u16 = 259;
const PHOTOMETRIC: u16 = 262;
const STRIP_OFFSETS: u16 = 273;
const SAMPLES_PER_PIXEL: u16 = 277;
const ROWS_PER_STRIP: u16 = 278;
const STRIP_BYTE_COUNTS: u16 = 279;
const PLANAR_CONFIG: u16 = 284;
const PREDICTOR: u16 = 317;
const COLOR_MAP: u16 = 320;
const TILE_WIDTH: u16 = 322;
const TILE_LENGTH: u16 = 323;
const TILE_OFFSETS: u16 = 324;
const TILE_BYTE_COUNTS: u16 = 325;
const EXTRA_SAMPLES: u16 = 338;
const SAMPLE_FORMAT: u16 = 339;
const JPEG_TABLES: u16 = 347;
const MODEL_PIXEL_SCALE: u16 = 33550;
const MODEL_TIEPOINT: u16 = 33922;
const MODEL_TRANSFORMATION: u16 = 34264;
const GDAL_METADATA: u16 = 42112;
const GDAL_NODATA: u16 = 42113;
/// GDAL's LercParameters: [LERC version, additional compression (0 none, 1 deflate, 2 zstd)].
const LERC_PARAMETERS: u16 = 50674;

/// ASCII TIFF tags reported under GDAL's metadata names.
const ASCII_TAGS: [(u16, &str); 7] = [
    (269, "TIFFTAG_DOCUMENTNAME"),
    (270, "TIFFTAG_IMAGEDESCRIPTION"),
    (305, "TIFFTAG_SOFTWARE"),
    (306, "TIFFTAG_DATETIME"),
    (315, "TIFFTAG_ARTIST"),
    (316, "TIFFTAG_HOSTCOMPUTER"),
    (33432, "TIFFTAG_COPYRIGHT"),
];

/// How samples are stored in the file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SampleKind {
    Bit,
    U8,
    I8,
    U16,
    I16,
    U32,
    I32,
    F32,
    U64,
    I64,
    F64,
}

impl SampleKind {
    /// Whether `v` lies within the range of this sample type (floats cover every value).
    pub fn covers(self, v: f64) -> bool {
        let (lo, hi) = match self {
            SampleKind::Bit => (0.0, 1.0),
            SampleKind::U8 => (0.0, 255.0),
            SampleKind::I8 => (-128.0, 127.0),
            SampleKind::U16 => (0.0, 65535.0),
            SampleKind::I16 => (-32768.0, 32767.0),
            SampleKind::U32 => (0.0, u32::MAX as f64),
            SampleKind::I32 => (i32::MIN as f64, i32::MAX as f64),
            SampleKind::U64 => (0.0, u64::MAX as f64),
            SampleKind::I64 => (i64::MIN as f64, i64::MAX as f64),
            SampleKind::F32 | SampleKind::F64 => return true,
        };
        v >= lo && v <= hi
    }

    /// Whether a sample of this type can hold `v` exactly (in range, and whole for integer types).
    pub fn holds(self, v: f64) -> bool {
        self.covers(v) && (matches!(self, SampleKind::F32 | SampleKind::F64) || v.fract() == 0.0)
    }

    pub fn bits(self) -> usize {
        match self {
            SampleKind::Bit => 1,
            SampleKind::U8 | SampleKind::I8 => 8,
            SampleKind::U16 | SampleKind::I16 => 16,
            SampleKind::U32 | SampleKind::I32 | SampleKind::F32 => 32,
            SampleKind::U64 | SampleKind::I64 | SampleKind::F64 => 64,
        }
    }

    /// Bytes per sample once unpacked (1-bit samples become one byte).
    pub fn bytes(self) -> usize {
        self.bits().div_ceil(8)
    }

    /// The GeoTrellis storage type: uint32 becomes float32 as in GeoTrellis; 64-bit integers (which
    /// GeoTrellis cannot read) become float64.
    pub fn data_type(self) -> DataType {
        match self {
            SampleKind::Bit => DataType::Bool,
            SampleKind::U8 => DataType::UInt8,
            SampleKind::I8 => DataType::Int8,
            SampleKind::U16 => DataType::UInt16,
            SampleKind::I16 => DataType::Int16,
            SampleKind::I32 => DataType::Int32,
            SampleKind::U32 | SampleKind::F32 => DataType::Float32,
            SampleKind::U64 | SampleKind::I64 | SampleKind::F64 => DataType::Float64,
        }
    }

    fn from_tags(bits: u16, format: u16) -> Option<SampleKind> {
        // SampleFormat 1 uint, 2 int, 3 float, 4 undefined (read as uint).
        Some(match (bits, format) {
            (1, 1 | 4) => SampleKind::Bit,
            (8, 1 | 4) => SampleKind::U8,
            (8, 2) => SampleKind::I8,
            (16, 1 | 4) => SampleKind::U16,
            (16, 2) => SampleKind::I16,
            (32, 1 | 4) => SampleKind::U32,
            (32, 2) => SampleKind::I32,
            (32, 3) => SampleKind::F32,
            (64, 1 | 4) => SampleKind::U64,
            (64, 2) => SampleKind::I64,
            (64, 3) => SampleKind::F64,
            _ => return None,
        })
    }
}

/// Storage layout of one image (the full resolution one or an overview).
#[derive(Clone, Debug)]
pub struct ImageLayout {
    pub width: usize,
    pub height: usize,
    pub bands: usize,
    pub kind: SampleKind,
    pub tiled: bool,
    pub segment_cols: usize,
    pub segment_rows: usize,
    pub planar: bool,
    pub compression: u16,
    pub predictor: u16,
    pub photometric: u16,
    pub offsets: Vec<u64>,
    pub byte_counts: Vec<u64>,
    pub jpeg_tables: Option<Vec<u8>>,
    /// The LercParameters tag's values (empty without it).
    pub lerc_parameters: Vec<u64>,
}

impl ImageLayout {
    pub fn segments_across(&self) -> usize {
        self.width.div_ceil(self.segment_cols)
    }

    pub fn segments_down(&self) -> usize {
        self.height.div_ceil(self.segment_rows)
    }

    pub fn segments_per_plane(&self) -> usize {
        self.segments_across() * self.segments_down()
    }

    /// The compression as GDAL's `COMPRESS=` creation option spells it, lowercased.
    pub fn compression_name(&self) -> String {
        match self.compression {
            1 => "none".into(),
            5 => "lzw".into(),
            7 => "jpeg".into(),
            8 | 32946 => "deflate".into(),
            32773 => "packbits".into(),
            34712 => "jpeg2000".into(),
            34887 => match self.lerc_parameters.get(1) {
                Some(1) => "lerc_deflate".into(),
                Some(2) => "lerc_zstd".into(),
                _ => "lerc".into(),
            },
            34925 => "lzma".into(),
            50000 => "zstd".into(),
            50001 => "webp".into(),
            50002 => "jxl".into(),
            c => format!("unknown({c})"),
        }
    }

    fn from_ifd(ifd: &Ifd, path: &str) -> Result<ImageLayout> {
        let bad = |m: String| EngineError::geotiff(path, m);
        let width = ifd
            .u64(IMAGE_WIDTH)
            .ok_or_else(|| bad("no ImageWidth tag".into()))? as usize;
        let height = ifd
            .u64(IMAGE_LENGTH)
            .ok_or_else(|| bad("no ImageLength tag".into()))? as usize;
        if width == 0 || height == 0 || width > 1 << 31 || height > 1 << 31 {
            return Err(bad(format!("invalid image size {width}x{height}")));
        }
        let bands = ifd.u64(SAMPLES_PER_PIXEL).unwrap_or(1) as usize;
        if bands == 0 || bands > 65_535 {
            return Err(bad(format!("invalid SamplesPerPixel {bands}")));
        }
        let all_same = |tag: u16, default: u16| -> Result<u16> {
            match ifd.get(tag).and_then(|v| v.as_u64s()) {
                None => Ok(default),
                Some(v) if v.is_empty() => Ok(default),
                Some(v) if v.iter().all(|&x| x == v[0]) => Ok(v[0].min(u16::MAX as u64) as u16),
                Some(v) => Err(EngineError::unsupported(
                    path,
                    format!("bands with different sample types are not supported (tag {tag}: {v:?})"),
                )),
            }
        };
        let bits = all_same(BITS_PER_SAMPLE, 1)?;
        let format = all_same(SAMPLE_FORMAT, 1)?;
        let kind = SampleKind::from_tags(bits, format).ok_or_else(|| {
            let compression = ifd.u64(COMPRESSION).unwrap_or(1);
            if compression == 7 && bits == 12 {
                // GDAL writes 12-bit JPEG (NBITS=12) where libjpeg is built for it; no Rust JPEG
                // decoder reads the 12-bit (extended sequential) process.
                return EngineError::unsupported(
                    path,
                    "12-bit JPEG compression is not supported (the JPEG decoder, zune-jpeg, reads 8-bit JPEG only)",
                );
            }
            EngineError::unsupported(
                path,
                format!("unsupported sample type: {bits} bits, SampleFormat {format}"),
            )
        })?;
        let planar = ifd.u64(PLANAR_CONFIG).unwrap_or(1) == 2 && bands > 1;
        let tiled = ifd.get(TILE_OFFSETS).is_some();
        let (segment_cols, segment_rows, offsets_tag, counts_tag) = if tiled {
            let tw = ifd
                .u64(TILE_WIDTH)
                .ok_or_else(|| bad("tiled image without TileWidth".into()))?;
            let th = ifd
                .u64(TILE_LENGTH)
                .ok_or_else(|| bad("tiled image without TileLength".into()))?;
            (tw as usize, th as usize, TILE_OFFSETS, TILE_BYTE_COUNTS)
        } else {
            let rps = ifd.u64(ROWS_PER_STRIP).unwrap_or(u32::MAX as u64).max(1);
            (
                width,
                (rps as usize).min(height),
                STRIP_OFFSETS,
                STRIP_BYTE_COUNTS,
            )
        };
        if segment_cols == 0
            || segment_rows == 0
            || segment_cols > 1 << 20
            || segment_rows > 1 << 31
        {
            return Err(bad(format!(
                "invalid segment size {segment_cols}x{segment_rows}"
            )));
        }
        let offsets = ifd
            .get(offsets_tag)
            .and_then(|v| v.as_u64s())
            .ok_or_else(|| bad("no segment offsets".into()))?;
        let byte_counts = ifd
            .get(counts_tag)
            .and_then(|v| v.as_u64s())
            .ok_or_else(|| bad("no segment byte counts".into()))?;
        let layout = ImageLayout {
            width,
            height,
            bands,
            kind,
            tiled,
            segment_cols,
            segment_rows,
            planar,
            compression: ifd.u64(COMPRESSION).unwrap_or(1) as u16,
            predictor: ifd.u64(PREDICTOR).unwrap_or(1) as u16,
            photometric: ifd.u64(PHOTOMETRIC).unwrap_or(1) as u16,
            offsets,
            byte_counts,
            jpeg_tables: ifd.get(JPEG_TABLES).and_then(|v| v.as_bytes()),
            lerc_parameters: ifd.get(LERC_PARAMETERS).and_then(|v| v.as_u64s()).unwrap_or_default(),
        };
        let needed = layout.segments_per_plane() * if planar { bands } else { 1 };
        if layout.offsets.len() < needed || layout.byte_counts.len() < needed {
            return Err(bad(format!(
                "{} segment offsets and {} byte counts for {needed} segments",
                layout.offsets.len(),
                layout.byte_counts.len()
            )));
        }
        Ok(layout)
    }
}

#[derive(Clone, Debug)]
pub struct GeoTiffInfo {
    pub path: String,
    pub little_endian: bool,
    pub bigtiff: bool,
    pub image: ImageLayout,
    pub overviews: Vec<ImageLayout>,
    /// The internal mask of each image (GDAL's per-dataset mask: NewSubfileType bit 2 with
    /// PhotometricInterpretation 4, written with GDAL_TIFF_INTERNAL_MASK=YES), indexed as
    /// [`GeoTiffInfo::layout`]: 0 for full resolution, k for the k-th overview.
    pub masks: Vec<Option<ImageLayout>>,
    /// The band (from 0) that is an alpha channel (ExtraSamples 1, associated, or 2, unassociated), if any.
    pub alpha_band: Option<usize>,
    pub cell_type: CellType,
    /// The GDAL_NODATA value, at the precision of the sample type for float32 (as GDAL reports it).
    pub no_data: Option<f64>,
    /// GDAL's geotransform: x = gt[0] + col*gt[1] + row*gt[2], y = gt[3] + col*gt[4] + row*gt[5], of
    /// pixel corners (PixelIsPoint files are shifted by half a pixel, as GDAL does).
    pub geotransform: [f64; 6],
    /// (xmin, ymin, xmax, ymax)
    pub extent: (f64, f64, f64, f64),
    pub crs: Option<String>,
    pub pixel_is_point: bool,
    /// Palette entries as 0xRRGGBBAA.
    pub color_map: Option<Vec<u32>>,
    pub tags: BTreeMap<String, String>,
    pub band_tags: Vec<BTreeMap<String, String>>,
}

impl GeoTiffInfo {
    /// The internal mask of image `ifd` (0: full resolution, k: k-th overview), if it has one.
    pub fn mask(&self, ifd: usize) -> Option<&ImageLayout> {
        self.masks.get(ifd).and_then(|m| m.as_ref())
    }

    /// The layout of image `ifd`: 0 is full resolution, k the k-th overview.
    pub fn layout(&self, ifd: usize) -> Result<&ImageLayout> {
        if ifd == 0 {
            return Ok(&self.image);
        }
        self.overviews.get(ifd - 1).ok_or_else(|| {
            EngineError::Value(format!(
                "{}: overview {ifd} does not exist; the file has {} overview(s)",
                self.path,
                self.overviews.len()
            ))
        })
    }
}

/// Reads the header of a GeoTIFF.
pub fn read_info(src: &CachedSource) -> Result<GeoTiffInfo> {
    let path = src.name().to_string();
    let tiff = read_structure(src)?;
    let subfile = |ifd: &Ifd| ifd.u64(NEW_SUBFILE_TYPE).unwrap_or(0);
    let main_ifd = tiff
        .ifds
        .iter()
        .find(|i| subfile(i) & 1 == 0)
        .unwrap_or(&tiff.ifds[0]);
    let image = ImageLayout::from_ifd(main_ifd, &path)?;
    // Reduced-resolution images that are not masks (bit 2) are overviews, in file order.
    let mut overviews = Vec::new();
    for ifd in tiff
        .ifds
        .iter()
        .filter(|i| subfile(i) & 1 == 1 && subfile(i) & 4 == 0)
    {
        let ov = ImageLayout::from_ifd(ifd, &path)?;
        if ov.bands == image.bands && ov.kind == image.kind {
            overviews.push(ov);
        }
    }
    // Each mask belongs to the image of its size (GDAL writes it right after that image); a mask
    // matching no image is ignored, as GDAL does.
    let mut masks: Vec<Option<ImageLayout>> = vec![None; 1 + overviews.len()];
    for ifd in tiff
        .ifds
        .iter()
        .filter(|i| subfile(i) & 4 == 4 && i.u64(PHOTOMETRIC) == Some(4))
    {
        let mask = ImageLayout::from_ifd(ifd, &path)?;
        if mask.bands != 1 || !matches!(mask.kind, SampleKind::Bit | SampleKind::U8) {
            continue;
        }
        let images = std::iter::once(&image).chain(overviews.iter());
        let slot = images
            .zip(masks.iter())
            .position(|(im, m)| m.is_none() && (im.width, im.height) == (mask.width, mask.height));
        if let Some(i) = slot {
            masks[i] = Some(mask);
        }
    }

    // ExtraSamples describes the last bands; GDAL takes the first alpha among them as the alpha band.
    let alpha_band = main_ifd.get(EXTRA_SAMPLES).and_then(|v| v.as_u64s()).and_then(|extra| {
        let first = image.bands.checked_sub(extra.len())?;
        extra.iter().position(|&e| e == 1 || e == 2).map(|i| first + i)
    });
    let raw_no_data = main_ifd
        .get(GDAL_NODATA)
        .and_then(|v| v.as_str())
        .and_then(|s| parse_gdal_number(s.trim()));
    // As rasterio reports it: at float32 precision, and none when outside an integer type's range.
    let no_data = match (image.kind, raw_no_data) {
        (SampleKind::F32, Some(v)) => Some(v as f32 as f64),
        (kind, Some(v)) if !kind.covers(v) => None,
        (_, v) => v,
    };
    let cell_type = geotrellis_cell_type(image.kind, raw_no_data);

    let keys = match main_ifd
        .get(GEO_KEY_DIRECTORY_TAG)
        .and_then(|v| v.as_u64s())
    {
        Some(dir) => {
            let dir: Vec<u16> = dir.iter().map(|&x| x.min(u16::MAX as u64) as u16).collect();
            let doubles = main_ifd
                .get(GEO_DOUBLE_PARAMS_TAG)
                .and_then(|v| v.as_f64s())
                .unwrap_or_default();
            let ascii = main_ifd
                .get(GEO_ASCII_PARAMS_TAG)
                .and_then(|v| v.as_str())
                .unwrap_or("")
                .to_string();
            Some(GeoKeys::parse(&dir, &doubles, &ascii))
        }
        None => None,
    };
    let pixel_is_point = keys.as_ref().is_some_and(|k| k.pixel_is_point());
    let crs = keys.as_ref().and_then(|k| k.crs());

    let mut gt = geotransform(main_ifd);
    if pixel_is_point {
        // GDAL's default (GTIFF_POINT_GEO_IGNORE=NO): the tiepoint names a pixel centre.
        gt[0] -= 0.5 * gt[1] + 0.5 * gt[2];
        gt[3] -= 0.5 * gt[4] + 0.5 * gt[5];
    }
    let (w, h) = (image.width as f64, image.height as f64);
    let xs = [
        gt[0],
        gt[0] + w * gt[1],
        gt[0] + h * gt[2],
        gt[0] + w * gt[1] + h * gt[2],
    ];
    let ys = [
        gt[3],
        gt[3] + w * gt[4],
        gt[3] + h * gt[5],
        gt[3] + w * gt[4] + h * gt[5],
    ];
    let fold = |v: &[f64; 4], f: fn(f64, f64) -> f64| v[1..].iter().fold(v[0], |a, &b| f(a, b));
    let extent = (
        fold(&xs, f64::min),
        fold(&ys, f64::min),
        fold(&xs, f64::max),
        fold(&ys, f64::max),
    );

    let color_map = if image.photometric == 3 {
        main_ifd
            .get(COLOR_MAP)
            .and_then(|v| v.as_u64s())
            .and_then(|v| {
                let n = v.len() / 3;
                (n > 0).then(|| {
                    (0..n)
                        .map(|i| {
                            let c = |x: u64| ((x.min(65535) / 257) as u32) & 0xFF;
                            (c(v[i]) << 24) | (c(v[n + i]) << 16) | (c(v[2 * n + i]) << 8) | 0xFF
                        })
                        .collect()
                })
            })
    } else {
        None
    };

    let mut tags = BTreeMap::new();
    let mut band_tags = vec![BTreeMap::new(); image.bands];
    for (tag, name) in ASCII_TAGS {
        if let Some(s) = main_ifd.get(tag).and_then(|v| v.as_str()) {
            tags.insert(name.to_string(), s.to_string());
        }
    }
    if let Some(xml) = main_ifd.get(GDAL_METADATA).and_then(|v| v.as_str()) {
        for item in metadata_items(xml) {
            match item.sample {
                None => {
                    tags.insert(item.name, item.value);
                }
                Some(b) => {
                    if let Some(t) = band_tags.get_mut(b) {
                        t.insert(item.name, item.value);
                    }
                }
            }
        }
    }
    if keys.is_some() {
        tags.insert(
            "AREA_OR_POINT".into(),
            if pixel_is_point { "Point" } else { "Area" }.into(),
        );
    }

    Ok(GeoTiffInfo {
        path,
        little_endian: tiff.little_endian,
        bigtiff: tiff.bigtiff,
        alpha_band,
        image,
        overviews,
        masks,
        cell_type,
        no_data,
        geotransform: gt,
        extent,
        crs,
        pixel_is_point,
        color_map,
        tags,
        band_tags,
    })
}


/// A number as GDAL writes GDAL_NODATA ("-9999", "1e+20", "nan", "-inf").
fn parse_gdal_number(s: &str) -> Option<f64> {
    s.parse::<f64>().ok()
}

fn geotransform(ifd: &Ifd) -> [f64; 6] {
    if let Some(m) = ifd
        .get(MODEL_TRANSFORMATION)
        .and_then(|v| v.as_f64s())
        .filter(|m| m.len() >= 16)
    {
        return [m[3], m[0], m[1], m[7], m[4], m[5]];
    }
    let tie = ifd
        .get(MODEL_TIEPOINT)
        .and_then(|v| v.as_f64s())
        .filter(|t| t.len() >= 6);
    let scale = ifd
        .get(MODEL_PIXEL_SCALE)
        .and_then(|v| v.as_f64s())
        .filter(|s| s.len() >= 2);
    match (tie, scale) {
        (Some(t), Some(s)) => [
            t[3] - t[0] * s[0],
            s[0],
            0.0,
            t[4] + t[1] * s[1],
            0.0,
            -s[1],
        ],
        // No georeferencing (or ground control points only): GDAL's default pixel grid.
        _ => [0.0, 1.0, 0.0, 0.0, 0.0, 1.0],
    }
}

/// The cell type GeoTrellis' GeoTiffReader gives a sample type with a GDAL_NODATA value.
pub fn geotrellis_cell_type(kind: SampleKind, nd: Option<f64>) -> CellType {
    use NoData::{Constant, Raw, UserDefined};
    let dt = kind.data_type();
    let no_data = match (kind, nd) {
        (SampleKind::Bit, _) => Raw,
        (SampleKind::I8, Some(v)) if (v as i32) > -128 && v <= 127.0 => {
            UserDefined((v as i32) as f64)
        }
        (SampleKind::I8, Some(v)) if (v as i32) == -128 => Constant,
        (SampleKind::U8, Some(v)) if (v as i32) > 0 && v <= 255.0 => UserDefined((v as i32) as f64),
        (SampleKind::U8, Some(v)) if (v as i32) == 0 => Constant,
        (SampleKind::I16, Some(v)) if v > -32768.0 && v <= 32767.0 => {
            UserDefined((v as i16) as f64)
        }
        (SampleKind::I16, Some(v)) if v == -32768.0 => Constant,
        (SampleKind::U16, Some(v)) if (v as i32) > 0 && v <= 65535.0 => {
            UserDefined((v as i32) as f64)
        }
        (SampleKind::U16, Some(v)) if (v as i32) == 0 => Constant,
        (SampleKind::I32, Some(v)) if (v as i32) > i32::MIN => UserDefined((v as i32) as f64),
        (SampleKind::I32, Some(_)) => Constant,
        (SampleKind::U32, Some(v)) if (v as i64) > 0 && (v as i64) <= u32::MAX as i64 => {
            UserDefined(v as f32 as f64)
        }
        (SampleKind::U32, Some(v)) if (v as i64) == 0 => Constant,
        (SampleKind::F32, Some(v)) if !v.is_nan() && v.abs() <= f32::MAX as f64 => {
            UserDefined(v as f32 as f64)
        }
        (SampleKind::F32, Some(_)) => Constant,
        (SampleKind::F64 | SampleKind::U64 | SampleKind::I64, Some(v)) if !v.is_nan() => {
            UserDefined(v)
        }
        (SampleKind::F64 | SampleKind::U64 | SampleKind::I64, Some(_)) => Constant,
        _ => Raw,
    };
    CellType::new(dt, no_data)
}

struct MetadataItem {
    name: String,
    sample: Option<usize>,
    value: String,
}

/// Items of GDAL's metadata XML in the default domain without a role (roles such as `scale`,
/// `offset` or `description` are band properties, not tags).
fn metadata_items(xml: &str) -> Vec<MetadataItem> {
    let mut items = Vec::new();
    let mut rest = xml;
    while let Some(start) = rest.find("<Item") {
        rest = &rest[start + 5..];
        let Some(gt) = rest.find('>') else { break };
        let attrs = &rest[..gt];
        let self_closing = attrs.ends_with('/');
        let body = &rest[gt + 1..];
        let (value, next) = if self_closing {
            ("", body)
        } else {
            match body.find("</Item>") {
                Some(end) => (&body[..end], &body[end + 7..]),
                None => break,
            }
        };
        rest = next;
        let attr = |name: &str| -> Option<String> {
            let key = format!("{name}=\"");
            let i = attrs.find(&key)?;
            // The attribute name must start a word (not match "sample" inside "xsample").
            if i > 0 && !attrs[..i].ends_with(char::is_whitespace) {
                return None;
            }
            let v = &attrs[i + key.len()..];
            Some(unescape(&unescape(&v[..v.find('"')?])))
        };
        let Some(name) = attr("name") else { continue };
        if attr("role").is_some() || attr("domain").is_some_and(|d| !d.is_empty()) {
            continue;
        }
        let sample = match attr("sample") {
            Some(s) => match s.parse::<usize>() {
                Ok(b) => Some(b),
                Err(_) => continue,
            },
            None => None,
        };
        // GDAL escapes item text twice when writing (`&` is stored as `&amp;amp;`) and unescapes twice
        // when reading; do the same so values agree with GDAL's.
        items.push(MetadataItem {
            name,
            sample,
            value: unescape(&unescape(value)),
        });
    }
    items
}

fn unescape(s: &str) -> String {
    if !s.contains('&') {
        return s.to_string();
    }
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&#10;", "\n")
        .replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gdal_metadata_items() {
        let xml = r#"<GDALMetadata>
  <Item name="A">1 &amp; 2</Item>
  <Item name="B" sample="1">band two</Item>
  <Item name="SCALE" sample="0" role="scale">2</Item>
  <Item name="X" domain="IMAGE_STRUCTURE">y</Item>
</GDALMetadata>"#;
        let items = metadata_items(xml);
        assert_eq!(items.len(), 2);
        assert_eq!(
            (
                items[0].name.as_str(),
                items[0].value.as_str(),
                items[0].sample
            ),
            ("A", "1 & 2", None)
        );
        assert_eq!((items[1].name.as_str(), items[1].sample), ("B", Some(1)));
    }

    #[test]
    fn cell_types_follow_geotrellis() {
        let n = |k, nd| geotrellis_cell_type(k, nd).name();
        assert_eq!(n(SampleKind::U8, None), "uint8raw");
        assert_eq!(n(SampleKind::U8, Some(255.0)), "uint8ud255");
        assert_eq!(n(SampleKind::U8, Some(0.0)), "uint8");
        assert_eq!(n(SampleKind::U8, Some(-1.0)), "uint8raw");
        assert_eq!(n(SampleKind::I8, Some(-128.0)), "int8");
        assert_eq!(n(SampleKind::I32, Some(2147483647.0)), "int32ud2147483647");
        assert_eq!(n(SampleKind::I32, Some(-2147483648.0)), "int32");
        assert_eq!(n(SampleKind::F32, Some(-9999.0)), "float32ud-9999.0");
        assert_eq!(n(SampleKind::F32, Some(f64::NAN)), "float32");
        assert_eq!(n(SampleKind::F32, None), "float32raw");
        assert_eq!(n(SampleKind::U32, None), "float32raw");
        assert_eq!(n(SampleKind::Bit, Some(1.0)), "bool");
        assert_eq!(n(SampleKind::I64, None), "float64raw");
    }
}
