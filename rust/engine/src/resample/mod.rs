//! Resampling of a raster grid onto another grid with GeoTrellis' ten methods, NoData-aware.
//!
//! Two layers:
//! * samplers over one band of working values (NoData = NaN, as `CellType::load` gives them):
//!   [`PointSampler::sample`] at a map coordinate for the interpolating methods and
//!   [`AreaSampler::sample_area`] over the source cells a destination cell covers for the aggregate
//!   methods; [`Sampler`] picks one from a [`ResampleMethod`] like GeoTrellis' `Resample(method, tile,
//!   extent, cellSize)`. Reprojection calls these once per destination cell.
//! * [`resample_grid`]: every band of a raster onto another grid. Both axes of a grid-to-grid resample
//!   are independent, so it precomputes the per-column and per-row taps once and runs the same kernels
//!   as the samplers.
//!
//! Semantics follow GeoTrellis' `geotrellis.raster.resample` (see each family's file), with these
//! deliberate differences:
//! * aggregate methods take the destination cell size from the destination grid; GeoTrellis'
//!   `Raster.resample(target)` divides the *source* extent by the target's cols/rows, which is the same
//!   thing whenever both extents are equal (overviews) and wrong otherwise;
//! * Mode and Median skip NoData like Average, Max and Min do (GeoTrellis counts NoData as a value, in
//!   different ways for integer and floating tiles);
//! * the cubic methods and Lanczos give NoData when a NoData cell is in their window for integer cell
//!   types too (GeoTrellis' integer path computes with the `Int.MinValue` sentinel as a number);
//! * Lanczos' kernel is exactly 0 at non-zero integer offsets (GeoTrellis evaluates `sin(kπ)` ≈ 1e-16).

mod aggregate;
mod bilinear;
mod cubic;
mod lanczos;
mod nearest;

#[cfg(test)]
mod tests;

pub use aggregate::AreaSampler;
pub(crate) use nearest::floor_with_tolerance;

use crate::cell_type::CellType;
use crate::error::{EngineError, Result};

/// GeoTrellis' `ResampleMethod`s that GeoPySpark exposes (`Sum` is not one of them).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ResampleMethod {
    NearestNeighbor,
    Bilinear,
    CubicConvolution,
    CubicSpline,
    Lanczos,
    Average,
    Mode,
    Median,
    Max,
    Min,
}

const ALL_METHODS: [ResampleMethod; 10] = [
    ResampleMethod::NearestNeighbor,
    ResampleMethod::Bilinear,
    ResampleMethod::CubicConvolution,
    ResampleMethod::CubicSpline,
    ResampleMethod::Lanczos,
    ResampleMethod::Average,
    ResampleMethod::Mode,
    ResampleMethod::Median,
    ResampleMethod::Max,
    ResampleMethod::Min,
];

impl ResampleMethod {
    pub const ALL: [ResampleMethod; 10] = ALL_METHODS;

    /// GeoPySpark's name of the method (`ResampleMethod.CUBIC_CONVOLUTION.value`).
    pub fn name(self) -> &'static str {
        match self {
            ResampleMethod::NearestNeighbor => "NearestNeighbor",
            ResampleMethod::Bilinear => "Bilinear",
            ResampleMethod::CubicConvolution => "CubicConvolution",
            ResampleMethod::CubicSpline => "CubicSpline",
            ResampleMethod::Lanczos => "Lanczos",
            ResampleMethod::Average => "Average",
            ResampleMethod::Mode => "Mode",
            ResampleMethod::Median => "Median",
            ResampleMethod::Max => "Max",
            ResampleMethod::Min => "Min",
        }
    }

    /// Parse GeoPySpark's name of a method.
    pub fn parse(name: &str) -> Result<Self> {
        ALL_METHODS
            .iter()
            .copied()
            .find(|m| m.name() == name)
            .ok_or_else(|| {
                let names: Vec<&str> = ALL_METHODS.iter().map(|m| m.name()).collect();
                EngineError::Value(format!(
                    "unknown resample method {name:?}; expected one of {}",
                    names.join(", ")
                ))
            })
    }

    /// Whether the method aggregates the source cells under a destination cell (GeoTrellis'
    /// `AggregateResampleMethod`) rather than interpolating at its centre.
    pub fn is_aggregate(self) -> bool {
        matches!(
            self,
            ResampleMethod::Average
                | ResampleMethod::Mode
                | ResampleMethod::Median
                | ResampleMethod::Max
                | ResampleMethod::Min
        )
    }
}

