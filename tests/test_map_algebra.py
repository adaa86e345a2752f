"""Local map algebra: results against numpy with GeoTrellis' NoData and integer rules."""

import numpy as np
import pytest

import geopyspark_rs as gps
from layers import cells, ramp, tiled


@pytest.fixture(scope="module")
def f32(spark):
    a = ramp((1, 4, 4))
    a[0, 0, 0] = np.nan
    return tiled({(0, 0): a, (1, 0): a * 2, (0, 1): a - 5, (1, 1): a + 0.5}, no_data=np.nan)


@pytest.fixture(scope="module")
def i32(spark):
    a = ramp((1, 4, 4), np.int32)
    a[0, 1, 1] = gps.NO_DATA_INT
    return tiled({(0, 0): a, (1, 1): a * 3}, no_data=gps.NO_DATA_INT)


def test_scalar_ops_match_numpy_with_nodata(f32):
    src = cells(f32)
    cases = {
        "add": (f32 + 1, lambda a: a + 1), "radd": (2 + f32, lambda a: 2 + a),
        "sub": (f32 - 1.5, lambda a: a - 1.5), "rsub": (10 - f32, lambda a: 10 - a),
        "mul": (f32 * 3, lambda a: a * 3), "rmul": (0.5 * f32, lambda a: 0.5 * a),
        "div": (f32 / 4, lambda a: a / 4), "rdiv": (1 / f32, lambda a: 1 / a),
        "pow": (f32 ** 2, lambda a: a ** 2), "abs": (abs(f32), np.abs), "neg": (-f32, lambda a: -a),
    }
    for name, (layer, fn) in cases.items():
        assert layer.layer_metadata.cell_type == "float32"
        got = cells(layer)
        for key, a in src.items():
            with np.errstate(all="ignore"):
                want = fn(a.astype(np.float64)).astype(np.float32)
            np.testing.assert_array_equal(got[key], want, err_msg=name)
            assert np.isnan(got[key][0, 0, 0]), f"{name}: NoData in must stay NoData"


def test_rpow_keeps_nodata(f32):
    got = cells(2 ** f32)[(0, 0)]
    assert np.isnan(got[0, 0, 0])  # pow(2, NaN) would be NaN anyway; pow(NaN, 0) must not become 1
    assert np.isnan(cells(f32 ** 0)[(0, 0)][0, 0, 0])


