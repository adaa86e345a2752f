"""Slope, aspect, hillshade and tobler against GDAL's ``gdaldem`` (Horn's method, ``-compute_edges``) and an
independent numpy Horn, in a projected CRS and in EPSG:4326 with the latitude z-factor.

Tolerances: slope 1e-4 degrees, aspect 1e-2 degrees (gdaldem works in float32), hillshade ±1 after rescaling gdaldem's 1..255
to GeoTrellis' 0..127, tobler 1e-5 relative."""

import math
import shutil
import subprocess

import numpy as np
import pytest

import geopyspark_rs as gps
from test_focal import DATA, layer_of, raster_of
from test_passes import python_passes

rasterio = pytest.importorskip("rasterio")
ndi = pytest.importorskip("scipy.ndimage")
needs_gdaldem = pytest.mark.skipif(shutil.which("gdaldem") is None, reason="gdaldem (Debian's gdal-bin) is missing")


@pytest.fixture(scope="module")
def dem():
    """A real DEM (GeoTrellis' elevation.tif) or a synthetic surface, with NoData holes (NaN)."""
    path = DATA / "elevation.tif"
    if path.exists():
        with rasterio.open(path) as src:
            z = src.read(1, window=((40, 150), (60, 190))).astype(np.float32)
    else:
        y, x = np.mgrid[0:110, 0:130]
        z = (300 + 40 * np.sin(x / 9.0) * np.cos(y / 6.0) + x * 1.5 - y).astype(np.float32)
    z[50:53, 70:74] = np.nan
    z[5, 100] = np.nan
    return z[None]


def horn(z, cw, ch, zf):
    """GeoTrellis' Horn gradients: NoData or off-raster neighbours take the centre's value."""
    p = np.pad(z.astype(np.float64), 1, constant_values=np.nan)
    c = p[1:-1, 1:-1]

    def at(dy, dx):
        v = p[1 + dy:p.shape[0] - 1 + dy, 1 + dx:p.shape[1] - 1 + dx]
        return np.where(np.isnan(v), c, v)

    nw, n, ne, w, e, sw, s, se = (at(-1, -1), at(-1, 0), at(-1, 1), at(0, -1), at(0, 1), at(1, -1), at(1, 0),
                                  at(1, 1))
    dzdx = ((ne + 2 * e + se) - (nw + 2 * w + sw)) / (8 * cw) * zf
    dzdy = ((sw + 2 * s + se) - (nw + 2 * n + ne)) / (8 * ch) * zf
    return dzdx, dzdy


def full_windows(z):
    """Cells whose whole 3×3 window is data inside the raster: there gdaldem and GeoTrellis agree (at
    edges and NoData gdaldem's -compute_edges extrapolates where GeoTrellis takes the centre's value, which
    the numpy Horn tests check)."""
    ok = ~np.isnan(np.pad(z, 1, constant_values=np.nan))
    return ndi.minimum_filter(ok, size=3)[1:-1, 1:-1]


def gdaldem(tmp_path, mode, z, transform, crs, *args):
    src, dst = tmp_path / f"{mode}-in.tif", tmp_path / f"{mode}-out.tif"
    with rasterio.open(src, "w", driver="GTiff", width=z.shape[1], height=z.shape[0], count=1, dtype="float32",
                       crs=crs, transform=transform, nodata=np.nan) as f:
        f.write(z.astype(np.float32), 1)
    subprocess.run(["gdaldem", mode, str(src), str(dst), "-compute_edges", "-q", *args], check=True)
    with rasterio.open(dst) as f:
        out = f.read(1).astype(np.float64)
        if f.nodata is not None and not np.isnan(f.nodata):
            out[out == f.nodata] = np.nan
    return out


def _transform(layer):
    e = layer.layer_metadata.layout_definition.extent
    tl = layer.layer_metadata.tile_layout
    from rasterio.transform import from_origin

    return from_origin(e.xmin, e.ymax, (e.xmax - e.xmin) / (tl.layoutCols * tl.tileCols),
                       (e.ymax - e.ymin) / (tl.layoutRows * tl.tileRows))


