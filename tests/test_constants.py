"""Constants and enums of geopyspark_rs.geotrellis.constants: exact names and values (no Spark)."""

import enum

import pytest

from geopyspark_rs.geotrellis import constants as c
from geopyspark_rs.geotrellis.constants import CellType, ColorSpace, LayerType


def members(enum_cls):
    return [(m.name, m.value) for m in enum_cls]


def test_all_lists_every_public_name():
    assert c.__all__ == ['NO_DATA_INT', 'LayerType', 'IndexingMethod', 'ResampleMethod', 'TimeUnit',
                         'Operation', 'Neighborhood', 'ClassificationStrategy', 'CellType', 'ColorRamp',
                         'DEFAULT_MAX_TILE_SIZE', 'DEFAULT_PARTITION_BYTES', 'DEFAULT_CHUNK_SIZE',
                         'DEFAULT_GEOTIFF_TIME_TAG', 'DEFAULT_GEOTIFF_TIME_FORMAT', 'DEFAULT_S3_CLIENT',
                         'StorageMethod', 'ColorSpace', 'Compression', 'Unit', 'ReadMethod']
    for name in c.__all__:
        assert hasattr(c, name), name


def test_plain_constants():
    assert c.NO_DATA_INT == -2147483648 == -2**31
    assert c.DEFAULT_MAX_TILE_SIZE == 256
    assert c.DEFAULT_PARTITION_BYTES == 1343225856 == 1281 * 1024 * 1024
    assert c.DEFAULT_CHUNK_SIZE == 65536
    assert c.DEFAULT_GEOTIFF_TIME_TAG == "TIFFTAG_DATETIME"
    assert c.DEFAULT_GEOTIFF_TIME_FORMAT == "yyyy:MM:dd HH:mm:ss"
    assert c.DEFAULT_S3_CLIENT == "default"


