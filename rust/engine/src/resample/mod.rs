//! Resampling of a raster grid onto another grid with GeoTrellis' ten methods, NoData-aware.
//!
//! PLACEHOLDER on the `writer` branch, replaced at merge by the resampling engineer's module (same
//! signatures): nearest neighbour only, every other method is an error. It exists so that the GeoTIFF
//! writer's overviews can be built and tested on their own.

use crate::cell_type::CellType;
use crate::error::{EngineError, Result};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
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

impl ResampleMethod {
    /// GeoPySpark's names (`"NearestNeighbor"`, `"Bilinear"`, ...).
    pub fn parse(name: &str) -> Result<Self> {
        use ResampleMethod::*;
        Ok(match name {
            "NearestNeighbor" => NearestNeighbor,
            "Bilinear" => Bilinear,
            "CubicConvolution" => CubicConvolution,
            "CubicSpline" => CubicSpline,
            "Lanczos" => Lanczos,
            "Average" => Average,
            "Mode" => Mode,
            "Median" => Median,
            "Max" => Max,
            "Min" => Min,
            _ => {
                return Err(EngineError::Value(format!(
                    "unknown resample method {name:?}; expected one of NearestNeighbor, Bilinear, \
                     CubicConvolution, CubicSpline, Lanczos, Average, Mode, Median, Max, Min"
                )))
            }
        })
    }
}

/// Every band of a raster covering `src_extent` resampled onto dst_cols × dst_rows cells covering
/// `dst_extent`.
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
    if method != ResampleMethod::NearestNeighbor {
        return Err(EngineError::Value(format!(
            "resample method {method:?} is not available in this build (placeholder: NearestNeighbor only)"
        )));
    }
    let bpc = cell_type.data_type.bytes_per_cell();
    if cells.len() != bands * src_rows * src_cols * bpc {
        return Err(EngineError::Mismatch(format!(
            "resample: {} bytes of cells for {bands}×{src_rows}×{src_cols} {} cells",
            cells.len(),
            cell_type.name()
        )));
    }
    let no_data = nodata_bytes(cell_type);
    let [sx0, sy0, sx1, sy1] = src_extent;
    let [dx0, dy0, dx1, dy1] = dst_extent;
    let (scw, sch) = ((sx1 - sx0) / src_cols as f64, (sy1 - sy0) / src_rows as f64);
    let (dcw, dch) = ((dx1 - dx0) / dst_cols as f64, (dy1 - dy0) / dst_rows as f64);
    // Source column/row of each destination cell centre, None when outside the source.
    let col_of: Vec<Option<usize>> = (0..dst_cols)
        .map(|c| {
            let x = dx0 + (c as f64 + 0.5) * dcw;
            let sc = ((x - sx0) / scw).floor();
            (sc >= 0.0 && sc < src_cols as f64).then_some(sc as usize)
        })
        .collect();
    let row_of: Vec<Option<usize>> = (0..dst_rows)
        .map(|r| {
            let y = dy1 - (r as f64 + 0.5) * dch;
            let sr = ((sy1 - y) / sch).floor();
            (sr >= 0.0 && sr < src_rows as f64).then_some(sr as usize)
        })
        .collect();
    let mut out = Vec::with_capacity(bands * dst_rows * dst_cols * bpc);
    for b in 0..bands {
        for row in &row_of {
            for col in &col_of {
                match (row, col) {
                    (Some(r), Some(c)) => {
                        let at = ((b * src_rows + r) * src_cols + c) * bpc;
                        out.extend_from_slice(&cells[at..at + bpc]);
                    }
                    _ => out.extend_from_slice(&no_data[..bpc]),
                }
            }
        }
    }
    Ok(out)
}

/// The stored bytes of a NoData cell (zeros for raw types).
fn nodata_bytes(ct: &CellType) -> [u8; 8] {
    let mut out = Vec::with_capacity(8);
    ct.store(&[f64::NAN], &mut out);
    let mut b = [0u8; 8];
    b[..out.len()].copy_from_slice(&out);
    b
}
