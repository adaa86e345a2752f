//! Cutting rasters to a tile layout (GeoTrellis `tileToLayout` = `CutTiles` with `NearestNeighbor`).
//!
//! Layout math is `crate::layout` (`MapKeyTransform`, format reference §5.2). For every raster, each layout key in
//! `mapTransform(extent)` (clamped to the layout) gets one full tile of the raster's cell type, started from
//! the cell type's empty tile (`empty_cell`: NaN, NoData, or 0 for raw integer types) and filled by `merge(keyExtent, rasterExtent,
//! raster, NearestNeighbor)`:
//! * target pixel centre `(kxmin + (c + ½)·cw, kymax − (r + ½)·ch)`;
//! * it samples the raster only if `xmin ≤ x ≤ xmax` and `ymin ≤ y ≤ ymax` (GeoTrellis `Resample.isValid`,
//!   inclusive on all four edges);
//! * source column `floorWithTolerance((x − xmin) / cellWidth)` clamped to `cols − 1` (so a centre exactly
//!   on the east/south edge takes the last column/row), tolerance 1e-7 (`GridExtent.floorWithTolerance`);
//! * for raw types GeoTrellis only writes data values (`isData`), so a NaN of a raw float raster or
//!   `i32::MIN` of an `int32raw` raster leaves the 0 of the empty tile.

use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, Int32Type, Int64Type};
use arrow_array::{Array, ArrayRef, Int64Array, RecordBatch};
use arrow_schema::{DataType as ArrowType, Field};

use crate::batch::{keyed_tiles, primitive_column, uses_large_types, CellTypeCache, TileBuilder, TileColumns, TileRef};
use crate::cell_type::{CellType, DataType, NoData};
use crate::error::Result;
use crate::layout::{Extent, Layout};
use crate::resample::floor_with_tolerance;

/// For each of `n` target pixels along one axis, the source pixel its centre falls in (None outside).
/// `centre(i)` gives the target centre; `to_grid(x)` the fractional source index; `inside(x)` the
/// inclusive extent test.
fn axis_map(
    n: usize,
    src_len: usize,
    centre: impl Fn(usize) -> f64,
    inside: impl Fn(f64) -> bool,
    to_grid: impl Fn(f64) -> f64,
) -> Vec<Option<usize>> {
    (0..n)
        .map(|i| {
            let x = centre(i);
            if !inside(x) {
                return None;
            }
            let g = floor_with_tolerance(to_grid(x));
            // x ≥ the west edge, so g ≥ 0 up to rounding; clamp both ways like GeoTrellis clamps the top.
            Some((g.max(0.0) as usize).min(src_len - 1))
        })
        .collect()
}

/// The stored bytes of a cell no source provides, one rule for every operation: what storing NaN gives.
/// That is NaN for every float type (raw floats too, where GeoTrellis' `FloatArrayTile.empty` holds 0,
/// which reads as data), the type's NoData, and for raw integer types GeoTrellis' NODATA narrowed to their
/// width: 0 for 8- and 16-bit types and `bool`, `i32::MIN` for `int32raw` (which GeoTrellis reads as NoData).
pub(crate) fn empty_cell(ct: &CellType) -> Vec<u8> {
    let mut v = Vec::with_capacity(ct.bytes_per_cell());
    ct.store(&[f64::NAN], &mut v);
    v
}

/// Appends `n` cells with no source ([`empty_cell`]) of `ct` to `values`.
pub(crate) fn push_empty_cells(values: &mut Vec<u8>, ct: &CellType, n: usize) {
    let empty = empty_cell(ct);
    values.reserve(n * empty.len());
    for _ in 0..n {
        values.extend_from_slice(&empty);
    }
}

/// Whether a copied source cell is one a raw-type merge skips (`!isData`): NaN floats, `i32::MIN`.
fn raw_skips(ct: &CellType) -> Option<fn(&[u8]) -> bool> {
    if ct.no_data != NoData::Raw {
        return None;
    }
    match ct.data_type {
        DataType::Float32 => Some(|b: &[u8]| f32::from_le_bytes(b.try_into().unwrap()).is_nan()),
        DataType::Float64 => Some(|b: &[u8]| f64::from_le_bytes(b.try_into().unwrap()).is_nan()),
        DataType::Int32 => Some(|b: &[u8]| i32::from_le_bytes(b.try_into().unwrap()) == i32::MIN),
        _ => None,
    }
}