@needs_gdaldem
@pytest.mark.parametrize("tile", [32, 100])
def test_slope_and_aspect_match_gdaldem_in_a_projected_crs(spark, tmp_path, dem, tile):
    layer = layer_of(dem, tile, np.nan, crs="EPSG:32618", cell=30.0)
    rows, cols = dem.shape[1:]
    slope, cell_type = raster_of(layer.slope(1.0), rows, cols)
    assert cell_type == "float32"
    inner = full_windows(dem[0])
    expected = gdaldem(tmp_path, "slope", dem[0], _transform(layer), "EPSG:32618")
    np.testing.assert_allclose(slope[0][inner], expected[inner], atol=1e-4)

    aspect, _ = raster_of(layer.focal(gps.Operation.ASPECT), rows, cols)
    expected = gdaldem(tmp_path, "aspect", dem[0], _transform(layer), "EPSG:32618")
    flat = np.isnan(expected) & inner  # gdaldem's flat cells are NoData; GeoTrellis' are -1
    assert (aspect[0][flat] == -1).all()
    # gdaldem computes in float32: near-flat cells lose up to ~0.01° of aspect.
    np.testing.assert_allclose(aspect[0][inner & ~flat], expected[inner & ~flat], atol=1e-2)


def test_slope_and_aspect_match_numpy_horn(spark, dem):
    layer = layer_of(dem, 32, np.nan, cell=30.0)
    dzdx, dzdy = horn(dem[0], 30.0, 30.0, 2.5)
    expected = np.degrees(np.arctan(np.hypot(dzdx, dzdy)))
    expected[np.isnan(dem[0])] = np.nan
    got, _ = raster_of(layer.slope(2.5), *dem.shape[1:])
    np.testing.assert_allclose(got[0], expected, rtol=1e-6, atol=1e-5, equal_nan=True)


@needs_gdaldem
def test_slope_and_hillshade_in_epsg_4326_use_the_latitude_z_factor(spark, tmp_path, dem):
    # One tile row, so every tile has the latitude of the row's centre; gdaldem's scale is then the
    # ground metres per degree there: 111 320 · cos(latitude).
    z = dem[:, :64, :]
    rows, cols = z.shape[1:]
    cell = 1 / 1200
    layer = layer_of(z, 64, np.nan, crs="EPSG:4326", cell=cell)
    layer = _moved(layer, 40.0)
    lat = layer.layer_metadata.layout_definition.extent.ymax - 32 * cell
    got, _ = raster_of(layer.slope(gps.zfactor_lat_lng_calculator(gps.Unit.METERS)), rows, cols)
    expected = gdaldem(tmp_path, "slope", z[0], _transform(layer), "EPSG:4326", "-s",
                       str(111320 * math.cos(math.radians(lat))))
    inner = full_windows(z[0])
    np.testing.assert_allclose(got[0][inner], expected[inner], atol=1e-4)
    shade = raster_of(gps.hillshade(layer, gps.zfactor_lat_lng_calculator(gps.Unit.METERS)), rows, cols)[0]
    expected = gdaldem(tmp_path, "hillshade", z[0], _transform(layer), "EPSG:4326", "-s",
                       str(111320 * math.cos(math.radians(lat))))
    assert np.abs(shade[0][inner] - np.round(127 * (expected[inner] - 1) / 254)).max() <= 1


def _moved(layer, ymin):
    """The layer's metadata with the extent shifted to start at latitude ``ymin`` (tiles unchanged)."""
    m = layer.layer_metadata
    e = m.layout_definition.extent
    moved = gps.Extent(e.xmin, ymin, e.xmax, ymin + e.ymax - e.ymin)
    md = gps.Metadata(m.bounds, m.crs, m.cell_type, moved, gps.LayoutDefinition(moved, m.tile_layout))
    return gps.TiledRasterLayer.from_numpy_tiles(layer.layer_type, layer.to_numpy_tiles(), md)


@needs_gdaldem
def test_hillshade_matches_gdaldem_rescaled(spark, tmp_path, dem):
    layer = layer_of(dem, 50, np.nan, cell=30.0)
    got, cell_type = raster_of(gps.hillshade(layer, 1.0, azimuth=300.0, altitude=40.0), *dem.shape[1:])
    assert cell_type == "int16"
    expected = gdaldem(tmp_path, "hillshade", dem[0], _transform(layer), "EPSG:3857", "-az", "300", "-alt", "40")
    expected = np.round(127 * (expected - 1) / 254)
    inner = full_windows(dem[0])
    assert np.isnan(got[0][np.isnan(dem[0])]).all()
    assert np.abs(got[0][inner] - expected[inner]).max() <= 1
    assert 0 <= np.nanmin(got) and np.nanmax(got) <= 127


