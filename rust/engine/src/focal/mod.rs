//! STUB (not committed): naive kernels to exercise the plumbing until the real ones land.
pub mod neighborhood;
pub mod stats;
pub mod terrain;
pub mod tiles;
