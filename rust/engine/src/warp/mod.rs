//! Reprojection of rasters: a destination grid in one CRS filled by sampling a source grid in another.
//!
//! * [`suggested_grid`] picks the destination grid of a whole raster the way GDAL's
//!   `GDALSuggestedWarpOutput` does (what `rasterio.warp.calculate_default_transform` returns): the
//!   source's edges transformed to bound the destination extent, and square cells whose diagonal keeps
//!   the source's cell count along the diagonal.
//! * [`warp`] fills a destination grid: each destination cell centre is mapped into the source CRS by
//!   the approximate transform of [`approx`] (exact points only where linear interpolation would be off
//!   by more than the error threshold) and sampled with one of the ten resample methods. Nearest
//!   neighbour copies stored cells; the other methods work on loaded values (NoData = NaN) and
//!   integer results are rounded half up as GeoTrellis' interpolations do.
//! * [`layer`] applies these to batches of rasters: reproject each one, or cut them into the tiles of a
//!   layout in another CRS, sampling across the edges of neighbouring rasters.

pub mod approx;
pub mod layer;

use crate::cell_type::CellType;
use crate::crs::Transformer;
use crate::error::{EngineError, Result};
use crate::resample::{floor_with_tolerance, round_half_up, ResampleMethod, Sampler, SourceBand};
use crate::retile::empty_cell;

use approx::RowMapper;

/// GDAL's default error threshold of the approximate transform, in source cells.
pub const DEFAULT_ERROR_THRESHOLD: f64 = 0.125;

/// A raster grid: `cols × rows` cells over `extent = [xmin, ymin, xmax, ymax]`, row 0 at the top.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Grid {
    pub extent: [f64; 4],
    pub cols: usize,
    pub rows: usize,
}

impl Grid {
    pub fn new(extent: [f64; 4], cols: usize, rows: usize) -> Result<Grid> {
        let [xmin, ymin, xmax, ymax] = extent;
        if cols == 0 || rows == 0 || !extent.iter().all(|v| v.is_finite()) || xmax <= xmin || ymax <= ymin {
            return Err(EngineError::Value(format!(
                "a raster grid needs cells and a non-empty finite extent, got {cols}×{rows} over {extent:?}"
            )));
        }
        Ok(Grid { extent, cols, rows })
    }

    pub fn cell_width(&self) -> f64 {
        (self.extent[2] - self.extent[0]) / self.cols as f64
    }

    pub fn cell_height(&self) -> f64 {
        (self.extent[3] - self.extent[1]) / self.rows as f64
    }

    /// The map point at fractional grid position `(col, row)`.
    fn point(&self, col: f64, row: f64) -> (f64, f64) {
        (self.extent[0] + col * self.cell_width(), self.extent[3] - row * self.cell_height())
    }
}

/// Points of a grid's outline in map units, `steps + 1` per edge (corners included), as `[x, y, …]`.
fn outline(grid: &Grid, steps: usize) -> Vec<f64> {
    let (c, r) = (grid.cols as f64, grid.rows as f64);
    let mut xy = Vec::with_capacity(8 * (steps + 1));
    for i in 0..=steps {
        let f = i as f64 / steps as f64;
        for (col, row) in [(f * c, 0.0), (f * c, r), (0.0, f * r), (c, f * r)] {
            let (x, y) = grid.point(col, row);
            xy.extend([x, y]);
        }
    }
    xy
}

/// Points on a `(steps + 1)²` lattice over the grid, for when parts of the outline do not transform.
fn lattice(grid: &Grid, steps: usize) -> Vec<f64> {
    let mut xy = Vec::with_capacity(2 * (steps + 1) * (steps + 1));
    for i in 0..=steps {
        for j in 0..=steps {
            let (x, y) = grid.point(
                j as f64 / steps as f64 * grid.cols as f64,
                i as f64 / steps as f64 * grid.rows as f64,
            );
            xy.extend([x, y]);
        }
    }
    xy
}

/// The bounding box of the points that transformed (NaN-free), if any.
fn bounds(xy: &[f64]) -> Option<[f64; 4]> {
    let mut b = [f64::INFINITY, f64::INFINITY, f64::NEG_INFINITY, f64::NEG_INFINITY];
    let mut any = false;
    for p in xy.chunks_exact(2).filter(|p| p[0].is_finite() && p[1].is_finite()) {
        b = [b[0].min(p[0]), b[1].min(p[1]), b[2].max(p[0]), b[3].max(p[1])];
        any = true;
    }
    any.then_some(b)
}