/// One band of source cells as working values (NoData = NaN), row-major with row 0 at `ymax`, and the
/// extent `[xmin, ymin, xmax, ymax]` it covers.
#[derive(Clone, Copy, Debug)]
pub struct SourceBand<'a> {
    cells: &'a [f64],
    cols: usize,
    rows: usize,
    xmin: f64,
    ymin: f64,
    xmax: f64,
    ymax: f64,
    cw: f64,
    ch: f64,
}

impl<'a> SourceBand<'a> {
    pub fn new(cells: &'a [f64], cols: usize, rows: usize, extent: [f64; 4]) -> Result<Self> {
        check_grid("source", cols, rows, extent)?;
        if cells.len() != cols * rows {
            return Err(EngineError::Mismatch(format!(
                "a {cols}×{rows} source band has {} cells, not {}",
                cols * rows,
                cells.len()
            )));
        }
        let [xmin, ymin, xmax, ymax] = extent;
        Ok(SourceBand {
            cells,
            cols,
            rows,
            xmin,
            ymin,
            xmax,
            ymax,
            cw: (xmax - xmin) / cols as f64,
            ch: (ymax - ymin) / rows as f64,
        })
    }

    /// GeoTrellis `Resample.isValid`: on or within the border.
    #[inline(always)]
    fn contains(&self, x: f64, y: f64) -> bool {
        self.valid_x(x) && self.valid_y(y)
    }

    #[inline(always)]
    fn valid_x(&self, x: f64) -> bool {
        x >= self.xmin && x <= self.xmax
    }

    #[inline(always)]
    fn valid_y(&self, y: f64) -> bool {
        y >= self.ymin && y <= self.ymax
    }

    #[inline(always)]
    fn at(&self, col: usize, row: usize) -> f64 {
        self.cells[row * self.cols + col]
    }
}

/// The interpolating methods.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PointMethod {
    NearestNeighbor,
    Bilinear,
    CubicConvolution,
    CubicSpline,
    Lanczos,
}

/// The aggregate methods.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AreaMethod {
    Average,
    Mode,
    Median,
    Max,
    Min,
}

/// Interpolates one band at map coordinates (`resampleDouble` of GeoTrellis' point resamplers).
#[derive(Clone, Copy, Debug)]
pub struct PointSampler<'a> {
    band: SourceBand<'a>,
    method: PointMethod,
}

impl<'a> PointSampler<'a> {
    pub fn new(band: SourceBand<'a>, method: PointMethod) -> Self {
        PointSampler { band, method }
    }

    /// The interpolated value at `(x, y)`; NaN outside the source extent or where NoData decides.
    #[inline]
    pub fn sample(&self, x: f64, y: f64) -> f64 {
        let b = &self.band;
        if !b.contains(x, y) {
            return f64::NAN;
        }
        match self.method {
            PointMethod::NearestNeighbor => {
                let (c, r) = (nearest::index_x(b, x), nearest::index_y(b, y));
                b.at(c, r)
            }
            PointMethod::Bilinear => {
                bilinear::kernel(b, &bilinear::taps_x(b, x), &bilinear::taps_y(b, y))
            }
            PointMethod::CubicConvolution => {
                cubic::convolution(b, &cubic::conv_taps_x(b, x), &cubic::conv_taps_y(b, y))
            }
            PointMethod::CubicSpline => {
                cubic::spline(b, &cubic::spline_taps_x(b, x), &cubic::spline_taps_y(b, y))
            }
            PointMethod::Lanczos => {
                lanczos::kernel(b, &lanczos::taps_x(b, x), &lanczos::taps_y(b, y))
            }
        }
    }
}

