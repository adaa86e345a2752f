//! Rendering tiles to pictures: colour maps (`colormap`), colour ramps (`ramp`) and PNG encoding (`png`).
//!
//! The PNG's colour type is chosen from the colour map's colours, not from the pixels, as GeoTrellis'
//! `PngColorEncoding` does: a palette when they fit in 256 entries, else grey or RGB with one fully
//! transparent value when every other colour is opaque, else grey+alpha or RGBA.

pub mod colormap;
pub mod png;
pub mod ramp;

use colormap::{Class, ColorMap};
use png::{PngKind, PngOptions};

use crate::error::{EngineError, Result};

fn channels(c: u32) -> [u8; 4] {
    c.to_be_bytes()
}

fn is_grey(c: u32) -> bool {
    let [r, g, b, _] = channels(c);
    r == g && g == b
}

/// The PNG kind that stores every colour of `colors` exactly.
pub fn kind_for_colors(colors: &[u32]) -> PngKind {
    // Distinct colours in first-seen order, stopping once there are more than a palette holds.
    let mut seen = std::collections::HashSet::with_capacity(257);
    let mut distinct: Vec<u32> = Vec::with_capacity(257);
    for &c in colors {
        if seen.insert(c) {
            distinct.push(c);
            if distinct.len() > 256 {
                break;
            }
        }
    }
    if distinct.len() <= 256 {
        return PngKind::Palette { colors: distinct };
    }
    kind_for_many(colors)
}

/// The PNG kind for more colours than a palette holds (also used for direct RGBA pictures).
fn kind_for_many(colors: &[u32]) -> PngKind {
    let grey = colors.iter().all(|&c| is_grey(c));
    let translucent: Vec<u32> = {
        let mut v: Vec<u32> = colors.iter().copied().filter(|c| c & 0xff != 0xff).collect();
        v.sort_unstable();
        v.dedup();
        v
    };
    // One fully transparent colour whose RGB no opaque colour shares can be a tRNS value.
    let transparent = match translucent.as_slice() {
        [] => Some(None),
        [t] if t & 0xff == 0 && !colors.iter().any(|&c| c & 0xff == 0xff && c >> 8 == t >> 8) => Some(Some(*t)),
        _ => None,
    };
    match (grey, transparent) {
        (true, Some(t)) => PngKind::Grey { transparent: t.map(|t| channels(t)[0]) },
        (false, Some(t)) => PngKind::Rgb { transparent: t.map(|t| [channels(t)[0], channels(t)[1], channels(t)[2]]) },
        (true, None) => PngKind::GreyAlpha,
        (false, None) => PngKind::Rgba,
    }
}

/// Samples of RGBA pixels as `kind` stores them (not for palettes).
fn pack(rgba: &[u32], kind: &PngKind) -> Vec<u8> {
    match kind {
        PngKind::Grey { transparent } => rgba
            .iter()
            .map(|&c| match transparent {
                Some(t) if c & 0xff == 0 => *t,
                _ => channels(c)[0],
            })
            .collect(),
        PngKind::GreyAlpha => rgba.iter().flat_map(|&c| [channels(c)[0], channels(c)[3]]).collect(),
        PngKind::Rgb { transparent } => rgba
            .iter()
            .flat_map(|&c| match transparent {
                Some(t) if c & 0xff == 0 => *t,
                _ => [channels(c)[0], channels(c)[1], channels(c)[2]],
            })
            .collect(),
        PngKind::Rgba => rgba.iter().flat_map(|&c| channels(c)).collect(),
        PngKind::Palette { .. } => unreachable!("palette pictures are packed from classes"),
    }
}

/// The colours of `values` (working values, NaN = NoData) through `map`.
///
/// # Errors
/// A value outside every class of a strict map.
pub fn render_rgba(values: &[f64], map: &ColorMap) -> Result<Vec<u32>> {
    values.iter().map(|&v| map.color_of(v)).collect()
}

/// A PNG of one band (`rows × cols` working values) coloured by `map`.
///
/// # Errors
/// A value outside every class of a strict map; sizes that disagree.
pub fn render_png(values: &[f64], cols: usize, rows: usize, map: &ColorMap, options: PngOptions) -> Result<Vec<u8>> {
    if values.len() != cols * rows {
        return Err(EngineError::Value(format!("{} values for a {cols}×{rows} picture", values.len())));
    }
    let mut palette = map.colors().to_vec();
    palette.push(map.no_data_color());
    palette.push(map.fallback());
    match kind_for_colors(&palette) {
        PngKind::Palette { colors } => {
            let index_of = |c: u32| colors.iter().position(|&p| p == c).unwrap() as u8;
            let breaks: Vec<u8> = map.colors().iter().map(|&c| index_of(c)).collect();
            let (no_data, fallback) = (index_of(map.no_data_color()), index_of(map.fallback()));
            let mut pixels = Vec::with_capacity(values.len());
            for &v in values {
                pixels.push(match map.class_of(v) {
                    Class::Break(i) => breaks[i],
                    Class::NoData => no_data,
                    Class::Fallback if map.is_strict() => return Err(map.unmapped(v)),
                    Class::Fallback => fallback,
                });
            }
            png::encode(cols, rows, &PngKind::Palette { colors }, &pixels, options)
        }
        kind => png::encode(cols, rows, &kind, &pack(&render_rgba(values, map)?, &kind), options),
    }
}

