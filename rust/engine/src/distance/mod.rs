//! Distance surfaces: Euclidean distance to a geometry (`euclidean`).

pub mod euclidean;
