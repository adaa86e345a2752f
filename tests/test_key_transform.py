"""KeyTransform (GeoPySpark's key_conversion): keys ↔ extents and geometries, on the driver."""

import datetime

import pytest
import shapely
from shapely.geometry import LineString, Point, Polygon, box

import geopyspark_rs as gps
from geopyspark_rs.geotrellis import key_conversion
from geopyspark_rs.geotrellis.key_conversion import KeyTransform

UNIT = gps.LayoutDefinition(gps.Extent(0, 0, 1, 1), gps.TileLayout(5, 5, 2, 2))


def approx_extent(e, *want):
    assert tuple(e) == pytest.approx(want, abs=1e-12)


def test_exports():
    assert gps.KeyTransform is KeyTransform
    assert gps.geotrellis.KeyTransform is KeyTransform
    assert "KeyTransform" in gps.__all__ and "KeyTransform" in gps.geotrellis.__all__
    assert key_conversion.WEB_MERCATOR == gps.Extent(-20037508.342789244, -20037508.342789244,
                                                     20037508.342789244, 20037508.342789244)
    assert key_conversion.LATLNG == gps.Extent(-180.0, -89.99999, 179.99999, 89.99999)


def test_api_example():
    kt = gps.KeyTransform(UNIT)
    assert kt.layout == UNIT
    assert kt.key_to_extent(gps.SpatialKey(0, 0)) == gps.Extent(0.0, 0.8, 0.2, 1.0)
    assert set(kt.extent_to_keys(gps.Extent(0, 0, 0.4, 0.4))) == {gps.SpatialKey(c, r) for c in (0, 1) for r in (3, 4)}
    assert kt.geometry_to_keys(Point(0.1, 0.1)) == [gps.SpatialKey(0, 4)]
    local = gps.KeyTransform(gps.LocalLayout(2), extent=gps.Extent(0, 0, 1, 1), dimensions=(10, 10))
    assert local.layout == UNIT


def test_key_to_extent_all_key_forms():
    kt = KeyTransform(UNIT)
    want = (0.6, 0.2, 0.8, 0.4)
    t = datetime.datetime(2020, 1, 1)
    for got in (kt.key_to_extent(gps.SpatialKey(3, 3)), kt.key_to_extent(gps.SpaceTimeKey(3, 3, t)),
                kt.key_to_extent((3, 3)), kt.key_to_extent(3, 3)):
        assert isinstance(got, gps.Extent)
        approx_extent(got, *want)
    # Keys outside the layout still have their extent on the same grid.
    approx_extent(kt.key_to_extent(-1, 5), -0.2, -0.2, 0.0, 0.0)
    for bad in [(3,), ("a",), (3, 3, 3), (3.0, 3.0), ((1, 2, 3),)]:
        with pytest.raises(ValueError):
            kt.key_to_extent(*bad)


def test_extent_to_keys_edges():
    kt = KeyTransform(UNIT)
    keys = kt.extent_to_keys(gps.Extent(0, 0, 0.4, 0.4))
    assert iter(keys) is keys  # a generator
    # East/south edges on tile boundaries are exclusive; north/west inclusive.
    assert set(kt.extent_to_keys(gps.Extent(0.2, 0.2, 0.4, 0.4))) == {gps.SpatialKey(1, 3)}
    assert set(kt.extent_to_keys(gps.Extent(0.2, 0.2, 0.41, 0.4))) == {gps.SpatialKey(1, 3), gps.SpatialKey(2, 3)}
    assert set(kt.extent_to_keys(gps.Extent(0.19, 0.2, 0.4, 0.4))) == {gps.SpatialKey(0, 3), gps.SpatialKey(1, 3)}
    # A degenerate (zero-size) extent still names the key holding it.
    assert set(kt.extent_to_keys(gps.Extent(0.5, 0.5, 0.5, 0.5))) == {gps.SpatialKey(2, 2)}
    assert len(set(kt.extent_to_keys(gps.Extent(0, 0, 1, 1)))) == 25


