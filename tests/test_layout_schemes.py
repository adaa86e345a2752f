"""Driver-side layout math (format reference §5.3/§5.4): world extents, zoomed layouts, zoom selection, floating
and local-pyramid layouts; and collect_metadata / tile_to_layout with GlobalLayout on real GeoTIFFs."""

import datetime
import json
import math

import numpy as np
import pytest

import geopyspark_rs as gps
from geopyspark_rs.geotrellis.layout import (SINUSOIDAL_PROJ4, floating_layout, key_bounds, layout_for,
                                             local_base_zoom, local_zoom_out, world_extent, zoom_for,
                                             zoomed_layout)

WM = gps.Extent(-20037508.342789244, -20037508.342789244, 20037508.342789244, 20037508.342789244)
LL = gps.Extent(-180.0, -89.99999, 179.99999, 89.99999)


def cell_size(layout):
    e, tl = layout.extent, layout.tileLayout
    return ((e.xmax - e.xmin) / (tl.layoutCols * tl.tileCols), (e.ymax - e.ymin) / (tl.layoutRows * tl.tileRows))


# --- world extents and zoomed layouts ----------------------------------------------------------------------

@pytest.mark.parametrize("zoom,res", [(0, 156543.03392804097), (10, 152.8740565703525), (18, 0.5971642834779395)])
def test_web_mercator_resolutions(zoom, res):
    for crs in (3857, "EPSG:3857", gps.geotrellis.crs_to_proj4(3857)):
        layout = zoomed_layout(crs, 256, zoom)
        assert layout.extent == WM
        assert layout.tileLayout == gps.TileLayout(2 ** zoom, 2 ** zoom, 256, 256)
        w, h = cell_size(layout)
        assert w == pytest.approx(res, rel=1e-13) and h == pytest.approx(res, rel=1e-13)


def test_latlng_world_extent_and_non_square_cells():
    assert world_extent(4326) == LL
    assert world_extent("+proj=longlat +datum=WGS84 +no_defs") == LL
    layout = zoomed_layout("EPSG:4326", 256, 1)
    assert layout.tileLayout == gps.TileLayout(2, 2, 256, 256)
    w, h = cell_size(layout)
    assert w == pytest.approx(359.99999 / 512) and h == pytest.approx(179.99998 / 512)
    assert w > 1.9 * h


def test_sinusoidal_world_extent():
    # GeoTrellis' Sinusoidal is the MODIS sphere; its world extent is a fixed constant ...
    expected = gps.Extent(-2.0015109355797417E7, -1.0007554677898709E7, 2.0015109355797417E7, 1.0007554677898709E7)
    assert world_extent("+proj=sinu +lon_0=0 +x_0=0 +y_0=0 +a=6371007.181 +b=6371007.181 +units=m +no_defs") \
        == expected
    assert world_extent(SINUSOIDAL_PROJ4) == expected
    # ... which is (to the metre) where the sphere's edges project.
    from rasterio.warp import transform
    xs, ys = transform("EPSG:4326", SINUSOIDAL_PROJ4, [180.0, 0.0], [0.0, 90.0])
    assert xs[0] == pytest.approx(expected.xmax, abs=1) and ys[1] == pytest.approx(expected.ymax, abs=1)


def test_utm_has_no_world_extent():
    for crs in (32633, "EPSG:32718", "+proj=utm +zone=10 +datum=NAD83 +units=m +no_defs"):
        with pytest.raises(ValueError, match="UTM"):
            world_extent(crs)
        with pytest.raises(ValueError, match="UTM"):
            zoomed_layout(crs, 256, 3)


@pytest.mark.parametrize("epsg", [3035, 3395])
def test_other_crs_world_extent_is_the_reprojected_latlng_corners(epsg):
    from rasterio.warp import transform

    xs, ys = transform("EPSG:4326", f"EPSG:{epsg}", [LL.xmin, LL.xmin, LL.xmax, LL.xmax],
                       [LL.ymin, LL.ymax, LL.ymax, LL.ymin])
    got = world_extent(epsg)
    expected = (min(xs), min(ys), max(xs), max(ys))
    for g, e in zip(got, expected):
        assert g == pytest.approx(e, rel=1e-7, abs=1e-3)
    layout = zoomed_layout(epsg, 512, 2)
    assert layout.extent == got and layout.tileLayout == gps.TileLayout(4, 4, 512, 512)


def test_negative_zoom_is_an_error():
    with pytest.raises(ValueError):
        zoomed_layout(3857, 256, -1)


# --- zoom selection (ZoomedLayoutScheme.levelFor) ----------------------------------------------------------

