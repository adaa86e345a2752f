"""``gps.rasterio.get`` (GeoPySpark's rasterio reader) and ``ReadMethod.GDAL`` in ``RasterLayer.read`` /
``TiledRasterLayer.read``: rasters of any GDAL format read by windows on the executors, checked against what
rasterio reads directly from the same files (cells, extents, CRS), and against the Rust GeoTIFF reader."""

import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

rasterio = pytest.importorskip("rasterio")
import rasterio.shutil  # noqa: E402
from rasterio.transform import from_origin  # noqa: E402

import geopyspark_rs as gps  # noqa: E402
from geopyspark_rs.geotrellis.constants import LayerType, ReadMethod  # noqa: E402

# A non-square image whose sides are not multiples of the window sides below, so edge windows are partial.
WIDTH, HEIGHT = 300, 250
XCOLS, YCOLS = 64, 48


def _drivers():
    with rasterio.Env() as env:
        return env.drivers()


def _same_crs(proj4, crs):
    """Whether a key's proj4 string and a rasterio CRS are the same CRS (pyproj compares the definitions)."""
    pyproj = pytest.importorskip("pyproj")
    if crs is None:
        return proj4 is None
    return pyproj.CRS.from_user_input(proj4).equals(pyproj.CRS.from_wkt(crs.to_wkt()), ignore_axis_order=True)


@pytest.fixture(scope="module")
def rasters(tmp_path_factory):
    """The same kind of data in several formats: name → path (or GDAL dataset name)."""
    d = tmp_path_factory.mktemp("rasterio")
    rng = np.random.default_rng(7)
    ints = rng.integers(-2000, 30000, size=(3, HEIGHT, WIDTH)).astype("int16")
    ints[:, :5, :7] = -32768  # some NoData
    floats = (rng.random((1, HEIGHT, WIDTH)) * 100).astype("float32")
    out = {}
    tif = d / "ints.tif"
    with rasterio.open(tif, "w", driver="GTiff", width=WIDTH, height=HEIGHT, count=3, dtype="int16",
                       nodata=-32768, crs="EPSG:32618", transform=from_origin(500000, 4200000, 30, 30),
                       tiled=True, blockxsize=128, blockysize=128) as ds:
        ds.write(ints)
    out["tif"] = str(tif)
    ftif = d / "floats.tif"
    with rasterio.open(ftif, "w", driver="GTiff", width=WIDTH, height=HEIGHT, count=1, dtype="float32",
                       nodata=-9999, crs="EPSG:4326", transform=from_origin(10, 50, 0.01, 0.01)) as ds:
        ds.write(floats)
    out["floats.tif"] = str(ftif)
    drivers = _drivers()
    if "JP2OpenJPEG" in drivers:
        jp2 = d / "ints.jp2"
        rasterio.shutil.copy(tif, jp2, driver="JP2OpenJPEG", QUALITY=100, REVERSIBLE="YES")  # lossless
        out["jp2"] = str(jp2)
    vrt = d / "window.vrt"  # a VRT of a 200 x 150 window of the GeoTIFF, bands 3 and 1
    bands = "".join(
        f'<VRTRasterBand dataType="Int16" band="{i + 1}"><NoDataValue>-32768</NoDataValue><SimpleSource>'
        f'<SourceFilename relativeToVRT="1">ints.tif</SourceFilename><SourceBand>{b}</SourceBand>'
        f'<SrcRect xOff="40" yOff="30" xSize="200" ySize="150"/><DstRect xOff="0" yOff="0" xSize="200" ySize="150"/>'
        f'</SimpleSource></VRTRasterBand>' for i, b in enumerate((3, 1)))
    with rasterio.open(tif) as src:
        srs = src.crs.to_wkt()
    vrt.write_text(f'<VRTDataset rasterXSize="200" rasterYSize="150"><SRS>{srs}</SRS>'
                   f'<GeoTransform>{500000 + 40 * 30}, 30, 0, {4200000 - 30 * 30}, 0, -30</GeoTransform>'
                   f'{bands}</VRTDataset>')
    out["vrt"] = str(vrt)
    if "netCDF" in drivers:
        nc = d / "floats.nc"
        rasterio.shutil.copy(ftif, nc, driver="netCDF")
        out["nc"] = str(nc)
        out["nc-subdataset"] = f'NETCDF:"{nc}":Band1'
    return out


