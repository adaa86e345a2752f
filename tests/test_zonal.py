"""Zonal operations against references on the stitched raster: ``rasterio.features`` masks for the centre and
all-touched rules (identical cells), numpy statistics over them (1e-9 relative), ``exactextract`` for exact
coverage fractions (1e-9 relative), and GeoPySpark's own rules for the polygonal summaries, cell value
counts, time series and mask."""

import datetime
import math

import numpy as np
import pytest
import shapely
from shapely.geometry import MultiPolygon, Point, Polygon, box

import geopyspark_rs as gps

rasterio = pytest.importorskip("rasterio")
from rasterio.features import geometry_mask  # noqa: E402
from rasterio.transform import from_origin  # noqa: E402

TILE, LC, LR = 32, 3, 2
CELL = 10.0
X0, Y1 = 1000.0, 5000.0  # upper-left corner
CRS = "EPSG:32633"


def raster(bands=2, seed=3):
    rng = np.random.default_rng(seed)
    a = rng.normal(100.0, 15.0, (bands, LR * TILE, LC * TILE))
    a[:, rng.random(a.shape[1:]) < 0.05] = np.nan  # NoData
    return a


def layer_of(a, cell_type="float64", spacetime_instants=None):
    extent = gps.Extent(X0, Y1 - LR * TILE * CELL, X0 + LC * TILE * CELL, Y1)
    layout = gps.LayoutDefinition(extent, gps.TileLayout(LC, LR, TILE, TILE))
    tiles = []
    instants = spacetime_instants or [None]
    for k, when in enumerate(instants):
        data = a if spacetime_instants is None else a * (k + 1)
        for r in range(LR):
            for c in range(LC):
                cells = data[:, r * TILE:(r + 1) * TILE, c * TILE:(c + 1) * TILE].astype(cell_type)
                key = gps.SpatialKey(c, r) if when is None else gps.SpaceTimeKey(c, r, when)
                tiles.append((key, gps.Tile(cells, cell_type.upper() if False else gps.Tile.dtype_to_cell_type(cells.dtype), None)))
    lt = gps.LayerType.SPATIAL if spacetime_instants is None else gps.LayerType.SPACETIME
    lo, hi = (gps.SpatialKey(0, 0), gps.SpatialKey(LC - 1, LR - 1)) if spacetime_instants is None else (
        gps.SpaceTimeKey(0, 0, instants[0]), gps.SpaceTimeKey(LC - 1, LR - 1, instants[-1]))
    md = gps.Metadata(gps.Bounds(lo, hi), CRS, cell_type, extent, layout)
    return gps.TiledRasterLayer.from_numpy_tiles(lt, tiles, md)


TRANSFORM = from_origin(X0, Y1, CELL, CELL)


def star(cx, cy, r, n=11, seed=0):
    rng = np.random.default_rng(seed)
    ang = np.sort(rng.uniform(0, 2 * np.pi, n))
    rad = r * rng.uniform(0.4, 1.0, n)
    return Polygon(np.column_stack([cx + rad * np.cos(ang), cy + rad * np.sin(ang)]))


def zones():
    """Shapes that exercise the rules: concave, with a hole, multi-part, across tiles, smaller than a cell,
    partly off the raster."""
    holed = box(1300.3, 4600.7, 1720.1, 4910.2).difference(box(1400.5, 4700.5, 1600.5, 4800.5))
    multi = MultiPolygon([star(1900.0, 4500.0, 150.0, seed=4), star(1250.0, 4500.0, 90.0, seed=5)])
    return {
        1: star(1480.0, 4690.0, 300.0, seed=1),
        2: holed,
        3: multi,
        4: box(1603.2, 4703.1, 1606.9, 4707.4),  # inside one cell
        5: star(1000.0, 4400.0, 200.0, seed=7),  # crosses the west edge
        6: star(1960.0, 4681.0, 110.0, seed=8),
    }


def reference(a, geom, all_touched):
    inside = geometry_mask([geom], out_shape=a.shape[1:], transform=TRANSFORM, all_touched=all_touched, invert=True)
    return inside