# OpenStreetMap's metres per pixel at each zoom, as in GeoTrellis' ZoomedLayoutSchemeSpec.
OSM_METRES = [156412, 78206, 39103, 19551, 9776, 4888, 2444, 1222, 610.984, 305.492, 152.746, 76.373, 38.187,
              19.093, 9.547, 4.773, 2.387, 1.193, 0.596, 0.298]


@pytest.mark.parametrize("fraction,threshold,step", [(0.07, 0.1, 0), (0.11, 0.1, 1), (0.17, 0.2, 0), (0.21, 0.2, 1)])
def test_zoom_for_geotrellis_spec(fraction, threshold, step):
    at_origin = gps.Extent(0, 0, 1, 1)
    for zoom in range(19):
        m = OSM_METRES[zoom] - (OSM_METRES[zoom] - OSM_METRES[zoom + 1]) * fraction
        assert zoom_for(3857, at_origin, m, m, 256, threshold) == zoom + step, zoom


def test_zoom_for_far_south_uses_haversine():
    lat1, lon1, lat2, lon2 = -81.572438, -148.041443, -81.572543, -148.009213
    extent = gps.Extent(lon1, lat1, lon1 + 1, lat1 + 1)
    assert zoom_for(4326, extent, lon2 - lon1, lat2 - lat1) == 9


def test_zoom_for_floating_example_and_zoom_out():
    # GeoTrellis' spec: 0.5-unit cells at the WebMercator origin pick zoom 19.
    assert zoom_for(3857, gps.Extent(0, 0, 37, 27), 0.5, 0.5) == 19


def test_zoom_for_resolution_of_each_zoom_and_threshold_boundary():
    # WebMercator cells at the origin, measured in UTM zone 31 (scale ~1.001 there, 3° off its meridian):
    # a cell of zoom z's resolution maps back to z; 5 % of the way to z+1 stays at z, 20 % goes to z+1.
    c = 2 * math.pi * 6378137
    at_origin = gps.Extent(0, 0, 1, 1)
    for z in (3, 8, 12, 17):
        res = c / (256 * 2 ** z)
        assert zoom_for(3857, at_origin, res * 1.0005, res * 1.0005) == z
        step = res - c / (256 * 2 ** (z + 1))
        assert zoom_for(3857, at_origin, res - 0.05 * step, res - 0.05 * step) == z
        assert zoom_for(3857, at_origin, res - 0.2 * step, res - 0.2 * step) == z + 1


def test_zoom_for_threshold_exact_edge_latlng():
    # At the equator, UTM metres of a LatLng cell; build cells whose distance is just inside / outside 10 %.
    from rasterio.warp import transform

    c = 2 * math.pi * 6378137
    z = 9
    z_res, next_res = c / (256 * 2 ** z), c / (256 * 2 ** (z + 1))
    ext = gps.Extent(10.0, 1.0, 11.0, 2.0)

    def utm_dist(deg):
        xs, ys = transform("EPSG:4326", "EPSG:32632", [10.0 + deg, 10.0], [1.0 + deg, 1.0])
        return max(abs(xs[0] - xs[1]), abs(ys[0] - ys[1]))

    # Solve for the degree size giving a chosen distance (distance is ~linear in deg).
    def deg_for(dist):
        d = dist / 111000.0
        for _ in range(30):
            d *= dist / utm_dist(d)
        return d

    below = deg_for(z_res - 0.099 * (z_res - next_res))
    above = deg_for(z_res - 0.101 * (z_res - next_res))
    assert zoom_for(4326, ext, below, below) == z
    assert zoom_for(4326, ext, above, above) == z + 1


def test_zoom_for_svalbard_and_norway_use_the_exceptional_utm_zones():
    from geopyspark_rs.geotrellis.layout import _utm_zone_crs

    assert _utm_zone_crs(5.0, 60.0) == "EPSG:32632"   # Norway: zone 31V east of 3°E is zone 32
    assert _utm_zone_crs(2.0, 60.0) == "EPSG:32631"
    assert _utm_zone_crs(8.0, 78.0) == "EPSG:32631"   # Svalbard
    assert _utm_zone_crs(10.0, 78.0) == "EPSG:32633"
    assert _utm_zone_crs(20.0, 78.0) == "EPSG:32633"
    assert _utm_zone_crs(22.0, 78.0) == "EPSG:32635"
    assert _utm_zone_crs(32.0, 78.0) == "EPSG:32635"
    assert _utm_zone_crs(34.0, 78.0) == "EPSG:32637"
    assert _utm_zone_crs(-70.0, -33.0) == "EPSG:32719"