def _source(rasters, name):
    if name not in rasters:
        pytest.skip(f"this rasterio build has no GDAL driver for {name}")
    return rasters[name]


FORMATS = ["tif", "floats.tif", "jp2", "vrt", "nc", "nc-subdataset"]


def _stitch(records, ds):
    """The windows' cells placed at the pixel offsets of their extents, with how often each cell was
    written (windows must cover every cell exactly once)."""
    inverse = ~ds.transform
    first = records[0][1].cells
    out = np.zeros((first.shape[0], ds.height, ds.width), dtype=first.dtype)
    coverage = np.zeros((ds.height, ds.width), dtype=np.int32)
    for key, tile in records:
        col, row = inverse @ (key.extent.xmin, key.extent.ymax)
        col, row = int(round(col)), int(round(row))
        _, rows, cols = tile.cells.shape
        out[:, row:row + rows, col:col + cols] = tile.cells
        coverage[row:row + rows, col:col + cols] += 1
    return out, coverage


@pytest.mark.parametrize("name", FORMATS)
def test_get_windows_equal_rasterio(spark, rasters, name):
    path = _source(rasters, name)
    records = gps.rasterio.get(path, xcols=XCOLS, ycols=YCOLS).collect()
    with rasterio.open(path) as ds:
        assert len(records) == math.ceil(ds.width / XCOLS) * math.ceil(ds.height / YCOLS)
        cells, coverage = _stitch(records, ds)
        assert (coverage == 1).all()  # every cell, the last row and column too, in exactly one window
        np.testing.assert_array_equal(cells, ds.read())
        for key, tile in records:
            col, row = ~ds.transform @ (key.extent.xmin, key.extent.ymax)
            _, rows, cols = tile.cells.shape
            window = rasterio.windows.Window(round(col), round(row), cols, rows)
            assert key.extent == pytest.approx(tuple(ds.window_bounds(window)), abs=1e-9 * ds.res[0] * ds.width)
            assert cols == min(XCOLS, ds.width - round(col)) and rows == min(YCOLS, ds.height - round(row))
            assert tile.no_data_value == ds.nodata
            assert tile.cells.dtype == np.dtype(ds.dtypes[0])
        assert {key.proj4 for key, _ in records} == {records[0][0].proj4}
        assert _same_crs(records[0][0].proj4, ds.crs)
        xs = [k.extent.xmin for k, _ in records] + [k.extent.xmax for k, _ in records]
        ys = [k.extent.ymin for k, _ in records] + [k.extent.ymax for k, _ in records]
        assert (min(xs), min(ys), max(xs), max(ys)) == pytest.approx(tuple(ds.bounds))


def test_get_feeds_from_numpy_rdd(spark, rasters):
    rdd = gps.rasterio.get(rasters["tif"], xcols=XCOLS, ycols=YCOLS)
    layer = gps.RasterLayer.from_numpy_rdd(LayerType.SPATIAL, rdd)
    assert layer.count() == math.ceil(WIDTH / XCOLS) * math.ceil(HEIGHT / YCOLS)
    tiled = layer.tile_to_layout(gps.LocalLayout(128))
    # the same tiles as the Rust GeoTIFF reader's layer of the whole file
    expected = gps.TiledRasterLayer.read(rasters["tif"], gps.LocalLayout(128))
    assert tiled.layer_metadata.extent == pytest.approx(expected.layer_metadata.extent)
    np.testing.assert_array_equal(tiled.stitch().cells, expected.stitch().cells)


@pytest.mark.parametrize("bands", [[3, 1], [2], 2])
def test_get_bands(spark, rasters, bands):
    path = rasters["tif"]
    records = gps.rasterio.get(path, xcols=XCOLS, ycols=YCOLS, bands=bands).collect()
    with rasterio.open(path) as ds:
        cells, coverage = _stitch(records, ds)
        assert (coverage == 1).all()
        indexes = [bands] if isinstance(bands, int) else bands
        np.testing.assert_array_equal(cells, ds.read(indexes))


