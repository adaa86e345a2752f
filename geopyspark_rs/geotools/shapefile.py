"""GeoPySpark's module path ``geopyspark.geotools.shapefile``; the code lives in
``geopyspark_rs.geotrellis.shapefile`` (exported as ``gps.shapefile``)."""

from ..geotrellis.shapefile import __all__, get, get_dataframe  # noqa: F401
