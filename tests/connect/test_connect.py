"""The core layer operations over Spark Connect (a local Connect server on loopback): no RDDs, no JVM."""

import numpy as np
import pytest

import geopyspark_rs as gps
from geopyspark_rs.session import is_connect
from layers import cells, ramp, tiled

pytestmark = pytest.mark.connect


def test_session_is_connect(spark):
    assert is_connect(spark)


def test_local_ops_stats_and_shuffles(spark):
    a = ramp((1, 4, 4))
    a[0, 0, 0] = np.nan
    layer = tiled({(0, 0): a, (1, 0): a + 16, (1, 1): a + 32}, no_data=np.nan)
    assert is_connect(layer.dataframe)
    out = abs((layer + 1) * 2 - 3)
    for key, src in cells(layer).items():
        np.testing.assert_allclose(cells(out)[key], np.abs((src + 1) * 2 - 3))
    np.testing.assert_array_equal(cells(layer + layer)[(1, 1)], cells(layer)[(1, 1)] * 2)
    assert layer.get_min_max() == (1.0, 47.0)
    assert layer.get_histogram().min_max() == (1.0, 47.0)
    assert layer.count() == 3 and layer.getNumPartitions() >= 1
    assert layer.stitch().cells.shape == (1, 8, 8)
    assert layer.merge().count() == 3
    assert layer.partitionBy(gps.SpatialPartitionStrategy(2)).count() == 3
    cached = (layer * 2).cache()
    assert cached.is_cached and cells(cached)[(1, 0)][0, 1, 1] == (a[0, 1, 1] + 16) * 2
    retiled = layer.tile_to_layout(gps.LocalLayout(2))
    np.testing.assert_array_equal(retiled.stitch().cells, layer.stitch().cells)


def test_rdd_methods_raise_clearly(spark):
    layer = tiled({(0, 0): ramp((1, 2, 2))})
    with pytest.raises(RuntimeError, match="Spark Connect"):
        layer.to_numpy_rdd()
    with pytest.raises(RuntimeError, match="from_numpy_tiles"):
        gps.TiledRasterLayer.from_numpy_rdd(gps.LayerType.SPATIAL, None, layer.layer_metadata)


def test_geotiff_get_and_write_over_connect(spark, shared_data):
    """The data source plans on the Connect server; GeoTIFFs come back as a DataFrame, not an RDD."""
    import rasterio

    path = str(shared_data / "geotiff" / "lc8-utm-1-re.tif")
    layer = gps.geotiff.get(gps.LayerType.SPATIAL, path, max_tile_size=256)
    assert layer.count() == 9
    df = spark.read.format("geotiff").load(path)
    assert df.count() == 9
    tiled = layer.tile_to_layout(gps.LocalLayout(256))
    with rasterio.open(path) as src:
        np.testing.assert_array_equal(tiled.stitch().cells[:, :602, :559], src.read())
    [row] = gps.geotiff.get("spatial", path, max_tile_size=None).to_geotiff_dataframe().collect()
    with rasterio.MemoryFile(bytes(row.geotiff)) as mem, mem.open() as got, rasterio.open(path) as src:
        np.testing.assert_array_equal(got.read(), src.read())
    with pytest.raises(RuntimeError, match="to_geotiff_dataframe"):
        layer.to_geotiff_rdd()


def test_catalog_write_query_and_read_value_over_connect(spark, shared_data, tmp_path):
    """Catalog writes run as DataFrame jobs; queries go through the geotrellis data source on the server."""
    root = str(shared_data / "geotrellis-catalog-2x")
    layer = gps.query(root, "landsat", 0, query_geom=gps.Extent(139.5, 35.5, 140.0, 36.0))
    tiles = dict(layer.to_numpy_tiles())
    assert tiles
    gps.write(str(tmp_path), "copy", layer)
    back = dict(gps.query(str(tmp_path), "copy", 0).to_numpy_tiles())
    assert back.keys() == tiles.keys()
    for k, t in tiles.items():
        np.testing.assert_array_equal(back[k].cells, t.cells)
        np.testing.assert_array_equal(gps.read_value(str(tmp_path), "copy", 0, k.col, k.row).cells, t.cells)
    assert spark.read.format("geotrellis").option("layer", "landsat").load(root).count() == 547


