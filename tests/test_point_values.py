"""TiledRasterLayer.get_point_values: result shapes (GeoPySpark's point_values tests), the point → key →
cell rule, and values against numpy indexing and exact interpolation of a linear ramp."""

import datetime
import math

import numpy as np
import pytest
from shapely.geometry import Point

import geopyspark_rs as gps

RM = gps.ResampleMethod
# Aware UTC instants, as GeoPySpark's point_values_test builds its keys and expects its results.
NOW = datetime.datetime(2017, 9, 25, 11, 37, tzinfo=datetime.timezone.utc)
THEN = datetime.datetime(2018, 1, 17, 13, 53, tzinfo=datetime.timezone.utc)


def _gps_style_layer(spacetime=False):
    """GeoPySpark's fixture: a 1×1 layout over (0, 0, 4, 4) holding four keys, two bands of 1 and 2."""
    cells = np.array([np.ones((4, 4)), np.full((4, 4), 2)], dtype=np.int32)
    tile = gps.Tile.from_numpy_array(cells, -1)
    tile2 = gps.Tile.from_numpy_array(cells + 1, -1)
    extent = gps.Extent(0.0, 0.0, 4.0, 4.0)
    layout = gps.LayoutDefinition(extent, gps.TileLayout(1, 1, 4, 4))
    keys = [(0, 0), (1, 0), (0, 1), (1, 1)]
    if spacetime:
        recs = [(gps.SpaceTimeKey(c, r, NOW), tile) for c, r in keys]
        recs += [(gps.SpaceTimeKey(c, r, THEN), tile2) for c, r in keys]
        bounds = gps.Bounds(gps.SpaceTimeKey(0, 0, NOW), gps.SpaceTimeKey(1, 1, THEN))
        lt = gps.LayerType.SPACETIME
    else:
        recs = [(gps.SpatialKey(c, r), tile) for c, r in keys]
        bounds = gps.Bounds(gps.SpatialKey(0, 0), gps.SpatialKey(1, 1))
        lt = gps.LayerType.SPATIAL
    md = gps.Metadata(bounds, "+proj=longlat +datum=WGS84 +no_defs ", "int32ud-1", extent, layout)
    return gps.TiledRasterLayer.from_numpy_tiles(lt, recs, md)


POINTS = [Point(1.0, -3.0), Point(2.0, 4.0), Point(3.0, 3.0), Point(1.0, -2.0), Point(-10.0, 15.0)]


@pytest.mark.parametrize("method", [None, RM.NEAREST_NEIGHBOR])
def test_spatial_list_and_dict(spark, method):
    layer = _gps_style_layer()
    result = layer.get_point_values(POINTS, method)
    assert result == [(p, [1.0, 2.0]) for p in POINTS[:4]] + [(POINTS[4], None)]
    assert all(isinstance(v, float) for _, vs in result[:4] for v in vs)
    labeled = dict(zip("ABCDE", POINTS))
    result = layer.get_point_values(labeled, method)
    assert result == {label: (p, [1.0, 2.0] if label != "E" else None) for label, p in labeled.items()}


def test_spacetime_list_and_dict(spark):
    layer = _gps_style_layer(spacetime=True)
    series = [(NOW, [1.0, 2.0]), (THEN, [2.0, 3.0])]
    result = layer.get_point_values(POINTS)
    assert result == [(p, series) for p in POINTS[:4]] + [(POINTS[4], [(None, None)])]
    assert all(t.tzinfo is datetime.timezone.utc for t, _ in result[0][1])
    result = layer.get_point_values({"a": POINTS[0], "e": POINTS[4]}, RM.BILINEAR)
    assert result == {"a": (POINTS[0], series), "e": (POINTS[4], [(None, None)])}


def _ramp_layer(a=2.0, b=-3.0, nodata_at=None):
    """2×2 tiles of 8×8 cells over (0, 0, 16, 16) (cell size 1): value a·x + b·y at each cell centre."""
    xs = np.arange(16) + 0.5
    ys = 16 - (np.arange(16) + 0.5)
    grid = (a * xs[None, :] + b * ys[:, None]).astype(np.float64)
    if nodata_at is not None:
        grid[nodata_at] = np.nan
    recs = [(gps.SpatialKey(c, r), gps.Tile(grid[None, r * 8:(r + 1) * 8, c * 8:(c + 1) * 8].copy(), "DOUBLE", float("nan")))
            for c in range(2) for r in range(2)]
    extent = gps.Extent(0.0, 0.0, 16.0, 16.0)
    md = gps.Metadata(gps.Bounds(gps.SpatialKey(0, 0), gps.SpatialKey(1, 1)), "EPSG:3857", "float64", extent,
                      gps.LayoutDefinition(extent, gps.TileLayout(2, 2, 8, 8)))
    return gps.TiledRasterLayer.from_numpy_tiles(gps.LayerType.SPATIAL, recs, md), grid


