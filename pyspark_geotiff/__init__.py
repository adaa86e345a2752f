"""Spark discovers Python data sources in top-level ``pyspark_*`` modules: this one makes
``spark.read.format("geotiff")`` work without registering anything."""

from geopyspark_rs.geotrellis.geotiff.datasource import GeoTiffDataSource as DefaultSource  # noqa: F401
