//! Geometries on grids: WKB input (`geometry`), the cells a shape covers under each rule (`cells`), and
//! burning shapes into tiles (`burn`), shared by masking, polygonal summaries, zonal statistics and
//! rasterization.

pub mod burn;
pub mod cells;
pub mod geometry;

pub use cells::{centre_spans, coverage, CellRule, Coverage, Grid, Span};
pub use geometry::Shape;
