"""bands, map_cells, map_tiles, convert_data_type, with_no_data, reclassify, normalize."""

import numpy as np
import pytest

import geopyspark_rs as gps
from layers import cells, ramp, tiled


@pytest.fixture(scope="module")
def multi(spark):
    a = ramp((3, 4, 4))
    return tiled({(0, 0): a, (1, 1): a + 100}, no_data=np.nan)


@pytest.fixture(scope="module")
def ints(spark):
    a = ramp((1, 4, 4), np.int16) - 3
    return tiled({(0, 0): a}, no_data=-32768)


def test_bands_select_and_reorder(multi):
    src = cells(multi)
    np.testing.assert_array_equal(cells(multi.bands(1))[(0, 0)], src[(0, 0)][[1]])
    np.testing.assert_array_equal(cells(multi.bands([2, 0]))[(1, 1)], src[(1, 1)][[2, 0]])
    np.testing.assert_array_equal(cells(multi.bands((0, 2)).bands(1))[(0, 0)], src[(0, 0)][[2]])
    np.testing.assert_array_equal(cells(multi.bands(range(2)))[(0, 0)], src[(0, 0)][:2])
    with pytest.raises(TypeError):
        multi.bands("1")
    with pytest.raises(TypeError):
        multi.bands(1.0)


def test_bands_out_of_range_is_reported(multi):
    with pytest.raises(Exception, match="out of range"):
        cells(multi.bands(5))


def test_map_cells_and_map_tiles(multi):
    got = cells(multi.map_cells(lambda c, nd: c * 2 + 1))
    for key, a in cells(multi).items():
        np.testing.assert_array_equal(got[key], a * 2 + 1)
    tiles = multi.map_tiles(lambda t: gps.Tile(t.cells[:1] - 1, t.cell_type, t.no_data_value))
    for key, a in cells(multi).items():
        np.testing.assert_array_equal(cells(tiles)[key], a[:1] - 1)
    # Rust steps around a Python step still run in one pass.
    mixed = ((multi + 1).map_cells(lambda c, nd: c * 10) - 5).dataframe
    assert mixed._jdf.queryExecution().analyzed().toString().count("MapInArrow") == 1


def test_map_cells_and_map_tiles_may_change_cells_in_place(multi):
    """GeoPySpark hands functions writable arrays: ``cells[cells > 5] = 0; return cells`` is common."""

    def clip(cells, no_data):
        cells[cells > 5] = 0
        return cells

    def halve(tile):
        tile.cells[0] /= 2
        return tile

    for key, a in cells(multi).items():
        np.testing.assert_array_equal(cells(multi.map_cells(clip))[key], np.where(a > 5, 0, a))
        np.testing.assert_array_equal(cells(multi.map_tiles(halve))[key][0], a[0] / 2)
    # The layer itself is untouched.
    assert cells(multi)[(1, 1)].min() == 100


def test_map_cells_keeps_cell_type(ints):
    out = ints.map_cells(lambda c, nd: c / 2.0)
    assert out.layer_metadata.cell_type == "int16"
    got = cells(out)[(0, 0)]
    assert got.dtype == np.int16


def test_convert_data_type(ints, multi):
    out = ints.convert_data_type(gps.CellType.FLOAT32)
    assert out.layer_metadata.cell_type == "float32"
    src = cells(ints)[(0, 0)]
    np.testing.assert_array_equal(cells(out)[(0, 0)], src.astype(np.float32))
    # NoData stays NoData across types.
    nd = ints.with_no_data(-3)
    assert nd.layer_metadata.cell_type == "int16ud-3"
    conv = cells(nd.convert_data_type("float64"))[(0, 0)]
    assert np.isnan(conv[0, 0, 0]) and conv[0, 0, 1] == -2
    ud = multi.convert_data_type("int32", no_data_value=-1)
    assert ud.layer_metadata.cell_type == "int32ud-1"
    assert ud.layer_metadata.no_data_value == -1
    with pytest.raises(ValueError):
        multi.convert_data_type(gps.CellType.BOOL, -1)
    with pytest.raises(ValueError):
        multi.convert_data_type(gps.CellType.INT8RAW, 3)
    with pytest.raises(ValueError):
        cells(multi.convert_data_type("int64"))


def test_with_no_data(spark):
    a = ramp((1, 2, 2)) - 10
    layer = tiled({(0, 0): a})
    assert layer.layer_metadata.cell_type == "float32raw"
    out = layer.with_no_data(-10)
    assert out.layer_metadata.cell_type == "float32ud-10.0"
    t = out.to_numpy_tiles()[0][1]
    assert t.no_data_value == -10.0
    np.testing.assert_array_equal(t.cells, a)  # reinterpretation: cells unchanged
    assert np.isnan(cells((out + 1).convert_data_type("float32"))[(0, 0)][0, 0, 0])
    assert layer.with_no_data(18).layer_metadata.cell_type == "float32ud18.0"


def test_reclassify_strategies(ints):
    src = cells(ints)[(0, 0)]
    values = {0: 10, 5: 20}
    got = cells(ints.reclassify(values, int))[(0, 0)]
    np.testing.assert_array_equal(got, np.where(src <= 0, 10, np.where(src <= 5, 20, -32768)))  # unmatched: NoData
    lt = cells(ints.reclassify(values, int, gps.ClassificationStrategy.LESS_THAN, fallback_value=99))[(0, 0)]
    np.testing.assert_array_equal(lt, np.where(src < 0, 10, np.where(src < 5, 20, 99)))
    gt = cells(ints.reclassify(values, int, "GreaterThan", fallback_value=7))[(0, 0)]
    np.testing.assert_array_equal(gt, np.where(src > 5, 20, np.where(src > 0, 10, 7)))
    ge = cells(ints.reclassify(values, int, gps.ClassificationStrategy.GREATER_THAN_OR_EQUAL_TO))[(0, 0)]
    np.testing.assert_array_equal(ge, np.where(src >= 5, 20, np.where(src >= 0, 10, -32768)))
    exact = cells(ints.reclassify({(1, 2): 50, 3: 60}, int, gps.ClassificationStrategy.EXACT, fallback_value=0))
    np.testing.assert_array_equal(exact[(0, 0)], np.select([np.isin(src, [1, 2]), src == 3], [50, 60], 0))


def test_reclassify_nodata_and_strict(spark):
    a = np.array([[[np.nan, 1.5], [2.5, 9.0]]], np.float32)
    layer = tiled({(0, 0): a}, no_data=np.nan)
    got = cells(layer.reclassify({2.0: 1.0, 3.0: 2.0}, float, replace_nodata_with=-1.0))[(0, 0)]
    np.testing.assert_array_equal(got, [[[-1.0, 1.0], [2.0, np.nan]]])
    with pytest.raises(Exception, match="matches no break"):
        cells(layer.reclassify({2.0: 1.0}, float, strict=True))
    with pytest.raises(TypeError):
        layer.reclassify({1: 1.0}, float)
    with pytest.raises(TypeError):
        layer.reclassify({"a": 1}, int)


def test_normalize(spark):
    a = ramp((1, 4, 4))
    layer = tiled({(0, 0): a, (1, 0): a + 16})
    got = cells(layer.normalize(0, 1))
    np.testing.assert_allclose(got[(1, 0)], (a + 16) / 31, rtol=1e-6)
    got = cells(layer.normalize(0, 100, old_min=0, old_max=10))
    np.testing.assert_allclose(got[(0, 0)], a * 10, rtol=1e-6)
