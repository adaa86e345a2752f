//! Distance surfaces: Euclidean distance to a geometry (`euclidean`).

pub mod cost;
pub mod cost_tiles;
pub mod euclidean;
