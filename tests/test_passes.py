"""One pass per stage (DESIGN §4): how many Python passes standard pipelines plan.

Every SQL execution Spark runs is recorded with its physical plan; a pipeline's passes are the Python
nodes (``MapInArrow`` and any other Python evaluation or Python data source) of the executions its action
ran. The expected count is the minimum the stage structure allows: one pass per stage between shuffles."""

import re

import numpy as np
import pytest

import geopyspark_rs as gps
from layers import ramp, tiled

_PYTHON_NODES = re.compile(r"\b(MapInArrow|PythonMapInArrow|MapInPandas|ArrowEvalPython|BatchEvalPython\w*|"
                           r"FlatMapGroupsInArrow|FlatMapGroupsInPandas|PythonDataSource\w*) \((\d+)\)")


def _final_tree(plan: str) -> str:
    """The operator tree Spark ran: the adaptive plan's final plan, else the whole tree, without the plans
    of cached data (shown under ``InMemoryRelation``; they ran when the cache was filled)."""
    tree = plan.split("\n\n", 1)[0]
    # The outermost marker: a cached relation's own adaptive plan is printed inside, with its own markers
    # (a flake: an execution still described by its "Current Plan" was read from the cached plan's "Final").
    markers = [m for m in ("== Final Plan ==", "== Current Plan ==") if m in tree]
    if markers:
        first = min(markers, key=tree.index)
        tree = tree.split(first, 1)[1].split("== Initial Plan ==", 1)[0]
    kept, cached_depth = [], None
    for line in tree.splitlines():
        depth = len(line) - len(line.lstrip(" +-:"))
        if cached_depth is not None and depth > cached_depth:
            continue
        cached_depth = depth if "InMemoryRelation" in line else None
        kept.append(line)
    return "\n".join(kept)


def python_passes(spark, action):
    """The Python nodes of the physical plans of the SQL executions ``action`` runs."""
    store = spark._jsparkSession.sharedState().statusStore()

    def executions():
        listed = store.executionsList()
        return [listed.apply(i) for i in range(listed.size())]

    # The store is filled by Spark's listener bus, asynchronously: drain it so that executions of earlier
    # actions are not taken for this one's (a flake seen in CI), and again before reading this one's.
    bus = spark.sparkContext._jsc.sc().listenerBus()
    # By id, not by position: the store keeps only the last spark.sql.ui.retainedExecutions executions.
    bus.waitUntilEmpty()
    before = max((e.executionId() for e in executions()), default=-1)
    action()
    bus.waitUntilEmpty()
    passes = []
    for execution in sorted((e for e in executions() if e.executionId() > before), key=lambda e: e.executionId()):
        tree = _final_tree(execution.physicalPlanDescription())
        passes += sorted({(int(n), name) for name, n in _PYTHON_NODES.findall(tree)})
    return [name for _, name in passes]


@pytest.fixture
def layer(spark):
    return tiled({(c, r): ramp((1, 16, 16), np.float32, 256 * (2 * r + c)) for c in range(2) for r in range(2)})


@pytest.fixture
def raster(spark):
    tiles = [(gps.ProjectedExtent(gps.Extent(0, 0, 32, 32), epsg=3857),
              gps.Tile.from_numpy_array(ramp((1, 32, 32), np.float32), np.nan))]
    return gps.RasterLayer.from_numpy_tiles(gps.LayerType.SPATIAL, tiles)


def test_reduction_after_steps_is_one_pass(spark, layer):
    assert python_passes(spark, lambda: ((layer + 1) * 2).get_min_max()) == ["MapInArrow"]
    assert python_passes(spark, lambda: (layer * 2).get_histogram()) == ["MapInArrow"]


def test_tile_to_layout_then_steps_then_stitch(spark, raster):
    tiled_layer = raster.tile_to_layout(gps.LocalLayout(16))
    # The map side cuts in one pass; after the shuffle, merging, the step and the collect share one.
    assert python_passes(spark, lambda: (tiled_layer + 1).stitch()) == ["MapInArrow"] * 2