# --- layout_for, floating and local layouts -----------------------------------------------------------------

def test_layout_for_each_layout_type():
    ext = gps.Extent(0, 0, 37, 27)
    ld, z = layout_for(gps.GlobalLayout(zoom=5), 3857, ext, 0.5, 0.5)
    assert (ld, z) == (zoomed_layout(3857, 256, 5), 5)
    ld, z = layout_for(gps.GlobalLayout(), 3857, ext, 0.5, 0.5)
    assert (ld, z) == (zoomed_layout(3857, 256, 19), 19)
    ld, z = layout_for(gps.GlobalLayout(tile_size=512), 3857, ext, 0.5, 0.5)
    assert z == 18 and ld.tileLayout == gps.TileLayout(2 ** 18, 2 ** 18, 512, 512)
    ld, z = layout_for(gps.LocalLayout(512), 3857, ext, 0.5, 0.5)
    assert z is None and ld == gps.LayoutDefinition(gps.Extent(0, -229, 256, 27), gps.TileLayout(1, 1, 512, 512))
    given = gps.LayoutDefinition(ext, gps.TileLayout(2, 2, 4, 4))
    assert layout_for(given, 3857, ext, 1, 1) == (given, None)
    with pytest.raises(TypeError):
        layout_for("global", 3857, ext, 1, 1)


def test_floating_layout_of_the_real_catalog(shared_data):
    path = shared_data / "geotrellis-catalog-2x" / "attributes" / "landsat__.__0__.__metadata.json"
    md = gps.Metadata.from_dict(json.loads(path.read_text())[1]["metadata"])
    cs = 0.00030334156695065
    layout = floating_layout(md.extent, cs, cs, 256, 256)
    assert layout.tileLayout == md.tile_layout == gps.TileLayout(34, 28, 256, 256)
    for got, want in zip(layout.extent, md.layout_definition.extent):
        assert got == pytest.approx(want, abs=1e-12)
    assert layout_for(gps.LocalLayout(), md.crs, md.extent, cs, cs)[0] == layout
    assert key_bounds(layout, md.extent) == (0, 0, 33, 27)
    assert local_base_zoom(34, 28) == 6


def test_local_zoom_out_and_base_zoom():
    ld = gps.LayoutDefinition(gps.Extent(0, 0, 16, 16), gps.TileLayout(16, 16, 256, 256))
    sizes = []
    for _ in range(5):
        ld = local_zoom_out(ld)
        assert ld.extent == gps.Extent(0, 0, 16, 16) and ld.tileLayout[2:] == (256, 256)
        sizes.append(ld.tileLayout.layoutCols)
    assert sizes == [8, 4, 2, 1, 1]
    odd = local_zoom_out(gps.LayoutDefinition(gps.Extent(0, 0, 1, 1), gps.TileLayout(5, 3, 2, 4)))
    assert odd.tileLayout == gps.TileLayout(3, 2, 2, 4)
    assert local_base_zoom(16, 16) == 4
    assert local_base_zoom(16, 3) == 4 and local_base_zoom(3, 17) == 5
    assert local_base_zoom(1, 1) == 0 and local_base_zoom(2, 1) == 1
    with pytest.raises(ValueError):
        local_base_zoom(0, 1)


# --- GlobalLayout on real layers ----------------------------------------------------------------------------

