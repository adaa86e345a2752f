"""GeoTIFF reading by the native extension, compared with rasterio/GDAL: pixels, NoData, georeferencing,
CRS, tags and overviews, on the real files of ../shared/data/geotiff and on files written here with
rasterio for every compression, predictor, layout and sample type. No Spark."""

import math
import shutil
from pathlib import Path

import numpy as np
import pytest

rasterio = pytest.importorskip("rasterio")
pyproj = pytest.importorskip("pyproj")
from rasterio.windows import Window  # noqa: E402

from geopyspark_rs import _native  # noqa: E402

REAL_FILES = [
    "0_to_99.tif",
    "SBN_inc_percap-nodata-clip.tif",
    "all-ones.tif",
    "aspect.tif",
    "byte-tile.tiff",
    "cea.tif",
    "econic.tif",
    "elevation.tif",
    "jpeg-test-small-uncompressed.tif",
    "lc8-utm-1-re.tif",
    "lc8-utm-1.tif",
    "multiband.tif",
    "nex-tasmax-200601120000.tif",
    "nodata-row.tif",
    "propval_bg_01_01.tif",
    "result.tif",
    "rgba-test.tif",
    "singleband.tif",
    "test-time-tag.tif",
    "tiled_compressed.tif",
    "one-month-tiles/test-200506000000_0_0.tif",
]

NUMPY_OF = {
    "bool": np.uint8,
    "int8": np.int8,
    "uint8": np.uint8,
    "int16": np.int16,
    "uint16": np.uint16,
    "int32": np.int32,
    "float32": np.float32,
    "float64": np.float64,
}


def dtype_of(cell_type):
    for name in ("float32", "float64", "uint16", "uint8", "int16", "int32", "int8", "bool"):
        if cell_type.startswith(name):
            return NUMPY_OF[name]
    raise AssertionError(cell_type)


def read(path, windows, overview=0, **kw):
    batch = _native.read_geotiff_windows(str(path), windows, overview=overview, **kw)
    assert batch.num_rows == len(windows)
    out = []
    for i in range(batch.num_rows):
        ct = batch.column("cell_type")[i].as_py()
        b, r, c = (batch.column(k)[i].as_py() for k in ("bands", "rows", "cols"))
        cells = np.frombuffer(batch.column("cells")[i].as_py(), dtype=dtype_of(ct)).reshape(b, r, c)
        out.append(cells)
    return out


def assert_same_pixels(ours, theirs):
    """Equal cells; floats compared bit-for-bit except that NaN equals NaN."""
    assert ours.shape == theirs.shape
    if ours.dtype.kind == "f":
        np.testing.assert_array_equal(ours, theirs.astype(ours.dtype))
    else:
        np.testing.assert_array_equal(ours.astype(np.int64), theirs.astype(np.int64))