def test_reprojection_over_connect(spark, shared_data):
    """tile_to_layout with target_crs and GlobalLayout runs on DataFrames only."""
    path = str(shared_data / "geotiff" / "elevation.tif")
    layer = gps.geotiff.get(gps.LayerType.SPATIAL, path, max_tile_size=128)
    tiled = layer.tile_to_layout(gps.GlobalLayout(), target_crs=4326, resample_method=gps.ResampleMethod.BILINEAR)
    assert tiled.zoom_level is not None and tiled.layer_metadata.crs.startswith("+proj=longlat")
    n = 2 ** tiled.zoom_level
    assert tiled.layer_metadata.tile_layout.layoutCols == n
    stitched = tiled.stitch().cells
    assert np.isfinite(stitched).sum() > 0
    records = layer.reproject(3857).to_numpy_tiles()
    assert len(records) == layer.count()
    assert all(key.proj4.startswith("+proj=merc") for key, _ in records)


def test_focal_and_terrain_over_connect(spark):
    a = ramp((1, 8, 8))
    layer = tiled({(0, 0): a, (1, 0): a + 64, (0, 1): a + 128, (1, 1): a + 192}, no_data=np.nan)
    whole = layer.stitch().cells[0].astype(np.float64)
    got = (layer.focal(gps.Operation.MAX, gps.Square(1)) + 0).stitch().cells[0]
    padded = np.pad(whole, 1, constant_values=-np.inf)
    expected = np.max([padded[dy:dy + 16, dx:dx + 16] for dy in range(3) for dx in range(3)], axis=0)
    np.testing.assert_array_equal(got, expected)
    assert gps.hillshade(layer, 1.0).layer_metadata.cell_type == "int16"
    assert layer.slope(1.0).get_min_max()[1] > 0


def test_rendering_and_tiles_over_connect(spark, tmp_path):
    """to_png_rdd's DataFrame sibling renders on the server's workers; a TMS serves a pyramid written from
    Connect and a catalog with no Spark at all."""
    import io
    import urllib.request

    from PIL import Image

    a = ramp((1, 4, 4))
    wm = 20037508.342789244
    layout = gps.LayoutDefinition(gps.Extent(-wm, -wm, wm, wm), gps.TileLayout(2, 2, 4, 4))
    md = gps.Metadata(gps.Bounds(gps.SpatialKey(0, 0), gps.SpatialKey(1, 1)), "EPSG:3857", "float32",
                      gps.Extent(-wm, -wm, wm, wm), layout)
    layer = gps.TiledRasterLayer.from_numpy_tiles(
        gps.LayerType.SPATIAL, [(gps.SpatialKey(0, 0), gps.Tile(a, "FLOAT", np.nan))], md, zoom_level=1)
    cmap = gps.ColorMap.from_colors([float(v) for v in range(16)], [0x000000FF, 0xFFFFFFFF])
    rows = layer.to_png_dataframe(cmap).collect()
    got = np.asarray(Image.open(io.BytesIO(rows[0]["png"])).convert("RGBA"))
    np.testing.assert_array_equal(got[..., 0], (np.arange(16).reshape(4, 4) * 17).astype(np.uint8))
    with pytest.raises(RuntimeError, match="to_png_dataframe"):
        layer.to_png_rdd(cmap)
    tms = gps.TMS.build(layer.pyramid(), cmap).bind("127.0.0.1")
    try:
        with urllib.request.urlopen(tms.url_pattern.format(z=1, x=0, y=0)) as r:
            assert r.status == 200
    finally:
        tms.unbind()


# Every public method of the layer classes over Connect: a call that must work, or the RDD method's clear
# error naming its sibling. A new public method fails test_every_public_method_is_listed until it is added.
RDD_SIBLINGS = {"to_numpy_rdd": "to_numpy_tiles", "from_numpy_rdd": "from_numpy_tiles",
                "to_geotiff_rdd": "to_geotiff_dataframe", "to_png_rdd": "to_png_dataframe"}