/// One output row of `N`-byte cells: the source cell of each column, or the empty cell.
#[inline]
fn sample_row<const N: usize>(
    src_row: Option<&[u8]>,
    col_map: &[Option<usize>],
    empty: &[u8],
    skip: Option<fn(&[u8]) -> bool>,
    dst: &mut [u8],
) {
    let empty: [u8; N] = empty.try_into().expect("cell size");
    let dst = dst.chunks_exact_mut(N);
    let Some(src_row) = src_row else {
        dst.for_each(|d| d.copy_from_slice(&empty));
        return;
    };
    for (d, sc) in dst.zip(col_map) {
        let cell: [u8; N] = match sc {
            Some(sc) => src_row[sc * N..sc * N + N].try_into().unwrap(),
            None => empty,
        };
        if skip.is_some_and(|f| f(&cell)) {
            d.copy_from_slice(&empty);
        } else {
            d.copy_from_slice(&cell);
        }
    }
}

/// Appends the cells of a `tc × tr` tile over `key` filled from `tile` (covering `src`) by
/// `merge(key, src, tile, NearestNeighbor)` into an empty tile (see the module documentation).
pub(crate) fn place(tile: &TileRef, ct: &CellType, src: &Extent, key: &Extent, tc: usize, tr: usize, out: &mut Vec<u8>) {
    let bpc = ct.bytes_per_cell();
    let empty = empty_cell(ct);
    let skip = raw_skips(ct);
    let (scw, sch) = (
        (src.xmax - src.xmin) / tile.cols as f64,
        (src.ymax - src.ymin) / tile.rows as f64,
    );
    let (cw, ch) = ((key.xmax - key.xmin) / tc as f64, (key.ymax - key.ymin) / tr as f64);
    let col_map = axis_map(
        tc,
        tile.cols,
        |c| c as f64 * cw + key.xmin + cw / 2.0,
        |x| x >= src.xmin && x <= src.xmax,
        |x| (x - src.xmin) / scw,
    );
    let row_map = axis_map(
        tr,
        tile.rows,
        |r| key.ymax - r as f64 * ch - ch / 2.0,
        |y| y >= src.ymin && y <= src.ymax,
        |y| (src.ymax - y) / sch,
    );
    let band_bytes = tile.rows * tile.cols * bpc;
    let tile_start = out.len();
    out.resize(tile_start + tile.bands * tr * tc * bpc, 0);
    let dst_tile = &mut out[tile_start..];
    for b in 0..tile.bands {
        let band = &tile.cells[b * band_bytes..(b + 1) * band_bytes];
        for (r, sr) in row_map.iter().enumerate() {
            let dst = &mut dst_tile[(b * tr + r) * tc * bpc..(b * tr + r + 1) * tc * bpc];
            let src_row = sr.map(|sr| &band[sr * tile.cols * bpc..(sr + 1) * tile.cols * bpc]);
            match bpc {
                1 => sample_row::<1>(src_row, &col_map, &empty, skip, dst),
                2 => sample_row::<2>(src_row, &col_map, &empty, skip, dst),
                4 => sample_row::<4>(src_row, &col_map, &empty, skip, dst),
                _ => sample_row::<8>(src_row, &col_map, &empty, skip, dst),
            }
        }
    }
}

