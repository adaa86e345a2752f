"""``gps.euclidean_distance`` against shapely distances (MultiPoint sources, as GeoPySpark's test at
EPSG:3857 zoom 7) and against ``scipy.ndimage.distance_transform_edt`` of the burned grid (other geometries:
distance to the nearest burned cell centre), within 1e-9 relative."""

import numpy as np
import pytest
import shapely
from shapely.geometry import LineString, MultiPoint, Point, Polygon

import geopyspark_rs as gps
from layers import stitched_over_bounds as stitched

ndi = pytest.importorskip("scipy.ndimage")
rasterio = pytest.importorskip("rasterio")
from rasterio.features import rasterize as rio_rasterize  # noqa: E402
from rasterio.transform import from_origin  # noqa: E402


def centres(layer):
    md = layer.layer_metadata
    e = md.extent
    a = stitched(layer)
    cw = (e.xmax - e.xmin) / a.shape[1]
    xs = e.xmin + (np.arange(a.shape[1]) + 0.5) * cw
    ys = e.ymax - (np.arange(a.shape[0]) + 0.5) * cw
    return np.meshgrid(xs, ys), cw, a


def test_multipoint_distances_equal_shapely(spark):
    pts = MultiPoint([(100000.3, 150000.7), (-30000.2, 90000.1), (60000.0, -20000.5)])
    layer = gps.euclidean_distance(pts, 3857, 7)
    assert layer.zoom_level == 7 and layer.layer_metadata.cell_type == "float64"
    (x, y), _, got = centres(layer)
    want = shapely.distance(shapely.points(x.ravel(), y.ravel()), pts).reshape(got.shape)
    np.testing.assert_allclose(got, want, rtol=1e-9)
    assert layer.count() == len(list(layer.collect_keys())) == (
        (layer.layer_metadata.bounds.maxKey.col - layer.layer_metadata.bounds.minKey.col + 1)
        * (layer.layer_metadata.bounds.maxKey.row - layer.layer_metadata.bounds.minKey.row + 1))


@pytest.mark.parametrize("geom", [
    Polygon([(1.0e6, 6.0e6), (1.09e6, 6.02e6), (1.05e6, 6.07e6), (1.01e6, 6.04e6)]),
    LineString([(1.0e6, 6.0e6), (1.04e6, 6.05e6), (1.08e6, 6.01e6)]),
])
def test_burned_geometries_equal_edt(spark, geom):
    layer = gps.euclidean_distance(geom, 3857, 10)
    (x, y), cw, got = centres(layer)
    e = layer.layer_metadata.extent
    burned = rio_rasterize([(geom, 1)], out_shape=got.shape, transform=from_origin(e.xmin, e.ymax, cw, cw),
                           fill=0, all_touched=geom.geom_type == "LineString", dtype="uint8").astype(bool)
    if geom.geom_type == "Polygon":  # the centre rule, as the engine burns polygons
        want = ndi.distance_transform_edt(~burned) * cw
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-6)
    else:  # lines burn every cell they pass through: at least as many as GDAL's all-touched line
        assert (got[burned] == 0).all()


def test_cell_types_and_bad_input(spark):
    pts = MultiPoint([(1000.5, 2000.5), (5000.0, 7000.0)])
    ints = gps.euclidean_distance(pts, 3857, 9, cell_type=gps.CellType.INT32)
    floats = gps.euclidean_distance(pts, 3857, 9)
    np.testing.assert_array_equal(stitched(ints), np.trunc(stitched(floats)))
    with pytest.raises(TypeError):
        gps.euclidean_distance("POINT (0 0)", 3857, 9)
    with pytest.raises(ValueError):
        gps.euclidean_distance(pts, 3857, -2)


# --- cost distance -------------------------------------------------------------------------------------------

graph = pytest.importorskip("skimage.graph")
T, LC, LR, CELL = 16, 4, 3, 100.0
X0, Y1 = 500_000.0, 5_000_000.0


def friction_layer(friction):
    extent = gps.Extent(X0, Y1 - LR * T * CELL, X0 + LC * T * CELL, Y1)
    layout = gps.LayoutDefinition(extent, gps.TileLayout(LC, LR, T, T))
    tiles = [(gps.SpatialKey(c, r), gps.Tile(friction[np.newaxis, r * T:(r + 1) * T, c * T:(c + 1) * T], "DOUBLE", None))
             for r in range(LR) for c in range(LC)]
    md = gps.Metadata(gps.Bounds(gps.SpatialKey(0, 0), gps.SpatialKey(LC - 1, LR - 1)), "EPSG:32633", "float64",
                      extent, layout)
    return gps.TiledRasterLayer.from_numpy_tiles(gps.LayerType.SPATIAL, tiles, md)


def cell_centre(r, c):
    return Point(X0 + (c + 0.5) * CELL, Y1 - (r + 0.5) * CELL)


@pytest.mark.parametrize("max_distance", [float("inf"), 25.0])
def test_cost_distance_equals_one_search_over_the_stitched_raster(spark, max_distance):
    from geopyspark_rs.geotrellis.cost_distance import _resolution

    rng = np.random.default_rng(2)
    friction = rng.uniform(1.0, 5.0, (LR * T, LC * T))
    friction[rng.random(friction.shape) < 0.08] = np.nan  # impassable
    starts = [(5, 7), (40, 60)]
    friction[tuple(np.array(starts).T)] = 1.0
    layer = friction_layer(friction)
    res = _resolution(layer.layer_metadata)
    got = stitched(gps.cost_distance(layer, [cell_centre(r, c) for r, c in starts], max_distance * res))
    mcp = graph.MCP_Geometric(np.where(np.isnan(friction), np.inf, friction), fully_connected=True)
    want, _ = mcp.find_costs(starts)
    want = np.where(np.isfinite(want) & (want <= max_distance) & ~np.isnan(friction), want, np.nan)
    np.testing.assert_allclose(got / res, want, rtol=1e-9)
    assert np.isnan(got).sum() > np.isnan(friction).sum() or max_distance == float("inf")


def test_cost_distance_bad_input(spark):
    friction = np.ones((LR * T, LC * T))
    layer = friction_layer(friction)
    with pytest.raises(TypeError):
        gps.cost_distance(layer, [cell_centre(1, 1)], "far")
    with pytest.raises(ValueError):
        gps.cost_distance(layer, [cell_centre(1, 1)], -1.0)
    friction[3, 3] = -2.0
    with pytest.raises(ValueError, match="negative"):
        gps.cost_distance(friction_layer(friction), [cell_centre(1, 1)], 10.0)
    far = gps.cost_distance(layer, [Point(0.0, 0.0)], 1e9)  # starts outside the layer reach nothing
    assert np.isnan(stitched(far)).all()
