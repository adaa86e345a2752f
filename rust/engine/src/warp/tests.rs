use std::sync::Arc;

use arrow_array::{ArrayRef, Float64Array, RecordBatch, StringArray};
use arrow_schema::{DataType as ArrowType, Field, Schema};

use super::layer::{reproject_rasters, warp_pieces, warp_runs};
use super::*;
use crate::batch::{CellTypeCache, TileBuilder, TileColumns};
use crate::layout::Layout;

fn f32_cells(values: &[f32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

fn f32_values(bytes: &[u8]) -> Vec<f32> {
    bytes.chunks_exact(4).map(|b| f32::from_le_bytes(b.try_into().unwrap())).collect()
}

/// A smooth field over a UTM 33N raster: 120×80 cells of 30 m.
fn utm_raster() -> (Grid, Vec<f32>) {
    let grid = Grid::new([500_000.0, 4_000_000.0, 503_600.0, 4_002_400.0], 120, 80).unwrap();
    let v = (0..80)
        .flat_map(|r| (0..120).map(move |c| (c as f32 * 0.5 + r as f32 * 0.25).sin() * 100.0 + c as f32))
        .collect();
    (grid, v)
}

#[test]
fn same_crs_same_grid_is_a_copy() {
    let (grid, v) = utm_raster();
    let t = Transformer::new("EPSG:32633", "EPSG:32633").unwrap();
    let ct = CellType::parse("float32").unwrap();
    for method in [ResampleMethod::NearestNeighbor, ResampleMethod::Bilinear, ResampleMethod::CubicConvolution] {
        let out = warp(&f32_cells(&v), &ct, 1, &grid, &grid, &t, method, 0.125).unwrap();
        assert_eq!(f32_values(&out), v, "{method:?}");
    }
}

#[test]
fn suggested_grid_keeps_the_diagonal_cell_count() {
    let (grid, _) = utm_raster();
    let t = Transformer::new("EPSG:32633", "EPSG:4326").unwrap();
    let g = suggested_grid(&t, &grid).unwrap();
    let ratio = (g.cols as f64).hypot(g.rows as f64) / 120f64.hypot(80.0);
    assert!((ratio - 1.0).abs() < 0.02, "{g:?}");
    assert!((g.cell_width() - g.cell_height()).abs() < 1e-12);
    // UTM 33N at 500 km easting is the central meridian, 15°E; 4000 km north is about 36.1°N.
    assert!((g.extent[0] - 15.0).abs() < 0.01 && (g.extent[1] - 36.14).abs() < 0.05, "{g:?}");
}

#[test]
fn nearest_lands_in_the_cell_exact_transforms_give() {
    let (grid, v) = utm_raster();
    let forward = Transformer::new("EPSG:32633", "EPSG:3857").unwrap();
    let inverse = Transformer::new("EPSG:3857", "EPSG:32633").unwrap();
    let dst = suggested_grid(&forward, &grid).unwrap();
    let ct = CellType::parse("float32").unwrap();
    let approx = f32_values(&warp(&f32_cells(&v), &ct, 1, &grid, &dst, &inverse, ResampleMethod::NearestNeighbor, 0.125).unwrap());
    let exact = f32_values(&warp(&f32_cells(&v), &ct, 1, &grid, &dst, &inverse, ResampleMethod::NearestNeighbor, 0.0).unwrap());
    let same = approx.iter().zip(&exact).filter(|(a, b)| a == b || (a.is_nan() && b.is_nan())).count();
    assert!(same as f64 >= 0.99 * exact.len() as f64, "{same} of {}", exact.len());
    assert!(exact.iter().filter(|v| !v.is_nan()).count() > exact.len() / 2);
}

fn raster_batch(rasters: &[(Grid, Vec<f32>)], crs: &str) -> RecordBatch {
    let mut tiles = TileBuilder::with_capacity(rasters.len(), 0);
    let ct = CellType::parse("float32").unwrap();
    for (g, v) in rasters {
        tiles.push_tile(&ct, 1, g.rows, g.cols, &f32_cells(v));
    }
    let mut fields = Vec::new();
    let mut columns: Vec<ArrayRef> = Vec::new();
    for (k, name) in ["xmin", "ymin", "xmax", "ymax"].iter().enumerate() {
        fields.push(Field::new(*name, ArrowType::Float64, false));
        columns.push(Arc::new(Float64Array::from(rasters.iter().map(|(g, _)| g.extent[k]).collect::<Vec<_>>())));
    }
    fields.push(Field::new("crs", ArrowType::Utf8, false));
    columns.push(Arc::new(StringArray::from(vec![crs; rasters.len()])));
    for (f, c) in tiles.finish(false).unwrap() {
        fields.push(f);
        columns.push(c);
    }
    RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).unwrap()
}

/// Splits a raster into `n × n` windows (rasters of their own).
fn split(grid: &Grid, v: &[f32], n: usize) -> Vec<(Grid, Vec<f32>)> {
    let (cw, ch) = (grid.cell_width(), grid.cell_height());
    let mut out = Vec::new();
    for i in 0..n {
        for j in 0..n {
            let (r0, r1) = (i * grid.rows / n, (i + 1) * grid.rows / n);
            let (c0, c1) = (j * grid.cols / n, (j + 1) * grid.cols / n);
            let cells = (r0..r1).flat_map(|r| (c0..c1).map(move |c| v[r * grid.cols + c])).collect();
            let e = [grid.extent[0] + c0 as f64 * cw, grid.extent[3] - r1 as f64 * ch, grid.extent[0] + c1 as f64 * cw, grid.extent[3] - r0 as f64 * ch];
            out.push((Grid::new(e, c1 - c0, r1 - r0).unwrap(), cells));
        }
    }
    out
}

/// The rows of a `warp_pieces` batch in the given order (what the shuffle does).
fn reorder(b: &RecordBatch, order: &[usize]) -> RecordBatch {
    let int = |n: &str| b.column_by_name(n).unwrap().as_any().downcast_ref::<arrow_array::Int32Array>().unwrap().clone();
    let f64s = |n: &str| b.column_by_name(n).unwrap().as_any().downcast_ref::<Float64Array>().unwrap().clone();
    let mut columns: Vec<ArrayRef> = Vec::new();
    let mut fields = Vec::new();
    for n in ["col", "row"] {
        let a = int(n);
        columns.push(Arc::new(arrow_array::Int32Array::from(order.iter().map(|&i| a.value(i)).collect::<Vec<_>>())));
        fields.push(Field::new(n, ArrowType::Int32, false));
    }
    for n in ["xmin", "ymin", "xmax", "ymax"] {
        let a = f64s(n);
        columns.push(Arc::new(Float64Array::from(order.iter().map(|&i| a.value(i)).collect::<Vec<_>>())));
        fields.push(Field::new(n, ArrowType::Float64, false));
    }
    let tc = TileColumns::new(b, 0).unwrap();
    let mut types = CellTypeCache::default();
    let mut tiles = TileBuilder::with_capacity(order.len(), 0);
    for &i in order {
        let ct = types.get(tc.cell_type_name(i)).unwrap();
        let t = tc.tile(i, &ct).unwrap();
        tiles.push_tile(&ct, t.bands, t.rows, t.cols, t.cells);
    }
    for (f, c) in tiles.finish(false).unwrap() {
        fields.push(f);
        columns.push(c);
    }
    RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).unwrap()
}