def test_cache_after_shuffle_is_one_pass(spark):
    # Data of its own: Spark would answer from another test's cache of an equal plan.
    tiles = [(gps.ProjectedExtent(gps.Extent(0, 0, 48, 48), epsg=3857),
              gps.Tile.from_numpy_array(ramp((1, 48, 48), np.float32, 7), np.nan))]
    raster = gps.RasterLayer.from_numpy_tiles(gps.LayerType.SPATIAL, tiles)
    cached = raster.tile_to_layout(gps.LocalLayout(16)).cache()
    # The cache is filled by the map pass and the reduce pass, nothing more.
    plan = cached._df._jdf.queryExecution().analyzed().toString()
    assert len(re.findall(r"^[\s+:-]*MapInArrow\b", plan, re.M)) == 2
    assert cached.count() == 9
    assert python_passes(spark, cached.get_min_max) == ["MapInArrow"]
    cached.unpersist()


def test_geotiff_read_steps_encode_is_one_pass(spark, shared_data):
    path = str(shared_data / "geotiff" / "elevation.tif")
    layer = gps.geotiff.get(gps.LayerType.SPATIAL, path, max_tile_size=128).convert_data_type("float64")
    # The windows are read in the same pass that converts and encodes them: no cells enter the JVM.
    assert python_passes(spark, lambda: layer.to_geotiff_dataframe().collect()) == ["MapInArrow"]
    # Metadata needs no cells, so it runs no Python at all.
    assert python_passes(spark, lambda: layer.collect_metadata(gps.LocalLayout(64))) == []


def test_query_steps_write_is_two_passes(spark, layer, tmp_path):
    uri = str(tmp_path / "catalog")
    layer.zoom_level = 0
    gps.write(uri, "ramp", layer)
    back = gps.query(uri, "ramp", 0)
    # Read, step and index on the map side of the write's exchange; the files are written after it.
    assert python_passes(spark, lambda: gps.write(uri, "doubled", back * 2)) == ["MapInArrow"] * 2
    np.testing.assert_array_equal(gps.query(uri, "doubled", 0).stitch().cells, layer.stitch().cells * 2)


def test_pyramid_is_one_pass_per_level(spark):
    tiles = {(c, r): ramp((1, 8, 8), np.float32, 64 * (4 * r + c)) for c in range(4) for r in range(4)}
    base = tiled(tiles, layout_cols=4, layout_rows=4)
    pyr = base.pyramid()
    assert sorted(pyr.levels) == [0, 1, 2]
    # Level 0 is two exchanges away from the base: a map pass per exchange and the last reduce.
    assert python_passes(spark, lambda: pyr.levels[0].get_min_max()) == ["MapInArrow"] * 3


def test_zonal_passes(spark, layer):
    """A summary after steps is one pass (only partials leave it); statistics of very many zones add the
    combining pass after their shuffle; a mask then a summary stay one pass."""
    from shapely.geometry import box

    zone = box(0.1, 0.1, 1.7, 1.8)
    assert python_passes(spark, lambda: (layer + 1).polygonal_sum(zone, float)) == ["MapInArrow"]
    # few zones: the partials are combined on the driver; with a partition count, after a keyed exchange
    assert python_passes(spark, lambda: (layer * 2).zonal_statistics([(1, zone)]).collect()) == ["MapInArrow"]
    assert python_passes(spark, lambda: (layer * 2).zonal_statistics([(1, zone)], partitions=2).collect()) == [
        "MapInArrow", "MapInArrow"]
    assert python_passes(spark, lambda: (layer + 1).mask(zone).get_min_max()) == ["MapInArrow"]


def test_counting_a_read_layer_brings_no_cells_back(spark, layer, tmp_path):
    uri = str(tmp_path / "catalog")
    layer.zoom_level = 0
    gps.write(uri, "counted", layer)
    back = gps.query(uri, "counted", 0)
    # The files are decoded in the pass (the head's rows are files, not tiles); only keys leave it.
    assert "cells" not in back._headers().columns
    assert python_passes(spark, back.count) == ["MapInArrow"]
    assert back.count() == 4 and not back.isEmpty()
    assert sorted((k.col, k.row) for k in back.collect_keys()) == [(0, 0), (0, 1), (1, 0), (1, 1)]


def test_a_pass_freezes_its_python_workers_heap(spark):
    """PySpark collects garbage after every task of a reused worker (20–60 ms for the imported modules'
    objects); our passes freeze the worker's heap when they start, so every tile sees a frozen heap."""
    layer = tiled({(c, r): np.zeros((1, 4, 4), np.int32) for c in range(2) for r in range(2)})

    def mark_frozen(tile_cells, no_data):
        import gc

        return tile_cells + int(gc.get_freeze_count() > 0)

    got = {k: t.cells for k, t in layer.map_cells(mark_frozen).to_numpy_tiles()}
    assert len(got) == 4 and all((c == 1).all() for c in got.values()), got
