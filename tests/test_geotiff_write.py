"""The GeoTIFF/COG writer (_native.write_geotiff*), checked by reading back with rasterio/GDAL and
validating COGs with rio-cogeo. No Spark."""

import math
import os

import numpy as np
import pytest

rasterio = pytest.importorskip("rasterio")
from rasterio.crs import CRS  # noqa: E402
from rasterio.transform import from_bounds  # noqa: E402

from geopyspark_rs import _native  # noqa: E402

EXTENT = (300000.0, 4000000.0, 300450.0, 4000370.0)

# (cell type, numpy dtype, expected rasterio nodata)
CELL_TYPES = [
    ("bool", "uint8", None),
    ("int8raw", "int8", None),
    ("int8", "int8", -128),
    ("int8ud-5", "int8", -5),
    ("uint8raw", "uint8", None),
    ("uint8", "uint8", 0),
    ("uint8ud200", "uint8", 200),
    ("int16raw", "int16", None),
    ("int16", "int16", -32768),
    ("int16ud-9999", "int16", -9999),
    ("uint16raw", "uint16", None),
    ("uint16", "uint16", 0),
    ("uint16ud65535", "uint16", 65535),
    ("int32raw", "int32", None),
    ("int32", "int32", -2147483648),
    ("int32ud-1", "int32", -1),
    ("float32raw", "float32", None),
    ("float32", "float32", math.nan),
    ("float32ud-9999.0", "float32", -9999.0),
    ("float64raw", "float64", None),
    ("float64", "float64", math.nan),
    ("float64ud-3.5", "float64", -3.5),
]
CRSS = ["EPSG:4326", "EPSG:3857", "EPSG:32618"]


def cells_for(dtype, bands, rows, cols, nodata, seed=0):
    rng = np.random.default_rng(seed)
    if dtype == "bool":
        arr = rng.integers(0, 2, size=(bands, rows, cols), dtype=np.uint8)
    elif np.dtype(dtype).kind == "f":
        arr = (rng.standard_normal((bands, rows, cols)) * 1000).astype(dtype)
    else:
        info = np.iinfo(dtype)
        arr = rng.integers(info.min, info.max, size=(bands, rows, cols), endpoint=True, dtype=dtype)
    if nodata is not None:
        arr[:, 0, :3] = nodata
    return arr


def write(tmp_path, arr, cell_type, crs="EPSG:32618", extent=EXTENT, name="out.tif", **options):
    path = str(tmp_path / name)
    bands, rows, cols = arr.shape
    _native.write_geotiff_file(path, arr.tobytes(), cell_type, bands, rows, cols, extent, crs, options)
    return path


@pytest.mark.parametrize("compression", ["none", "deflate"])
@pytest.mark.parametrize("storage", ["striped", "tiled"])
@pytest.mark.parametrize("bands", [1, 3])
@pytest.mark.parametrize("cell_type,dtype,nodata", CELL_TYPES)
def test_rasterio_reads_back_cells_nodata_transform_crs(tmp_path, cell_type, dtype, nodata, bands, storage, compression):
    rows, cols = 37, 45  # not multiples of the tile or strip size
    arr = cells_for("bool" if cell_type == "bool" else dtype, bands, rows, cols, nodata)
    crs = CRSS[(len(cell_type) + bands) % 3]
    opts = {"storage": storage, "compression": compression}
    if storage == "tiled":
        opts.update(tile_cols=16, tile_rows=32)
    else:
        opts["rows_per_strip"] = 5
    path = write(tmp_path, arr, cell_type, crs=crs, **opts)
    with rasterio.open(path) as src:
        assert (src.count, src.height, src.width) == (bands, rows, cols)
        assert src.dtypes[0] == dtype
        got = src.read()
        np.testing.assert_array_equal(got, arr)
        if nodata is None:
            assert src.nodata is None
        elif isinstance(nodata, float) and math.isnan(nodata):
            assert math.isnan(src.nodata)
        else:
            assert src.nodata == nodata
        assert src.transform.almost_equals(from_bounds(*EXTENT, cols, rows))
        assert src.crs == CRS.from_string(crs)
        assert src.compression is None if compression == "none" else src.compression.value == "DEFLATE"
        assert src.block_shapes[0] == ((32, 16) if storage == "tiled" else (5, cols))
        if bands > 1:
            assert src.interleaving.value == "BAND"  # GeoTrellis' default


def test_bool_is_written_as_one_bit(tmp_path):
    arr = cells_for("bool", 1, 20, 30, None)
    path = write(tmp_path, arr, "bool", storage="striped")
    with rasterio.open(path) as src:
        assert src.tags(1, ns="IMAGE_STRUCTURE").get("NBITS") == "1"
        np.testing.assert_array_equal(src.read(), arr)


