"""Instants in and out, method by method, as GeoPySpark 0.4 gives them.

In: naive datetimes are UTC, aware ones (any zone) are converted to UTC, everywhere a datetime is accepted
(keys, extents, bounds, query time intervals, read_value). Out: keys, metadata bounds and catalog reads
give naive UTC datetimes (GeoPySpark's protobuf codec and metadata decode with ``utcfromtimestamp``);
``get_point_values`` gives aware UTC ones (GeoPySpark parses its backend's ISO strings with dateutil) and
``[(None, None)]`` for a point outside the layer."""

import datetime

import numpy as np
from shapely.geometry import Point

import geopyspark_rs as gps

UTC = datetime.timezone.utc
PLUS2 = datetime.timezone(datetime.timedelta(hours=2))
# One instant given three ways: aware UTC, aware +02:00, and naive (taken as UTC).
T1_AWARE = datetime.datetime(2017, 9, 25, 11, 37, tzinfo=UTC)
T1_NAIVE = datetime.datetime(2017, 9, 25, 11, 37)
T2_PLUS2 = datetime.datetime(2018, 1, 17, 15, 53, tzinfo=PLUS2)  # 13:53 UTC
T2_NAIVE = datetime.datetime(2018, 1, 17, 13, 53)


def _layer(zoom=None):
    tile = gps.Tile(np.arange(16, dtype=np.float32).reshape(1, 4, 4), "FLOAT", float("nan"))
    extent = gps.Extent(0.0, 0.0, 8.0, 8.0)
    layout = gps.LayoutDefinition(extent, gps.TileLayout(2, 2, 4, 4))
    recs = [(gps.SpaceTimeKey(c, r, t), tile) for c in range(2) for r in range(2) for t in (T1_AWARE, T2_PLUS2)]
    md = gps.Metadata(gps.Bounds(gps.SpaceTimeKey(0, 0, T1_AWARE), gps.SpaceTimeKey(1, 1, T2_PLUS2)),
                      "EPSG:3857", "float32", extent, layout)
    return gps.TiledRasterLayer.from_numpy_tiles(gps.LayerType.SPACETIME, recs, md, zoom)


def _naive_utc(values):
    values = list(values)
    assert all(v.tzinfo is None for v in values), values
    return sorted(set(values))


def test_keys_and_bounds_are_naive_utc(spark):
    layer = _layer()
    assert _naive_utc(k.instant for k in layer.collect_keys()) == [T1_NAIVE, T2_NAIVE]
    assert _naive_utc(k.instant for k, _ in layer.to_numpy_tiles()) == [T1_NAIVE, T2_NAIVE]
    b = layer.layer_metadata.bounds
    assert _naive_utc([b.minKey.instant, b.maxKey.instant]) == [T1_NAIVE, T2_NAIVE]
    # Recomputed bounds (a retile) say the same.
    b = layer.tile_to_layout(gps.LocalLayout(4)).layer_metadata.bounds
    assert _naive_utc([b.minKey.instant, b.maxKey.instant]) == [T1_NAIVE, T2_NAIVE]


def test_to_numpy_rdd_keys_are_naive_utc(spark):
    keys = _layer().to_numpy_rdd().keys().collect()
    assert _naive_utc(k.instant for k in keys) == [T1_NAIVE, T2_NAIVE]


def test_point_values_are_aware_utc(spark):
    layer = _layer()
    [(p, series)] = layer.get_point_values([Point(1.0, 1.0)])
    assert [t for t, _ in series] == [T1_AWARE, T2_PLUS2]
    assert all(t.tzinfo is UTC for t, _ in series)
    # Comparable with what the user passed in, whatever its zone.
    assert series[1][0] == T2_PLUS2 and series[1][0] > T1_AWARE
    assert layer.get_point_values([Point(100.0, 100.0)]) == [(Point(100.0, 100.0), [(None, None)])]


def test_catalog_reads_accept_any_zone_and_give_naive_utc(spark, tmp_path):
    uri = str(tmp_path / "catalog")
    gps.write(uri, "times", _layer(zoom=1), time_unit=gps.TimeUnit.DAYS)
    md = gps.read_layer_metadata(uri, "times", 1)
    assert _naive_utc([md.bounds.minKey.instant, md.bounds.maxKey.instant]) == [T1_NAIVE, T2_NAIVE]
    everything = gps.query(uri, "times", 1)
    assert _naive_utc(k.instant for k in everything.collect_keys()) == [T1_NAIVE, T2_NAIVE]
    # The same instant as naive UTC, aware UTC or aware +02:00 selects the same tiles.
    for t in (T2_NAIVE, T2_PLUS2, T2_PLUS2.astimezone(UTC)):
        picked = gps.query(uri, "times", 1, time_intervals=[t])
        assert _naive_utc(k.instant for k in picked.collect_keys()) == [T2_NAIVE]
        tile = gps.read_value(uri, "times", 1, 0, 0, t)
        assert tile is not None and tile.cells[0, 0, 1] == 1.0
