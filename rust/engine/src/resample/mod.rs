//! Resampling of a raster grid onto another grid with GeoTrellis' ten methods, NoData-aware.
