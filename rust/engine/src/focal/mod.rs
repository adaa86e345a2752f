//! Focal and terrain operations: neighbourhood masks, the statistics and terrain kernels over a window of
//! working values (no Arrow), and the reduce side of the neighbour-buffer exchange that feeds them.

pub mod neighborhood;
pub mod stats;
pub mod terrain;
pub mod tiles;

pub use neighborhood::Neighborhood;
pub use stats::{focal_stat, FocalStat, Target, Window};
pub use tiles::{focal_runs, focal_with_strips, FocalOperation, FocalSpec};
