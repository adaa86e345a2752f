"""Layer construction, conversion, keys, partitions, caching, time, merge, union, combine_bands, lookup,
stitch, aggregate_by_cell, repr; with the reference's examples (geopyspark_api.md §4)."""

import datetime

import numpy as np
import pytest
from pyspark import StorageLevel

import geopyspark_rs as gps
from geopyspark_rs.geotrellis.combine_bands import combine_bands
from geopyspark_rs.geotrellis.union import union
from layers import cells, metadata, ramp, tiled

T0, T1, T2 = (datetime.datetime(2020, 1, d) for d in (1, 2, 3))


@pytest.fixture(scope="module")
def layer(spark):
    return tiled({(0, 0): ramp((1, 4, 4)), (1, 0): ramp((1, 4, 4), start=16), (1, 1): ramp((1, 4, 4), start=32)})


@pytest.fixture(scope="module")
def spacetime(spark):
    tiles = [(gps.SpaceTimeKey(c, 0, t), gps.Tile(ramp((1, 4, 4)) + i, "FLOAT", None))
             for i, t in enumerate((T0, T1, T2)) for c in (0, 1)]
    md = metadata("float32raw", spacetime=True, instants=[T0, T2])
    return gps.TiledRasterLayer.from_numpy_tiles(gps.LayerType.SPACETIME, tiles, md)


def test_from_numpy_rdd_round_trip(spark):
    sc = spark.sparkContext
    arr = ramp((2, 4, 4), np.int16)
    tile = gps.Tile.from_numpy_array(arr, -1)
    md = metadata("int16ud-1")
    rdd = sc.parallelize([(gps.SpatialKey(0, 0), tile), (gps.SpatialKey(1, 1), tile)])
    layer = gps.TiledRasterLayer.from_numpy_rdd(gps.LayerType.SPATIAL, rdd, md)
    back = dict(layer.to_numpy_rdd().collect())
    assert set(back) == {gps.SpatialKey(0, 0), gps.SpatialKey(1, 1)}
    t = back[gps.SpatialKey(1, 1)]
    assert t.cell_type == "SHORT" and t.no_data_value == -1
    np.testing.assert_array_equal(t.cells, arr)
    assert layer.layer_metadata == md
    assert layer.zoom_level is None
    assert gps.TiledRasterLayer.from_numpy_rdd(gps.LayerType.SPATIAL, rdd, md.to_dict(), zoom_level=0).zoom_level is None


def test_raster_layer_round_trip(spark):
    e = gps.Extent(0, 0, 4, 4)
    recs = [(gps.ProjectedExtent(e, epsg=3857), gps.Tile(ramp((1, 4, 4)), "FLOAT", -1.0)),
            (gps.ProjectedExtent(gps.Extent(4, 0, 8, 4), proj4="+proj=longlat +datum=WGS84 +no_defs "),
             gps.Tile(ramp((1, 4, 4)), "FLOAT", -1.0))]
    layer = gps.RasterLayer.from_numpy_rdd(gps.LayerType.SPATIAL, spark.sparkContext.parallelize(recs))
    got = dict(layer.to_numpy_rdd().collect())
    assert set(got) == {k for k, _ in recs}
    assert got[recs[0][0]].cell_type == "FLOAT" and got[recs[0][0]].no_data_value == -1.0
    assert str(layer) == repr(layer) == "RasterLayer(layer_type=LayerType.SPATIAL)"
    assert sorted(layer.collect_keys()) == sorted(k for k, _ in recs)


def test_keys_count_partitions(layer):
    assert sorted(layer.collect_keys()) == [gps.SpatialKey(0, 0), gps.SpatialKey(1, 0), gps.SpatialKey(1, 1)]
    assert layer.count() == 3
    assert not layer.isEmpty()
    assert layer.repartition(3).getNumPartitions() == 3
    assert layer.repartition(None) is layer
    assert layer.get_partition_strategy() is None