def test_get_list_is_one_partition_per_uri(spark, rasters):
    paths = [rasters["tif"], rasters["floats.tif"], rasters["vrt"]]
    rdd = gps.rasterio.get(paths, xcols=100, ycols=100)
    assert rdd.getNumPartitions() == len(paths)
    per_partition = rdd.mapPartitions(lambda it: [sum(1 for _ in it)]).collect()
    expected = []
    for p in paths:
        with rasterio.open(p) as ds:
            expected.append(math.ceil(ds.width / 100) * math.ceil(ds.height / 100))
    assert per_partition == expected


def test_get_rdd_of_uris_and_custom_crs_to_proj4(spark, rasters):
    uris = spark.sparkContext.parallelize([rasters["tif"], rasters["floats.tif"]], 2)
    records = gps.rasterio.get(uris, xcols=XCOLS, ycols=YCOLS,
                               crs_to_proj4=lambda crs: "custom " + crs.to_string()).collect()
    assert len(records) == 2 * math.ceil(WIDTH / XCOLS) * math.ceil(HEIGHT / YCOLS)
    assert {k.proj4 for k, _ in records} == {"custom EPSG:32618", "custom EPSG:4326"}


def test_crs_to_proj4():
    from rasterio.crs import CRS

    assert gps.rasterio.crs_to_proj4(CRS.from_epsg(4326)) == gps.crs_to_proj4(4326)
    assert gps.rasterio.crs_to_proj4(None) is None
    custom = CRS.from_proj4("+proj=cea +lat_ts=33.75 +lon_0=-117.3 +datum=NAD27 +units=m +no_defs")
    proj4 = gps.rasterio.crs_to_proj4(custom)
    assert proj4.startswith("+proj=cea ") and "=True" not in proj4 and proj4.endswith("+no_defs ")
    assert CRS.from_proj4(proj4) == custom


@pytest.mark.parametrize("name", FORMATS)
def test_read_method_gdal_equals_rasterio(spark, rasters, name):
    path = _source(rasters, name)
    layer = gps.RasterLayer.read(path, read_method=ReadMethod.GDAL)
    [(key, tile)] = layer.to_numpy_tiles()
    with rasterio.open(path) as ds:
        np.testing.assert_array_equal(tile.cells, ds.read())
        assert key.extent == pytest.approx(tuple(ds.bounds))
        crs = key.proj4 if key.epsg is None else f"EPSG:{key.epsg}"
        assert _same_crs(crs, ds.crs)
        assert tile.no_data_value == ds.nodata or (tile.no_data_value is None and ds.nodata is None)


def test_read_method_gdal_tiled_jp2_equals_geotiff(spark, rasters):
    """TiledRasterLayer.read of the JPEG2000 through GDAL gives the layer the Rust reader gives of the GeoTIFF."""
    jp2 = _source(rasters, "jp2")
    layout = gps.LocalLayout(128)
    gdal = gps.TiledRasterLayer.read(jp2, layout, read_method=ReadMethod.GDAL)
    geotrellis = gps.TiledRasterLayer.read(rasters["tif"], layout)
    assert gdal.layer_metadata.extent == geotrellis.layer_metadata.extent
    assert gdal.layer_metadata.cell_type == geotrellis.layer_metadata.cell_type
    a, b = dict(gdal.to_numpy_tiles()), dict(geotrellis.to_numpy_tiles())
    assert a.keys() == b.keys()
    for k in a:
        np.testing.assert_array_equal(a[k].cells, b[k].cells)


def test_read_method_gdal_directory_and_list(spark, rasters):
    """A directory is searched for the extensions of GDAL's raster drivers; a list reads every file."""
    layer = gps.RasterLayer.read([rasters["tif"], rasters["vrt"]], read_method=ReadMethod.GDAL)
    assert layer.count() == 2
    d = Path(rasters["tif"]).parent
    found = gps.RasterLayer.read(str(d), read_method=ReadMethod.GDAL)
    names = {p.name for p in d.iterdir() if p.suffix in (".tif", ".jp2", ".vrt", ".nc")}
    assert found.count() == len(names)


