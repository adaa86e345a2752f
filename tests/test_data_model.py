"""Data types of geopyspark_rs.geotrellis.data_model (no Spark)."""

import datetime
import glob
import json
import math
import os

import numpy as np
import pytest
from shapely.geometry import Polygon, box

from geopyspark_rs.geotrellis import data_model as dm
from geopyspark_rs.geotrellis.constants import CellType, NO_DATA_INT, TimeUnit
from geopyspark_rs.geotrellis.data_model import (
    Bounds, CellValue, Extent, Feature, GlobalLayout, HashPartitionStrategy, LayoutDefinition, LocalLayout,
    Metadata, ProjectedExtent, RasterizerOptions, SourceInfo, SpaceTimeKey, SpaceTimePartitionStrategy,
    SpatialKey, SpatialPartitionStrategy, TemporalProjectedExtent, Tile, TileLayout, _convert_to_unix_time,
    crs_to_proj4)

LATLNG = "+proj=longlat +datum=WGS84 +no_defs "
WEB_MERCATOR = ("+proj=merc +a=6378137 +b=6378137 +lat_ts=0.0 +lon_0=0.0 +x_0=0.0 +y_0=0 +k=1.0 +units=m "
                "+nadgrids=@null +wktext +no_defs ")
CATALOG_ATTRIBUTES = sorted(
    glob.glob(os.path.join(os.environ.get("GPS_CATALOG_2X", "/work/shared/data/geotrellis-catalog-2x"),
                           "attributes", "*.json")))


# --- namedtuple shapes -------------------------------------------------------------------------------------

FIELDS = [
    (Tile, "Tile", ('cells', 'cell_type', 'no_data_value')),
    (Extent, "Extent", ('xmin', 'ymin', 'xmax', 'ymax')),
    (ProjectedExtent, "ProjectedExtent", ('extent', 'epsg', 'proj4')),
    (TemporalProjectedExtent, "TemporalProjectedExtent", ('extent', 'instant', 'epsg', 'proj4')),
    (SpatialKey, "SpatialKey", ('col', 'row')),
    (SpaceTimeKey, "SpaceTimeKey", ('col', 'row', 'instant')),
    (TileLayout, "TileLayout", ('layoutCols', 'layoutRows', 'tileCols', 'tileRows')),
    (LayoutDefinition, "LayoutDefinition", ('extent', 'tileLayout')),
    (Bounds, "Bounds", ('minKey', 'maxKey')),
    (GlobalLayout, "GlobalLayout", ('tile_size', 'zoom', 'threshold')),
    (LocalLayout, "LocalLayout", ('tile_cols', 'tile_rows')),
    (RasterizerOptions, "RasterizerOption", ('includePartial', 'sampleType')),
    (HashPartitionStrategy, "HashPartitionStrategy", ('num_partitions',)),
    (SpatialPartitionStrategy, "SpatialPartitionStrategy", ('num_partitions', 'bits')),
    (SpaceTimePartitionStrategy, "SpaceTimePartitionStrategy",
     ('time_unit', 'num_partitions', 'bits', 'time_resolution')),
    (SourceInfo, "SourceInfo", ('source', 'source_to_target_band')),
    (Feature, "Feature", ('geometry', 'properties')),
    (CellValue, "CellValue", ('value', 'zindex')),
]


@pytest.mark.parametrize("cls, typename, fields", FIELDS, ids=[f[1] for f in FIELDS])
def test_namedtuple_fields(cls, typename, fields):
    assert cls._fields == fields
    assert issubclass(cls, tuple)
    assert cls.__slots__ == []
    # The namedtuple base carries GeoPySpark's typename (RasterizerOptions' is "RasterizerOption").
    assert cls.__mro__[1].__name__ == typename
    instance = cls(*range(len(fields)))
    assert not hasattr(instance, '__dict__')


def test_all_names_exist():
    assert sorted(dm.__all__) == sorted(
        ["Tile", "Extent", "ProjectedExtent", "TemporalProjectedExtent", "SpatialKey", "SpaceTimeKey",
         "Metadata", "TileLayout", "GlobalLayout", "LocalLayout", "LayoutDefinition", "Bounds",
         "RasterizerOptions", "HashPartitionStrategy", "SpatialPartitionStrategy", "SpaceTimePartitionStrategy",
         "Feature", "CellValue", "SourceInfo"])
    for name in dm.__all__:
        assert hasattr(dm, name)


