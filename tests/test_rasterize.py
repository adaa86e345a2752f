"""``gps.rasterize``/``rasterize_features`` against ``rasterio.features.rasterize`` on the stitched grid:
identical cells for polygons under the centre rule (GDAL's default) and the all-touched rule, points in the
cell holding them, z-index priority, and GeoPySpark's keys and metadata."""

import numpy as np
import pytest
from shapely.geometry import LineString, Point, Polygon, box

import geopyspark_rs as gps
from layers import stitched_over_bounds as stitched

rasterio = pytest.importorskip("rasterio")
from rasterio.features import rasterize as rio_rasterize  # noqa: E402
from rasterio.transform import from_origin  # noqa: E402

ZOOM = 12
ORIGIN = (1_000_000.0, 6_000_000.0)  # EPSG:3857 metres


def star(cx, cy, r, n=13, seed=0):
    rng = np.random.default_rng(seed)
    ang = np.sort(rng.uniform(0, 2 * np.pi, n))
    rad = r * rng.uniform(0.3, 1.0, n)
    return Polygon(np.column_stack([cx + rad * np.cos(ang), cy + rad * np.sin(ang)]))


def shapes():
    x, y = ORIGIN
    return [star(x, y, 9000.0, seed=1), star(x + 6000, y - 4000, 5000.0, seed=2),
            box(x - 3000.3, y + 2000.7, x + 1500.2, y + 6100.9).difference(box(x - 1000, y + 3000, x, y + 5000))]


def reference(layer, geoms, values, all_touched):
    md = layer.layer_metadata
    e = md.extent
    cw = (md.layout_definition.extent.xmax - md.layout_definition.extent.xmin) / (
        md.tile_layout.layoutCols * md.tile_layout.tileCols)
    rows = round((e.ymax - e.ymin) / cw)
    cols = round((e.xmax - e.xmin) / cw)
    return rio_rasterize(list(zip(geoms, values)), out_shape=(rows, cols), transform=from_origin(e.xmin, e.ymax, cw, cw),
                         fill=np.nan, all_touched=all_touched, dtype="float64")


@pytest.mark.parametrize("options,all_touched", [(None, False), (gps.RasterizerOptions(True, "PixelIsArea"), True)])
def test_rasterize_equals_rasterio(spark, options, all_touched):
    geoms = shapes()
    layer = gps.rasterize(geoms, 3857, ZOOM, 7.0, options=options)
    assert layer.zoom_level == ZOOM and layer.layer_metadata.cell_type == "float64"
    got = stitched(layer)
    want = reference(layer, geoms, [7.0] * len(geoms), all_touched)
    np.testing.assert_array_equal(got, want)
    # keys: the tiles each geometry reaches, bounds: the keys of their common envelope
    layout = layer.layer_metadata.layout_definition
    kt = gps.KeyTransform(layout)
    want_keys = set()
    for g in geoms:
        want_keys |= {(k.col, k.row) for k in kt.geometry_to_keys(g)}
    assert {(k.col, k.row) for k in layer.collect_keys()} == want_keys


def test_features_z_index_and_cell_types(spark):
    geoms = shapes()
    feats = [gps.Feature(g, gps.CellValue(float(10 * (i + 1)), z)) for i, (g, z) in enumerate(zip(geoms, [2, 1, 3]))]
    rdd = spark.sparkContext.parallelize(feats, 3)
    layer = gps.rasterize_features(rdd, 3857, ZOOM, cell_type=gps.CellType.INT32)
    assert layer.layer_metadata.cell_type == "int32"
    got = stitched(layer.convert_data_type("float64"))
    # highest z-index last: rasterio burns in order, later shapes overwrite
    order = np.argsort([2, 1, 3], kind="stable")
    want = reference(layer, [geoms[i] for i in order], [float(10 * (i + 1)) for i in order], False)
    np.testing.assert_array_equal(got, want)


def test_points_lines_and_tiny_polygons(spark):
    x, y = ORIGIN
    pts = [Point(x + 123.4, y - 567.8), Point(x + 5000.1, y + 4000.2)]
    layer = gps.rasterize(pts, 3857, ZOOM, 1.0)
    assert np.nansum(stitched(layer)) == 2.0
    np.testing.assert_array_equal(stitched(layer), reference(layer, pts, [1.0, 1.0], False))
    line = LineString([(x, y), (x + 7000.3, y + 3000.7)])
    burned = stitched(gps.rasterize([line], 3857, ZOOM, 1.0))
    assert np.nansum(burned) >= 7000.3 / 38.2  # every cell along the line, at ~38 m cells
    # GeoPySpark's quirk: an 11 m polygon at zoom 11 reaches a tile but no cell centre
    tiny = box(x + 1.0, y + 1.0, x + 12.0, y + 12.0)
    small = gps.rasterize([tiny], 3857, 11, 1.0)
    assert small.count() == 1 and np.isnan(stitched(small)).all()


def test_bad_input(spark):
    with pytest.raises(TypeError):
        gps.rasterize(shapes()[0], 3857, ZOOM, 1.0)
    with pytest.raises(ValueError):
        gps.rasterize(shapes(), 3857, -1, 1.0)
    with pytest.raises(ValueError):
        gps.rasterize(shapes(), 3857, ZOOM, 1.0, cell_type="float99")
    with pytest.raises(ValueError, match="PixelIsCorner"):
        gps.rasterize(shapes(), 3857, ZOOM, 1.0, options=gps.RasterizerOptions(True, "PixelIsCorner"))
    bowtie = Polygon([(0, 0), (10, 10), (10, 0), (0, 10)])
    with pytest.raises(ValueError, match="invalid"):
        gps.rasterize([bowtie], 3857, ZOOM, 1.0)
    with pytest.raises(TypeError):
        gps.rasterize_features("features", 3857, ZOOM)


def test_default_partition_count_is_geopysparks_capped_at_parallelism_unless_bytes_need_more():
    from geopyspark_rs.geotrellis.rasterize import _partition_count

    # GeoPySpark: one per 512 keys of the envelope (13 for 6 700 keys), at least one.
    assert _partition_count(6700, "uint8", 64) == 13
    assert _partition_count(100, "uint8", 4) == 1
    # Capped at what Spark runs at once: each Python task has a fixed cost.
    assert _partition_count(6700, "uint8", 1) == 1
    assert _partition_count(6700, "uint8", 2) == 2
    # Unless the tiles need the room: 6 700 float64 tiles are 3.5 GB, three partitions of ≤ 1281 MiB.
    assert _partition_count(6700, "float64", 1) == 3
    # Never more than GeoPySpark's count.
    assert _partition_count(10**5, "float64", 1000) == 10**5 // 512
