"""Spark discovers Python data sources in top-level ``pyspark_*`` modules: this one makes
``spark.read.format("geotrellis")`` work without registering anything."""

from geopyspark_rs.geotrellis.catalog.datasource import GeoTrellisDataSource as DefaultSource  # noqa: F401