def test_defaults():
    extent = Extent(0, 0, 1, 1)
    assert ProjectedExtent(extent) == (extent, None, None)
    assert ProjectedExtent(extent, 4326) == (extent, 4326, None)
    assert ProjectedExtent(extent, proj4=LATLNG).proj4 == LATLNG
    now = datetime.datetime(2020, 1, 2)
    assert TemporalProjectedExtent(extent, now) == (extent, now, None, None)
    assert RasterizerOptions() == (True, 'PixelIsPoint')
    assert RasterizerOptions(False, 'PixelIsArea').sampleType == 'PixelIsArea'
    assert HashPartitionStrategy() == (None,)
    assert HashPartitionStrategy(4).num_partitions == 4
    assert SpatialPartitionStrategy() == (None, 8)
    assert SpatialPartitionStrategy(num_partitions=3, bits=2) == (3, 2)
    assert SpaceTimePartitionStrategy(TimeUnit.DAYS) == (TimeUnit.DAYS, None, 8, None)
    assert SpaceTimePartitionStrategy(TimeUnit.WEEKS, 2, 4, "5").time_resolution == "5"
    with pytest.raises(TypeError):
        SpaceTimePartitionStrategy()


def test_global_layout_defaults():
    assert GlobalLayout() == GlobalLayout(tile_size=256, zoom=None, threshold=0.1)
    assert GlobalLayout(512) == (512, None, 0.1)
    assert GlobalLayout(zoom=3) == (256, 3, 0.1)
    assert GlobalLayout(threshold=0) == (256, None, 0.1)
    assert GlobalLayout(128, 5, 0.3) == (128, 5, 0.3)


def test_local_layout():
    assert LocalLayout(5) == LocalLayout(tile_cols=5, tile_rows=5)
    assert LocalLayout(5)._asdict() == {'tile_cols': 5, 'tile_rows': 5}
    assert LocalLayout() == (256, 256)
    assert LocalLayout(tile_cols=10) == (10, 256)
    assert LocalLayout(5, tile_rows=7) == (5, 7)
    assert LocalLayout(5, 6, 7) == (6, 7)
    assert repr(LocalLayout(5)) == "LocalLayout(tile_cols=5, tile_rows=5)"


def test_namedtuple_behaviour():
    key = SpatialKey(3, 4)
    assert key == (3, 4) and key.col == 3 and key.row == 4
    assert key._replace(row=9) == SpatialKey(3, 9)
    assert {key: 1}[SpatialKey(3, 4)] == 1
    assert repr(key) == "SpatialKey(col=3, row=4)"


# --- Extent and projected extents --------------------------------------------------------------------------

def test_extent_polygon_round_trip():
    extent = Extent(1.0, 2.0, 3.0, 5.0)
    polygon = extent.to_polygon  # a property, not a method
    assert polygon.equals(box(1.0, 2.0, 3.0, 5.0))
    assert Extent.from_polygon(polygon) == extent
    triangle = Polygon([(0, 0), (4, 1), (1, 3)])
    assert Extent.from_polygon(triangle) == Extent(0.0, 0.0, 4.0, 3.0)


def test_projected_extent_asdict():
    extent = Extent(0, 1, 2, 3)
    expected_extent = {'xmin': 0, 'ymin': 1, 'xmax': 2, 'ymax': 3}
    assert ProjectedExtent(extent, 4326)._asdict() == {'extent': expected_extent, 'epsg': 4326, 'proj4': None}
    assert ProjectedExtent(expected_extent, proj4=LATLNG)._asdict() == {
        'extent': expected_extent, 'epsg': None, 'proj4': LATLNG}
    instant = datetime.datetime(2016, 5, 1, 12)
    assert TemporalProjectedExtent(extent, instant, 3857)._asdict() == {
        'extent': expected_extent, 'instant': instant, 'epsg': 3857, 'proj4': None}
    assert TemporalProjectedExtent(expected_extent, instant)._asdict()['extent'] == expected_extent


# --- time ----------------------------------------------------------------------------------------------------

def test_convert_to_unix_time():
    assert _convert_to_unix_time(datetime.datetime(1970, 1, 1)) == 0
    assert _convert_to_unix_time(datetime.datetime(2015, 11, 26)) == 1448496000000
    assert _convert_to_unix_time(datetime.datetime(2015, 11, 26, 0, 0, 0, 123000)) == 1448496000123
    # Sub-millisecond parts are dropped, not rounded by float arithmetic.
    assert _convert_to_unix_time(datetime.datetime(2015, 11, 26, 0, 0, 0, 123999)) == 1448496000123
    eastern = datetime.timezone(datetime.timedelta(hours=-5))
    assert _convert_to_unix_time(datetime.datetime(2015, 11, 25, 19, tzinfo=eastern)) == 1448496000000
    assert _convert_to_unix_time(datetime.datetime(2015, 11, 26, tzinfo=datetime.timezone.utc)) == 1448496000000
    assert _convert_to_unix_time(datetime.datetime(1969, 12, 31, 23, 59, 59)) == -1000
    assert isinstance(_convert_to_unix_time(datetime.datetime(2000, 1, 1)), int)