@pytest.fixture(scope="module")
def data(spark):
    a = raster()
    return a, layer_of(a).cache()


@pytest.mark.parametrize("rule,all_touched", [("centre", False), ("all_touched", True)])
def test_zonal_statistics_equal_rasterio_masks(data, rule, all_touched):
    a, layer = data
    got = {(r.zone, r.band): r for r in layer.zonal_statistics(list(zones().items()), rule=rule).collect()}
    for zid, geom in zones().items():
        inside = reference(a, geom, all_touched)
        for b in range(a.shape[0]):
            vals = a[b][inside]
            vals = vals[~np.isnan(vals)]
            if not inside.any():
                assert (zid, b) not in got
                continue
            r = got[(zid, b)]
            assert r.cells == vals.size, (zid, b)
            assert r["count"] == vals.size
            if vals.size:
                assert r.sum == pytest.approx(vals.sum(), rel=1e-9)
                assert r.mean == pytest.approx(vals.mean(), rel=1e-9)
                assert (r.min, r.max) == (vals.min(), vals.max())
                assert r.stddev == pytest.approx(vals.std(), rel=1e-9)


def test_exact_fractions_equal_exactextract(data, tmp_path):
    from exactextract import exact_extract

    a, layer = data
    path = tmp_path / "r.tif"
    with rasterio.open(path, "w", driver="GTiff", width=a.shape[2], height=a.shape[1], count=1, dtype="float64",
                       transform=TRANSFORM, crs=CRS, nodata=np.nan) as dst:
        dst.write(a[0], 1)
    feats = [{"type": "Feature", "id": z, "properties": {"id": z}, "geometry": shapely.geometry.mapping(g)}
             for z, g in zones().items()]
    ops = ["count", "sum", "mean", "min", "max", "stdev"]
    want = {f["id"]: f["properties"] for f in exact_extract(str(path), feats, ops, include_cols=["id"])}
    got = {r.zone: r for r in layer.zonal_statistics(zones(), rule="fraction").where("band = 0").collect()}
    # exactextract keeps coverage fractions as float32: its results are off by up to 2.5e-8 relative here (zone
    # 4: count 0.15909999609 against the exact 3.7 m × 4.3 m / 100 m² = 0.1591), hence 1e-7 against it and
    # 1e-12 against exact areas (shapely's intersection of every cell with the zone, below).
    for z, w in want.items():
        r = got[z]
        assert r["count"] == pytest.approx(w["count"], rel=1e-7), z
        assert r.sum == pytest.approx(w["sum"], rel=1e-7), z
        assert r.mean == pytest.approx(w["mean"], rel=1e-7), z
        assert (r.min, r.max) == (w["min"], w["max"]), z
        assert r.stddev == pytest.approx(w["stdev"], rel=1e-7), z
    # against exact areas: each covered cell's intersection with the zone, by shapely
    rows, cols = np.nonzero(~np.isnan(a[0]))
    cell_boxes = shapely.box(X0 + cols * CELL, Y1 - (rows + 1) * CELL, X0 + (cols + 1) * CELL, Y1 - rows * CELL)
    for z, g in zones().items():
        frac = shapely.area(shapely.intersection(cell_boxes, g)) / CELL ** 2
        if frac.sum():
            assert got[z]["count"] == pytest.approx(frac.sum(), rel=1e-12), z
            assert got[z].sum == pytest.approx((frac * a[0][rows, cols]).sum(), rel=1e-12), z
    assert got[4]["count"] < 1.0  # smaller than a cell: a fraction of one cell