def test_tobler_from_elevation(spark, dem):
    layer = layer_of(dem, 32, np.nan, cell=30.0)
    dzdx, dzdy = horn(dem[0], 30.0, 30.0, 1.0)
    slope = np.arctan(np.hypot(dzdx, dzdy))
    expected = 6 * np.exp(-3.5 * np.abs(np.tan(slope) + 0.05))
    expected[np.isnan(dem[0])] = np.nan
    got, _ = raster_of(layer.tobler(), *dem.shape[1:])
    np.testing.assert_allclose(got[0], expected, rtol=1e-5, equal_nan=True)


def test_zfactor_calculators():
    calc = gps.zfactor_lat_lng_calculator(gps.Unit.METERS)
    np.testing.assert_allclose(calc([0.0, 60.0]), [1 / 111320, 2 / 111320])
    feet = gps.zfactor_lat_lng_calculator("Feet")
    np.testing.assert_allclose(feet([0.0]), [1 / 365217.6])
    table = gps.zfactor_calculator({0: 0.5, 10: 1.5, 40: 3.0})
    np.testing.assert_allclose(table([5.0, 10.0, 25.0]), [1.0, 1.5, 2.25])
    with pytest.raises(ValueError, match="outside"):
        table([50.0])
    with pytest.raises(ValueError, match="at least two"):
        gps.zfactor_calculator({0: 1.0})


def test_table_calculator_and_callables_give_per_row_z_factors(spark, dem):
    # Two tile rows in EPSG:4326 at different latitudes: each row gets its own z-factor.
    cell = 1 / 1200
    layer = _moved(layer_of(dem[:, :64, :64], 32, np.nan, crs="EPSG:4326", cell=cell), 50.0)
    e = layer.layer_metadata.layout_definition.extent
    lats = [e.ymax - 16 * cell, e.ymax - 48 * cell]
    by_table = raster_of(layer.slope(gps.zfactor_calculator({49.0: 1e-5, 51.0: 3e-5})), 64, 64)[0][0]
    by_function = raster_of(layer.slope(lambda lat: 1e-5 + (np.asarray(lat) - 49.0) * 1e-5), 64, 64)[0][0]
    np.testing.assert_allclose(by_table, by_function, rtol=1e-6, equal_nan=True)
    for r, lat in enumerate(lats):
        zf = 1e-5 + (lat - 49.0) * 1e-5
        dzdx, dzdy = horn(dem[0, :64, :64], cell, cell, zf)
        expected = np.degrees(np.arctan(np.hypot(dzdx, dzdy)))[32 * r:32 * (r + 1)]
        # Rows next to the other tile row see its cells, as in the whole raster.
        np.testing.assert_allclose(by_table[32 * r:32 * (r + 1)], expected, rtol=1e-5, atol=1e-5, equal_nan=True)


@pytest.mark.parametrize("altitude", [45.0, 33.0, 90.0])
def test_hillshade_of_flat_ground_is_the_sun_height(spark, altitude):
    # Slope 0 everywhere: round(127 · cos(zenith)) whatever the azimuth and z-factor.
    flat = np.full((1, 6, 6), 12.5, np.float32)
    layer = layer_of(flat, 6, np.nan, crs="EPSG:4326", cell=0.001)
    got = raster_of(gps.hillshade(layer, gps.zfactor_lat_lng_calculator(gps.Unit.METERS), azimuth=99.0,
                                  altitude=altitude), 6, 6)[0][0]
    assert (got == round(127 * math.sin(math.radians(altitude)))).all()


def test_terrain_chain_is_one_pass_per_stage(spark, dem):
    layer = layer_of(dem, 32, np.nan, cell=30.0)
    steep = layer.slope(1.0).reclassify({10.0: 0.0, 90.0: 1.0}, float)
    assert python_passes(spark, steep.get_min_max) == ["MapInArrow"]


def test_terrain_needs_a_crs(spark, dem):
    layer = layer_of(dem, 32, np.nan, crs=None, cell=30.0)
    with pytest.raises(ValueError, match="CRS"):
        layer.slope(1.0)


def test_hillshade_takes_one_band_of_a_multiband_layer(spark, dem):
    two = np.concatenate([dem, dem[:, ::-1, :].copy() * 2])
    layer = layer_of(two, 50, np.nan, cell=30.0)
    got = raster_of(gps.hillshade(layer, 1.0, band=1), *dem.shape[1:])[0]
    alone = raster_of(gps.hillshade(layer_of(two[1:], 50, np.nan, cell=30.0), 1.0), *dem.shape[1:])[0]
    assert got.shape[0] == 1
    np.testing.assert_array_equal(got, alone)
    with pytest.raises(Exception, match="band 2 does not exist"):
        gps.hillshade(layer, 1.0, band=2).to_numpy_tiles()
