"""RasterLayer (untiled) methods: cell edits, statistics, merge and time on rasters keyed by extent."""

import datetime

import numpy as np
import pytest

import geopyspark_rs as gps
from layers import ramp

T0, T1 = datetime.datetime(2021, 6, 1), datetime.datetime(2021, 6, 2)


@pytest.fixture(scope="module")
def rasters(spark):
    """Two rasters of different cell types in one layer (an untiled layer may mix them)."""
    recs = [(gps.ProjectedExtent(gps.Extent(0, 0, 4, 4), epsg=4326), gps.Tile(ramp((2, 4, 4)), "FLOAT", -1.0)),
            (gps.ProjectedExtent(gps.Extent(4, 0, 8, 4), epsg=4326), gps.Tile(ramp((2, 4, 4), np.int16), "SHORT", None))]
    return gps.RasterLayer.from_numpy_rdd(gps.LayerType.SPATIAL, spark.sparkContext.parallelize(recs))


def by_xmin(layer):
    return {k.extent.xmin: t for k, t in layer.to_numpy_tiles()}


def test_cell_edits_per_row_cell_type(rasters):
    out = by_xmin(rasters.bands(1).map_cells(lambda c, nd: c + 1).convert_data_type("float64"))
    np.testing.assert_array_equal(out[0.0].cells, ramp((2, 4, 4))[[1]] + 1)
    np.testing.assert_array_equal(out[4.0].cells, ramp((2, 4, 4))[[1]] + 1)
    assert out[0.0].cell_type == out[4.0].cell_type == "DOUBLE"
    nd = by_xmin(rasters.with_no_data(3))
    assert nd[0.0].no_data_value == 3.0 and nd[4.0].no_data_value == 3.0
    reclass = by_xmin(rasters.reclassify({5: 1, 100: 2}, int))
    assert reclass[4.0].cells[0, 0, 0] == 1 and reclass[4.0].cells[0, 3, 3] == 2


def test_statistics(rasters):
    assert rasters.get_min_max() == (0.0, 31.0)
    hs = rasters.get_class_histogram()
    assert len(hs) == 2 and hs[0].item_count(0) == 2 and hs[1].item_count(31) == 2
    assert sum(c for _, c in hs[1].bin_counts()) == 32


def test_map_tiles_gets_a_tile(rasters):
    out = by_xmin(rasters.map_tiles(lambda t: gps.Tile(t.cells * 0 + t.cells.shape[0], t.cell_type, t.no_data_value)))
    assert (out[4.0].cells == 2).all()


def test_merge_and_time(spark):
    e = gps.Extent(0, 0, 2, 2)
    a = np.array([[[np.nan, 1], [2, np.nan]]], np.float32)
    b = np.array([[[9, 9], [9, 9]]], np.float32)
    recs = [(gps.TemporalProjectedExtent(e, T0, epsg=3857), gps.Tile(a, "FLOAT", np.nan)),
            (gps.TemporalProjectedExtent(e, T0, epsg=3857), gps.Tile(b, "FLOAT", np.nan)),
            (gps.TemporalProjectedExtent(e, T1, epsg=3857), gps.Tile(b, "FLOAT", np.nan))]
    layer = gps.RasterLayer.from_numpy_tiles(gps.LayerType.SPACETIME, recs)
    merged = layer.merge()
    assert merged.count() == 2
    t0 = [t for k, t in merged.to_numpy_tiles() if k.instant == T0][0].cells
    assert t0[0, 0, 0] == 9 and t0[0, 1, 1] == 9 and t0[0, 0, 1] in (1, 9)
    assert layer.filter_by_times([T1]).count() == 1
    spatial = layer.to_spatial_layer(T1)
    assert spatial.layer_type == gps.LayerType.SPATIAL
    [(key, _)] = spatial.to_numpy_tiles()
    assert key == gps.ProjectedExtent(e, epsg=3857)
    md = layer.collect_metadata(gps.LocalLayout(2))
    assert md.bounds.minKey.instant == T0 and md.bounds.maxKey.instant == T1
    tiled = layer.tile_to_layout(gps.LocalLayout(2))
    assert tiled.layer_type == gps.LayerType.SPACETIME and tiled.count() == 2