/// Cut every raster of `batch` (rows with `xmin, ymin, xmax, ymax`, the tile columns and optionally
/// `instant`) into the tiles of `layout`. Output columns: `col`, `row` (int32), `instant` if present, then
/// the tile columns; one row per (raster, key), rasters in input order, keys row-major.
pub fn cut_to_layout(batch: &RecordBatch, layout: &Layout) -> Result<RecordBatch> {
    layout.validate()?;
    let [xmin, ymin, xmax, ymax] =
        ["xmin", "ymin", "xmax", "ymax"].map(|n| primitive_column::<Float64Type>(batch, n));
    let (xmin, ymin, xmax, ymax) = (xmin?, ymin?, xmax?, ymax?);
    let instant = match batch.column_by_name("instant") {
        None => None,
        Some(_) => Some(primitive_column::<Int64Type>(batch, "instant")?),
    };
    let tiles = TileColumns::new(batch, 0)?;
    let mut types = CellTypeCache::default();
    let (tc, tr) = (layout.tile_cols, layout.tile_rows);

    let mut out_cols: Vec<i32> = Vec::new();
    let mut out_rows: Vec<i32> = Vec::new();
    let mut out_instants: Vec<Option<i64>> = Vec::new();
    // Size the output once (an upper bound: keys that only touch the raster are skipped later).
    let (mut n_tiles, mut n_bytes) = (0usize, 0usize);
    for i in 0..batch.num_rows() {
        let src = Extent {
            xmin: xmin.value(i),
            ymin: ymin.value(i),
            xmax: xmax.value(i),
            ymax: ymax.value(i),
        };
        if let Some((c0, r0, c1, r1)) = layout.key_bounds_in_layout(&src) {
            let keys = ((c1 - c0 + 1) * (r1 - r0 + 1)) as usize;
            let ct = types.get(tiles.cell_type_name(i))?;
            let bands = batch.column_by_name("bands").map_or(1, |b| {
                b.as_primitive::<Int32Type>().value(i).max(0) as usize
            });
            n_tiles += keys;
            n_bytes =
                n_bytes.saturating_add(keys.saturating_mul(bands * tc * tr * ct.bytes_per_cell()));
        }
    }
    let mut out = TileBuilder::with_capacity(n_tiles, n_bytes.min(1 << 31));

    for i in 0..batch.num_rows() {
        let ct = types.get(tiles.cell_type_name(i))?;
        let tile = tiles.tile(i, &ct)?;
        let src = Extent {
            xmin: xmin.value(i),
            ymin: ymin.value(i),
            xmax: xmax.value(i),
            ymax: ymax.value(i),
        };
        if tile.rows == 0 || tile.cols == 0 || !(src.xmax > src.xmin && src.ymax > src.ymin) {
            continue; // no pixels, or an extent that covers nothing
        }
        let Some((c0, r0, c1, r1)) = layout.key_bounds_in_layout(&src) else {
            continue;
        };
        for key_row in r0..=r1 {
            for key_col in c0..=c1 {
                let ke = layout.key_extent(key_col, key_row);
                if !ke.overlaps(&src) {
                    continue; // only touching (possible through rounding at the bounds' edges)
                }
                place(&tile, &ct, &src, &ke, tc, tr, out.values_mut());
                out.finish_tile(&ct, tile.bands, tr, tc);
                out_cols.push(key_col as i32);
                out_rows.push(key_row as i32);
                if let Some(inst) = instant {
                    out_instants.push(inst.is_valid(i).then(|| inst.value(i)));
                }
            }
        }
    }

    let mut extra = Vec::new();
    if let Some(inst) = instant {
        extra.push((
            Field::new("instant", ArrowType::Int64, inst.null_count() > 0),
            Arc::new(Int64Array::from(out_instants)) as ArrayRef,
        ));
    }
    keyed_tiles(out_cols, out_rows, extra, out, uses_large_types(batch))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use arrow_array::{BinaryArray, Float64Array, Int32Array, StringArray};
    use arrow_schema::Schema;

    /// Tiles keyed by `(col, row)`.
    pub(crate) fn keyed(keys: &[(i32, i32)], tiles: &[(&str, usize, usize, usize, Vec<u8>)]) -> RecordBatch {
        tile_batch(
            vec![
                (
                    "col",
                    Arc::new(Int32Array::from_iter_values(keys.iter().map(|k| k.0))) as ArrayRef,
                ),
                (
                    "row",
                    Arc::new(Int32Array::from_iter_values(keys.iter().map(|k| k.1))) as ArrayRef,
                ),
            ],
            tiles,
        )
    }

    /// A batch of tiles in the contract, with extra leading columns.
    pub(crate) fn tile_batch(
        extra: Vec<(&str, ArrayRef)>,
        tiles: &[(&str, usize, usize, usize, Vec<u8>)],
    ) -> RecordBatch {
        let mut fields: Vec<Field> = extra
            .iter()
            .map(|(n, a)| Field::new(*n, a.data_type().clone(), true))
            .collect();
        let mut cols: Vec<ArrayRef> = extra.into_iter().map(|(_, a)| a).collect();
        fields.extend([
            Field::new("cell_type", ArrowType::Utf8, false),
            Field::new("bands", ArrowType::Int32, false),
            Field::new("rows", ArrowType::Int32, false),
            Field::new("cols", ArrowType::Int32, false),
            Field::new("cells", ArrowType::Binary, false),
        ]);
        cols.push(Arc::new(StringArray::from_iter_values(
            tiles.iter().map(|t| t.0),
        )));
        cols.push(Arc::new(Int32Array::from_iter_values(
            tiles.iter().map(|t| t.1 as i32),
        )));
        cols.push(Arc::new(Int32Array::from_iter_values(
            tiles.iter().map(|t| t.2 as i32),
        )));
        cols.push(Arc::new(Int32Array::from_iter_values(
            tiles.iter().map(|t| t.3 as i32),
        )));
        cols.push(Arc::new(BinaryArray::from_iter_values(
            tiles.iter().map(|t| t.4.as_slice()),
        )));
        RecordBatch::try_new(Arc::new(Schema::new(fields)), cols).unwrap()
    }

    pub(crate) fn f32s(v: &[f32]) -> Vec<u8> {
        v.iter().flat_map(|x| x.to_le_bytes()).collect()
    }

    pub(crate) fn as_f32(b: &[u8]) -> Vec<f32> {
        b.chunks_exact(4)
            .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
            .collect()
    }

    fn raster_batch(
        extents: &[Extent],
        tiles: &[(&str, usize, usize, usize, Vec<u8>)],
        instant: Option<Vec<i64>>,
    ) -> RecordBatch {
        let f = |g: fn(&Extent) -> f64| -> ArrayRef {
            Arc::new(Float64Array::from_iter_values(extents.iter().map(g)))
        };
        let mut extra = vec![
            ("xmin", f(|e| e.xmin)),
            ("ymin", f(|e| e.ymin)),
            ("xmax", f(|e| e.xmax)),
            ("ymax", f(|e| e.ymax)),
        ];
        if let Some(i) = instant {
            extra.push(("instant", Arc::new(Int64Array::from(i))));
        }
        tile_batch(extra, tiles)
    }

    use crate::layout::tests::{ext, layout};

    #[test]
    fn cut_aligned_raster() {
        // A 4×4 raster over two 2×2 tiles of a 2×1 layout covering (0,0)-(20,10).
        let l = Layout {
            xmin: 0.0,
            ymin: 0.0,
            xmax: 20.0,
            ymax: 10.0,
            layout_cols: 2,
            layout_rows: 1,
            tile_cols: 2,
            tile_rows: 2,
        };
        let cells: Vec<f32> = (0..8).map(|v| v as f32).collect();
        let b = raster_batch(
            &[ext(0.0, 0.0, 20.0, 10.0)],
            &[("float32", 1, 2, 4, f32s(&cells))],
            Some(vec![7]),
        );
        let out = cut_to_layout(&b, &l).unwrap();
        let names: Vec<_> = out
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect();
        assert_eq!(
            names,
            [
                "col",
                "row",
                "instant",
                "cell_type",
                "bands",
                "rows",
                "cols",
                "cells"
            ]
        );
        assert_eq!(out.num_rows(), 2);
        let cells = out.column_by_name("cells").unwrap().as_binary::<i32>();
        assert_eq!(as_f32(cells.value(0)), vec![0.0, 1.0, 4.0, 5.0]);
        assert_eq!(as_f32(cells.value(1)), vec![2.0, 3.0, 6.0, 7.0]);
        let cols = out
            .column_by_name("col")
            .unwrap()
            .as_primitive::<Int32Type>();
        assert_eq!(cols.values().to_vec(), vec![0, 1]);
        assert_eq!(
            out.column_by_name("instant")
                .unwrap()
                .as_primitive::<Int64Type>()
                .values()
                .to_vec(),
            vec![7, 7]
        );
    }

    #[test]
    fn cut_partial_cover_and_edges() {
        // Layout 1×1 tile of 4×4 pixels over (0,0)-(4,4); raster (1,1)-(3,3) of 2×2 int16ud-9.
        let l = Layout {
            xmin: 0.0,
            ymin: 0.0,
            xmax: 4.0,
            ymax: 4.0,
            layout_cols: 1,
            layout_rows: 1,
            tile_cols: 4,
            tile_rows: 4,
        };
        let cells: Vec<u8> = [1i16, 2, 3, 4]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        let b = raster_batch(
            &[ext(1.0, 1.0, 3.0, 3.0)],
            &[("int16ud-9", 1, 2, 2, cells)],
            None,
        );
        let out = cut_to_layout(&b, &l).unwrap();
        assert_eq!(out.num_rows(), 1);
        assert!(out.column_by_name("instant").is_none());
        let v: Vec<i16> = out
            .column_by_name("cells")
            .unwrap()
            .as_binary::<i32>()
            .value(0)
            .chunks_exact(2)
            .map(|c| i16::from_le_bytes(c.try_into().unwrap()))
            .collect();
        #[rustfmt::skip]
        assert_eq!(v, vec![-9, -9, -9, -9,
                           -9,  1,  2, -9,
                           -9,  3,  4, -9,
                           -9, -9, -9, -9]);

        // Centres exactly on the raster's east/south edges sample the last column/row (GeoTrellis clamps);
        // centres on west/north edges sample the first.
        let l = Layout {
            xmin: 0.0,
            ymin: 0.0,
            xmax: 4.0,
            ymax: 4.0,
            layout_cols: 1,
            layout_rows: 1,
            tile_cols: 4,
            tile_rows: 4,
        };
        let b = raster_batch(
            &[ext(0.5, 0.5, 2.5, 2.5)],
            &[("uint8raw", 1, 2, 2, vec![1, 2, 3, 4])],
            None,
        );
        let out = cut_to_layout(&b, &l).unwrap();
        let v = out
            .column_by_name("cells")
            .unwrap()
            .as_binary::<i32>()
            .value(0)
            .to_vec();
        #[rustfmt::skip]
        assert_eq!(v, vec![0, 0, 0, 0,
                           1, 2, 2, 0,
                           3, 4, 4, 0,
                           3, 4, 4, 0]);
    }

    #[test]
    fn cut_multiband_touching_and_raw_nan() {
        let l = layout(3, 1, 2, 1); // keys 10 wide, 2 pixels of 5
                                    // Raster exactly over key 1: touching keys 0 and 2 are not emitted.
        let cells = f32s(&[1.0, 2.0, f32::NAN, 4.0]);
        let b = raster_batch(
            &[ext(10.0, 0.0, 20.0, 10.0)],
            &[("float32raw", 2, 1, 2, cells)],
            None,
        );
        let out = cut_to_layout(&b, &l).unwrap();
        assert_eq!(out.num_rows(), 1);
        assert_eq!(
            out.column_by_name("col")
                .unwrap()
                .as_primitive::<Int32Type>()
                .value(0),
            1
        );
        let v = as_f32(
            out.column_by_name("cells")
                .unwrap()
                .as_binary::<i32>()
                .value(0),
        );
        // Raw float: a NaN source cell is not data, and a cell without data is NaN.
        assert_eq!(v[..2], [1.0, 2.0]);
        assert!(v[2].is_nan());
        assert_eq!(v[3], 4.0);
        assert!(cut_to_layout(
            &b,
            &Layout {
                layout_cols: 0,
                ..l
            }
        )
        .is_err());
    }
}