/// Tiling pieces of a raster into a layout through warp_pieces + sort + warp_runs gives the tiles a
/// warp of the whole raster gives: the tiles sample across the pieces' edges.
#[test]
fn layout_tiles_sample_across_raster_edges() {
    let (grid, v) = utm_raster();
    let forward = Transformer::new("EPSG:32633", "EPSG:3857").unwrap();
    let inverse = Transformer::new("EPSG:3857", "EPSG:32633").unwrap();
    let [xmin, ymin, xmax, ymax] = transformed_extent(&forward, &grid).unwrap();
    let layout = Layout {
        xmin,
        ymin,
        xmax: xmin + (xmax - xmin) * 1.1,
        ymax,
        layout_cols: 3,
        layout_rows: 2,
        tile_cols: 50,
        tile_rows: 40,
    };
    let batch = raster_batch(&split(&grid, &v, 3), "EPSG:32633");
    let ct = CellType::parse("float32").unwrap();
    for method in [ResampleMethod::NearestNeighbor, ResampleMethod::Bilinear, ResampleMethod::CubicSpline, ResampleMethod::Average] {
        let pieces = warp_pieces(&batch, "EPSG:32633", "EPSG:3857", &layout, method).unwrap();
        // The shuffle: sort rows by key.
        let cols = pieces.column_by_name("col").unwrap().as_any().downcast_ref::<arrow_array::Int32Array>().unwrap();
        let rows = pieces.column_by_name("row").unwrap().as_any().downcast_ref::<arrow_array::Int32Array>().unwrap();
        let mut order: Vec<usize> = (0..pieces.num_rows()).collect();
        order.sort_by_key(|&i| (rows.value(i), cols.value(i)));
        let sorted = reorder(&pieces, &order);
        let (tiles, end) = warp_runs(&sorted, &["col", "row"], "EPSG:32633", "EPSG:3857", &layout, method, 0.125, true).unwrap();
        assert_eq!(end, sorted.num_rows());
        assert_eq!(tiles.num_rows(), 6, "{method:?}");
        let tc = TileColumns::new(&tiles, 0).unwrap();
        let mut types = CellTypeCache::default();
        let kc = tiles.column_by_name("col").unwrap().as_any().downcast_ref::<arrow_array::Int32Array>().unwrap();
        let kr = tiles.column_by_name("row").unwrap().as_any().downcast_ref::<arrow_array::Int32Array>().unwrap();
        assert!(tiles.column_by_name("xmin").is_none());
        for i in 0..tiles.num_rows() {
            let tile = tc.tile(i, &types.get(tc.cell_type_name(i)).unwrap()).unwrap();
            let ke = layout.key_extent(kc.value(i) as i64, kr.value(i) as i64);
            let key_grid = Grid::new([ke.xmin, ke.ymin, ke.xmax, ke.ymax], 50, 40).unwrap();
            let whole = f32_values(&warp(&f32_cells(&v), &ct, 1, &grid, &key_grid, &inverse, method, 0.125).unwrap());
            let got = f32_values(tile.cells);
            for (k, (a, b)) in got.iter().zip(&whole).enumerate() {
                assert!(a == b || (a.is_nan() && b.is_nan()) || (a - b).abs() < 1e-3, "{method:?} key {i} cell {k}: {a} vs {b}");
            }
        }
    }
}