/// The extent the grid covers in the transformer's destination CRS: its outline transformed (21 points
/// per edge), with an interior lattice added when part of the outline falls outside the destination's
/// domain. None when nothing transforms.
pub fn transformed_extent(src_to_dst: &Transformer, grid: &Grid) -> Option<[f64; 4]> {
    let mut xy = outline(grid, 20);
    src_to_dst.transform(&mut xy);
    if xy.iter().any(|v| v.is_nan()) {
        let mut more = lattice(grid, 20);
        src_to_dst.transform(&mut more);
        xy.extend(more);
    }
    bounds(&xy)
}

/// The destination grid GDAL suggests for warping `src` (`GDALSuggestedWarpOutput`): the transformed
/// extent, square cells of `diagonal(extent) / diagonal(cells)`, and the extent grown right and down to
/// whole cells.
pub fn suggested_grid(src_to_dst: &Transformer, src: &Grid) -> Result<Grid> {
    if src_to_dst.is_identity() {
        return Ok(*src);
    }
    let [xmin, ymin, xmax, ymax] = transformed_extent(src_to_dst, src).ok_or_else(|| {
        EngineError::Value(format!(
            "no point of the raster over {:?} can be transformed to the target CRS",
            src.extent
        ))
    })?;
    let diagonal = (xmax - xmin).hypot(ymax - ymin);
    let size = diagonal / (src.cols as f64).hypot(src.rows as f64);
    let cols = ((xmax - xmin) / size + 0.5).floor().max(1.0);
    let rows = ((ymax - ymin) / size + 0.5).floor().max(1.0);
    if cols * rows > 1e12 {
        return Err(EngineError::Value("the reprojected raster would be too large".into()));
    }
    Grid::new([xmin, ymax - rows * size, xmin + cols * size, ymax], cols as usize, rows as usize)
}

/// How many source cells around a point a method reads, each way (the aggregate methods read the cells
/// under a whole destination cell on top of this one-cell margin).
pub fn kernel_radius(method: ResampleMethod) -> usize {
    match method {
        ResampleMethod::CubicConvolution => 2,
        ResampleMethod::CubicSpline | ResampleMethod::Lanczos => 3,
        _ => 1,
    }
}