def test_partition_strategies(layer, spacetime):
    hashed = layer.partitionBy(gps.HashPartitionStrategy(5))
    assert hashed.getNumPartitions() == 5
    assert hashed.get_partition_strategy() == gps.HashPartitionStrategy(5)
    spatial = layer.partitionBy(gps.SpatialPartitionStrategy(4, bits=1))
    assert spatial.get_partition_strategy() == gps.SpatialPartitionStrategy(4, 1)
    assert spatial.getNumPartitions() == 4 and spatial.count() == 3
    st = gps.SpaceTimePartitionStrategy(gps.TimeUnit.DAYS, 3, bits=2)
    got = spacetime.partitionBy(st)
    assert got.get_partition_strategy() == st and got.getNumPartitions() == 3 and got.count() == 6
    with pytest.raises(TypeError, match="SpaceTimePartitionStrategy cannot be used on SPATIAL layers"):
        layer.partitionBy(st)
    with pytest.raises(TypeError):
        layer.partitionBy("hash")


def test_spatial_partitions_keep_neighbours_together(spark):
    tiles = {(c, r): ramp((1, 2, 2)) for c in range(8) for r in range(8)}
    layer = tiled(tiles, layout_cols=8, layout_rows=8).partitionBy(gps.SpatialPartitionStrategy(16, bits=2))
    from pyspark.sql import functions as F

    rows = layer.dataframe.select("col", "row", F.spark_partition_id().alias("p")).collect()
    region = {}
    for r in rows:  # a 2x2 block of keys is one Z-curve region of 4 keys (bits=2)
        region.setdefault((r.col // 2, r.row // 2), set()).add(r.p)
    assert all(len(p) == 1 for p in region.values())


def test_cache_persist_unpersist(layer):
    chained = (layer + 1).cache()
    assert chained.is_cached and chained._steps == ()
    np.testing.assert_array_equal(cells(chained)[(0, 0)], ramp((1, 4, 4)) + 1)
    assert chained.unpersist() is chained and not chained.is_cached
    assert len(layer.wrapped_rdds()) == 1


@pytest.mark.parametrize("level, kept", [
    (StorageLevel.MEMORY_ONLY, StorageLevel(False, True, False, True)),
    (StorageLevel.MEMORY_AND_DISK_2, StorageLevel(True, True, False, True, 2)),
    (StorageLevel.DISK_ONLY, StorageLevel.DISK_ONLY),
    (StorageLevel.OFF_HEAP, StorageLevel.OFF_HEAP),
])
def test_persist_keeps_memory_levels_deserialized(layer, level, kept):
    """PySpark's levels are serialized; a cached DataFrame kept serialized costs a deserializing copy of every
    batch on every scan, so memory levels are cached deserialized (disk, off-heap and replicas as asked)."""
    cached = (layer * 2).persist(level)
    try:
        got = cached.dataframe.storageLevel
        assert (got.useDisk, got.useMemory, got.useOffHeap, got.deserialized, got.replication) == \
            (kept.useDisk, kept.useMemory, kept.useOffHeap, kept.deserialized, kept.replication)
        np.testing.assert_array_equal(cells(cached)[(1, 0)], ramp((1, 4, 4), start=16) * 2)
    finally:
        cached.unpersist()


def test_storage_levels_stay_serialized_when_the_session_compresses_them():
    """With ``spark.rdd.compress`` (a startup setting) the user asked for compressed serialized caches, so
    the level stays as given; without it, memory levels become deserialized."""
    from geopyspark_rs.geotrellis.layer import dataframe_storage_level

    for level in (StorageLevel.MEMORY_ONLY, StorageLevel.MEMORY_AND_DISK_2):
        assert dataframe_storage_level(level, compress_serialized=True) is level
        kept = dataframe_storage_level(level)
        assert (kept.useDisk, kept.useMemory, kept.deserialized, kept.replication) == \
            (level.useDisk, True, True, level.replication)


def test_repr(layer):
    assert str(layer) == repr(layer) == \
        "TiledRasterLayer(layer_type=LayerType.SPATIAL, zoom_level=None, is_floating_point_layer=True)"


def test_lookup(layer):
    [t] = layer.lookup(1, 0)
    np.testing.assert_array_equal(t.cells, ramp((1, 4, 4), start=16))
    assert layer.lookup(0, 1) == []
    with pytest.raises(IndexError):
        layer.lookup(5, 5)


def test_stitch(layer):
    t = layer.stitch()
    assert t.cells.shape == (1, 8, 8)
    np.testing.assert_array_equal(t.cells[:, :4, 4:], ramp((1, 4, 4), start=16))
    np.testing.assert_array_equal(t.cells[:, 4:, 4:], ramp((1, 4, 4), start=32))
    assert t.cell_type == "FLOAT"


def test_spacetime_only_methods(layer, spacetime):
    with pytest.raises(ValueError):
        spacetime.stitch()
    with pytest.raises(ValueError):
        spacetime.lookup(0, 0)
    with pytest.raises(ValueError):
        layer.to_spatial_layer()
    with pytest.raises(TypeError):
        layer.filter_by_times([T0])


def test_time_filters(spacetime):
    assert spacetime.filter_by_times([T1]).count() == 2
    assert spacetime.filter_by_times([T0, T1]).count() == 4
    assert spacetime.filter_by_times([T0, T0, T2]).count() == 4
    spatial = spacetime.to_spatial_layer(T2)
    assert spatial.layer_type == gps.LayerType.SPATIAL and spatial.count() == 2
    np.testing.assert_array_equal(cells(spatial)[(1, 0)], ramp((1, 4, 4)) + 2)
    assert spatial.layer_metadata.bounds == gps.Bounds(gps.SpatialKey(0, 0), gps.SpatialKey(1, 1))
    assert spacetime.to_spatial_layer().count() == 6
    keys = spacetime.collect_keys()
    assert gps.SpaceTimeKey(1, 0, T1) in keys


def test_merge_fills_nodata(spark):
    a = np.array([[[np.nan, 1.0], [np.nan, 2.0]]], np.float32)
    b = np.array([[[5.0, 6.0], [np.nan, 7.0]]], np.float32)
    tiles = [(gps.SpatialKey(0, 0), gps.Tile(a, "FLOAT", np.nan)), (gps.SpatialKey(0, 0), gps.Tile(b, "FLOAT", np.nan))]
    layer = gps.TiledRasterLayer.from_numpy_tiles(gps.LayerType.SPATIAL, tiles, metadata("float32", tile=2))
    merged = layer.merge()
    assert merged.count() == 1
    got = cells(merged)[(0, 0)]
    assert got[0, 1, 1] in (2.0, 7.0) and got[0, 0, 1] in (1.0, 6.0)
    assert got[0, 0, 0] == 5.0 and np.isnan(got[0, 1, 0])


def test_aggregate_by_cell(spark):
    stack = [np.array([[[v, v + 1], [np.nan, 2 * v]]], np.float32) for v in (1.0, 2.0, 6.0)]
    tiles = [(gps.SpatialKey(0, 0), gps.Tile(a, "FLOAT", np.nan)) for a in stack]
    tiles.append((gps.SpatialKey(1, 0), gps.Tile(stack[0], "FLOAT", np.nan)))
    layer = gps.TiledRasterLayer.from_numpy_tiles(gps.LayerType.SPATIAL, tiles, metadata("float32", tile=2))
    data = np.stack([s.astype(np.float64) for s in stack])
    with np.errstate(all="ignore"):
        expect = {
            gps.Operation.SUM: data.sum(0), gps.Operation.MEAN: data.mean(0), gps.Operation.MIN: data.min(0),
            gps.Operation.MAX: data.max(0), gps.Operation.VARIANCE: data.var(0, ddof=1),
            gps.Operation.STANDARD_DEVIATION: data.std(0, ddof=1),
        }
    for op, want in expect.items():
        out = layer.aggregate_by_cell(op)
        got = cells(out)
        assert out.count() == 2
        np.testing.assert_allclose(got[(0, 0)], want, rtol=1e-6, err_msg=str(op))
        if op in (gps.Operation.VARIANCE, gps.Operation.STANDARD_DEVIATION):
            assert np.isnan(got[(1, 0)]).all(), "a single value has no sample variance"
    with pytest.raises(ValueError):
        layer.aggregate_by_cell(gps.Operation.MEDIAN)


def test_union_and_combine_bands(layer):
    u = union([layer, layer + 1])
    assert u.count() == 6
    assert u.layer_metadata.bounds == layer.layer_metadata.bounds
    both = combine_bands([layer, layer * 2, layer.bands(0) + 1])
    got = cells(both)[(1, 1)]
    src = cells(layer)[(1, 1)][0]
    np.testing.assert_array_equal(got, np.stack([src, src * 2, src + 1]))
    assert gps.combine_bands is combine_bands and gps.union is union
    with pytest.raises(ValueError):
        combine_bands([layer])
    other = tiled({(0, 0): ramp((1, 8, 8))})
    with pytest.raises(ValueError):
        union([layer, other])


def test_from_numpy_rdd_requires_layer_type(spark):
    with pytest.raises(ValueError):
        gps.TiledRasterLayer.from_numpy_tiles("planar", [], metadata("float32"))


def test_tile_cell_type_names(spark):
    """A Tile's cell_type may be GeoPySpark's name, a GeoTrellis name or a CellType member (reference §2)."""
    from geopyspark_rs.geotrellis.tile_contract import cell_type_name

    assert cell_type_name("FLOAT", None) == "float32raw"
    assert cell_type_name("FLOAT", -1) == "float32ud-1.0"
    assert cell_type_name("SHORT", -32768) == "int16"
    assert cell_type_name("int16raw", -5) == "int16ud-5"
    assert cell_type_name(gps.CellType.UINT8, None) == "uint8"
    assert cell_type_name("float32ud-9999.0", None) == "float32ud-9999.0"
    assert cell_type_name("BIT", None) == "bool"
    with pytest.raises(ValueError):
        cell_type_name("complex64", None)


def test_union_of_mixed_cell_types(layer):
    ints = layer.convert_data_type(gps.CellType.INT16)
    u = union([ints, layer.convert_data_type(gps.CellType.FLOAT64)])
    assert u.layer_metadata.cell_type == "float64"
    assert {t.cells.dtype for _, t in u.to_numpy_tiles()} == {np.dtype("float64")}


def test_bad_construction_inputs(spark, layer):
    """Wrong key types, non-Tiles and DataFrames outside the contract are named in the error."""
    md = layer.layer_metadata
    with pytest.raises(TypeError, match="SpatialKey"):
        gps.TiledRasterLayer.from_numpy_tiles(gps.LayerType.SPATIAL, [((0, 0), gps.Tile(ramp((1, 4, 4)), "FLOAT", None))], md)
    with pytest.raises(TypeError, match="Tile"):
        gps.TiledRasterLayer.from_numpy_tiles(gps.LayerType.SPATIAL, [(gps.SpatialKey(0, 0), ramp((1, 4, 4)))], md)
    with pytest.raises(ValueError, match="shape"):
        gps.TiledRasterLayer.from_numpy_tiles(gps.LayerType.SPATIAL, [(gps.SpatialKey(0, 0), gps.Tile(np.zeros(3), "FLOAT", None))], md)
    with pytest.raises(ValueError, match="cells"):
        gps.TiledRasterLayer.from_dataframe(gps.LayerType.SPATIAL, spark.range(3).withColumnRenamed("id", "col"), md)
    with pytest.raises(TypeError, match="Metadata"):
        gps.TiledRasterLayer.from_dataframe(gps.LayerType.SPATIAL, layer.dataframe, "metadata")


def test_shuffles_apply_pending_steps_once(layer):
    """Steps recorded before a repartition, partitionBy, merge or aggregate run exactly once."""
    src = cells(layer)
    pending = layer + 1
    for out in (pending.repartition(2), pending.partitionBy(gps.HashPartitionStrategy(2)), pending.merge(),
                pending.aggregate_by_cell(gps.Operation.MAX), pending.tile_to_layout(gps.LocalLayout(4))):
        for key, a in cells(out).items():
            np.testing.assert_array_equal(a, src[key] + 1)
    again = pending.repartition(2) * 2
    np.testing.assert_array_equal(cells(again)[(1, 1)], (src[(1, 1)] + 1) * 2)
