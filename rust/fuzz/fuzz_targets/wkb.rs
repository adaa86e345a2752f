//! WKB geometries (shapely's `to_wkb`, GeoPySpark's wire form) through `Shape::from_wkb`, then what the
//! rasterizer and zonal code do with a shape: its bounding box, the cells it covers on a 32×32 grid
//! under every cell rule, and the layout keys it touches.
#![no_main]

use gps_engine::layout::Layout;
use gps_engine::rasterize::burn::shape_keys;
use gps_engine::rasterize::{coverage, CellRule, Grid, Shape};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(shape) = Shape::from_wkb(data) else { return };
    let _ = shape.bbox();
    let _ = shape.vertices().count();
    let grid = Grid { xmin: 0.0, ymax: 32.0, cell_width: 1.0, cell_height: 1.0, cols: 32, rows: 32 };
    for rule in [CellRule::Centre, CellRule::AllTouched, CellRule::Contained, CellRule::Fraction] {
        if let Ok(c) = coverage(&shape, &grid, rule) {
            assert!(c.col0 + c.cols <= grid.cols && c.row0 + c.rows <= grid.rows, "coverage inside the grid");
            let _ = c.cells().count();
        }
    }
    let layout = Layout {
        xmin: 0.0,
        ymin: 0.0,
        xmax: 32.0,
        ymax: 32.0,
        layout_cols: 4,
        layout_rows: 4,
        tile_cols: 8,
        tile_rows: 8,
    };
    let _ = shape_keys(&shape, &layout);
});