EXPECTED = {
    'LayerType': [('SPATIAL', 'spatial'), ('SPACETIME', 'spacetime')],
    'IndexingMethod': [('ZORDER', 'zorder'), ('HILBERT', 'hilbert'), ('ROWMAJOR', 'rowmajor')],
    'ResampleMethod': [('NEAREST_NEIGHBOR', 'NearestNeighbor'), ('BILINEAR', 'Bilinear'),
                       ('CUBIC_CONVOLUTION', 'CubicConvolution'), ('CUBIC_SPLINE', 'CubicSpline'),
                       ('LANCZOS', 'Lanczos'), ('AVERAGE', 'Average'), ('MODE', 'Mode'),
                       ('MEDIAN', 'Median'), ('MAX', 'Max'), ('MIN', 'Min')],
    'TimeUnit': [('MILLIS', 'millis'), ('SECONDS', 'seconds'), ('MINUTES', 'minutes'), ('HOURS', 'hours'),
                 ('DAYS', 'days'), ('WEEKS', 'weeks'), ('MONTHS', 'months'), ('YEARS', 'years')],
    'Operation': [('SUM', 'Sum'), ('MEAN', 'Mean'), ('MODE', 'Mode'), ('MEDIAN', 'Median'), ('MAX', 'Max'),
                  ('MIN', 'Min'), ('ASPECT', 'Aspect'), ('VARIANCE', 'Variance'),
                  ('STANDARD_DEVIATION', 'StandardDeviation')],
    'Neighborhood': [('ANNULUS', 'Annulus'), ('NESW', 'Nesw'), ('SQUARE', 'Square'), ('WEDGE', 'Wedge'),
                     ('CIRCLE', 'Circle')],
    'ClassificationStrategy': [('GREATER_THAN', 'GreaterThan'),
                               ('GREATER_THAN_OR_EQUAL_TO', 'GreaterThanOrEqualTo'),
                               ('LESS_THAN', 'LessThan'), ('LESS_THAN_OR_EQUAL_TO', 'LessThanOrEqualTo'),
                               ('EXACT', 'Exact')],
    'CellType': [('BOOLRAW', 'boolraw'), ('INT8RAW', 'int8raw'), ('UINT8RAW', 'uint8raw'),
                 ('INT16RAW', 'int16raw'), ('UINT16RAW', 'uint16raw'), ('INT32RAW', 'int32raw'),
                 ('FLOAT32RAW', 'float32raw'), ('FLOAT64RAW', 'float64raw'), ('BOOL', 'bool'),
                 ('INT8', 'int8'), ('UINT8', 'uint8'), ('INT16', 'int16'), ('UINT16', 'uint16'),
                 ('INT32', 'int32'), ('FLOAT32', 'float32'), ('FLOAT64', 'float64')],
    'ColorRamp': [('Hot', 'Hot'), ('COOLWARM', 'CoolWarm'), ('MAGMA', 'Magma'), ('INFERNO', 'Inferno'),
                  ('PLASMA', 'Plasma'), ('VIRIDIS', 'Viridis'), ('BLUE_TO_ORANGE', 'BlueToOrange'),
                  ('LIGHT_YELLOW_TO_ORANGE', 'LightYellowToOrange'), ('BLUE_TO_RED', 'BlueToRed'),
                  ('GREEN_TO_RED_ORANGE', 'GreenToRedOrange'), ('LIGHT_TO_DARK_SUNSET', 'LightToDarkSunset'),
                  ('LIGHT_TO_DARK_GREEN', 'LightToDarkGreen'), ('HEATMAP_YELLOW_TO_RED', 'HeatmapYellowToRed'),
                  ('HEATMAP_BLUE_TO_YELLOW_TO_RED_SPECTRUM', 'HeatmapBlueToYellowToRedSpectrum'),
                  ('HEATMAP_DARK_RED_TO_YELLOW_WHITE', 'HeatmapDarkRedToYellowWhite'),
                  ('HEATMAP_LIGHT_PURPLE_TO_DARK_PURPLE_TO_WHITE', 'HeatmapLightPurpleToDarkPurpleToWhite'),
                  ('CLASSIFICATION_BOLD_LAND_USE', 'ClassificationBoldLandUse'),
                  ('CLASSIFICATION_MUTED_TERRAIN', 'ClassificationMutedTerrain')],
    'StorageMethod': [('STRIPED', 'Striped'), ('TILED', 'Tiled')],
    'ColorSpace': [('WHITE_IS_ZERO', 0), ('BLACK_IS_ZERO', 1), ('RGB', 2), ('PALETTE', 3),
                   ('TRANSPARENCY_MASK', 4), ('CMYK', 5), ('Y_CB_CR', 6), ('CIE_LAB', 8), ('ICC_LAB', 9),
                   ('ITU_LAB', 10), ('CFA', 32803), ('LINEAR_RAW', 34892), ('LOG_L', 32844),
                   ('LOG_LUV', 32845)],
    'Compression': [('NO_COMPRESSION', 'NoCompression'), ('DEFLATE_COMPRESSION', 'DeflateCompression')],
    'Unit': [('METERS', 'Meters'), ('FEET', 'Feet')],
    'ReadMethod': [('GEOTRELLIS', 'GeoTrellis'), ('GDAL', 'GDAL')],
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_enum_members_and_values(name):
    enum_cls = getattr(c, name)
    assert members(enum_cls) == EXPECTED[name]
    for member_name, value in EXPECTED[name]:
        # Every API converts with Enum(value), so the value must round-trip to the member.
        assert enum_cls(value) is getattr(enum_cls, member_name)


def test_enum_kinds():
    enums = [n for n in c.__all__ if isinstance(getattr(c, n), type)]
    assert sorted(enums) == sorted(EXPECTED)
    for name in enums:
        assert issubclass(getattr(c, name), enum.Enum)
    assert issubclass(ColorSpace, enum.IntEnum)
    assert ColorSpace.RGB == 2 and ColorSpace(0) is ColorSpace.WHITE_IS_ZERO
    assert not issubclass(CellType, enum.IntEnum)


def test_color_ramp_hot_is_not_upper_case():
    assert c.ColorRamp.Hot.value == 'Hot'
    assert not hasattr(c.ColorRamp, 'HOT')


def test_unknown_values_are_rejected():
    with pytest.raises(ValueError):
        c.ResampleMethod('nearest')
    with pytest.raises(ValueError):
        LayerType('SPATIAL')


@pytest.mark.parametrize("cell_type, no_data, expected", [
    ('int16', -1, 'int16ud-1'),
    (CellType.INT16, -1, 'int16ud-1'),
    ('float32', -10.0, 'float32ud-10.0'),
    (CellType.FLOAT64, 1e-05, 'float64ud1e-05'),
    ('uint8', 255, 'uint8ud255'),
    (CellType.INT32, 0, 'int32ud0'),
])
def test_create_user_defined_celltype(cell_type, no_data, expected):
    assert CellType.create_user_defined_celltype(cell_type, no_data) == expected


@pytest.mark.parametrize("cell_type", ['bool', CellType.BOOLRAW, 'int8raw', CellType.UINT16RAW,
                                       'float32raw', CellType.FLOAT64RAW])
def test_create_user_defined_celltype_refuses_bool_and_raw(cell_type):
    with pytest.raises(ValueError):
        CellType.create_user_defined_celltype(cell_type, 1)


def test_create_user_defined_celltype_refuses_unknown_names():
    with pytest.raises(ValueError):
        CellType.create_user_defined_celltype('int64', 1)


@pytest.mark.parametrize("name, expected", [
    ('SpatialKey', LayerType.SPATIAL),
    ('geotrellis.spark.SpatialKey', LayerType.SPATIAL),
    ('geotrellis.layer.SpatialKey', LayerType.SPATIAL),
    ('ProjectedExtent', LayerType.SPATIAL),
    ('geotrellis.vector.ProjectedExtent', LayerType.SPATIAL),
    ('SpaceTimeKey', LayerType.SPACETIME),
    ('geotrellis.spark.SpaceTimeKey', LayerType.SPACETIME),
    ('geotrellis.layer.SpaceTimeKey', LayerType.SPACETIME),
    ('TemporalProjectedExtent', LayerType.SPACETIME),
    ('geotrellis.spark.TemporalProjectedExtent', LayerType.SPACETIME),
    ('geotrellis.layer.TemporalProjectedExtent', LayerType.SPACETIME),
])
def test_layer_type_from_key_name(name, expected):
    assert LayerType._from_key_name(name) is expected


@pytest.mark.parametrize("name", ['Tile', 'spatialkey', 'org.example.SpatialKey', '', None])
def test_layer_type_from_unknown_key_name(name):
    with pytest.raises(ValueError):
        LayerType._from_key_name(name)


def test_layer_type_key_name():
    assert LayerType.SPATIAL._key_name(True) == 'SpatialKey'
    assert LayerType.SPACETIME._key_name(True) == 'SpaceTimeKey'
    assert LayerType.SPATIAL._key_name(False) == 'ProjectedExtent'
    assert LayerType.SPACETIME._key_name(False) == 'TemporalProjectedExtent'