def _small_shared_geotiffs(shared_data):
    """The shared GeoTIFFs of up to 2 M cells that GDAL itself reads (it refuses a strip of
    jpeg-test-deflate-small.tif)."""
    files = []
    for path in sorted((shared_data / "geotiff").glob("*.tif")):
        with rasterio.open(path) as ds:
            if ds.width * ds.height * ds.count > 2_000_000:
                continue
            try:
                ds.read()
            except rasterio.errors.RasterioIOError:
                continue
            files.append(path)
    return files


def test_read_method_gdal_equals_geotrellis_on_shared_geotiffs(spark, shared_data):
    files = _small_shared_geotiffs(shared_data)
    assert files
    pyproj = pytest.importorskip("pyproj")
    for path in files:
        gdal = gps.RasterLayer.read(str(path), read_method=ReadMethod.GDAL).to_numpy_tiles()
        geotrellis = gps.RasterLayer.read(str(path), read_method=ReadMethod.GEOTRELLIS).to_numpy_tiles()
        [(ka, ta)], [(kb, tb)] = gdal, geotrellis
        assert ka.extent == pytest.approx(kb.extent), path.name
        assert (ta.cell_type, ta.no_data_value) == (tb.cell_type, tb.no_data_value) or (
            np.isnan(ta.no_data_value) and np.isnan(tb.no_data_value)), path.name
        if path.name == "jpeg-test-small.tif":  # lossy JPEG: libjpeg and the Rust decoder may round apart
            assert np.abs(ta.cells.astype(int) - tb.cells.astype(int)).max() <= 1, path.name
        else:
            np.testing.assert_array_equal(ta.cells, tb.cells, err_msg=path.name)
        crs_a = ka.proj4 if ka.epsg is None else f"EPSG:{ka.epsg}"
        crs_b = kb.proj4 if kb.epsg is None else f"EPSG:{kb.epsg}"
        if crs_a is None or crs_b is None:
            assert crs_a == crs_b, path.name
        else:
            assert pyproj.CRS(crs_a).equals(pyproj.CRS(crs_b), ignore_axis_order=True), path.name


# --- bad input -------------------------------------------------------------------------------------------


def test_missing_file(spark, tmp_path):
    missing = str(tmp_path / "nope.jp2")
    with pytest.raises(FileNotFoundError, match="nope.jp2"):
        gps.rasterio.get(missing)
    with pytest.raises(FileNotFoundError, match="nope.jp2"):
        gps.rasterio.get([missing])
    with pytest.raises(FileNotFoundError, match="nope.jp2"):
        gps.RasterLayer.read(missing, read_method=ReadMethod.GDAL)
    # the GeoTrellis read raises the same type for a missing GeoTIFF
    with pytest.raises(FileNotFoundError, match="nope.tif"):
        gps.RasterLayer.read(str(tmp_path / "nope.tif"))
    with pytest.raises(FileNotFoundError, match="nope.nc"):
        gps.rasterio.get(f'NETCDF:"{tmp_path / "nope.nc"}":Band1')