def test_bounds_asdict_converts_instants():
    spatial = Bounds(SpatialKey(0, 1), SpatialKey(5, 6))
    assert spatial._asdict() == {'minKey': {'col': 0, 'row': 1}, 'maxKey': {'col': 5, 'row': 6}}
    temporal = Bounds(SpaceTimeKey(0, 1, datetime.datetime(2015, 11, 26)),
                      SpaceTimeKey(5, 6, datetime.datetime(2015, 11, 27)))
    assert temporal._asdict() == {'minKey': {'col': 0, 'row': 1, 'instant': 1448496000000},
                                  'maxKey': {'col': 5, 'row': 6, 'instant': 1448582400000}}
    # The keys themselves are untouched.
    assert temporal.minKey.instant == datetime.datetime(2015, 11, 26)


# --- Tile ----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype, expected", [
    ('int8', 'BYTE'), ('uint8', 'UBYTE'), ('int16', 'SHORT'), ('uint16', 'USHORT'), ('int32', 'INT'),
    ('uint32', 'FLOAT'), ('float16', 'FLOAT'), ('float32', 'FLOAT'),
    ('int64', 'DOUBLE'), ('uint64', 'DOUBLE'), ('float64', 'DOUBLE'),
])
def test_dtype_to_cell_type(dtype, expected):
    assert Tile.dtype_to_cell_type(np.dtype(dtype)) == expected
    arr = np.zeros((1, 2, 3), dtype=dtype)
    tile = Tile.from_numpy_array(arr)
    assert tile.cell_type == expected and tile.no_data_value is None and tile.cells is arr
    assert Tile.from_numpy_array(arr, 7).no_data_value == 7


@pytest.mark.parametrize("dtype", ['bool', 'complex64', 'complex128', 'U3', 'object'])
def test_dtype_to_cell_type_refuses_unsupported(dtype):
    with pytest.raises(TypeError):
        Tile.dtype_to_cell_type(np.dtype(dtype))
    with pytest.raises(TypeError):
        Tile.from_numpy_array(np.zeros((1, 1, 1), dtype=dtype))


def test_tile_fields():
    tile = Tile(np.ones((1, 2, 2), dtype='float32'), 'FLOAT', -1.0)
    assert tile.cell_type == 'FLOAT' and tile.no_data_value == -1.0
    assert tile._fields == ('cells', 'cell_type', 'no_data_value')


# --- crs_to_proj4 --------------------------------------------------------------------------------------------

def test_crs_to_proj4_epsg():
    assert crs_to_proj4(4326) == LATLNG
    assert crs_to_proj4("4326") == LATLNG
    assert crs_to_proj4("EPSG:4326") == LATLNG
    assert crs_to_proj4("epsg:4326") == LATLNG
    assert crs_to_proj4("EPSG:3857") == WEB_MERCATOR
    assert crs_to_proj4(3857) == WEB_MERCATOR
    assert crs_to_proj4("EPSG:32633") == "+proj=utm +zone=33 +datum=WGS84 +units=m +no_defs "


def test_crs_to_proj4_proj4_strings():
    assert crs_to_proj4("+proj=longlat +datum=WGS84 +no_defs") == LATLNG
    assert crs_to_proj4(LATLNG) == LATLNG
    assert crs_to_proj4(WEB_MERCATOR) == WEB_MERCATOR
    assert crs_to_proj4("  +proj=utm  +zone=10 +datum=NAD83\t+units=m ") == \
        "+proj=utm +zone=10 +datum=NAD83 +units=m "


@pytest.mark.parametrize("bad", ["", "not a crs", "EPSG:", "EPSG:99999", 1, "+datum=WGS84", None, 4326.5])
def test_crs_to_proj4_bad_input(bad):
    with pytest.raises(ValueError):
        crs_to_proj4(bad)


def test_crs_to_proj4_error_says_what_is_accepted():
    with pytest.raises(ValueError, match="EPSG"):
        crs_to_proj4("bogus")
    with pytest.raises(ValueError, match="unknown EPSG code 99999"):
        crs_to_proj4("EPSG:99999")