def test_default_strip_height_and_default_storage(tmp_path):
    arr = cells_for("int16", 1, 50, 300, None)
    # Compressed, so that GDAL does not present an uncompressed single strip as many small blocks.
    path = write(tmp_path, arr, "int16raw", storage="striped", compression="deflate")
    with rasterio.open(path) as src:
        assert src.block_shapes[0] == (50, 300)  # GeoTrellis: 8000 // (50 rows × 2 bytes) = 80 → all rows
    path = write(tmp_path, arr, "int16raw", name="t.tif")
    with rasterio.open(path) as src:
        assert src.block_shapes[0] == (256, 256)  # GeoPySpark's to_geotiff_rdd default


@pytest.mark.parametrize("compression", ["lzw", "zstd", "DeflateCompression", "NoCompression"])
@pytest.mark.parametrize("predictor", [False, True])
@pytest.mark.parametrize("cell_type,dtype", [("uint16", "uint16"), ("float32", "float32"), ("float64", "float64"), ("int32", "int32")])
def test_other_codecs_and_predictors(tmp_path, compression, predictor, cell_type, dtype):
    arr = cells_for(dtype, 2, 40, 70, None)
    path = write(tmp_path, arr, cell_type, compression=compression, predictor=predictor, interleave="pixel")
    with rasterio.open(path) as src:
        np.testing.assert_array_equal(src.read(), arr)
        assert src.interleaving.value == "PIXEL"


def test_color_map_becomes_a_palette(tmp_path):
    arr = cells_for("uint8", 1, 40, 40, None)
    colors = [0xFF0000FF, 0x00FF00FF, 0x0000FFFF, 0x123456FF]
    path = write(tmp_path, arr, "uint8raw", color_map=colors)
    with rasterio.open(path) as src:
        assert src.colorinterp[0].name == "palette"
        cmap = src.colormap(1)
        for i, c in enumerate(colors):
            assert cmap[i][:3] == ((c >> 24) & 255, (c >> 16) & 255, (c >> 8) & 255)
        assert cmap[200][:3] == (0, 0, 0)


def test_rgb_color_space(tmp_path):
    arr = cells_for("uint8", 4, 20, 20, None)
    path = write(tmp_path, arr, "uint8raw", color_space=2, interleave="pixel")
    with rasterio.open(path) as src:
        assert [c.name for c in src.colorinterp] == ["red", "green", "blue", "undefined"]
        np.testing.assert_array_equal(src.read(), arr)


def test_head_and_band_tags(tmp_path):
    arr = cells_for("float32", 3, 20, 20, None)
    head = {"foo": "bar & <baz>", "TIFFTAG_DATETIME": "2020:01:02 03:04:05", "TIFFTAG_SOFTWARE": "gps"}
    band = [{"name": "red"}, {"name": "green", "wavelength": "550"}, {}]
    path = write(tmp_path, arr, "float32", head_tags=head, band_tags=band)
    with rasterio.open(path) as src:
        tags = src.tags()
        for k, v in head.items():
            assert tags[k] == v
        assert src.tags(1) == band[0]
        assert src.tags(2) == band[1]
        assert src.tags(3) == {}