def windows_for(width, height):
    """The full image, a corner, one crossing segment boundaries, a single pixel and the last row."""
    wins = [(0, 0, width, height), (0, 0, min(width, 7), min(height, 5))]
    if width > 3 and height > 3:
        wins.append((width // 3, height // 3, width - width // 3 - 1, height - height // 3 - 1))
    wins += [(width - 1, height - 1, 1, 1), (0, height - 1, width, 1)]
    return wins


def same_crs(ours, rio_crs):
    a = pyproj.CRS(ours)
    b = pyproj.CRS(rio_crs.to_wkt())
    if a.equals(b, ignore_axis_order=True):
        return True
    # Otherwise the two must agree on where points are: transform a few points both ways.
    geo = pyproj.CRS("EPSG:4326")
    ta = pyproj.Transformer.from_crs(a, geo, always_xy=True)
    tb = pyproj.Transformer.from_crs(b, geo, always_xy=True)
    for x, y in [(0.0, 0.0), (10000.0, 20000.0), (-15000.0, 5000.0)]:
        xa, ya = ta.transform(x, y)
        xb, yb = tb.transform(x, y)
        if not (abs(xa - xb) < 1e-6 and abs(ya - yb) < 1e-6):
            return False
    return True


# ---------------------------------------------------------------------------------------------------
# Real files


@pytest.mark.parametrize("name", REAL_FILES)
def test_real_file_matches_rasterio(shared_data, name):
    path = shared_data / "geotiff" / name
    info = _native.geotiff_info(str(path))
    with rasterio.open(path) as src:
        assert (info["width"], info["height"], info["bands"]) == (src.width, src.height, src.count)
        if src.nodata is None:
            assert info["no_data_value"] is None
        elif math.isnan(src.nodata):
            assert math.isnan(info["no_data_value"])
        else:
            assert info["no_data_value"] == src.nodata
        assert info["extent"] == pytest.approx(tuple(src.bounds), rel=0, abs=1e-9 * max(1.0, *map(abs, src.bounds)))
        assert info["geotransform"] == pytest.approx(src.transform.to_gdal(), rel=1e-12, abs=1e-12)
        if src.crs is not None:
            assert info["crs"] is not None and same_crs(info["crs"], src.crs), (info["crs"], src.crs)
        assert info["tiled"] == (src.profile.get("tiled", False))
        assert [tuple(o) for o in info["overviews"]] == [
            (math.ceil(src.width / f), math.ceil(src.height / f)) for f in src.overviews(1)
        ] or len(info["overviews"]) == len(src.overviews(1))
        wins = windows_for(src.width, src.height)
        ours = read(path, wins)
        for win, cells in zip(wins, ours):
            theirs = src.read(window=Window(*win))
            assert_same_pixels(cells, theirs)


def test_real_cell_types(shared_data):
    g = shared_data / "geotiff"
    expected = {
        "all-ones.tif": "float32ud-9999.0",
        "elevation.tif": "float32raw",
        "lc8-utm-1.tif": "uint16raw",
        "multiband.tif": "uint8raw",
        "nodata-row.tif": "uint8ud255",
        "propval_bg_01_01.tif": "int32ud2147483647",
        "0_to_99.tif": "int32",
        "byte-tile.tiff": "int8",
        "rgba-test.tif": "uint8",
    }
    for name, ct in expected.items():
        assert _native.geotiff_info(str(g / name))["cell_type"] == ct, name


def test_user_defined_crs(shared_data):
    g = shared_data / "geotiff"
    cea = _native.geotiff_info(str(g / "cea.tif"))["crs"]
    assert cea.startswith("+proj=cea")
    econic = _native.geotiff_info(str(g / "econic.tif"))["crs"]
    assert econic.startswith("+proj=eqdc")
    # aspect.tif spells EPSG:32119 out as user-defined keys (the real-file test checks equivalence).
    assert _native.geotiff_info(str(g / "aspect.tif"))["crs"].startswith("+proj=lcc")
    assert _native.geotiff_info(str(g / "elevation.tif"))["crs"] == "EPSG:3857"
    # ESRI's Web Mercator: a user-defined model type with only a citation, as GDAL resolves it.
    assert _native.geotiff_info(str(g / "propval_bg_01_01.tif"))["crs"] == "EPSG:3857"
    # These carry a tiepoint and pixel scale but no GeoKeys at all: no CRS, as GDAL says.
    for name in ("nex-tasmax-200601120000.tif", "result.tif"):
        assert _native.geotiff_info(str(g / name))["crs"] is None


def test_time_tag_and_ascii_tags(shared_data):
    path = shared_data / "geotiff" / "test-time-tag.tif"
    tags = _native.geotiff_info(str(path))["tags"]
    with rasterio.open(path) as src:
        rtags = src.tags()
    assert tags["TIFFTAG_DATETIME"] == rtags["TIFFTAG_DATETIME"]
    for k in ("TIFFTAG_DOCUMENTNAME", "TIFFTAG_IMAGEDESCRIPTION", "TIFFTAG_SOFTWARE", "AREA_OR_POINT"):
        assert tags[k] == rtags[k]


def test_gdal_metadata_tags(shared_data):
    path = shared_data / "geotiff" / "nex-tasmax-200601120000.tif"
    info = _native.geotiff_info(str(path))
    with rasterio.open(path) as src:
        rtags = src.tags()
        rband = src.tags(1)
    for k, v in rtags.items():
        if not k.startswith("TIFFTAG_") and k != "AREA_OR_POINT":
            assert info["tags"][k] == v, k
    for k, v in rband.items():
        assert info["band_tags"][0][k] == v, k


def test_internal_overviews(shared_data):
    path = shared_data / "geotiff" / "singleband.tif"
    info = _native.geotiff_info(str(path))
    assert len(info["overviews"]) == 5
    with rasterio.open(path, overview_level=1) as src:
        assert tuple(info["overviews"][1]) == (src.width, src.height)
        wins = windows_for(src.width, src.height)
        for win, cells in zip(wins, read(path, wins, overview=2)):
            assert_same_pixels(cells, src.read(window=Window(*win)))
    with pytest.raises(ValueError, match="overview 6"):
        read(path, [(0, 0, 1, 1)], overview=6)


def test_jpeg_file_close_to_gdal(shared_data):
    # zune-jpeg and libjpeg may round the IDCT/upsampling differently: allow 1 grey level.
    path = shared_data / "geotiff" / "jpeg-test-small.tif"
    with rasterio.open(path) as src:
        theirs = src.read()
    (ours,) = read(path, [(0, 0, theirs.shape[2], theirs.shape[1])])
    assert np.abs(ours.astype(int) - theirs.astype(int)).max() <= 1


def test_corrupt_file_raises_naming_it(shared_data):
    path = shared_data / "geotiff" / "jpeg-test-deflate-small.tif"
    _native.geotiff_info(str(path))  # the header is fine
    with pytest.raises((ValueError, OSError), match="jpeg-test-deflate-small.tif"):
        read(path, [(0, 0, 293, 262)])


def test_windows_outside_the_image(shared_data):
    path = shared_data / "geotiff" / "aspect.tif"
    with pytest.raises(ValueError, match=r"aspect.tif.*window .*outside"):
        read(path, [(200, 0, 100, 10)])
    with pytest.raises(ValueError, match="negative"):
        read(path, [(-1, 0, 10, 10)])
    with pytest.raises(OSError, match="nope.tif"):
        _native.geotiff_info(str(path.parent / "nope.tif"))


def test_truncated_and_garbage_files(shared_data, tmp_path):
    src = shared_data / "geotiff" / "tiled_compressed.tif"
    data = src.read_bytes()
    for cut in [0, 4, 8, 100, 1000, 5000, len(data) // 2, len(data) - 10]:
        p = tmp_path / f"cut{cut}.tif"
        p.write_bytes(data[:cut])
        with pytest.raises((ValueError, OSError), match=f"cut{cut}.tif"):
            info = _native.geotiff_info(str(p))
            read(p, [(0, 0, info["width"], info["height"])])
    rng = np.random.default_rng(1)
    junk = tmp_path / "junk.tif"
    junk.write_bytes(b"II*\x00" + rng.integers(0, 256, 5000, dtype=np.uint8).tobytes())
    with pytest.raises((ValueError, OSError), match="junk.tif"):
        info = _native.geotiff_info(str(junk))
        read(junk, [(0, 0, info["width"], info["height"])])
    # Garbage inside the compressed segments of a valid header.
    bad = bytearray(data)
    bad[len(data) // 3 : len(data) // 3 + 2000] = rng.integers(0, 256, 2000, dtype=np.uint8).tobytes()
    p = tmp_path / "garbled.tif"
    p.write_bytes(bytes(bad))
    with pytest.raises((ValueError, OSError), match="garbled.tif"):
        read(p, [(0, 0, 500, 500)])


# ---------------------------------------------------------------------------------------------------
# Files written here with rasterio


def write(path, arr, overviews=(), **profile):
    """A GeoTIFF written by GDAL, with internal ``overviews`` (factors; GDAL compresses them with the image's
    codec)."""
    bands, h, w = arr.shape
    prof = dict(driver="GTiff", width=w, height=h, count=bands, dtype=arr.dtype, crs="EPSG:32633",
                transform=rasterio.transform.from_origin(500000, 4000000, 10, 10))
    prof.update(profile)
    with rasterio.open(path, "w", **prof) as dst:
        dst.write(arr)
        if overviews:
            dst.build_overviews(list(overviews), rasterio.enums.Resampling.nearest)
    return path


def sample(dtype, bands=1, h=300, w=333, seed=0):
    rng = np.random.default_rng(seed)
    dt = np.dtype(dtype)
    y, x = np.mgrid[0:h, 0:w]
    smooth = (np.sin(x / 17.0) + np.cos(y / 23.0)) * 40
    if dt.kind == "f":
        base = smooth + rng.normal(0, 1, (h, w))
        arr = np.stack([base * (b + 1) for b in range(bands)]).astype(dt)
        arr[:, 5, 7] = np.nan
        return arr
    info = np.iinfo(dt)
    base = smooth + rng.integers(-3, 4, (h, w))
    arr = np.stack([base + 20 * b for b in range(bands)])
    arr = np.clip(arr + (info.min + info.max) / 2 if info.min == 0 else arr, info.min, info.max).astype(dt)
    arr[:, 0, 0] = info.max
    arr[:, -1, -1] = info.min
    return arr


def check_against_rasterio(path, overview=0):
    with rasterio.open(path, overview_level=overview - 1 if overview else None) as src:
        wins = windows_for(src.width, src.height)
        ours = read(path, wins, overview=overview)
        for win, cells in zip(wins, ours):
            assert_same_pixels(cells, src.read(window=Window(*win)))


@pytest.mark.parametrize("compress", ["none", "deflate", "lzw", "packbits", "zstd"])
@pytest.mark.parametrize("tiled", [False, True])
@pytest.mark.parametrize("interleave", ["pixel", "band"])
def test_compressions_layouts(tmp_path, compress, tiled, interleave):
    arr = sample("uint16", bands=3)
    prof = dict(compress=compress, interleave=interleave, tiled=tiled)
    if tiled:
        prof.update(blockxsize=64, blockysize=32)
    else:
        prof.update(blockysize=7)
    check_against_rasterio(write(tmp_path / "a.tif", arr, **prof))


@pytest.mark.parametrize("dtype", ["uint8", "int8", "uint16", "int16", "uint32", "int32", "float32", "float64", "int64", "uint64"])
@pytest.mark.parametrize("predictor", [1, 2, 3])
def test_dtypes_and_predictors(tmp_path, dtype, predictor):
    kind = np.dtype(dtype).kind
    if predictor == 3 and kind != "f":
        pytest.skip("the floating-point predictor is for floats only")
    if predictor == 2 and kind == "f":
        pytest.skip("GDAL refuses horizontal differencing on floats")
    arr = sample(dtype, bands=2)
    path = write(tmp_path / "a.tif", arr, compress="deflate", predictor=predictor, tiled=True,
                 blockxsize=128, blockysize=64, interleave="pixel")
    info = _native.geotiff_info(str(path))
    assert info["predictor"] == predictor
    expected_type = {"uint32": "float32", "int64": "float64", "uint64": "float64"}.get(dtype, dtype)
    assert info["cell_type"].startswith(expected_type)
    if dtype in ("uint32", "int64", "uint64"):
        # Converted as GeoTrellis does: values as floating point.
        with rasterio.open(path) as src:
            theirs = src.read()
        (ours,) = read(path, [(0, 0, arr.shape[2], arr.shape[1])])
        np.testing.assert_array_equal(ours, theirs.astype(ours.dtype))
    else:
        check_against_rasterio(path)


@pytest.mark.parametrize("dtype,nodata,cell_type", [
    ("uint8", 255, "uint8ud255"),
    ("uint8", 0, "uint8"),
    ("int16", -32768, "int16"),
    ("int16", -9999, "int16ud-9999"),
    ("float32", -9999.0, "float32ud-9999.0"),
    ("float32", float("nan"), "float32"),
    ("float64", -1.5, "float64ud-1.5"),
    ("int32", None, "int32raw"),
])
def test_nodata_cell_types(tmp_path, dtype, nodata, cell_type):
    path = write(tmp_path / "a.tif", sample(dtype), nodata=nodata)
    info = _native.geotiff_info(str(path))
    assert info["cell_type"] == cell_type
    with rasterio.open(path) as src:
        if nodata is None:
            assert info["no_data_value"] is None
        elif math.isnan(nodata):
            assert math.isnan(info["no_data_value"])
        else:
            assert info["no_data_value"] == src.nodata


def test_one_bit(tmp_path):
    arr = (sample("uint8", h=37, w=45) % 2).astype(np.uint8)
    path = write(tmp_path / "bits.tif", arr, nbits=1, blockysize=5)
    info = _native.geotiff_info(str(path))
    assert info["cell_type"] == "bool"
    check_against_rasterio(path)


def test_bigtiff_and_pixel_is_point(tmp_path):
    arr = sample("float32", h=50, w=60)
    path = write(tmp_path / "big.tif", arr, BIGTIFF="YES", compress="deflate", tiled=True, blockxsize=32, blockysize=32)
    assert _native.geotiff_info(str(path))["bigtiff"]
    check_against_rasterio(path)

    p2 = write(tmp_path / "point.tif", arr)
    with rasterio.open(p2, "r+") as dst:
        dst.update_tags(AREA_OR_POINT="Point")
    info = _native.geotiff_info(str(p2))
    with rasterio.open(p2) as src:
        assert info["pixel_is_point"]
        assert info["tags"]["AREA_OR_POINT"] == "Point"
        assert info["geotransform"] == pytest.approx(src.transform.to_gdal())
        assert info["extent"] == pytest.approx(tuple(src.bounds))


def test_generated_overviews(tmp_path):
    arr = sample("int16", h=400, w=500)
    path = write(tmp_path / "ov.tif", arr, tiled=True, blockxsize=64, blockysize=64, compress="deflate")
    with rasterio.open(path, "r+") as dst:
        dst.build_overviews([2, 4, 8], rasterio.enums.Resampling.average)
    info = _native.geotiff_info(str(path))
    assert [tuple(o) for o in info["overviews"]] == [(250, 200), (125, 100), (63, 50)]
    for k in (1, 2, 3):
        check_against_rasterio(path, overview=k)


@pytest.mark.parametrize("photometric", ["rgb", "ycbcr"])
def test_jpeg_close_to_gdal(tmp_path, photometric):
    # Different JPEG decoders (zune-jpeg here, libjpeg in GDAL) may differ by one level after
    # IDCT and chroma upsampling: max abs diff <= 1 allowed.
    arr = sample("uint8", bands=3, h=100, w=120)
    path = write(tmp_path / "j.tif", arr, compress="jpeg", photometric=photometric, tiled=True, blockxsize=64, blockysize=64)
    with rasterio.open(path) as src:
        theirs = src.read()
    (ours,) = read(path, [(0, 0, 120, 100)])
    diff = np.abs(ours.astype(int) - theirs.astype(int))
    if photometric == "rgb":
        assert diff.max() <= 1
    else:
        # YCbCr with 2x2 chroma subsampling: libjpeg's "fancy" chroma upsampling and zune-jpeg's
        # differ near colour edges, by up to a few levels; on average they agree to well under one.
        assert diff.max() <= 4 and diff.mean() < 0.5


def test_palette_and_tags(tmp_path):
    arr = (sample("uint8", h=20, w=20) % 4).astype(np.uint8)
    path = write(tmp_path / "pal.tif", arr, photometric="palette")
    with rasterio.open(path, "r+") as dst:
        dst.write_colormap(1, {0: (255, 0, 0, 255), 1: (0, 255, 0, 255), 2: (0, 0, 255, 255), 3: (10, 20, 30, 255)})
        dst.update_tags(FOO="bar & <baz>", TIFFTAG_ARTIST="me", TIFFTAG_COPYRIGHT="c")
        dst.update_tags(1, UNIT_NAME="m")
    info = _native.geotiff_info(str(path))
    assert info["photometric"] == 3
    assert info["color_map"][:4] == [0xFF0000FF, 0x00FF00FF, 0x0000FFFF, 0x0A141EFF]
    assert info["tags"]["FOO"] == "bar & <baz>"
    assert info["tags"]["TIFFTAG_ARTIST"] == "me"
    assert info["tags"]["TIFFTAG_COPYRIGHT"] == "c"
    assert info["band_tags"][0]["UNIT_NAME"] == "m"


def test_many_windows_one_call(tmp_path):
    arr = sample("float32", h=513, w=700)
    path = write(tmp_path / "s.tif", arr, compress="deflate", predictor=3, blockysize=16)
    wins = [(c, r, min(256, 700 - c), min(256, 513 - r)) for r in range(0, 513, 256) for c in range(0, 700, 256)]
    ours = read(path, wins)
    with rasterio.open(path) as src:
        for win, cells in zip(wins, ours):
            assert_same_pixels(cells, src.read(window=Window(*win)))