def test_histograms_and_many_partitions(data):
    a, layer = data
    ints = (layer * 0.1).convert_data_type("int32")
    rows = ints.zonal_statistics(zones(), rule="centre", histogram=True, partitions=3).where("band = 1").collect()
    on_driver = ints.zonal_statistics(zones(), rule="centre", histogram=True).where("band = 1").collect()
    # the keyed exchange and the driver combine agree (sums to rounding: partials may meet in another order)
    key = lambda r: (r.zone, r.cells, list(r.hist_values), list(r.hist_weights), r.min, r.max)  # noqa: E731
    assert sorted(map(key, rows)) == sorted(map(key, on_driver))
    assert sorted(r.sum for r in rows) == pytest.approx(sorted(r.sum for r in on_driver), rel=1e-12)
    ia = np.trunc(a[1] * 0.1)
    for r in rows:
        inside = reference(a, zones()[r.zone], False) & ~np.isnan(ia)
        values, counts = np.unique(ia[inside], return_counts=True)
        assert list(r.hist_values) == list(values) and list(r.hist_weights) == list(counts.astype(float))


def test_polygonal_summaries_match_centre_rule(data):
    a, layer = data
    geom = zones()[1]
    inside = reference(a, geom, False)
    vals = [a[b][inside][~np.isnan(a[b][inside])] for b in range(2)]
    assert layer.polygonal_min(geom, float) == [v.min() for v in vals]
    assert layer.polygonal_max(geom, float) == [v.max() for v in vals]
    assert layer.polygonal_sum(geom, float) == pytest.approx([v.sum() for v in vals], rel=1e-12)
    assert layer.polygonal_mean(geom) == pytest.approx([v.mean() for v in vals], rel=1e-12)
    # int: every cell truncated first (GeoTrellis' tile.get), the sum as a long
    assert layer.polygonal_sum(geom, int) == [int(np.trunc(v).sum()) for v in vals]
    assert layer.polygonal_min(shapely.to_wkb(geom), int) == [int(np.trunc(v.min())) for v in vals]
    # nothing covered: GeoTrellis' starting values, one element whatever the band count
    far = box(0, 0, 10, 10)
    assert layer.polygonal_min(far, int) == [2**31 - 1]
    assert layer.polygonal_max(far, float) == [-1.7976931348623157e308]
    assert layer.polygonal_sum(far, int) == [0]
    assert math.isnan(layer.polygonal_mean(far)[0])


def test_polygonal_bad_input(data):
    _, layer = data
    with pytest.raises(TypeError):
        layer.polygonal_min(zones()[1], str)
    with pytest.raises(TypeError):
        layer.polygonal_sum(Point(1500, 4700), float)
    with pytest.raises(TypeError):
        layer.polygonal_sum("POLYGON", float)
    bowtie = Polygon([(1100, 4600), (1300, 4800), (1300, 4600), (1100, 4800)])
    with pytest.raises(ValueError, match="Self-intersection"):
        layer.polygonal_mean(bowtie)
    with pytest.raises(ValueError, match="empty"):
        layer.polygonal_sum(Polygon(), float)
    with pytest.raises(ValueError, match="empty"):
        layer.zonal_statistics([(1, Polygon())])
    with pytest.raises(TypeError, match="integers"):
        layer.zonal_statistics([("a", zones()[1])])
    with pytest.raises(TypeError):
        layer.mask(zones()[1], options="PixelIsArea")
    with pytest.raises(ValueError, match="rule"):
        layer.zonal_statistics(zones(), rule="nearest")
    with pytest.raises(ValueError, match="CRS"):
        layer.zonal_statistics(zones(), zones_crs="EPSG:not-a-crs")
    assert layer.zonal_statistics([(9, box(0, 0, 1, 1))]).count() == 0  # outside: empty, not an error


def test_zones_in_another_crs_are_reprojected(data):
    from pyproj import Transformer

    a, layer = data
    t = Transformer.from_crs(CRS, 4326, always_xy=True)
    geom = zones()[1]
    ll = shapely.transform(geom, lambda xy: np.column_stack(t.transform(xy[:, 0], xy[:, 1])))
    got = layer.zonal_statistics([(1, ll)], zones_crs=4326, rule="fraction").where("band = 0").collect()[0]
    want = layer.zonal_statistics([(1, geom)], rule="fraction").where("band = 0").collect()[0]
    assert got["count"] == pytest.approx(want["count"], rel=1e-6)


