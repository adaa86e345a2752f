"""End to end on local-cluster[2,1,1024]: two executor processes, as on a cluster."""

import numpy as np
import pytest

import geopyspark_rs as gps
from layers import cells, ramp

pytestmark = pytest.mark.cluster


def test_pipeline_on_separate_executors(spark):
    sc = spark.sparkContext
    assert sc.master.startswith("local-cluster")
    full = ramp((1, 64, 96))
    recs = [(gps.ProjectedExtent(gps.Extent(0, 0, 48, 64), epsg=3857), gps.Tile(full[:, :, :48], "FLOAT", np.nan)),
            (gps.ProjectedExtent(gps.Extent(48, 0, 96, 64), epsg=3857), gps.Tile(full[:, :, 48:], "FLOAT", np.nan))]
    raster = gps.RasterLayer.from_numpy_rdd(gps.LayerType.SPATIAL, sc.parallelize(recs, 2))
    layer = raster.tile_to_layout(gps.LocalLayout(16)).repartition(4)
    out = ((layer + 1) * 2).cache()
    # Python workers are forked by one daemon per executor: two daemons, two executors.
    pids = out.dataframe.rdd.mapPartitions(lambda _: [__import__("os").getppid()]).collect()
    assert len(set(pids)) >= 2, "expected tasks in two executor processes"
    np.testing.assert_array_equal(out.stitch().cells, (full + 1) * 2)
    assert out.get_min_max() == (2.0, float((64 * 96 - 1 + 1) * 2))
    assert sorted(cells(out)) == [(c, r) for c in range(6) for r in range(4)]


def test_geotiff_read_on_separate_executors(spark, shared_data):
    import rasterio

    path = str(shared_data / "geotiff" / "propval_bg_01_01.tif")  # 3096×3096 int32, striped deflate
    layer = gps.geotiff.get(gps.LayerType.SPATIAL, path, max_tile_size=512, num_partitions=4)
    tiled = layer.tile_to_layout(gps.LocalLayout(512))
    with rasterio.open(path) as src:
        np.testing.assert_array_equal(tiled.stitch().cells[:, :3096, :3096], src.read())


def test_catalog_round_trip_on_separate_executors(spark, shared_data, tmp_path):
    """Each executor process writes its own tile files; the metadata attribute comes last, from the driver."""
    root = str(shared_data / "geotrellis-catalog-2x")
    layer = gps.query(root, "landsat", 0, num_partitions=4)
    gps.write(str(tmp_path), "copy", layer, index_strategy=gps.IndexingMethod.HILBERT)
    assert len(list((tmp_path / "copy" / "0").iterdir())) == 547
    got = dict(gps.query(str(tmp_path), "copy", 0).to_numpy_tiles())
    want = dict(layer.to_numpy_tiles())
    assert got.keys() == want.keys()
    for k in list(want)[::37]:
        np.testing.assert_array_equal(got[k].cells, want[k].cells)


def test_reprojection_and_pyramid_on_separate_executors(spark, shared_data):
    """Windows of one GeoTIFF from both executors meet in one shuffle: the tiles equal those made from the
    whole file in one piece, and the pyramid reaches zoom 0 with one tile."""
    path = str(shared_data / "geotiff" / "lc8-utm-1.tif")
    windows = gps.geotiff.get(gps.LayerType.SPATIAL, path, max_tile_size=64, num_partitions=4)
    whole = gps.geotiff.get(gps.LayerType.SPATIAL, path, max_tile_size=1024)
    a = whole.tile_to_layout(gps.GlobalLayout(zoom=8), target_crs=3857, resample_method=gps.ResampleMethod.BILINEAR)
    b = windows.tile_to_layout(a.layer_metadata, target_crs=3857, resample_method=gps.ResampleMethod.BILINEAR)
    np.testing.assert_array_equal(a.stitch().cells, b.stitch().cells)
    pyramid = gps.TiledRasterLayer(b.layer_type, b.dataframe, b.layer_metadata, zoom_level=8).pyramid(
        gps.ResampleMethod.AVERAGE)
    assert sorted(pyramid.levels) == list(range(9))
    assert pyramid.levels[0].count() == 1