def test_geometry_to_keys_matches_brute_force():
    layout = gps.LayoutDefinition(gps.Extent(-10, -5, 30, 15), gps.TileLayout(8, 4, 256, 256))
    kt = KeyTransform(layout)
    geoms = [
        Polygon([(-3, 1), (7, 13), (22, 9), (12, -2), (2, 4)]),
        Polygon([(-20, -20), (0, -20), (-20, 0)]),  # partly outside the layout
        LineString([(-9, 14), (29, -4)]),
        box(0, 0, 10, 5).union(box(20, 10, 25, 14)),
        Polygon([(0, -5), (25, -5), (25, 15), (0, 15)], [[(1, -4), (24, -4), (24, 14), (1, 14)]]),  # a ring
    ]
    for geom in geoms:
        brute = {gps.SpatialKey(c, r) for c in range(8) for r in range(4)
                 if kt.key_to_extent(c, r).to_polygon.intersects(geom)}
        got = kt.geometry_to_keys(geom)
        assert len(got) == len(set(got))
        assert set(got) == brute, geom.wkt
    # The ring's hole excludes the tiles it covers entirely.
    ring = set(kt.geometry_to_keys(geoms[-1]))
    assert gps.SpatialKey(3, 2) not in ring and gps.SpatialKey(2, 2) in ring
    assert kt.geometry_to_keys(Point(100, 100)) == []
    assert kt.geometry_to_keys(shapely.Polygon()) == []


@pytest.mark.parametrize("crs", [4326, 3857, "EPSG:4326"])
def test_global_layout_zoom_1(crs):
    kt = KeyTransform(gps.GlobalLayout(zoom=1), crs=crs)
    assert kt.layout.tileLayout == gps.TileLayout(2, 2, 256, 256)
    nw = kt.key_to_extent(gps.SpatialKey(0, 0))
    se = kt.key_to_extent(gps.SpatialKey(1, 1))
    if str(crs).endswith("3857"):
        w = 20037508.342789244
        approx_extent(nw, -w, 0, 0, w)
        approx_extent(se, 0, -w, w, 0)
    else:
        assert abs(nw.xmin + 180) <= 1e-4 and abs(nw.xmax) <= 1e-4 and abs(nw.ymin) <= 1e-4 \
            and abs(nw.ymax - 90) <= 1e-4
        assert se.xmax == pytest.approx(179.99999, abs=1e-9) and se.ymin == pytest.approx(-89.99999, abs=1e-9)
    assert set(kt.extent_to_keys(kt.layout.extent)) == {gps.SpatialKey(c, r) for c in (0, 1) for r in (0, 1)}


def test_global_layout_zoom_0_and_tile_size():
    kt = KeyTransform(gps.GlobalLayout(tile_size=512, zoom=0), crs=3857)
    assert kt.layout.tileLayout == gps.TileLayout(1, 1, 512, 512)


def test_local_layout_non_square_extent():
    extent = gps.Extent(100, 50, 160, 70)  # 60 wide, 20 high
    by_cells = KeyTransform(gps.LocalLayout(10), extent=extent, cellsize=(1, 1))
    # 60 columns of pixels → 6 tiles across; 20 rows → 2 tiles down (GeoPySpark swapped these).
    assert by_cells.layout == gps.LayoutDefinition(extent, gps.TileLayout(6, 2, 10, 10))
    by_dims = KeyTransform(gps.LocalLayout(tile_cols=16, tile_rows=8), extent=extent, dimensions=(120, 20))
    # 120/16 → 8 tiles across (overrunning the east edge), 20/8 → 3 down (overrunning the south edge).
    assert by_dims.layout.tileLayout == gps.TileLayout(8, 3, 16, 8)
    approx_extent(by_dims.layout.extent, 100, 70 - 24, 100 + 64, 70)
    approx_extent(by_dims.key_to_extent(0, 0), 100, 62, 108, 70)
    assert set(by_dims.extent_to_keys(extent)) == {gps.SpatialKey(c, r) for c in range(8) for r in range(3)}
    odd = KeyTransform(gps.LocalLayout(4), extent=gps.Extent(0, 0, 3, 1), cellsize=(0.5, 0.25))
    assert odd.layout.tileLayout == gps.TileLayout(2, 1, 4, 4)
    approx_extent(odd.layout.extent, 0, 0, 4, 1)


def test_missing_arguments_are_value_errors():
    with pytest.raises(ValueError, match="extent"):
        KeyTransform(gps.LocalLayout(), cellsize=(1, 1))
    with pytest.raises(ValueError, match="exactly one"):
        KeyTransform(gps.LocalLayout(), extent=gps.Extent(0, 0, 1, 1))
    with pytest.raises(ValueError, match="exactly one"):
        KeyTransform(gps.LocalLayout(), extent=gps.Extent(0, 0, 1, 1), cellsize=(1, 1), dimensions=(1, 1))
    with pytest.raises(ValueError, match="zoom"):
        KeyTransform(gps.GlobalLayout(), crs=3857)
    with pytest.raises(ValueError, match="crs"):
        KeyTransform(gps.GlobalLayout(zoom=3))
    with pytest.raises(ValueError, match="UTM"):
        KeyTransform(gps.GlobalLayout(zoom=3), crs=32633)
    with pytest.raises(TypeError):
        KeyTransform("global")
