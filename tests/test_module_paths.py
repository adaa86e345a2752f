"""GeoPySpark's module paths import from geopyspark_rs with the same names (reference §1.1 and §5), for
every module we implement; a module we do not implement yet must not exist half-way."""

import importlib

import pytest

# GeoPySpark module → the names its __all__ (or its documented use) gives.
MODULES = {
    "geotrellis": ["RasterLayer", "TiledRasterLayer", "Pyramid", "Tile", "Extent", "LayerType", "Histogram",
                   "Square", "Circle", "Wedge", "Nesw", "Annulus", "hillshade", "zfactor_calculator",
                   "zfactor_lat_lng_calculator", "union", "combine_bands", "KeyTransform", "crs_to_proj4",
                   "ColorMap", "TMS", "TileRender", "get_colors_from_colors", "get_colors_from_matplotlib"],
    "geotrellis.layer": ["RasterLayer", "TiledRasterLayer", "Pyramid"],
    "geotrellis.constants": ["LayerType", "Operation", "Neighborhood", "ResampleMethod", "CellType", "Unit",
                             "NO_DATA_INT"],
    "geotrellis.catalog": ["read_layer_metadata", "read_value", "query", "write", "update_layer",
                           "AttributeStore"],
    "geotrellis.geotiff": ["get"],
    "geotrellis.rasterio": ["get", "crs_to_proj4"],
    "geotrellis.s3": ["Credentials"],
    "geotrellis.histogram": ["Histogram"],
    "geotrellis.neighborhood": ["Square", "Circle", "Wedge", "Nesw", "Annulus"],
    "geotrellis.hillshade": ["hillshade"],
    "geotrellis.combine_bands": ["combine_bands"],
    "geotrellis.union": ["union"],
    "geotrellis.key_conversion": ["KeyTransform"],
    "geotrellis.color": ["get_colors_from_colors", "get_colors_from_matplotlib", "ColorMap"],
    "geotrellis.tms": ["TileRender", "TMS"],
    "geotrellis.rasterize": ["rasterize", "rasterize_features"],
    "geotrellis.euclidean_distance": ["euclidean_distance"],
    "geotrellis.cost_distance": ["cost_distance"],
    "geotools.shapefile": ["get"],
}
# Modules of issues still open (none at the moment).
NOT_YET = []


@pytest.mark.parametrize("module", sorted(MODULES))
def test_geopyspark_module_paths(module):
    mod = importlib.import_module(f"geopyspark_rs.{module}")
    for name in MODULES[module]:
        assert hasattr(mod, name), f"geopyspark_rs.{module} lacks {name}"
    if hasattr(mod, "__all__") and module != "geotrellis":
        assert set(MODULES[module]) <= set(mod.__all__)


def test_same_objects_at_every_path():
    import geopyspark_rs as gps
    from geopyspark_rs.geotrellis.hillshade import hillshade
    from geopyspark_rs.geotrellis.layer import Pyramid, TiledRasterLayer

    assert gps.Pyramid is Pyramid and gps.TiledRasterLayer is TiledRasterLayer and gps.hillshade is hillshade


def test_modules_not_yet_implemented_are_absent():
    for module in NOT_YET:
        with pytest.raises(ModuleNotFoundError):
            importlib.import_module(f"geopyspark_rs.{module}")