def test_zones_from_a_dataframe_and_a_file(spark, data, tmp_path):
    import pyogrio

    _, layer = data
    want = {r.zone: r.sum for r in layer.zonal_statistics(zones(), rule="fraction").where("band = 0").collect()}
    df = spark.createDataFrame([(z, shapely.to_wkb(g)) for z, g in zones().items()], "id long, geometry binary")
    got = {r.zone: r.sum for r in layer.zonal_statistics(df, rule="fraction").where("band = 0").collect()}
    assert got == pytest.approx(want, rel=1e-12)
    path = tmp_path / "zones.gpkg"
    ids = np.array(list(zones()), np.int64)
    pyogrio.raw.write(str(path), geometry=shapely.to_wkb(list(zones().values())), field_data=[ids],
                      fields=["id"], geometry_type="MultiPolygon", crs=CRS, driver="GPKG")
    got = {r.zone: r.sum for r in layer.zonal_statistics(str(path), rule="fraction").where("band = 0").collect()}
    assert got == pytest.approx(want, rel=1e-12)


def test_tiled_results_equal_whole_raster(spark):
    """The same raster as one tile and as 6 tiles gives the same exact statistics."""
    a = raster(bands=1, seed=11)
    whole_extent = gps.Extent(X0, Y1 - LR * TILE * CELL, X0 + LC * TILE * CELL, Y1)
    whole_layout = gps.LayoutDefinition(whole_extent, gps.TileLayout(1, 1, LC * TILE, LR * TILE))
    md = gps.Metadata(gps.Bounds(gps.SpatialKey(0, 0), gps.SpatialKey(0, 0)), CRS, "float64", whole_extent, whole_layout)
    whole = gps.TiledRasterLayer.from_numpy_tiles(gps.LayerType.SPATIAL, [(gps.SpatialKey(0, 0), gps.Tile(a, gps.Tile.dtype_to_cell_type(a.dtype), None))], md)
    tiled = layer_of(a)
    for rule in ("centre", "all_touched", "fraction"):
        w = {r.zone: r for r in whole.zonal_statistics(zones(), rule=rule).collect()}
        t = {r.zone: r for r in tiled.zonal_statistics(zones(), rule=rule).collect()}
        assert w.keys() == t.keys()
        for z in w:
            assert t[z]["count"] == pytest.approx(w[z]["count"], rel=1e-12)
            assert t[z].stddev == pytest.approx(w[z].stddev, rel=1e-9)
            assert (t[z].min, t[z].max) == (w[z].min, w[z].max)


def test_get_cell_value_counts(data):
    a, layer = data
    ints = layer.convert_data_type("int32")
    band = np.trunc(a[0])
    values, counts = np.unique(band[~np.isnan(band)], return_counts=True)
    assert ints.get_cell_value_counts() == {int(v): int(c) for v, c in zip(values, counts)}
    geom = zones()[2]
    inside = reference(a, geom, False) & ~np.isnan(a[1])
    values, counts = np.unique(np.trunc(a[1][inside]), return_counts=True)
    assert layer.get_cell_value_counts(geom, target_band=1) == {int(v): int(c) for v, c in zip(values, counts)}
    ext = gps.Extent(1100.0, 4500.0, 1500.0, 4900.0)
    assert layer.get_cell_value_counts(ext) == layer.get_cell_value_counts(box(*ext))
    with pytest.raises(ValueError):
        layer.get_cell_value_counts("everything")


