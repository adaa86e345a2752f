"""GeoTrellis data model and layers (the `geopyspark.geotrellis` namespace)."""
