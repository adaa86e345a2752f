"""geopyspark_rs: the GeoPySpark raster API on stock PySpark, with a Rust core."""