def test_mask_keeps_covered_cells_of_every_band(data):
    a, layer = data
    geoms = [zones()[1], zones()[4]]
    masked = layer.mask(geoms)
    got = masked.stitch().cells
    inside = geometry_mask(geoms, out_shape=a.shape[1:], transform=TRANSFORM, invert=True)
    assert masked.layer_metadata.to_dict() == layer.layer_metadata.to_dict()
    keys = {(k.col, k.row) for k in masked.collect_keys()}
    for c in range(LC):
        for r in range(LR):
            tile_box = box(X0 + c * TILE * CELL, Y1 - (r + 1) * TILE * CELL, X0 + (c + 1) * TILE * CELL, Y1 - r * TILE * CELL)
            reached = any(g.intersection(tile_box).area > 0 for g in geoms)
            assert ((c, r) in keys) == reached
    want = np.where(inside, a, np.nan)
    rows = slice(0, got.shape[1])
    np.testing.assert_array_equal(got[:, rows][:, :, :got.shape[2]][np.isfinite(want[:, :got.shape[1], :got.shape[2]])],
                                  want[:, :got.shape[1], :got.shape[2]][np.isfinite(want[:, :got.shape[1], :got.shape[2]])])
    touched = layer.mask(geoms, options=gps.RasterizerOptions(True, "PixelIsArea"))
    assert touched.get_cell_value_counts() != {}
    # masking then summarising equals summarising the zone (one pass, steps fused)
    assert (layer + 1).mask(zones()[1]).polygonal_sum(zones()[1], float) == pytest.approx(
        (layer + 1).polygonal_sum(zones()[1], float), rel=1e-12)
    with pytest.raises(TypeError):
        layer.mask(42)


def test_mask_takes_rdds_and_dataframes_of_geometries(spark, data):
    _, layer = data
    geoms = [zones()[1], zones()[4]]
    want = layer.mask(geoms).stitch().cells
    rdd = spark.sparkContext.parallelize(geoms, 2)
    np.testing.assert_array_equal(layer.mask(rdd).stitch().cells, want)
    df = spark.createDataFrame([(shapely.to_wkb(g),) for g in geoms], "wkb binary")
    np.testing.assert_array_equal(layer.mask(df).stitch().cells, want)


def test_time_series(spark):
    a = raster(bands=1, seed=5)
    instants = [datetime.datetime(2020, 1, d) for d in (1, 2, 3)]
    layer = layer_of(a, spacetime_instants=instants)
    geom = zones()[1]
    inside = reference(a, geom, False)
    base = a[0][inside]
    base = base[~np.isnan(base)]
    mean = layer.mean_series(geom)
    assert [t for t, _ in mean] == instants
    assert [v for _, v in mean] == pytest.approx([(base * (k + 1)).mean() for k in range(3)], rel=1e-12)
    assert [v for _, v in layer.max_series([geom])] == [(base * (k + 1)).max() for k in range(3)]
    assert [v for _, v in layer.min_series(geom)] == [(base * (k + 1)).min() for k in range(3)]
    assert [v for _, v in layer.sum_series(geom)] == pytest.approx([(base * (k + 1)).sum() for k in range(3)], rel=1e-12)
    hist = layer.histogram_series(geom)
    assert hist[0][1].min() == pytest.approx(base.min()) and len(hist) == 3
    assert layer.star_series(geom, "mean") == mean
    with pytest.raises(ValueError):
        layer_of(a).mean_series(geom)
    with pytest.raises(ValueError):
        layer.polygonal_mean(geom)


def test_zones_from_a_shapefile_dataframe(spark, data, tmp_path):
    """``gps.shapefile.get_dataframe`` rows (WKB geometry, ``properties`` map) are zones as they are."""
    import pyogrio

    _, layer = data
    path = tmp_path / "zones.shp"
    ids = np.array(list(zones()), np.int64)
    pyogrio.raw.write(str(path), geometry=shapely.to_wkb([MultiPolygon([g]) if g.geom_type == "Polygon" else g
                                                          for g in zones().values()]),
                      field_data=[ids], fields=["zone_id"], geometry_type="MultiPolygon", crs=CRS)
    df = gps.shapefile.get_dataframe(str(path))
    got = {r.zone: r.sum for r in layer.zonal_statistics(df, id_column="zone_id", rule="fraction").where("band = 0").collect()}
    want = {r.zone: r.sum for r in layer.zonal_statistics(zones(), rule="fraction").where("band = 0").collect()}
    assert got == pytest.approx(want, rel=1e-12)
