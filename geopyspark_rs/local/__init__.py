"""``geopyspark_rs.local``: GeoTrellis layer catalogs as NumPy, in plain Python — no SparkSession, no JVM.

``query`` reads a layer's tiles into a dict of keys → ``Tile``; ``read`` mosaics a region into one
:class:`Raster` (cells, ``affine.Affine`` transform, ``pyproj.CRS``) for rasterio and xarray; ``write``
stores a :class:`Layer` of tiles, or a Raster cut to a layout, byte-identical to ``gps.write``. The tile
files are decoded and encoded in Rust on every core. The same functions run inside Spark tasks
(``mapInPandas``/``mapInArrow``), one core each.
"""

from .catalog import Layer, query, read, read_layer, read_layer_metadata, read_value, write
from .raster import Raster

__all__ = ["Layer", "Raster", "query", "read", "read_layer", "read_value", "read_layer_metadata", "write"]