# --- Metadata ------------------------------------------------------------------------------------------------

def spatial_metadata(cell_type='float32', crs=4326):
    layout = LayoutDefinition(Extent(0.0, 0.0, 10.0, 10.0), TileLayout(2, 2, 5, 5))
    return Metadata(Bounds(SpatialKey(0, 0), SpatialKey(1, 1)), crs, cell_type,
                    Extent(0.0, 0.0, 9.5, 10.0), layout)


SPACETIME_DICT = {
    "cellType": "int16ud-9999",
    "layoutDefinition": {"extent": {"xmin": -20037508.342789244, "ymin": -20037508.342789244,
                                    "xmax": 20037508.342789244, "ymax": 20037508.342789244},
                         "tileLayout": {"layoutCols": 4, "layoutRows": 4, "tileCols": 256, "tileRows": 256}},
    "extent": {"xmin": -4152858.0, "ymin": 0.5, "xmax": 10.25, "ymax": 20000000.0},
    "crs": WEB_MERCATOR,
    "bounds": {"minKey": {"col": 0, "row": 1, "instant": 1448496000000},
               "maxKey": {"col": 3, "row": 2, "instant": 1451606400123}},
}


def test_metadata_attributes():
    md = spatial_metadata(CellType.FLOAT32, "EPSG:4326")
    assert md.crs == LATLNG
    assert md.cell_type == 'float32'
    assert isinstance(md.cell_type, str)
    assert math.isnan(md.no_data_value)
    assert md.tile_layout == TileLayout(2, 2, 5, 5)
    assert md.layout_definition.tileLayout is md.tile_layout
    assert md.bounds == Bounds(SpatialKey(0, 0), SpatialKey(1, 1))
    assert md.extent == Extent(0.0, 0.0, 9.5, 10.0)


def test_metadata_accepts_none_crs():
    md = spatial_metadata(crs=None)
    assert md.crs is None
    assert md.to_dict()['crs'] is None
    assert Metadata.from_dict(md.to_dict()) == md


def test_metadata_rejects_bad_crs():
    with pytest.raises(ValueError):
        spatial_metadata(crs="EPSG:99999")


@pytest.mark.parametrize("cell_type, expected", [
    ('bool', None), ('boolraw', None), (CellType.BOOL, None), (CellType.BOOLRAW, None),
    ('int8raw', None), ('uint8raw', None), ('int16raw', None), ('uint16raw', None), ('int32raw', None),
    ('float32raw', None), ('float64raw', None), (CellType.FLOAT64RAW, None),
    ('int8', -128), (CellType.INT8, -128), ('uint8', 0), ('uint16', 0), ('int16', -32768),
    ('int32', NO_DATA_INT), (CellType.INT32, -2147483648),
    ('int8ud-1', -1), ('uint8ud255', 255), ('int16ud-9999', -9999), ('uint16ud65535', 65535),
    ('int32ud7', 7), ('int16ud-32768', -32768),
    ('float32ud-9999.0', -9999.0), ('float64ud1.0E-5', 1e-5), ('float32ud-3.4028234663852886E38', -3.4028234663852886e38),
    ('float32ud-9999', -9999.0), ('float64ud0.5', 0.5),
])
def test_metadata_no_data_value(cell_type, expected):
    md = spatial_metadata(cell_type)
    assert md.no_data_value == expected
    assert type(md.no_data_value) is type(expected)


@pytest.mark.parametrize("cell_type", ['float32', 'float64', CellType.FLOAT64, 'float64udNaN'])
def test_metadata_no_data_value_nan(cell_type):
    nd = spatial_metadata(cell_type).no_data_value
    assert isinstance(nd, float) and math.isnan(nd)


@pytest.mark.parametrize("cell_type", ['int64', 'float', 'int16ud', 'int16ud-1.5', 'boolud1', 'int8rawud1',
                                       'float32ud', 'uint8ud', ''])
def test_metadata_rejects_unknown_cell_types(cell_type):
    with pytest.raises(ValueError):
        spatial_metadata(cell_type)


def test_metadata_rejects_non_string_cell_type():
    with pytest.raises(TypeError):
        spatial_metadata(None)


def test_metadata_user_defined_celltype_round_trip():
    name = CellType.create_user_defined_celltype(CellType.FLOAT32, -10.0)
    assert spatial_metadata(name).no_data_value == -10.0
    name = CellType.create_user_defined_celltype('int16', -1)
    assert spatial_metadata(name).no_data_value == -1