#[test]
fn reproject_rasters_replaces_extent_crs_and_tiles() {
    let (grid, v) = utm_raster();
    let batch = raster_batch(&[(grid, v)], "EPSG:32633");
    let out = reproject_rasters(&batch, "4326", ResampleMethod::Bilinear, 0.125).unwrap();
    let crs = out.column_by_name("crs").unwrap().as_any().downcast_ref::<StringArray>().unwrap();
    assert_eq!(crs.value(0), crate::crs::LATLNG_PROJ4);
    let xmin = out.column_by_name("xmin").unwrap().as_any().downcast_ref::<Float64Array>().unwrap();
    assert!((xmin.value(0) - 15.0).abs() < 0.01);
    let tc = TileColumns::new(&out, 0).unwrap();
    let tile = tc.tile(0, &CellType::parse("float32").unwrap()).unwrap();
    let g = suggested_grid(&Transformer::new("EPSG:32633", "EPSG:4326").unwrap(), &grid).unwrap();
    assert_eq!((tile.cols, tile.rows), (g.cols, g.rows));
}

#[test]
fn bad_crs_and_empty_grids_are_errors() {
    let (grid, v) = utm_raster();
    let batch = raster_batch(&[(grid, v)], "EPSG:32633");
    assert!(reproject_rasters(&batch, "EPSG:1", ResampleMethod::Bilinear, 0.125).is_err());
    assert!(Grid::new([0.0, 0.0, 0.0, 1.0], 1, 1).is_err());
    assert!(Grid::new([0.0, 0.0, 1.0, 1.0], 0, 1).is_err());
}
