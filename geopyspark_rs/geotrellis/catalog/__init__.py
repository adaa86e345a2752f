"""``gps.catalog``: GeoTrellis layer catalogs (file backend and S3): reading and writing Avro layers,
reading COG layers, and the attribute store (GeoPySpark's ``geopyspark.geotrellis.catalog``)."""

from .attributes import AttributeStore
from .read import query, read_layer_metadata, read_value
from .write import update_layer, write

__all__ = ["read_layer_metadata", "read_value", "query", "write", "update_layer", "AttributeStore"]