def test_not_a_raster(spark, tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("not a raster")
    with pytest.raises(ValueError, match="notes.txt"):
        gps.rasterio.get(str(text))
    with pytest.raises(ValueError, match="notes.txt"):
        gps.RasterLayer.read(str(text), read_method=ReadMethod.GDAL)


@pytest.mark.parametrize("bands, exc", [([4], IndexError), ([0], IndexError), ([-1], IndexError),
                                        ([], ValueError), (["1"], ValueError), ([1.5], ValueError),
                                        ("all", ValueError)])
def test_bad_bands(spark, rasters, bands, exc):
    with pytest.raises(exc, match="band"):
        gps.rasterio.get(rasters["tif"], bands=bands)


@pytest.mark.parametrize("kwargs", [{"xcols": 0}, {"ycols": -3}, {"xcols": 2.5}, {"ycols": True}])
def test_bad_window_sizes(spark, rasters, kwargs):
    with pytest.raises(ValueError, match="cols"):
        gps.rasterio.get(rasters["tif"], **kwargs)


def test_bad_data_source(spark):
    with pytest.raises(TypeError, match="data_source"):
        gps.rasterio.get(42)
    with pytest.raises(TypeError, match="data_source"):
        gps.rasterio.get([])


def test_window_gdal_cannot_read_names_the_file(spark, shared_data):
    """GDAL refuses a strip of this file (the Rust reader decodes it): the executor's error names the file
    and the window instead of rasterio's bare 'Read failed'."""
    path = shared_data / "geotiff" / "jpeg-test-deflate-small.tif"
    if not path.exists():
        pytest.skip(f"{path} is absent")
    layer = gps.RasterLayer.read(str(path), read_method=ReadMethod.GDAL)
    with pytest.raises(Exception, match="jpeg-test-deflate-small.tif: GDAL cannot read the window"):
        layer.to_numpy_tiles()


def test_rotated_raster_is_refused(spark, tmp_path):
    path = tmp_path / "rotated.tif"
    transform = rasterio.Affine(1, 0.5, 100, 0.5, -1, 200)
    with rasterio.open(path, "w", driver="GTiff", width=10, height=10, count=1, dtype="uint8",
                       crs="EPSG:3857", transform=transform) as ds:
        ds.write(np.ones((1, 10, 10), "uint8"))
    with pytest.raises(NotImplementedError, match="rotated.tif"):
        gps.rasterio.get(str(path))
    with pytest.raises(NotImplementedError, match="rotated.tif"):
        gps.RasterLayer.read(str(path), read_method=ReadMethod.GDAL)


def test_on_connect_get_says_what_to_use(monkeypatch, spark, rasters):
    import geopyspark_rs.session as session

    monkeypatch.setattr(session, "is_connect", lambda obj: True)
    with pytest.raises(RuntimeError, match="ReadMethod.GDAL"):
        gps.rasterio.get(rasters["tif"])


def test_import_without_rasterio():
    """``import geopyspark_rs`` neither needs nor imports rasterio; using gps.rasterio without it says how
    to install it (GeoPySpark failed at import)."""
    code = (
        "import sys\n"
        "import geopyspark_rs as gps\n"
        "assert 'rasterio' not in sys.modules, 'rasterio was imported by import geopyspark_rs'\n"
        "sys.modules['rasterio'] = None\n"
        "for call in (lambda: gps.rasterio.get('x.jp2'), lambda: gps.rasterio.crs_to_proj4('EPSG:4326')):\n"
        "    try:\n"
        "        call()\n"
        "    except ImportError as e:\n"
        "        assert 'pip install rasterio' in str(e), e\n"
        "    else:\n"
        "        raise AssertionError('no ImportError')\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def test_s3_objects(spark, s3_conf, rasters):
    """Both readers read objects from the (local) S3 server with the session's S3A settings, through GDAL's
    /vsis3/; a missing object is a FileNotFoundError naming it."""
    bucket = s3_conf.create_bucket("rasterio")
    client = s3_conf.client()
    names = [n for n in ("tif", "jp2") if n in rasters]
    for n in names:
        client.upload_file(rasters[n], bucket, Path(rasters[n]).name)
    for n in names:
        uri = f"s3a://{bucket}/{Path(rasters[n]).name}"
        remote = sorted(gps.rasterio.get(uri, xcols=XCOLS, ycols=YCOLS).collect(), key=lambda r: r[0].extent)
        local = sorted(gps.rasterio.get(rasters[n], xcols=XCOLS, ycols=YCOLS).collect(), key=lambda r: r[0].extent)
        assert [k for k, _ in remote] == [k for k, _ in local]
        for (_, a), (_, b) in zip(remote, local):
            np.testing.assert_array_equal(a.cells, b.cells)
        [(_, tile)] = gps.RasterLayer.read(uri.replace("s3a://", "s3://"), read_method=ReadMethod.GDAL).to_numpy_tiles()
        with rasterio.open(rasters[n]) as ds:
            np.testing.assert_array_equal(tile.cells, ds.read())
    by_rdd = gps.rasterio.get(spark.sparkContext.parallelize([f"s3a://{bucket}/ints.tif"]), xcols=XCOLS, ycols=YCOLS)
    assert by_rdd.count() == math.ceil(WIDTH / XCOLS) * math.ceil(HEIGHT / YCOLS)
    with pytest.raises(FileNotFoundError, match="missing.jp2"):
        gps.rasterio.get(f"s3a://{bucket}/missing.jp2")
    with pytest.raises(FileNotFoundError, match="missing.jp2"):
        gps.RasterLayer.read(f"s3://{bucket}/missing.jp2", read_method=ReadMethod.GDAL)