def _expected_zoom(path):
    """levelFor computed independently with rasterio's (GDAL/PROJ) transforms."""
    import rasterio
    from rasterio.warp import transform

    with rasterio.open(path) as ds:
        x, y = ds.bounds.left, ds.bounds.bottom
        cw, ch = ds.res
        crs = ds.crs
    lon, lat = transform(crs, "EPSG:4326", [x + cw, x], [y + ch, y])
    zone = int((lon[0] + 180) // 6) + 1
    xs, ys = transform("EPSG:4326", f"EPSG:{32600 + zone}", lon, lat)
    dist = max(abs(xs[0] - xs[1]), abs(ys[0] - ys[1]))
    c = 2 * math.pi * 6378137
    z = int(math.log2(c / (dist * 256)))
    z_res, next_res = c / (2 ** z * 256), c / (2 ** (z + 1) * 256)
    return z + 1 if (z_res - dist) / (z_res - next_res) > 0.1 else z


def _nearest(path, layout, key):
    """The cells of one layout tile sampled from the file by nearest neighbour (numpy), and which are inside."""
    import rasterio

    with rasterio.open(path) as ds:
        src = ds.read(1)
        left, top = ds.bounds.left, ds.bounds.top
        rx, ry = ds.res
    e, tl = layout.extent, layout.tileLayout
    tw, th = (e.xmax - e.xmin) / tl.layoutCols, (e.ymax - e.ymin) / tl.layoutRows
    cw, ch = tw / tl.tileCols, th / tl.tileRows
    xs = e.xmin + key.col * tw + (np.arange(tl.tileCols) + 0.5) * cw
    ys = e.ymax - key.row * th - (np.arange(tl.tileRows) + 0.5) * ch
    fc, fr = (xs - left) / rx, (top - ys) / ry
    cols, rows = np.floor(fc).astype(int), np.floor(fr).astype(int)
    inside = ((rows >= 0) & (rows < src.shape[0]))[:, None] & ((cols >= 0) & (cols < src.shape[1]))[None, :]
    # Leave out centres within a hair of a source cell edge, where rounding may pick either neighbour.
    clear = (np.abs(fr - np.round(fr)) > 1e-6)[:, None] & (np.abs(fc - np.round(fc)) > 1e-6)[None, :]
    out = src[np.clip(rows, 0, src.shape[0] - 1)][:, np.clip(cols, 0, src.shape[1] - 1)]
    return out, inside & clear


def test_global_layout_on_a_web_mercator_dem(spark, shared_data):
    path = str(shared_data / "geotiff" / "elevation.tif")
    layer = gps.geotiff.get(gps.LayerType.SPATIAL, path, max_tile_size=256)
    zoom = _expected_zoom(path)
    assert zoom == 11
    assert zoom_for(3857, gps.Extent(-8381389.716714849, 4845505.159048369, -8342809.716714849, 4887235.159048369),
                    96.45, 104.325) == zoom

    md = layer.collect_metadata(gps.GlobalLayout())
    assert md.extent == pytest.approx(gps.Extent(-8381389.716714849, 4845505.159048369,
                                                 -8342809.716714849, 4887235.159048369))
    assert md.layout_definition == zoomed_layout(3857, 256, zoom)
    assert md.crs == gps.geotrellis.crs_to_proj4(3857)
    c0, r0, c1, r1 = key_bounds(md.layout_definition, md.extent)
    assert md.bounds == gps.Bounds(gps.SpatialKey(c0, r0), gps.SpatialKey(c1, r1))
    # The tile width at zoom 11 is ~19568 m: the 38580 m wide DEM spans 3 columns.
    assert c1 - c0 == 2

    tiled = layer.tile_to_layout(gps.GlobalLayout(zoom=12))
    assert tiled.zoom_level == 12
    tmd = tiled.layer_metadata
    assert tmd.layout_definition == zoomed_layout(3857, 256, 12)
    b = key_bounds(tmd.layout_definition, tmd.extent)
    assert tmd.bounds == gps.Bounds(gps.SpatialKey(*b[:2]), gps.SpatialKey(*b[2:]))
    tiles = dict(tiled.to_numpy_rdd().collect())
    assert set(tiles) == {gps.SpatialKey(c, r) for c in range(b[0], b[2] + 1) for r in range(b[1], b[3] + 1)}
    checked = 0
    for key in sorted(tiles)[:3]:
        want, ok = _nearest(path, tmd.layout_definition, key)
        got = tiles[key].cells[0]
        assert got.shape == (256, 256)
        assert ok.sum() > 1000
        np.testing.assert_array_equal(got[ok], want[ok])
        checked += 1
    assert checked == 3

    auto = layer.tile_to_layout(gps.GlobalLayout())
    assert auto.zoom_level == zoom
    assert auto.layer_metadata.layout_definition == md.layout_definition
    assert auto.layer_metadata.bounds == md.bounds

    # From a tiled layer (native-resolution floating layout) to the same global layout: same cells.
    local = layer.tile_to_layout(gps.LocalLayout(128))
    assert local.collect_metadata(gps.GlobalLayout(zoom=12)).layout_definition == tmd.layout_definition
    again = local.tile_to_layout(gps.GlobalLayout(zoom=12))
    assert again.zoom_level == 12
    assert again.layer_metadata.bounds == tmd.bounds
    again_tiles = dict(again.to_numpy_rdd().collect())
    for key in tiles:
        np.testing.assert_array_equal(again_tiles[key].cells, tiles[key].cells)


def test_global_layout_on_a_latlng_raster(spark, shared_data):
    path = str(shared_data / "geotiff" / "all-ones.tif")
    layer = gps.geotiff.get(gps.LayerType.SPATIAL, path)
    zoom = _expected_zoom(path)
    md = layer.collect_metadata(gps.GlobalLayout(tile_size=128))
    tl = md.tile_layout
    assert tl.tileCols == 128
    # tile_size 128 is one zoom finer than 256 for the same cells.
    assert tl.layoutCols == 2 ** (zoom + 1)
    assert md.layout_definition.extent == LL
    tiled = layer.tile_to_layout(gps.GlobalLayout(zoom=zoom))
    assert tiled.zoom_level == zoom
    ld = tiled.layer_metadata.layout_definition
    assert ld == zoomed_layout(4326, 256, zoom)
    tiles = dict(tiled.to_numpy_rdd().collect())
    key = sorted(tiles)[0]
    want, ok = _nearest(path, ld, key)
    assert ok.any()
    np.testing.assert_array_equal(tiles[key].cells[0][ok], want[ok])


# --- WKT CRSs -----------------------------------------------------------------------------------------------

def test_wkt_crs_normalises_to_the_epsg_proj4():
    from rasterio.crs import CRS

    utm = gps.geotrellis.crs_to_proj4(32633)
    for wkt in (CRS.from_epsg(32633).to_wkt(), CRS.from_epsg(32633).to_wkt(version="WKT2_2019")):
        assert gps.crs_to_proj4(wkt) == utm
        assert gps.geotrellis.crs_to_proj4(wkt) == utm
    assert gps.crs_to_proj4(CRS.from_epsg(4326).to_wkt(version="WKT2_2019")) == gps.geotrellis.crs_to_proj4(4326)
    assert world_extent(CRS.from_epsg(3857).to_wkt()) == WM
    md = gps.Metadata(gps.Bounds(gps.SpatialKey(0, 0), gps.SpatialKey(0, 0)), CRS.from_epsg(3035).to_wkt(),
                      "float32", gps.Extent(0, 0, 1, 1),
                      gps.LayoutDefinition(gps.Extent(0, 0, 1, 1), gps.TileLayout(1, 1, 1, 1)))
    assert md.crs == gps.geotrellis.crs_to_proj4(3035)


def test_wkt_without_epsg_authority_is_a_clear_error():
    from rasterio.crs import CRS

    custom = CRS.from_proj4("+proj=sinu +lon_0=0 +x_0=0 +y_0=0 +a=6371007.181 +b=6371007.181 +units=m +no_defs")
    with pytest.raises(ValueError, match="EPSG authority"):
        gps.geotrellis.crs_to_proj4(custom.to_wkt())


def test_global_layout_spacetime_layer(spark):
    t0, t1 = datetime.datetime(2020, 1, 1), datetime.datetime(2020, 1, 2)
    src = np.arange(16, dtype=np.float32).reshape(1, 4, 4)
    recs = [(gps.TemporalProjectedExtent(gps.Extent(0, 0, 89, 44), t, epsg=4326), gps.Tile(src + i, "FLOAT", -1.0))
            for i, t in enumerate((t0, t1))]
    layer = gps.RasterLayer.from_numpy_tiles(gps.LayerType.SPACETIME, recs)
    tiled = layer.tile_to_layout(gps.GlobalLayout(tile_size=8, zoom=2))
    assert tiled.zoom_level == 2
    md = tiled.layer_metadata
    assert md.layout_definition == zoomed_layout(4326, 8, 2)
    assert md.bounds == gps.Bounds(gps.SpaceTimeKey(2, 1, t0), gps.SpaceTimeKey(2, 1, t1))
    tiles = dict(tiled.to_numpy_rdd().collect())
    assert set(tiles) == {gps.SpaceTimeKey(2, 1, t0), gps.SpaceTimeKey(2, 1, t1)}
    # (The data stays below the inset world's row boundary at 44.999995: a top at 45 would reach row 0.)
    # The tile spans 0..89.99999 × 0..44.999995 in 8 × 8 cells: nearest source cell of each centre.
    ld = md.layout_definition
    tw, th = (ld.extent.xmax - ld.extent.xmin) / 4, (ld.extent.ymax - ld.extent.ymin) / 4
    xs = ld.extent.xmin + 2 * tw + (np.arange(8) + 0.5) * tw / 8
    ys = ld.extent.ymax - 1 * th - (np.arange(8) + 0.5) * th / 8
    want = src[0][np.ix_(np.floor((44 - ys) / 11).astype(int), np.floor(xs / 22.25).astype(int))]
    np.testing.assert_array_equal(tiles[gps.SpaceTimeKey(2, 1, t0)].cells[0], want)
    np.testing.assert_array_equal(tiles[gps.SpaceTimeKey(2, 1, t1)].cells[0], want + 1)
