"""ReadMethod.GDAL over Spark Connect (DataFrames only), and gps.rasterio.get's error there (it returns an RDD)."""

import numpy as np
import pytest

import geopyspark_rs as gps

rasterio = pytest.importorskip("rasterio")
import rasterio.shutil  # noqa: E402
pytestmark = pytest.mark.connect


@pytest.fixture
def jp2_or_tif(tmp_path, monkeypatch):
    """A relative path (executors run in another directory) to a small raster."""
    from rasterio.transform import from_origin

    monkeypatch.chdir(tmp_path)
    data = np.arange(3 * 70 * 90, dtype="uint16").reshape(3, 70, 90)
    with rasterio.open("small.tif", "w", driver="GTiff", width=90, height=70, count=3, dtype="uint16",
                       crs="EPSG:32633", transform=from_origin(500000, 4000000, 10, 10)) as ds:
        ds.write(data)
    with rasterio.Env() as env:
        if "JP2OpenJPEG" in env.drivers():
            rasterio.shutil.copy("small.tif", "small.jp2", driver="JP2OpenJPEG", QUALITY=100, REVERSIBLE="YES")
            return "small.jp2", data
    return "small.tif", data


def test_read_method_gdal_on_connect(spark, jp2_or_tif):
    path, data = jp2_or_tif
    [(key, tile)] = gps.RasterLayer.read(path, read_method=gps.ReadMethod.GDAL).to_numpy_tiles()
    np.testing.assert_array_equal(tile.cells, data)
    assert key.extent == pytest.approx((500000, 4000000 - 700, 500000 + 900, 4000000))
    tiled = gps.TiledRasterLayer.read(path, gps.LocalLayout(32), read_method=gps.ReadMethod.GDAL)
    np.testing.assert_array_equal(tiled.stitch().cells[:, :70, :90], data)


def test_rasterio_get_on_connect_names_the_alternative(spark, jp2_or_tif):
    with pytest.raises(RuntimeError, match="ReadMethod.GDAL"):
        gps.rasterio.get(jp2_or_tif[0])


def test_relative_paths_read_with_the_geotrellis_reader_on_connect(spark, tmp_path, monkeypatch):
    from rasterio.transform import from_origin

    monkeypatch.chdir(tmp_path)
    data = np.arange(40 * 50, dtype="int16").reshape(1, 40, 50)
    with rasterio.open("rel.tif", "w", driver="GTiff", width=50, height=40, count=1, dtype="int16",
                       crs="EPSG:3857", transform=from_origin(0, 400, 10, 10)) as ds:
        ds.write(data)
    [(_, tile)] = gps.RasterLayer.read("rel.tif").to_numpy_tiles()
    np.testing.assert_array_equal(tile.cells, data)
    [(_, tile)] = gps.geotiff.get(gps.LayerType.SPATIAL, "./rel.tif", max_tile_size=None).to_numpy_tiles()
    np.testing.assert_array_equal(tile.cells, data)