/// A PNG of RGBA pixels (`0xRRGGBBAA`), stored in the smallest kind that keeps them exact.
///
/// # Errors
/// Sizes that disagree.
pub fn encode_rgba(rgba: &[u32], cols: usize, rows: usize, options: PngOptions) -> Result<Vec<u8>> {
    match kind_for_colors(rgba) {
        PngKind::Palette { colors } => {
            let mut sorted: Vec<(u32, u8)> = colors.iter().enumerate().map(|(i, &c)| (c, i as u8)).collect();
            sorted.sort_unstable();
            let pixels: Vec<u8> = rgba
                .iter()
                .map(|c| sorted[sorted.binary_search_by_key(c, |p| p.0).unwrap()].1)
                .collect();
            png::encode(cols, rows, &PngKind::Palette { colors }, &pixels, options)
        }
        kind => png::encode(cols, rows, &kind, &pack(rgba, &kind), options),
    }
}

/// RGBA pixels of a 3- or 4-band tile (`bands[b]` holds band b's working values): each band is read as a
/// byte (values outside 0–255 clamp), the fourth band is alpha (opaque without one), and a cell that is
/// NoData in any band is transparent, as GeoTrellis' `MultibandTile.renderPng()` does.
///
/// # Errors
/// A band count other than 3 or 4, or bands of different lengths.
pub fn rgba_of_bands(bands: &[&[f64]]) -> Result<Vec<u32>> {
    if !(3..=4).contains(&bands.len()) {
        return Err(EngineError::Value(format!(
            "rendering without a colour map needs a 3-band (RGB) or 4-band (RGBA) tile, got {} band(s)",
            bands.len()
        )));
    }
    let n = bands[0].len();
    if bands.iter().any(|b| b.len() != n) {
        return Err(EngineError::Mismatch("bands of different lengths".into()));
    }
    let byte = |v: f64| v.clamp(0.0, 255.0) as u32;
    Ok((0..n)
        .map(|i| {
            if bands.iter().any(|b| b[i].is_nan()) {
                return 0;
            }
            let a = if bands.len() == 4 { byte(bands[3][i]) } else { 255 };
            byte(bands[0][i]) << 24 | byte(bands[1][i]) << 16 | byte(bands[2][i]) << 8 | a
        })
        .collect())
}

/// Working values of band `band` of a tile.
fn band_values(ct: &crate::CellType, tile: &crate::batch::TileRef<'_>, band: usize) -> Vec<f64> {
    let n = tile.cells_per_band();
    let mut v = vec![0.0; n];
    ct.load(tile.cells, band * n, &mut v);
    v
}

/// A PNG of one tile: band 0 through `map`, or bands 0–2 (and 3 as alpha) as RGB(A) without a map.
///
/// # Errors
/// As [`render_png`] and [`rgba_of_bands`].
pub fn tile_png(
    ct: &crate::CellType,
    tile: &crate::batch::TileRef<'_>,
    map: Option<&ColorMap>,
    options: PngOptions,
) -> Result<Vec<u8>> {
    match map {
        Some(map) => render_png(&band_values(ct, tile, 0), tile.cols, tile.rows, map, options),
        None => {
            if !(3..=4).contains(&tile.bands) {
                return Err(EngineError::Value(format!(
                    "a {}-band tile needs a colour map to be rendered (only 3- and 4-band tiles render as RGB(A))",
                    tile.bands
                )));
            }
            let bands: Vec<Vec<f64>> = (0..tile.bands).map(|b| band_values(ct, tile, b)).collect();
            let refs: Vec<&[f64]> = bands.iter().map(|b| b.as_slice()).collect();
            encode_rgba(&rgba_of_bands(&refs)?, tile.cols, tile.rows, options)
        }
    }
}

/// One PNG per tile of a batch in the tile contract, in row order (the caller keeps the keys).
///
/// # Errors
/// A batch outside the tile contract, and as [`tile_png`].
pub fn render_batch(
    batch: &arrow_array::RecordBatch,
    map: Option<&ColorMap>,
    options: PngOptions,
) -> Result<arrow_array::BinaryArray> {
    let tiles = crate::batch::TileColumns::new(batch, 0)?;
    let mut types = crate::batch::CellTypeCache::default();
    let mut pngs = Vec::with_capacity(batch.num_rows());
    for i in 0..batch.num_rows() {
        let ct = types.get(tiles.cell_type_name(i))?;
        pngs.push(tile_png(&ct, &tiles.tile(i, &ct)?, map, options)?);
    }
    Ok(arrow_array::BinaryArray::from_iter_values(pngs.iter()))
}