def nn_expected(arr, d):
    _, rows, cols = arr.shape
    orows, ocols = -(-rows // d), -(-cols // d)
    r = np.floor((np.arange(orows) + 0.5) * rows / orows).astype(int)
    c = np.floor((np.arange(ocols) + 0.5) * cols / ocols).astype(int)
    return arr[:, r][:, :, c]


@pytest.mark.parametrize("storage", ["tiled", "striped"])
def test_overviews_are_nearest_neighbour_decimations(tmp_path, storage):
    # Sizes divisible by 8 and a 1-unit cell keep overview cell centres exactly on source cell edges, where
    # nearest neighbour takes the cell to the lower right (GeoTrellis' map-to-grid floor).
    arr = cells_for("int16", 2, 152, 200, None)
    path = write(tmp_path, arr, "int16", extent=(0.0, 0.0, 200.0, 152.0), storage=storage,
                 decimations=[4, 2, 8], resample_method="NearestNeighbor")
    with rasterio.open(path) as src:
        assert src.overviews(1) == [2, 4, 8]
        np.testing.assert_array_equal(src.read(), arr)
    for level, d in enumerate([2, 4, 8]):
        with rasterio.open(path, overview_level=level) as ovr:
            np.testing.assert_array_equal(ovr.read(), nn_expected(arr, d))


def test_overview_sizes_round_up(tmp_path):
    arr = cells_for("float32", 1, 150, 203, None)
    path = write(tmp_path, arr, "float32", decimations=[2, 3])
    for level, d in enumerate([2, 3]):
        with rasterio.open(path, overview_level=level) as ovr:
            assert (ovr.height, ovr.width) == (-(-150 // d), -(-203 // d))


@pytest.mark.parametrize("cell_type,dtype,bands,compression", [("float32", "float32", 1, "deflate"), ("uint8raw", "uint8", 3, "none")])
def test_cog_is_valid_without_warnings(tmp_path, cell_type, dtype, bands, compression):
    from rio_cogeo.cogeo import cog_validate

    arr = cells_for(dtype, bands, 1500, 2000, None)
    path = write(tmp_path, arr, cell_type, crs="EPSG:3857", cog=True, compression=compression)
    valid, errors, warnings = cog_validate(path, quiet=True)
    assert (valid, errors, warnings) == (True, [], [])
    with rasterio.open(path) as src:
        assert src.overviews(1) == [2, 4, 8]
        np.testing.assert_array_equal(src.read(), arr)


def test_cog_with_given_decimations_and_tags(tmp_path):
    from rio_cogeo.cogeo import cog_validate

    arr = cells_for("int16", 1, 700, 900, -32768)
    path = write(tmp_path, arr, "int16", cog=True, decimations=[2, 4], compression="zstd", predictor=True,
                 head_tags={"a": "b"}, tile_cols=512, tile_rows=512)
    assert cog_validate(path, quiet=True) == (True, [], [])
    with rasterio.open(path) as src:
        assert src.overviews(1) == [2, 4] and src.tags()["a"] == "b" and src.nodata == -32768


def test_bytes_equal_file(tmp_path):
    arr = cells_for("float32", 1, 30, 30, None)
    path = write(tmp_path, arr, "float32", crs="EPSG:4326", compression="deflate")
    data = _native.write_geotiff(arr.tobytes(), "float32", 1, 30, 30, EXTENT, "EPSG:4326", {"compression": "deflate"})
    assert isinstance(data, bytes) and data[:4] == b"II*\x00"
    assert open(path, "rb").read() == data
    from rasterio.io import MemoryFile

    with MemoryFile(data) as mem, mem.open() as src:
        np.testing.assert_array_equal(src.read(1), arr[0])


def test_file_write_is_atomic_and_leaves_no_temp_files(tmp_path):
    arr = cells_for("uint8", 1, 10, 10, None)
    write(tmp_path, arr, "uint8")
    write(tmp_path, arr, "uint8")  # replaces
    assert sorted(os.listdir(tmp_path)) == ["out.tif"]
    with pytest.raises(OSError, match="missing"):
        _native.write_geotiff_file(str(tmp_path / "missing" / "x.tif"), arr.tobytes(), "uint8", 1, 10, 10, EXTENT, None)
    with pytest.raises(ValueError):  # a bad raster never creates the file
        _native.write_geotiff_file(str(tmp_path / "bad.tif"), b"123", "uint8", 1, 10, 10, EXTENT, None)
    assert sorted(os.listdir(tmp_path)) == ["out.tif"]


def test_no_crs_writes_no_geokeys(tmp_path):
    arr = cells_for("uint8", 1, 10, 10, None)
    path = write(tmp_path, arr, "uint8", crs=None)
    with rasterio.open(path) as src:
        assert src.crs is None
        assert src.transform.almost_equals(from_bounds(*EXTENT, 10, 10))


@pytest.mark.parametrize(
    "options,match",
    [
        ({"bogus": 1}, "bogus"),
        ({"storage": "stripy"}, "storage"),
        ({"tile_cols": 100}, "tile_cols"),
        ({"tile_rows": -16}, "tile_rows"),
        ({"rows_per_strip": 0, "storage": "striped"}, "rows_per_strip"),
        ({"compression": "jpeg"}, "compression"),
        ({"compression": "deflate", "compression_level": 12}, "compression_level"),
        ({"color_space": 2}, "3 bands"),
        ({"color_space": 7}, "color_space"),
        ({"color_space": 3}, "color_map"),
        ({"color_map": [1, 2]}, "uint8 or uint16"),
        ({"color_map": ["red"]}, "color_map"),
        ({"head_tags": {"a": 1}}, "head_tags"),
        ({"band_tags": [{}, {}]}, "band_tags"),
        ({"decimations": [1]}, "decimations"),
        ({"decimations": [2], "resample_method": "Foo"}, "resample_method"),
        ({"cog": True, "storage": "striped"}, "storage"),
        ({"predictor": "yes"}, "predictor"),
        ({"interleave": "line"}, "interleave"),
    ],
)
def test_bad_options_raise_value_error(options, match):
    arr = cells_for("float32", 1, 10, 10, None)
    with pytest.raises(ValueError, match=match):
        _native.write_geotiff(arr.tobytes(), "float32", 1, 10, 10, EXTENT, "EPSG:4326", options)


def test_bad_arguments_raise_value_error():
    arr = cells_for("float32", 1, 10, 10, None)
    with pytest.raises(ValueError, match="bytes"):
        _native.write_geotiff(arr.tobytes()[:-1], "float32", 1, 10, 10, EXTENT, None)
    with pytest.raises(ValueError, match="cell type"):
        _native.write_geotiff(arr.tobytes(), "float16", 1, 10, 10, EXTENT, None)
    with pytest.raises(ValueError, match="extent"):
        _native.write_geotiff(arr.tobytes(), "float32", 1, 10, 10, (0, 0, 0, 0), None)
    with pytest.raises(ValueError, match="rows"):
        _native.write_geotiff(b"", "float32", 1, 0, 10, EXTENT, None)
    with pytest.raises(ValueError, match="CRS"):
        _native.write_geotiff(arr.tobytes(), "float32", 1, 10, 10, EXTENT, "EPSG:999999")