def _common_calls(layer, tmp_path):
    """Calls of the methods RasterLayer and TiledRasterLayer share, on ``layer``."""
    cls = type(layer)
    cmap = gps.ColorMap.from_colors([0.0, 10.0, 100.0], [0x000000FF, 0xFFFFFFFF])
    tif = str(tmp_path / "read.tif")
    return {
        "bands": lambda: layer.bands(0).count(),
        "cache": lambda: layer.cache().unpersist(),
        "collect_keys": lambda: layer.collect_keys(),
        "collect_metadata": lambda: layer.collect_metadata(gps.LocalLayout(2)),
        "convert_data_type": lambda: layer.convert_data_type(gps.CellType.INT16).count(),
        "count": lambda: layer.count(),
        "dataframe": lambda: layer.dataframe.count(),
        "filter_by_times": lambda: pytest.raises(TypeError, layer.filter_by_times, []),  # SPATIAL: as GeoPySpark
        "getNumPartitions": lambda: layer.getNumPartitions(),
        "get_class_histogram": lambda: layer.get_class_histogram(),
        "get_histogram": lambda: layer.get_histogram(),
        "get_min_max": lambda: layer.get_min_max(),
        "get_partition_strategy": lambda: layer.get_partition_strategy(),
        "get_quantile_breaks": lambda: layer.get_quantile_breaks(4),
        "get_quantile_breaks_exact_int": lambda: layer.get_quantile_breaks_exact_int(4),
        "isEmpty": lambda: layer.isEmpty(),
        "map_cells": lambda: layer.map_cells(lambda cells, nd: cells + 1).count(),
        "map_tiles": lambda: layer.map_tiles(lambda t: t).count(),
        "merge": lambda: layer.merge().count(),
        "normalize": lambda: layer.normalize(0, 1).count(),
        "persist": lambda: layer.persist().unpersist(),
        "pysc": lambda: layer.pysc,
        # A GeoTIFF written here, read back by the class's own reader.
        "read": lambda: (gps.RasterLayer.from_numpy_tiles(gps.LayerType.SPATIAL, [(
            gps.ProjectedExtent(gps.Extent(0.0, 0.0, 4.0, 4.0), epsg=3857),
            gps.Tile.from_numpy_array(ramp((1, 4, 4)), np.nan))]).tile_to_layout(gps.LocalLayout(4)).save_stitched(tif),
            (cls.read(tif) if cls is gps.RasterLayer else cls.read(tif, gps.LocalLayout(4))).count()),
        "reclassify": lambda: layer.reclassify({5.0: 1.0}, float).count(),
        "repartition": lambda: layer.repartition(2).count(),
        "tile_to_layout": lambda: layer.tile_to_layout(gps.LocalLayout(2)).count(),
        "to_geotiff_dataframe": lambda: layer.to_geotiff_dataframe().count(),
        "to_numpy_tiles": lambda: layer.to_numpy_tiles(),
        "to_png_dataframe": lambda: layer.to_png_dataframe(cmap).count(),
        "to_spatial_layer": lambda: pytest.raises(ValueError, layer.to_spatial_layer),  # SPATIAL: as GeoPySpark
        "unpersist": lambda: layer.unpersist(),
        "with_no_data": lambda: layer.with_no_data(-1.0).count(),
        "wrapped_rdds": lambda: layer.wrapped_rdds(),
    }


def _tiled_calls(layer, tmp_path):
    md = layer.layer_metadata
    return {
        **_common_calls(layer, tmp_path),
        "aggregate_by_cell": lambda: layer.aggregate_by_cell(gps.Operation.SUM).count(),
        "focal": lambda: layer.focal(gps.Operation.MEAN, gps.Square(1)).get_min_max(),
        "from_dataframe": lambda: gps.TiledRasterLayer.from_dataframe(layer.layer_type, layer.dataframe, md).count(),
        "from_numpy_tiles": lambda: gps.TiledRasterLayer.from_numpy_tiles(
            layer.layer_type, layer.to_numpy_tiles(), md).count(),
        "get_point_values": lambda: layer.get_point_values([__import__("shapely").Point(0.5, 0.5)]),
        "is_floating_point_layer": lambda: layer.is_floating_point_layer,
        "local_max": lambda: layer.local_max(3).count(),
        "local_mean": lambda: layer.local_mean([layer]).count(),
        "local_min": lambda: layer.local_min(3).count(),
        "lookup": lambda: layer.lookup(0, 0),
        "partitionBy": lambda: layer.partitionBy(gps.SpatialPartitionStrategy(2)).count(),
        "pyramid": lambda: [level.count() for level in layer.pyramid().levels.values()],  # LocalLayoutScheme
        "reproject": lambda: layer.reproject(3857).count(),
        "save_stitched": lambda: layer.save_stitched(str(tmp_path / "s.tif")),
        "slope": lambda: layer.slope(1.0).get_min_max(),
        "stitch": lambda: layer.stitch(),
        "tobler": lambda: layer.tobler().get_min_max(),
        **_zonal_calls(layer),
    }