/// GeoTrellis' `Resample(method, tile, extent, targetCellSize)`: one sampler for any method.
#[derive(Debug)]
pub enum Sampler<'a> {
    Point(PointSampler<'a>),
    Area(AreaSampler<'a>),
}

impl<'a> Sampler<'a> {
    /// `dst_cell` is the destination cell size `(width, height)`, used by the aggregate methods.
    pub fn new(band: SourceBand<'a>, method: ResampleMethod, dst_cell: (f64, f64)) -> Self {
        use ResampleMethod as M;
        let point = |m| Sampler::Point(PointSampler::new(band, m));
        let area = |m| Sampler::Area(AreaSampler::new(band, m, dst_cell.0, dst_cell.1));
        match method {
            M::NearestNeighbor => point(PointMethod::NearestNeighbor),
            M::Bilinear => point(PointMethod::Bilinear),
            M::CubicConvolution => point(PointMethod::CubicConvolution),
            M::CubicSpline => point(PointMethod::CubicSpline),
            M::Lanczos => point(PointMethod::Lanczos),
            M::Average => area(AreaMethod::Average),
            M::Mode => area(AreaMethod::Mode),
            M::Median => area(AreaMethod::Median),
            M::Max => area(AreaMethod::Max),
            M::Min => area(AreaMethod::Min),
        }
    }

    /// The value of the destination cell centred on `(x, y)`.
    #[inline]
    pub fn sample(&mut self, x: f64, y: f64) -> f64 {
        match self {
            Sampler::Point(p) => p.sample(x, y),
            Sampler::Area(a) => a.sample_centre(x, y),
        }
    }
}

fn check_grid(what: &str, cols: usize, rows: usize, extent: [f64; 4]) -> Result<()> {
    if cols == 0 || rows == 0 || cols > i32::MAX as usize || rows > i32::MAX as usize {
        return Err(EngineError::Value(format!(
            "{what} grid must have 1..2^31 columns and rows, got {cols}×{rows}"
        )));
    }
    let [xmin, ymin, xmax, ymax] = extent;
    if !extent.iter().all(|v| v.is_finite()) || xmax <= xmin || ymax <= ymin {
        return Err(EngineError::Value(format!(
            "{what} extent ({xmin}, {ymin}, {xmax}, {ymax}) is empty or not finite"
        )));
    }
    Ok(())
}

/// Java's `Math.round` (half up), which GeoTrellis' integer paths of the interpolating methods use.
#[inline(always)]
pub(crate) fn round_half_up(v: f64) -> f64 {
    let f = v.floor();
    // v - f is exact, so 0.49999999999999994 does not round up as floor(v + 0.5) would.
    if v - f >= 0.5 {
        f + 1.0
    } else {
        f
    }
}

/// The centres of the cells of a destination grid along x (`gridColToMap`) and y (`gridRowToMap`).
fn dst_centres(dst_cols: usize, dst_rows: usize, dst_extent: [f64; 4]) -> (Vec<f64>, Vec<f64>, f64, f64) {
    let [xmin, ymin, xmax, ymax] = dst_extent;
    let cw = (xmax - xmin) / dst_cols as f64;
    let ch = (ymax - ymin) / dst_rows as f64;
    let xs = (0..dst_cols)
        .map(|c| c as f64 * cw + xmin + cw / 2.0)
        .collect();
    let ys = (0..dst_rows)
        .map(|r| ymax - r as f64 * ch - ch / 2.0)
        .collect();
    (xs, ys, cw, ch)
}

/// Every band of a raster covering `src_extent` resampled onto `dst_cols × dst_rows` cells covering
/// `dst_extent`. `cells` is little-endian storage of `cell_type`, band-sequential `(bands, rows, cols)`;
/// the output has the same layout and cell type. Destination cells whose centre lies outside the source
/// extent are NoData (what GeoTrellis stores for NoData in raw types).
#[allow(clippy::too_many_arguments)]
pub fn resample_grid(
    cells: &[u8],
    cell_type: &CellType,
    bands: usize,
    src_cols: usize,
    src_rows: usize,
    src_extent: [f64; 4],
    dst_cols: usize,
    dst_rows: usize,
    dst_extent: [f64; 4],
    method: ResampleMethod,
) -> Result<Vec<u8>> {
    check_grid("source", src_cols, src_rows, src_extent)?;
    check_grid("destination", dst_cols, dst_rows, dst_extent)?;
    let bpc = cell_type.bytes_per_cell();
    let src_n = src_cols * src_rows;
    let expected = bands
        .checked_mul(src_n)
        .and_then(|n| n.checked_mul(bpc))
        .ok_or_else(|| EngineError::Value("raster too large".into()))?;
    if cells.len() != expected {
        return Err(EngineError::Mismatch(format!(
            "{bands} band(s) of {src_cols}×{src_rows} {} cells take {expected} bytes, got {}",
            cell_type.name(),
            cells.len()
        )));
    }
    let dst_n = dst_cols
        .checked_mul(dst_rows)
        .and_then(|n| n.checked_mul(bands))
        .and_then(|n| n.checked_mul(bpc))
        .ok_or_else(|| EngineError::Value("destination raster too large".into()))?;

    let (xs, ys, dcw, dch) = dst_centres(dst_cols, dst_rows, dst_extent);
    if method == ResampleMethod::NearestNeighbor {
        // Nearest copies stored cells: no conversion, and bit-identical to load + store.
        return Ok(nearest::grid_bytes(
            cells, cell_type, bands, src_cols, src_rows, src_extent, &xs, &ys, dst_n,
        ));
    }

    let mut out = Vec::with_capacity(dst_n);
    let mut src = vec![0.0f64; src_n];
    let mut dst = vec![0.0f64; dst_cols * dst_rows];
    let int_rounding = !cell_type.data_type.is_float() && !method.is_aggregate();
    let mut grid: Option<GridKernel> = None;
    for band in 0..bands {
        cell_type.load(cells, band * src_n, &mut src);
        let sb = SourceBand::new(&src, src_cols, src_rows, src_extent)?;
        // Taps depend only on the geometry: computed once for all bands.
        let kernel = grid.get_or_insert_with(|| GridKernel::new(&sb, method, &xs, &ys, dcw, dch));
        kernel.run(&sb, &mut dst);
        if int_rounding {
            dst.iter_mut()
                .filter(|v| !v.is_nan())
                .for_each(|v| *v = round_half_up(*v));
        }
        cell_type.store(&dst, &mut out);
    }
    Ok(out)
}

/// Per-axis taps of a grid-to-grid resample for one method.
enum GridKernel {
    Nearest(Vec<Option<usize>>, Vec<Option<usize>>),
    Bilinear(Vec<Option<bilinear::Taps>>, Vec<Option<bilinear::Taps>>),
    Convolution(Vec<Option<cubic::ConvTaps>>, Vec<Option<cubic::ConvTaps>>),
    Spline(Vec<Option<cubic::SplineTaps>>, Vec<Option<cubic::SplineTaps>>),
    Lanczos(Vec<Option<lanczos::Taps>>, Vec<Option<lanczos::Taps>>),
    Area(AreaMethod, Vec<Option<aggregate::Window>>, Vec<Option<aggregate::Window>>),
}

impl GridKernel {
    fn new(b: &SourceBand, method: ResampleMethod, xs: &[f64], ys: &[f64], dcw: f64, dch: f64) -> Self {
        // None marks destination centres outside the source extent.
        fn axis<T>(vs: &[f64], valid: impl Fn(f64) -> bool, f: impl Fn(f64) -> T) -> Vec<Option<T>> {
            vs.iter().map(|&v| valid(v).then(|| f(v))).collect()
        }
        let (vx, vy) = (|x| b.valid_x(x), |y| b.valid_y(y));
        use ResampleMethod as M;
        let area = |m| {
            GridKernel::Area(
                m,
                axis(xs, vx, |x| aggregate::window_x(b, x, dcw / 2.0)),
                axis(ys, vy, |y| aggregate::window_y(b, y, dch / 2.0)),
            )
        };
        match method {
            M::NearestNeighbor => GridKernel::Nearest(
                axis(xs, vx, |x| nearest::index_x(b, x)),
                axis(ys, vy, |y| nearest::index_y(b, y)),
            ),
            M::Bilinear => GridKernel::Bilinear(
                axis(xs, vx, |x| bilinear::taps_x(b, x)),
                axis(ys, vy, |y| bilinear::taps_y(b, y)),
            ),
            M::CubicConvolution => GridKernel::Convolution(
                axis(xs, vx, |x| cubic::conv_taps_x(b, x)),
                axis(ys, vy, |y| cubic::conv_taps_y(b, y)),
            ),
            M::CubicSpline => GridKernel::Spline(
                axis(xs, vx, |x| cubic::spline_taps_x(b, x)),
                axis(ys, vy, |y| cubic::spline_taps_y(b, y)),
            ),
            M::Lanczos => GridKernel::Lanczos(
                axis(xs, vx, |x| lanczos::taps_x(b, x)),
                axis(ys, vy, |y| lanczos::taps_y(b, y)),
            ),
            M::Average => area(AreaMethod::Average),
            M::Mode => area(AreaMethod::Mode),
            M::Median => area(AreaMethod::Median),
            M::Max => area(AreaMethod::Max),
            M::Min => area(AreaMethod::Min),
        }
    }

    fn run(&self, b: &SourceBand, dst: &mut [f64]) {
        // The match is outside the cell loops so that each loop is specialised to its kernel.
        fn each<T>(xt: &[Option<T>], yt: &[Option<T>], dst: &mut [f64], mut f: impl FnMut(&T, &T) -> f64) {
            for (row, ty) in dst.chunks_exact_mut(xt.len()).zip(yt) {
                match ty {
                    None => row.fill(f64::NAN),
                    Some(ty) => {
                        for (d, tx) in row.iter_mut().zip(xt) {
                            *d = match tx {
                                Some(tx) => f(tx, ty),
                                None => f64::NAN,
                            };
                        }
                    }
                }
            }
        }
        match self {
            GridKernel::Nearest(xt, yt) => each(xt, yt, dst, |c, r| b.at(*c, *r)),
            GridKernel::Bilinear(xt, yt) => each(xt, yt, dst, |tx, ty| bilinear::kernel(b, tx, ty)),
            GridKernel::Convolution(xt, yt) => {
                each(xt, yt, dst, |tx, ty| cubic::convolution(b, tx, ty))
            }
            GridKernel::Spline(xt, yt) => each(xt, yt, dst, |tx, ty| cubic::spline(b, tx, ty)),
            GridKernel::Lanczos(xt, yt) => each(xt, yt, dst, |tx, ty| lanczos::kernel(b, tx, ty)),
            GridKernel::Area(m, xt, yt) => {
                let mut scratch = Vec::new();
                match m {
                    AreaMethod::Average => each(xt, yt, dst, |wx, wy| aggregate::average(b, wx, wy)),
                    AreaMethod::Max => each(xt, yt, dst, |wx, wy| aggregate::max(b, wx, wy)),
                    AreaMethod::Min => each(xt, yt, dst, |wx, wy| aggregate::min(b, wx, wy)),
                    AreaMethod::Median => {
                        each(xt, yt, dst, |wx, wy| aggregate::median(b, wx, wy, &mut scratch))
                    }
                    AreaMethod::Mode => {
                        each(xt, yt, dst, |wx, wy| aggregate::mode(b, wx, wy, &mut scratch))
                    }
                }
            }
        }
    }
}