def test_nearest_equals_numpy_indexing(spark):
    layer, grid = _ramp_layer()
    rng = np.random.default_rng(1)
    pts = [Point(x, y) for x, y in rng.uniform(0.01, 15.99, (200, 2))]
    result = layer.get_point_values(pts)
    for p, v in result:
        assert v == [grid[int(math.floor(16 - p.y)), int(math.floor(p.x))]]


def test_south_and_east_edges_belong_to_the_next_cell(spark):
    layer, grid = _ramp_layer()
    cases = {
        Point(3.0, 13.0): grid[3, 3],  # a cell's east and south edges → the next cell both ways
        Point(8.0, 12.5): grid[3, 8],  # a tile's east edge → the first column of the next tile
        Point(4.5, 8.0): grid[8, 4],  # a tile's south edge → the first row of the tile below
        Point(0.0, 16.0): grid[0, 0],  # the layout's north-west corner is inside
    }
    result = layer.get_point_values(list(cases))
    assert [v for _, v in result] == [[float(e)] for e in cases.values()]
    # The layout's east/south edges map past the last key: no tile, no value.
    assert layer.get_point_values([Point(16.0, 4.0), Point(4.0, 0.0)]) == [(Point(16.0, 4.0), None),
                                                                            (Point(4.0, 0.0), None)]


@pytest.mark.parametrize("method,margin,tol", [
    (RM.BILINEAR, 0.5, 1e-9), (RM.CUBIC_CONVOLUTION, 1.5, 1e-9), (RM.CUBIC_SPLINE, 1.5, 1e-6),
])
def test_interpolation_of_a_linear_ramp_is_exact(spark, method, margin, tol):
    a, b = 2.0, -3.0
    layer, _ = _ramp_layer(a, b)
    rng = np.random.default_rng(2)
    pts = []
    for _ in range(100):  # inside one tile, away from its border by the kernel's reach
        c, r = rng.integers(0, 2, 2)
        x = c * 8 + rng.uniform(margin, 8 - margin)
        y = 16 - (r * 8 + rng.uniform(margin, 8 - margin))
        pts.append(Point(x, y))
    for p, v in layer.get_point_values(pts, method):
        assert abs(v[0] - (a * p.x + b * p.y)) < tol * max(1.0, abs(a * p.x + b * p.y)), (p, v)


def test_nodata_is_nan_and_integers_come_back_as_floats(spark):
    layer, grid = _ramp_layer(nodata_at=(2, 5))
    (_, v), = layer.get_point_values([Point(5.5, 13.5)])
    assert len(v) == 1 and math.isnan(v[0])
    int_layer = _gps_style_layer()
    (_, v), = int_layer.get_point_values([Point(0.5, 0.5)])
    assert v == [1.0, 2.0] and all(type(x) is float for x in v)


def test_pending_steps_are_applied(spark):
    layer, grid = _ramp_layer()
    (_, v), = (layer + 1).get_point_values([Point(0.5, 15.5)])
    assert v == [grid[0, 0] + 1]


def test_bad_arguments(spark):
    layer, _ = _ramp_layer()
    for m in (RM.AVERAGE, RM.LANCZOS, RM.MAX, "Mode"):
        with pytest.raises(ValueError):
            layer.get_point_values([Point(1, 1)], m)
    with pytest.raises(ValueError):
        layer.get_point_values([Point(1, 1)], "nope")
    for bad in (Point(1, 1), "POINT (1 1)", 42, {(1, 1)}):
        with pytest.raises(TypeError):
            layer.get_point_values(bad)
    with pytest.raises(TypeError):
        layer.get_point_values([Point(1, 1), (2, 2)])
    with pytest.raises(TypeError):
        layer.get_point_values({"a": (2, 2)})
    assert layer.get_point_values([]) == [] and layer.get_point_values({}) == {}