/// Every band of `cells` (little-endian `cell_type`, band-sequential, over `src`) sampled onto `dst`;
/// `dst_to_src` maps destination coordinates into the source CRS. `error_threshold` is the approximate
/// transform's tolerance in source cells (0 = exact per cell). Destination cells whose centre does not
/// land inside the source hold `retile::empty_cell`. Output: band-sequential cells of `dst`.
#[allow(clippy::too_many_arguments)]
pub fn warp(
    cells: &[u8],
    cell_type: &CellType,
    bands: usize,
    src: &Grid,
    dst: &Grid,
    dst_to_src: &Transformer,
    method: ResampleMethod,
    error_threshold: f64,
) -> Result<Vec<u8>> {
    let bpc = cell_type.bytes_per_cell();
    let src_n = src.cols * src.rows;
    if Some(cells.len()) != bands.checked_mul(src_n).and_then(|n| n.checked_mul(bpc)) {
        return Err(EngineError::Mismatch(format!(
            "{bands} band(s) of {}×{} {} cells do not take {} bytes",
            src.cols,
            src.rows,
            cell_type.name(),
            cells.len()
        )));
    }
    let dst_n = dst.cols * dst.rows;
    let max_error = error_threshold * src.cell_width().min(src.cell_height());
    let mut mapper = RowMapper::new(dst_to_src, max_error);
    let (dcw, dch) = (dst.cell_width(), dst.cell_height());
    let (mut xs, mut ys) = (vec![0.0; dst.cols], vec![0.0; dst.cols]);
    let mut map_row = |r: usize, xs: &mut [f64], ys: &mut [f64]| {
        let y = dst.extent[3] - (r as f64 + 0.5) * dch;
        mapper.map_row(dst.extent[0] + 0.5 * dcw, dcw, y, xs, ys);
    };

    if method == ResampleMethod::NearestNeighbor {
        let mut out = vec![0u8; bands * dst_n * bpc];
        let empty = empty_cell(cell_type);
        let mut index: Vec<Option<usize>> = vec![None; dst.cols];
        for r in 0..dst.rows {
            map_row(r, &mut xs, &mut ys);
            for (c, ix) in index.iter_mut().enumerate() {
                *ix = nearest_index(src, xs[c], ys[c]);
            }
            for b in 0..bands {
                let from = &cells[b * src_n * bpc..(b + 1) * src_n * bpc];
                let start = (b * dst_n + r * dst.cols) * bpc;
                let to = &mut out[start..start + dst.cols * bpc];
                match bpc {
                    1 => copy_cells::<1>(from, &index, &empty, to),
                    2 => copy_cells::<2>(from, &index, &empty, to),
                    4 => copy_cells::<4>(from, &index, &empty, to),
                    _ => copy_cells::<8>(from, &index, &empty, to),
                }
            }
        }
        return Ok(out);
    }

    let loaded: Vec<Vec<f64>> = (0..bands)
        .map(|b| {
            let mut v = vec![0.0; src_n];
            cell_type.load(cells, b * src_n, &mut v);
            v
        })
        .collect();
    let dst_cell = dst_cell_in_source(dst, dst_to_src, src);
    let mut samplers: Vec<Sampler> = loaded
        .iter()
        .map(|v| Ok(Sampler::new(SourceBand::new(v, src.cols, src.rows, src.extent)?, method, dst_cell)))
        .collect::<Result<_>>()?;
    let mut values = vec![0.0f64; bands * dst_n];
    for r in 0..dst.rows {
        map_row(r, &mut xs, &mut ys);
        for (b, sampler) in samplers.iter_mut().enumerate() {
            let row = &mut values[b * dst_n + r * dst.cols..b * dst_n + (r + 1) * dst.cols];
            for ((v, &x), &y) in row.iter_mut().zip(&xs).zip(&ys) {
                *v = sampler.sample(x, y);
            }
        }
    }
    if !cell_type.data_type.is_float() && !method.is_aggregate() {
        values.iter_mut().filter(|v| !v.is_nan()).for_each(|v| *v = round_half_up(*v));
    }
    let mut out = Vec::with_capacity(bands * dst_n * bpc);
    cell_type.store(&values, &mut out);
    Ok(out)
}

/// The source cell (row-major index) whose area holds the point, GeoTrellis' nearest-neighbour rule:
/// inclusive extent, floor with tolerance, the east/south edge taking the last cell.
#[inline(always)]
fn nearest_index(src: &Grid, x: f64, y: f64) -> Option<usize> {
    let [xmin, ymin, xmax, ymax] = src.extent;
    if !(x >= xmin && x <= xmax && y >= ymin && y <= ymax) {
        return None;
    }
    let c = floor_with_tolerance((x - xmin) / src.cell_width()).max(0.0) as usize;
    let r = floor_with_tolerance((ymax - y) / src.cell_height()).max(0.0) as usize;
    Some(r.min(src.rows - 1) * src.cols + c.min(src.cols - 1))
}

fn copy_cells<const N: usize>(from: &[u8], index: &[Option<usize>], empty: &[u8], to: &mut [u8]) {
    let empty: [u8; N] = empty.try_into().expect("cell size");
    for (d, ix) in to.chunks_exact_mut(N).zip(index) {
        let cell: [u8; N] = match ix {
            Some(i) => from[i * N..i * N + N].try_into().unwrap(),
            None => empty,
        };
        d.copy_from_slice(&cell);
    }
}

/// The size of a destination cell measured in the source CRS at the destination's centre (the area the
/// aggregate methods gather); the ratio of the extents where the centre does not transform.
fn dst_cell_in_source(dst: &Grid, dst_to_src: &Transformer, src: &Grid) -> (f64, f64) {
    let (x, y) = dst.point(dst.cols as f64 / 2.0, dst.rows as f64 / 2.0);
    let (dcw, dch) = (dst.cell_width(), dst.cell_height());
    let mut xy = [x, y, x + dcw, y, x, y - dch];
    dst_to_src.transform(&mut xy);
    let w = (xy[2] - xy[0]).hypot(xy[3] - xy[1]);
    let h = (xy[4] - xy[0]).hypot(xy[5] - xy[1]);
    if w.is_finite() && h.is_finite() && w > 0.0 && h > 0.0 {
        (w, h)
    } else {
        (src.cell_width(), src.cell_height())
    }
}

#[cfg(test)]
mod tests;