def _zonal_calls(layer):
    from shapely.geometry import box

    zone = box(0.1, 1.1, 1.6, 1.9)  # over the tiles (0, 0) and (1, 0)
    series = _spacetime(layer)
    return {
        "polygonal_min": lambda: layer.polygonal_min(zone, float),
        "polygonal_max": lambda: layer.polygonal_max(zone, int),
        "polygonal_sum": lambda: layer.polygonal_sum(zone, float),
        "polygonal_mean": lambda: layer.polygonal_mean(zone),
        "get_cell_value_counts": lambda: layer.get_cell_value_counts(zone),
        "mask": lambda: layer.mask([zone]).count(),
        "zonal_statistics": lambda: layer.zonal_statistics([(1, zone)], rule="fraction").collect(),
        "histogram_series": lambda: series.histogram_series(zone),
        "mean_series": lambda: series.mean_series(zone),
        "max_series": lambda: series.max_series(zone),
        "min_series": lambda: series.min_series(zone),
        "sum_series": lambda: series.sum_series(zone),
        "star_series": lambda: series.star_series(zone, "mean"),
    }


def _spacetime(layer):
    import datetime

    when = datetime.datetime(2020, 1, 1)
    tiles = [(gps.SpaceTimeKey(k.col, k.row, when), t) for k, t in layer.to_numpy_tiles()]
    md = layer.layer_metadata
    bounds = gps.Bounds(gps.SpaceTimeKey(md.bounds.minKey.col, md.bounds.minKey.row, when),
                        gps.SpaceTimeKey(md.bounds.maxKey.col, md.bounds.maxKey.row, when))
    md = gps.Metadata(bounds, md.crs, md.cell_type, md.extent, md.layout_definition)
    return gps.TiledRasterLayer.from_numpy_tiles(gps.LayerType.SPACETIME, tiles, md)


def test_rasterize_and_distance_over_connect(spark):
    from shapely.geometry import MultiPoint, box

    burned = gps.rasterize([box(1.0e6, 6.0e6, 1.01e6, 6.01e6)], 3857, 10, 1.0)
    assert burned.get_min_max() == (1.0, 1.0)
    feats = [gps.Feature(box(0, 0, 5000, 5000), gps.CellValue(2.0, 1))]
    assert gps.rasterize_features(feats, 3857, 8).get_min_max() == (2.0, 2.0)
    distance = gps.euclidean_distance(MultiPoint([(1000.0, 1000.0)]), 3857, 6)
    assert distance.get_min_max()[0] >= 0.0
    friction = tiled({(0, 0): np.ones((1, 4, 4)), (1, 0): np.ones((1, 4, 4))})
    cost = gps.cost_distance(friction, [__import__("shapely").Point(0.1, 1.9)], float("inf"))
    assert cost.get_min_max()[0] == 0.0


def test_shapefile_dataframe_over_connect(spark, tmp_path):
    import pyogrio
    import shapely
    from shapely.geometry import MultiPolygon, box

    path = tmp_path / "z.shp"
    pyogrio.raw.write(str(path), geometry=shapely.to_wkb([MultiPolygon([box(0.1, 1.1, 1.5, 1.9)])]),
                      field_data=[np.array([4])], fields=["id"], geometry_type="MultiPolygon", crs="EPSG:4326")
    zones = gps.shapefile.get_dataframe(str(path))
    layer = tiled({(0, 0): ramp((1, 4, 4)), (1, 0): ramp((1, 4, 4), start=16)})
    assert [r.zone for r in layer.zonal_statistics(zones).collect()] == [4]
    with pytest.raises(RuntimeError, match="get_dataframe"):
        gps.shapefile.get(str(path))


