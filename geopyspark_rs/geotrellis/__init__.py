"""The ``geopyspark.geotrellis`` namespace: data model, constants, layers, histograms."""

from .constants import *  # noqa: F401,F403
from .constants import __all__ as _constants_all
from .data_model import (  # noqa: F401
    Bounds, CellValue, Extent, Feature, GlobalLayout, HashPartitionStrategy, LayoutDefinition, LocalLayout,
    Metadata, ProjectedExtent, RasterizerOptions, SourceInfo, SpaceTimeKey, SpaceTimePartitionStrategy,
    SpatialKey, SpatialPartitionStrategy, TemporalProjectedExtent, Tile, TileLayout, _convert_to_unix_time,
    crs_to_proj4,
)
from .histogram import Histogram  # noqa: F401
from .key_conversion import KeyTransform  # noqa: F401
from .layer import RasterLayer, TiledRasterLayer  # noqa: F401
from .pyramid import Pyramid  # noqa: F401
from .neighborhood import Annulus, Circle, Nesw, Square, Wedge  # noqa: F401
from .focal import zfactor_calculator, zfactor_lat_lng_calculator  # noqa: F401
from .hillshade import hillshade  # noqa: F401,E402  (the function shadows the submodule, as in GeoPySpark)
from .partition import check_partition_strategy  # noqa: F401
from .union import check_layers, union  # noqa: F401  (the function shadows the submodule, as in GeoPySpark)
from .combine_bands import combine_bands  # noqa: F401,E402
from . import geotiff  # noqa: F401,E402  (a module, as in GeoPySpark: gps.geotiff.get)
from . import shapefile  # noqa: F401,E402  (a module, as in GeoPySpark: gps.shapefile.get)
from . import rasterio  # noqa: F401,E402  (gps.rasterio.get; imports the rasterio package only when used)
from . import s3  # noqa: F401,E402
from .s3 import Credentials  # noqa: F401,E402
from . import catalog  # noqa: F401,E402
from .catalog import AttributeStore, query, read_layer_metadata, read_value, update_layer, write  # noqa: F401,E402
from .color import ColorMap, get_colors_from_colors, get_colors_from_matplotlib  # noqa: F401,E402
from .tms import TMS, TileRender  # noqa: F401,E402
from .rasterize import rasterize, rasterize_features  # noqa: F401,E402
from .euclidean_distance import euclidean_distance  # noqa: F401,E402  (shadows the submodule, as in GeoPySpark)
from .cost_distance import cost_distance  # noqa: F401,E402  (shadows the submodule, as in GeoPySpark)

__all__ = [
    "Tile", "Extent", "ProjectedExtent", "TemporalProjectedExtent", "SpatialKey", "SpaceTimeKey", "TileLayout",
    "LayoutDefinition", "Bounds", "Metadata", "GlobalLayout", "LocalLayout", "RasterizerOptions",
    "HashPartitionStrategy", "SpatialPartitionStrategy", "SpaceTimePartitionStrategy", "SourceInfo", "Feature",
    "CellValue", "Histogram", "KeyTransform", "RasterLayer", "TiledRasterLayer", "Pyramid", "union", "combine_bands", "geotiff", "rasterio", "shapefile", "Credentials",
    "AttributeStore", "query", "read_layer_metadata", "read_value", "update_layer", "write",
    "Square", "Circle", "Wedge", "Nesw", "Annulus", "hillshade", "zfactor_calculator", "zfactor_lat_lng_calculator",
    "ColorMap", "get_colors_from_colors", "get_colors_from_matplotlib", "TMS", "TileRender",
    "rasterize", "rasterize_features", "euclidean_distance", "cost_distance",
] + list(_constants_all)