@pytest.mark.parametrize("tile", [64, 100, 256])
def test_focal_and_slope_on_separate_executors(spark, tile):
    """Border strips cross executor processes: tiled results equal those of the whole raster in one tile,
    for tiles with and without pending steps (the two routes of the exchange)."""
    rng = np.random.default_rng(tile)
    side = 300
    z = np.cumsum(rng.normal(0, 1, (1, side, side)), axis=2).astype(np.float32)
    sc = spark.sparkContext
    n = -(-side // tile)
    padded = np.full((1, n * tile, n * tile), np.nan, np.float32)
    padded[:, :side, :side] = z
    whole = gps.TiledRasterLayer.from_numpy_rdd(
        gps.LayerType.SPATIAL, sc.parallelize([(gps.SpatialKey(0, 0), gps.Tile(padded, "FLOAT", np.nan))]),
        _metadata(n * tile, 1, n * tile))
    tiles = [(gps.SpatialKey(c, r), gps.Tile(padded[:, r * tile:(r + 1) * tile, c * tile:(c + 1) * tile].copy(),
                                             "FLOAT", np.nan))
             for r in range(n) for c in range(n)]
    split = gps.TiledRasterLayer.from_numpy_rdd(gps.LayerType.SPATIAL, sc.parallelize(tiles, 4),
                                                _metadata(tile, n, n * tile)).cache()
    for run in (lambda l: l.focal(gps.Operation.MEDIAN, gps.Circle(2)), lambda l: l.slope(1.0)):
        want = run(whole).stitch().cells
        np.testing.assert_array_equal(run(split).repartition(3).stitch().cells, want)
        np.testing.assert_array_equal(run(split.map_cells(lambda c, nd: c)).stitch().cells, want)
    split.unpersist()


def _metadata(tile, n, size):
    extent = gps.Extent(0.0, 0.0, float(size), float(size))
    layout = gps.LayoutDefinition(extent, gps.TileLayout(n, n, tile, tile))
    return gps.Metadata(gps.Bounds(gps.SpatialKey(0, 0), gps.SpatialKey(n - 1, n - 1)), "EPSG:3857", "float32",
                        extent, layout)


def test_zonal_rasterize_and_distance_on_separate_executors(spark):
    """Zone statistics through the keyed exchange, rasterization and distance with two executors: the same
    results as computed here from the stitched raster."""
    from shapely.geometry import MultiPoint, box

    sc = spark.sparkContext
    full = ramp((1, 64, 96))
    recs = [(gps.ProjectedExtent(gps.Extent(0, 0, 96, 64), epsg=3857), gps.Tile(full, "FLOAT", np.nan))]
    layer = gps.RasterLayer.from_numpy_rdd(gps.LayerType.SPATIAL, sc.parallelize(recs, 1)) \
        .tile_to_layout(gps.LocalLayout(16)).repartition(4).cache()
    zones = {1: box(10, 10, 50, 40), 2: box(60.5, 5.5, 90.5, 60.5)}
    got = {r.zone: r for r in layer.zonal_statistics(zones, rule="fraction", partitions=2).collect()}
    # box 1 covers rows 24..53, cols 10..49 exactly (row 0 at y = 64)
    assert got[1]["count"] == 40 * 30 and got[1].sum == float(full[0, 24:54, 10:50].sum())
    assert got[2]["count"] == pytest.approx(30 * 55, rel=1e-12)
    burned = gps.rasterize([box(1.0e6, 6.0e6, 1.05e6, 6.05e6)], 3857, 10, 1.0, partition_strategy=gps.HashPartitionStrategy(2))
    assert burned.get_min_max() == (1.0, 1.0)
    distance = gps.euclidean_distance(MultiPoint([(1000.0, 1000.0), (-4.0e5, 2.0e5)]), 3857, 6)
    assert distance.count() > 1 and distance.get_min_max()[0] >= 0.0


def test_cost_distance_on_separate_executors(spark):
    """The edge exchange between tiles converges to one search over the whole raster (uniform friction:
    the cost is the 8-connected path length)."""
    from shapely.geometry import Point

    from geopyspark_rs.geotrellis.cost_distance import _resolution

    sc = spark.sparkContext
    ones = np.ones((1, 48, 64), np.float64)
    recs = [(gps.ProjectedExtent(gps.Extent(500000.0, 5000000.0, 500640.0, 5000480.0), epsg=32633),
             gps.Tile(ones, "DOUBLE", np.nan))]
    layer = gps.RasterLayer.from_numpy_rdd(gps.LayerType.SPATIAL, sc.parallelize(recs, 1)) \
        .tile_to_layout(gps.LocalLayout(16)).repartition(3)
    res = _resolution(layer.layer_metadata)
    cost = gps.cost_distance(layer, [Point(500005.0, 5000475.0)], float("inf")).stitch().cells[0] / res
    r, c = np.mgrid[0:48, 0:64]
    diag = np.minimum(r, c)
    np.testing.assert_allclose(cost, diag * np.sqrt(2) + (np.maximum(r, c) - diag), rtol=1e-12)


def test_spark_free_reader_and_writer_in_executor_processes(spark, tmp_path):
    """geopyspark_rs.local inside tasks of two executor processes: each writes and reads a layer of its own."""
    import pandas as pd
    from affine import Affine

    import geopyspark_rs.local as gl

    root = str(tmp_path)

    def per_task(frames):
        import os

        for df in frames:
            out = []
            for i in df["i"]:
                data = np.full((1, 40, 70), int(i), dtype="int16")
                gl.write(root, f"t{i}", gl.Raster(data, Affine(1, 0, 0, 0, -1, 40), 3857, -1),
                         layout=gps.LocalLayout(32))
                back = gl.read(root, f"t{i}", 0, query_geom=gps.Extent(0, 0, 70, 40))
                out.append((int(i), int(back.data.sum()), os.getppid()))
            yield pd.DataFrame(out, columns=["i", "total", "daemon"])

    ids = spark.createDataFrame([(i,) for i in range(6)], "i int").repartition(4)
    got = ids.mapInPandas(per_task, "i int, total long, daemon long").collect()
    assert sorted((r.i, r.total) for r in got) == [(i, i * 40 * 70) for i in range(6)]
    assert len({r.daemon for r in got}) >= 2, "expected tasks in two executor processes"
    assert gl.read(root, "t5", 0).data.shape == (1, 64, 96)  # whole 32×32 tiles