def test_every_public_method_is_listed(spark, tmp_path):
    layer = tiled({(0, 0): ramp((1, 4, 4))})
    public = {n for n in dir(gps.TiledRasterLayer) if not n.startswith("_")}
    assert public == set(_tiled_calls(layer, tmp_path)) | set(RDD_SIBLINGS)


def test_every_public_method_over_connect(spark, tmp_path):
    layer = tiled({(0, 0): ramp((1, 4, 4)), (1, 0): ramp((1, 4, 4), start=16)}, no_data=np.nan)
    for name, call in _tiled_calls(layer, tmp_path).items():
        call()  # raises if the method does not work over Connect
    for name, sibling in RDD_SIBLINGS.items():
        with pytest.raises(RuntimeError, match=sibling):
            if name == "from_numpy_rdd":
                gps.TiledRasterLayer.from_numpy_rdd(layer.layer_type, None, layer.layer_metadata)
            elif name == "to_png_rdd":
                layer.to_png_rdd(None)
            else:
                getattr(layer, name)()


def _raster_calls(raster, tmp_path):
    return {
        **_common_calls(raster, tmp_path),
        "from_dataframe": lambda: gps.RasterLayer.from_dataframe(raster.layer_type, raster.dataframe).count(),
        "from_numpy_tiles": lambda: gps.RasterLayer.from_numpy_tiles(raster.layer_type, raster.to_numpy_tiles()).count(),
        "partitionBy": lambda: raster.partitionBy(gps.HashPartitionStrategy(2)).count(),
        "reproject": lambda: raster.reproject(4326).count(),
    }


def test_every_raster_and_pyramid_method_over_connect(spark, tmp_path):
    tile = gps.Tile.from_numpy_array(ramp((1, 4, 4)), np.nan)
    raster = gps.RasterLayer.from_numpy_tiles(
        gps.LayerType.SPATIAL, [(gps.ProjectedExtent(gps.Extent(0.0, 0.0, 4.0, 4.0), epsg=3857), tile)])
    calls = _raster_calls(raster, tmp_path)
    assert {n for n in dir(gps.RasterLayer) if not n.startswith("_")} == set(calls) | set(RDD_SIBLINGS)
    for call in calls.values():
        call()
    with pytest.raises(RuntimeError, match="to_numpy_tiles"):
        raster.to_numpy_rdd()
    with pytest.raises(RuntimeError, match="to_geotiff_dataframe"):
        raster.to_geotiff_rdd()
    with pytest.raises(RuntimeError, match="from_numpy_tiles"):
        gps.RasterLayer.from_numpy_rdd(raster.layer_type, None)
    wm = 20037508.342789244
    layout = gps.LayoutDefinition(gps.Extent(-wm, -wm, wm, wm), gps.TileLayout(2, 2, 4, 4))
    md = gps.Metadata(gps.Bounds(gps.SpatialKey(0, 0), gps.SpatialKey(1, 1)), "EPSG:3857", "float32",
                      gps.Extent(-wm, -wm, wm, wm), layout)
    pyramid = gps.TiledRasterLayer.from_numpy_tiles(
        gps.LayerType.SPATIAL, [(gps.SpatialKey(0, 0), tile)], md, zoom_level=1).pyramid()
    pyramid_calls = {
        "cache": lambda: pyramid.cache().unpersist(),
        "get_histogram": lambda: pyramid.get_histogram(),
        "persist": lambda: pyramid.persist().unpersist(),
        "pysc": lambda: pyramid.pysc,
        "show": lambda: pyramid.show(host="127.0.0.1").unbind(),
        "unpersist": lambda: pyramid.unpersist(),
        "wrapped_rdds": lambda: pyramid.wrapped_rdds(),
        "write": lambda: pyramid.write(str(tmp_path / "cat"), "p"),
    }
    assert {n for n in dir(gps.Pyramid) if not n.startswith("_")} == set(pyramid_calls)
    for call in pyramid_calls.values():
        call()