def test_metadata_spacetime_round_trip():
    md = Metadata.from_dict(json.loads(json.dumps(SPACETIME_DICT)))
    assert md.bounds == Bounds(SpaceTimeKey(0, 1, datetime.datetime(2015, 11, 26)),
                               SpaceTimeKey(3, 2, datetime.datetime(2016, 1, 1, 0, 0, 0, 123000)))
    assert md.bounds.minKey.instant.tzinfo is None
    assert md.cell_type == 'int16ud-9999' and md.no_data_value == -9999
    assert md.crs == WEB_MERCATOR
    assert md.extent == Extent(-4152858.0, 0.5, 10.25, 20000000.0)
    assert md.tile_layout == TileLayout(4, 4, 256, 256)
    out = md.to_dict()
    assert out == SPACETIME_DICT
    assert list(out) == ["cellType", "layoutDefinition", "extent", "crs", "bounds"]
    assert list(out["layoutDefinition"]) == ["extent", "tileLayout"]
    assert list(out["bounds"]["minKey"]) == ["col", "row", "instant"]
    assert isinstance(out["bounds"]["maxKey"]["instant"], int)
    assert Metadata.from_dict(out) == md


def test_metadata_from_dict_does_not_mutate_input():
    source = json.loads(json.dumps(SPACETIME_DICT))
    Metadata.from_dict(source)
    assert source == SPACETIME_DICT


def test_metadata_from_dict_normalises_crs():
    d = json.loads(json.dumps(SPACETIME_DICT))
    d["crs"] = "EPSG:4326"
    assert Metadata.from_dict(d).crs == LATLNG
    d["crs"] = "+proj=longlat +datum=WGS84 +no_defs"
    assert Metadata.from_dict(d).to_dict()["crs"] == LATLNG


def test_metadata_empty_bounds():
    d = json.loads(json.dumps(SPACETIME_DICT))
    d["bounds"] = {}
    md = Metadata.from_dict(d)
    assert md.bounds is None
    assert md.to_dict()["bounds"] == {}


@pytest.mark.skipif(not CATALOG_ATTRIBUTES, reason="GeoTrellis 2.x catalog fixture not present")
@pytest.mark.parametrize("path", CATALOG_ATTRIBUTES, ids=os.path.basename)
def test_metadata_round_trip_on_real_catalog(path):
    with open(path) as f:
        layer_id, attributes = json.load(f)
    raw = attributes["metadata"]
    md = Metadata.from_dict(raw)
    assert md.to_dict() == raw
    assert list(md.to_dict()) == ["cellType", "layoutDefinition", "extent", "crs", "bounds"]
    assert Metadata.from_dict(md.to_dict()) == md
    if layer_id == {"name": "landsat", "zoom": 0}:
        assert md.cell_type == 'uint16raw' and md.no_data_value is None
        assert md.crs == LATLNG
        assert md.tile_layout == TileLayout(34, 28, 256, 256)
        assert md.bounds == Bounds(SpatialKey(0, 0), SpatialKey(33, 27))


def test_metadata_equality_and_hash():
    a = spatial_metadata('float32', 4326)
    b = spatial_metadata(CellType.FLOAT32, "EPSG:4326")
    assert a == b and hash(a) == hash(b)  # NaN NoData does not break equality
    assert a != spatial_metadata('float64', 4326)
    assert a != spatial_metadata('float32', 3857)
    assert a != Metadata(a.bounds, a.crs, a.cell_type, Extent(0.0, 0.0, 1.0, 1.0), a.layout_definition)
    assert a != Metadata(Bounds(SpatialKey(0, 0), SpatialKey(0, 0)), a.crs, a.cell_type, a.extent,
                         a.layout_definition)
    assert a != Metadata(a.bounds, a.crs, a.cell_type, a.extent,
                         LayoutDefinition(a.layout_definition.extent, TileLayout(1, 1, 10, 10)))
    assert a != "not metadata"
    assert len({a, b}) == 1


def test_metadata_repr_and_str_show_every_field():
    md = spatial_metadata('int16ud-5', 4326)
    r = repr(md)
    assert r.startswith("Metadata(")
    for part in ["SpatialKey(col=1, row=1)", repr(LATLNG), "'int16ud-5'", "Extent(xmin=0.0, ymin=0.0, xmax=9.5",
                 "TileLayout(layoutCols=2"]:
        assert part in r, part
    s = str(md)
    for part in ["bounds=", "crs=", "cell_type=int16ud-5", "no_data_value=-5", "extent=", "tile_layout=",
                 "layout_definition="]:
        assert part in s, part