def test_integer_cells_stay_integer(i32):
    layer = (i32 + 20 + 20) / 2
    assert layer.layer_metadata.cell_type == "int32"
    got = cells(layer)[(0, 0)]
    src = cells(i32)[(0, 0)]
    assert got.dtype == np.int32
    mask = src != gps.NO_DATA_INT
    np.testing.assert_array_equal(got[mask], (src[mask] + 40) // 2)
    assert got[0, 1, 1] == gps.NO_DATA_INT
    # GeoTrellis truncates a float scalar's result on integer tiles; division by zero gives NoData.
    np.testing.assert_array_equal(cells(i32 * 0.5)[(0, 0)][mask], np.trunc(src[mask] * 0.5).astype(np.int32))
    assert (cells(i32 / 0)[(0, 0)] == gps.NO_DATA_INT).all()


def test_integer_overflow(spark):
    """int32 results saturate (GeoTrellis' Double.toInt; it wraps for int operands, a documented bug);
    int16 wraps through its storage as GeoTrellis does, so 32767 + 1 is -32768, int16's NoData."""
    top = np.full((1, 4, 4), np.iinfo(np.int32).max, np.int32)
    top[0, 0, 0] = -5
    got = cells(tiled({(0, 0): top}, no_data=gps.NO_DATA_INT) + 1)[(0, 0)]
    assert got[0, 0, 0] == -4 and (got.ravel()[1:] == np.iinfo(np.int32).max).all()
    bottom = cells(tiled({(0, 0): -top}, no_data=gps.NO_DATA_INT) * 2)[(0, 0)]
    # Saturating at the low end gives Int.MinValue, int32's NoData (as GeoTrellis' float-operand path).
    assert bottom[0, 0, 0] == 10 and (bottom.ravel()[1:] == gps.NO_DATA_INT).all()
    short = np.full((1, 4, 4), 32767, np.int16)
    short[0, 0, 0] = 7
    wrapped = cells(tiled({(0, 0): short}, no_data=-32768) + 1)[(0, 0)]
    assert wrapped[0, 0, 0] == 8 and (wrapped.ravel()[1:] == -32768).all()


def test_layer_with_layer_joins_on_key(f32):
    other = f32 * 10
    summed = cells(f32 + other)
    src = cells(f32)
    for key, a in src.items():
        np.testing.assert_array_equal(summed[key], (a.astype(np.float64) * 11).astype(np.float32))
    np.testing.assert_array_equal(cells(f32 - other)[(1, 0)], src[(1, 0)] - src[(1, 0)] * 10)


def test_list_of_layers(f32):
    got = cells(f32 + [f32, f32 * 2])
    for key, a in cells(f32).items():
        np.testing.assert_array_equal(got[key], a * 4)
    mx = cells(f32.local_max([f32 * 2, f32 - 1]))
    mn = cells(f32.local_min(f32 * 2))
    mean = cells(f32.local_mean([f32 * 2, f32 * 3]))
    for key, a in cells(f32).items():
        np.testing.assert_array_equal(mx[key], np.maximum(np.maximum(a, a * 2), a - 1))
        np.testing.assert_array_equal(mn[key], np.minimum(a, a * 2))
        np.testing.assert_allclose(mean[key], a * 2, rtol=1e-6)


def test_local_mean_skips_nodata(spark):
    a = np.full((1, 4, 4), 2.0, np.float32)
    b = np.full((1, 4, 4), 4.0, np.float32)
    b[0, 0, 0] = np.nan
    la, lb = tiled({(0, 0): a}, no_data=np.nan), tiled({(0, 0): b}, no_data=np.nan)
    got = cells(la.local_mean(lb))[(0, 0)]
    assert got[0, 0, 0] == 2.0 and got[0, 1, 1] == 3.0
    assert np.isnan(cells(la.local_max(lb))[(0, 0)][0, 0, 0])


def test_local_max_scalar(f32):
    got = cells(f32.local_max(7))
    for key, a in cells(f32).items():
        want = np.maximum(a, 7)
        np.testing.assert_array_equal(got[key], want)


def test_comparisons_give_bool_layers(f32):
    for op, fn in [("lt", np.less), ("le", np.less_equal), ("gt", np.greater), ("ge", np.greater_equal),
                   ("eq", np.equal), ("ne", np.not_equal)]:
        layer = getattr(f32, f"__{op}__")(5)
        assert layer.layer_metadata.cell_type == "bool"
        got = cells(layer)
        for key, a in cells(f32).items():
            with np.errstate(invalid="ignore"):
                want = fn(a, 5) & ~np.isnan(a)
            np.testing.assert_array_equal(got[key], want.astype(np.int8), err_msg=op)
    both = cells(f32 < f32 * 2)
    src = cells(f32)
    np.testing.assert_array_equal(both[(1, 1)], (src[(1, 1)] < src[(1, 1)] * 2).astype(np.int8))


def test_fused_chain_is_one_pass(f32):
    chain = abs((f32 + 1) * 2 - 3) / 4
    assert len(chain._steps) == 5
    plan = chain.dataframe._jdf.queryExecution().analyzed().toString()
    assert plan.count("MapInArrow") == 1, plan
    for key, a in cells(f32).items():
        want = (np.abs(((a.astype(np.float64) + 1) * 2 - 3)) / 4).astype(np.float32)
        np.testing.assert_allclose(cells(chain)[key], want, rtol=1e-6)


def test_bad_operands(f32, i32):
    with pytest.raises(TypeError):
        f32 + "1"
    with pytest.raises(TypeError):
        f32 + None
    other = tiled({(0, 0): ramp((1, 8, 8))})
    with pytest.raises(ValueError, match="TileLayout"):
        f32 + other
    st = gps.TiledRasterLayer.from_numpy_tiles(gps.LayerType.SPACETIME, [], _spacetime_md(f32))
    with pytest.raises(ValueError, match="layer_type"):
        f32 + st


def _spacetime_md(layer):
    import datetime

    m = layer.layer_metadata
    t = datetime.datetime(2020, 1, 1)
    b = gps.Bounds(gps.SpaceTimeKey(0, 0, t), gps.SpaceTimeKey(1, 1, t))
    return gps.Metadata(b, m.crs, m.cell_type, m.extent, m.layout_definition)
