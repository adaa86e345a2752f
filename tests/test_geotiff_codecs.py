"""GeoTIFF codecs of real-world COGs, read by the native extension and compared with rasterio/GDAL cell
by cell: LERC (plain, deflate, zstd; lossless and lossy), WebP, JPEG 2000, LZMA and JPEG with YCbCr,
tiled and striped, with overviews. Codecs this GDAL build lacks are skipped with the reason. Also: a
12-bit JPEG and unknown codecs raise NotImplementedError naming them, and damaged segments raise
CorruptDataError naming the file and the segment, never a crash. No Spark."""

import warnings

import numpy as np
import pytest

rasterio = pytest.importorskip("rasterio")
tifffile = pytest.importorskip("tifffile")
from rasterio.io import MemoryFile  # noqa: E402
from rasterio.windows import Window  # noqa: E402

from geopyspark_rs import _native  # noqa: E402
from geopyspark_rs.errors import CorruptDataError  # noqa: E402

import test_geotiff_read as geotiff_read  # noqa: E402
from test_geotiff_read import read, sample, windows_for  # noqa: E402

H, W = 300, 333
TILED = dict(tiled=True, blockxsize=128, blockysize=64)
STRIPED = dict(tiled=False, blockysize=24)
LAYOUTS = {"tiled": TILED, "striped": STRIPED}


def gdal_writes(compress, dtype="uint8", bands=1, **options):
    """Whether this GDAL build writes `compress` (GDAL refuses a codec it lacks when creating a file)."""
    try:
        with MemoryFile() as mf, warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with mf.open(driver="GTiff", width=8, height=8, count=bands, dtype=dtype, compress=compress,
                         **options) as dst:
                dst.write(np.zeros((bands, 8, 8), dtype))
            with mf.open() as src:
                return src.compression is not None and src.compression.name.lower() == compress.lower()
    except Exception:  # noqa: BLE001 -- any refusal means the codec is missing
        return False


def need(compress, **kw):
    if not gdal_writes(compress, **kw):
        pytest.skip(f"this rasterio's GDAL cannot write {compress} GeoTIFFs")


def write(path, arr, overviews=(2, 4), **profile):
    """A GeoTIFF written by GDAL, with internal overviews unless told otherwise."""
    return geotiff_read.write(path, arr, overviews=overviews, **profile)


def compare(path, tolerance=0, overviews=2):
    """Every test window of the image and each overview equals rasterio's cells (NaN equals NaN), or
    differs by at most `tolerance`. Returns the full-resolution cells read."""
    first = None
    for ov in range(overviews + 1):
        with rasterio.open(path, overview_level=ov - 1 if ov else None) as src:
            wins = windows_for(src.width, src.height)
            for win, ours in zip(wins, read(path, wins, overview=ov)):
                theirs = src.read(window=Window(*win))
                assert ours.shape == theirs.shape
                if ours.dtype.kind == "f":
                    np.testing.assert_array_equal(np.isnan(ours), np.isnan(theirs))
                    diff = np.nan_to_num(np.abs(ours.astype(np.float64) - theirs), nan=0.0)
                else:
                    diff = np.abs(ours.astype(np.int64) - theirs.astype(np.int64))
                assert diff.max(initial=0) <= tolerance, (ov, win, diff.max())
                if first is None:
                    first = ours
    return first


def page_compressions(path):
    with tifffile.TiffFile(path) as t:
        return [int(p.compression) for p in t.pages]


# ---------------------------------------------------------------------------------------------------
# LERC


@pytest.mark.parametrize("compress,name", [("lerc", "lerc"), ("lerc_deflate", "lerc_deflate"), ("lerc_zstd", "lerc_zstd")])
@pytest.mark.parametrize("dtype", ["uint8", "uint16", "int16", "float32", "float64"])
@pytest.mark.parametrize("layout", ["tiled", "striped"])
def test_lerc_lossless(tmp_path, compress, name, dtype, layout):
    need(compress)
    arr = sample(dtype, bands=2, h=H, w=W)
    path = write(tmp_path / "l.tif", arr, compress=compress, max_z_error=0, interleave="pixel", **LAYOUTS[layout])
    info = _native.geotiff_info(str(path))
    assert info["compression"] == name
    assert set(page_compressions(path)) == {34887}
    ours = compare(path)
    # MAX_Z_ERROR=0 is lossless: the cells written come back (NaN where they were NaN).
    np.testing.assert_array_equal(ours, arr)


@pytest.mark.parametrize("dtype,max_z_error", [("float32", 0.25), ("uint16", 3), ("uint8", 1)])
@pytest.mark.parametrize("interleave", ["pixel", "band"])
def test_lerc_lossy_within_its_error_bound(tmp_path, dtype, max_z_error, interleave):
    need("lerc_deflate")
    arr = sample(dtype, bands=3, h=H, w=W)
    path = write(tmp_path / "l.tif", arr, compress="lerc_deflate", max_z_error=max_z_error, interleave=interleave,
                 **TILED)
    # Decoding is exact: our cells are GDAL's, and both lie within MAX_Z_ERROR of the written ones.
    ours = compare(path)
    err = np.abs(np.nan_to_num(ours.astype(np.float64)) - np.nan_to_num(arr.astype(np.float64)))
    assert err.max() <= max_z_error * (1 + 1e-6)
    assert err.max() > 0 or dtype != "float32"  # really lossy


def test_lerc_nodata_and_nan(tmp_path):
    need("lerc")
    arr = sample("float32", h=H, w=W)
    arr[0, 100:110, 50:90] = np.nan
    path = write(tmp_path / "n.tif", arr, compress="lerc", max_z_error=0.01, nodata=np.nan, **TILED)
    ours = compare(path)
    assert np.isnan(ours[0, 100:110, 50:90]).all()


# ---------------------------------------------------------------------------------------------------
# WebP


def rgb_sample(bands):
    arr = sample("uint8", bands=bands, h=H, w=W)
    if bands == 4:
        arr[3] = 255
        arr[3, 40:80, 60:200] = 0  # a transparent patch
        arr[3, 200:230] = 128
    return arr


@pytest.mark.parametrize("bands", [3, 4])
@pytest.mark.parametrize("layout", ["tiled", "striped"])
def test_webp_lossless(tmp_path, bands, layout):
    need("webp", bands=3)
    arr = rgb_sample(bands)
    path = write(tmp_path / "w.tif", arr, compress="webp", webp_lossless=True, **LAYOUTS[layout])
    assert _native.geotiff_info(str(path))["compression"] == "webp"
    ours = compare(path)
    np.testing.assert_array_equal(ours, arr)


@pytest.mark.parametrize("bands", [3, 4])
def test_webp_lossy_close_to_gdal(tmp_path, bands):
    # libwebp (GDAL) and image-webp both upsample chroma bilinearly; allow a level or two of rounding.
    need("webp", bands=3)
    arr = rgb_sample(bands)
    path = write(tmp_path / "w.tif", arr, compress="webp", webp_level=75, **TILED)
    ours = compare(path, tolerance=2)
    assert np.abs(ours.astype(int) - arr.astype(int)).max() > 0  # really lossy


# ---------------------------------------------------------------------------------------------------
# LZMA


@pytest.mark.parametrize("dtype", ["uint8", "uint16", "int32", "float32", "float64"])
@pytest.mark.parametrize("layout", ["tiled", "striped"])
def test_lzma(tmp_path, dtype, layout):
    need("lzma")
    arr = sample(dtype, bands=2, h=H, w=W)
    path = write(tmp_path / "z.tif", arr, compress="lzma", interleave="pixel", **LAYOUTS[layout])
    assert _native.geotiff_info(str(path))["compression"] == "lzma"
    assert set(page_compressions(path)) == {34925}
    np.testing.assert_array_equal(compare(path), arr)


def predicted(seg, predictor):
    """Segment (rows, cols, samples) as libtiff stores it before compression with `predictor`."""
    rows, cols, spp = seg.shape
    if predictor == 2:
        d = seg.copy()
        d[:, 1:] = seg[:, 1:] - seg[:, :-1]  # wraps around in the integer type, as libtiff's does
        return d.astype(seg.dtype.newbyteorder("<")).tobytes()
    # Floating point: each row's samples as big-endian byte planes, then each byte differenced with the
    # one `samples per pixel` bytes before it.
    n = seg.dtype.itemsize
    planes = seg.reshape(rows, cols * spp).astype(seg.dtype.newbyteorder(">")).view(np.uint8)
    planes = planes.reshape(rows, cols * spp, n).transpose(0, 2, 1).reshape(rows, -1)
    out = planes.copy()
    out[:, spp:] = planes[:, spp:] - planes[:, :-spp]
    return out.tobytes()


@pytest.mark.parametrize("dtype,predictor", [("uint16", 2), ("int32", 2), ("uint8", 2), ("float32", 3), ("float64", 3)])
@pytest.mark.parametrize("tiled", [True, False])
def test_lzma_with_predictors(tmp_path, dtype, predictor, tiled):
    # This GDAL ignores PREDICTOR with LZMA when writing (it reads it), so the segments are made here
    # as libtiff makes them: predictor applied, then an xz stream with a delta filter before LZMA2
    # and no integrity check. GDAL reads the file as the reference.
    lzma = pytest.importorskip("lzma")
    arr = sample(dtype, bands=2, h=150, w=170)
    bands, h, w = arr.shape
    seg_w, seg_h = (64, 32) if tiled else (w, 20)
    pixels = arr.transpose(1, 2, 0)
    filters = [{"id": lzma.FILTER_DELTA, "dist": 1}, {"id": lzma.FILTER_LZMA2, "preset": 6}]
    segs = []
    for r in range(0, h, seg_h):
        for c in range(0, w, seg_w):
            part = pixels[r:r + seg_h, c:c + seg_w]
            seg = np.zeros((seg_h if tiled else part.shape[0], seg_w, bands), arr.dtype)
            seg[:part.shape[0], :part.shape[1]] = part
            segs.append(lzma.compress(predicted(seg, predictor), format=lzma.FORMAT_XZ, check=lzma.CHECK_NONE,
                                      filters=filters))
    path = tmp_path / "p.tif"
    kw = dict(tile=(seg_h, seg_w)) if tiled else dict(rowsperstrip=seg_h)
    as_int = arr.dtype if predictor == 2 else np.dtype(f"int{arr.dtype.itemsize * 8}")  # SampleFormat 2 is written
    tifffile.imwrite(path, iter(segs), shape=(h, w, bands), dtype=as_int, compression=8, predictor=2,
                     photometric="minisblack", planarconfig="contig", **kw)
    set_tags(path, Compression=34925, Predictor=predictor)
    if predictor == 3:
        set_tags(path, SampleFormat=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", rasterio.errors.NotGeoreferencedWarning)
        with rasterio.open(path) as src:
            np.testing.assert_array_equal(src.read(), arr)
    info = _native.geotiff_info(str(path))
    assert (info["compression"], info["predictor"]) == ("lzma", predictor)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", rasterio.errors.NotGeoreferencedWarning)
        np.testing.assert_array_equal(compare(path, overviews=0), arr)


def set_tags(path, **values):
    """Overwrites SHORT tags of the first image in place (every value of each). tifffile writes
    pre-encoded segments under codecs and predictors it knows without imagecodecs, so files are
    written as deflate (and floats as signed integers) first, then their tags set to the real ones."""
    with tifffile.TiffFile(path) as t:
        tags = t.pages[0].tags
        spots = [(tags[name].valueoffset, tags[name].count, v) for name, v in values.items()]
    with open(path, "r+b") as f:
        for at, count, v in spots:
            f.seek(at)
            f.write(v.to_bytes(2, "little") * count)


def set_compression(path, code):
    set_tags(path, Compression=code)


# ---------------------------------------------------------------------------------------------------
# JPEG with YCbCr, 12-bit JPEG


@pytest.mark.parametrize("layout", ["tiled", "striped"])
@pytest.mark.parametrize("quality", [75, 95])
def test_jpeg_ycbcr_close_to_gdal(tmp_path, layout, quality):
    # GDAL decodes YCbCr JPEG to RGB (JPEGCOLORMODE=RGB); zune-jpeg converts to RGB too. libjpeg's
    # "fancy" chroma upsampling and zune-jpeg's differ near colour edges by a few levels at most.
    need("jpeg", bands=3)
    arr = sample("uint8", bands=3, h=H, w=W)
    # With 2x2 chroma subsampling, strips are a multiple of 16 rows.
    prof = dict(TILED) if layout == "tiled" else dict(tiled=False, blockysize=32)
    path = write(tmp_path / "j.tif", arr, compress="jpeg", photometric="ycbcr", jpeg_quality=quality, **prof)
    info = _native.geotiff_info(str(path))
    assert (info["compression"], info["photometric"]) == ("jpeg", 6)
    ours = compare(path, tolerance=4)
    with rasterio.open(path) as src:
        assert np.abs(ours.astype(int) - src.read().astype(int)).mean() < 0.5


def test_twelve_bit_jpeg_is_not_implemented(tmp_path):
    if not gdal_writes("jpeg", dtype="uint16", nbits=12):
        pytest.skip("this GDAL has no 12-bit JPEG")
    arr = (sample("uint16", h=64, w=64) // 16).astype(np.uint16)
    path = write(tmp_path / "j12.tif", arr, overviews=(), compress="jpeg", nbits=12, **TILED)
    with pytest.raises(NotImplementedError, match="12-bit JPEG"):
        _native.geotiff_info(str(path))
        read(path, [(0, 0, 64, 64)])


# ---------------------------------------------------------------------------------------------------
# JPEG 2000: GDAL's GeoTIFF driver does not write it (libtiff has no JPEG 2000 codec), so the tiles are
# J2K codestreams written by GDAL's JP2OpenJPEG driver, put into a TIFF with TIFF Compression 34712 (as
# Aperio/Leica and imagecodecs write it). No overviews: no GDAL writer makes them for this codec.


def j2k_codestream(tile, lossless):
    bands, h, w = tile.shape
    opts = dict(QUALITY=100, REVERSIBLE="YES") if lossless else dict(QUALITY=20, REVERSIBLE="NO")
    with MemoryFile() as mf, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with mf.open(driver="JP2OpenJPEG", width=w, height=h, count=bands, dtype=tile.dtype, CODEC="J2K",
                     YCC="NO", **opts) as dst:
            dst.write(tile)
        return mf.read()


def gdal_decodes(codestream):
    with MemoryFile(codestream) as mf, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with mf.open() as src:
            return src.read()


def write_j2k_tiff(path, arr, tiled, lossless):
    """A tiled or striped TIFF whose segments are J2K codestreams; returns GDAL's decoding of them."""
    bands, h, w = arr.shape
    seg_w, seg_h = (64, 64) if tiled else (w, 40)
    segments, decoded = [], np.zeros_like(arr)
    for r in range(0, h, seg_h):
        for c in range(0, w, seg_w):
            part = arr[:, r:r + seg_h, c:c + seg_w]
            rows = part.shape[1] if not tiled else seg_h
            seg = np.zeros((bands, rows, seg_w), arr.dtype)
            seg[:, :part.shape[1], :part.shape[2]] = part
            code = j2k_codestream(seg, lossless)
            segments.append(code)
            decoded[:, r:r + seg_h, c:c + seg_w] = gdal_decodes(code)[:, :part.shape[1], :part.shape[2]]
    shape = (h, w, bands) if bands > 1 else (h, w)
    kw = dict(tile=(seg_h, seg_w)) if tiled else dict(rowsperstrip=seg_h)
    tifffile.imwrite(path, iter(segments), shape=shape, dtype=arr.dtype, compression=8,
                     photometric="rgb" if bands == 3 else "minisblack", planarconfig="contig", **kw)
    set_compression(path, 34712)
    return decoded


def need_jp2():
    if "JP2OpenJPEG" not in rasterio.drivers.raster_driver_extensions().values():
        pytest.skip("this rasterio's GDAL has no JP2OpenJPEG driver to write JPEG 2000")


@pytest.mark.parametrize("dtype,bands", [("uint8", 1), ("uint8", 3), ("uint16", 1), ("int16", 1), ("uint16", 2)])
@pytest.mark.parametrize("tiled", [True, False])
def test_jpeg2000_lossless(tmp_path, dtype, bands, tiled):
    need_jp2()
    arr = sample(dtype, bands=bands, h=150, w=170)
    path = tmp_path / "j2k.tif"
    decoded = write_j2k_tiff(path, arr, tiled, lossless=True)
    np.testing.assert_array_equal(decoded, arr)  # GDAL's decoding is lossless
    assert _native.geotiff_info(str(path))["compression"] == "jpeg2000"
    wins = windows_for(170, 150)
    for (x, y, w, h), ours in zip(wins, read(path, wins)):
        np.testing.assert_array_equal(ours, arr[:, y:y + h, x:x + w])


def test_jpeg2000_lossy_close_to_gdal(tmp_path):
    # The irreversible 9/7 wavelet in floating point: decoders may round a level apart.
    need_jp2()
    arr = sample("uint8", bands=3, h=150, w=170)
    path = tmp_path / "j2k.tif"
    decoded = write_j2k_tiff(path, arr, tiled=True, lossless=False)
    (ours,) = read(path, [(0, 0, 170, 150)])
    diff = np.abs(ours.astype(int) - decoded.astype(int))
    assert diff.max() <= 1 and diff.mean() < 0.1
    assert np.abs(decoded.astype(int) - arr.astype(int)).max() > 0  # really lossy


# ---------------------------------------------------------------------------------------------------
# Bad input


def test_unknown_codec_is_not_implemented_naming_it(tmp_path):
    arr = sample("uint8", h=64, w=64)
    path = write(tmp_path / "x.tif", arr, overviews=(), compress="deflate", **TILED)
    for code, name in [(50002, "jxl"), (34676, "34676")]:
        set_compression(path, code)
        assert _native.geotiff_info(str(path))["compression"] in (name, f"unknown({code})")
        with pytest.raises(NotImplementedError, match=rf"x\.tif.*{name}"):
            read(path, [(0, 0, 64, 64)])


def codec_files(tmp_path):
    """One small tiled file per codec this GDAL writes (JPEG 2000 where JP2OpenJPEG exists)."""
    rgb = sample("uint8", bands=3, h=96, w=96)
    f32 = sample("float32", h=96, w=96)
    cases = [("lerc", f32, dict(max_z_error=0)), ("lerc_deflate", f32, dict(max_z_error=0)),
             ("lerc_zstd", f32, dict(max_z_error=0)), ("lzma", f32, dict(predictor=3)),
             ("webp", rgb, dict(webp_lossless=True)), ("webp", rgb, dict(webp_level=60)),
             ("jpeg", rgb, dict(photometric="ycbcr"))]
    files = []
    for i, (compress, arr, opts) in enumerate(cases):
        if gdal_writes(compress, bands=arr.shape[0], dtype=arr.dtype):
            files.append(write(tmp_path / f"{compress}{i}.tif", arr, overviews=(), compress=compress,
                               tiled=True, blockxsize=32, blockysize=32, **opts))
    if "JP2OpenJPEG" in rasterio.drivers.raster_driver_extensions().values():
        write_j2k_tiff(tmp_path / "jpeg2000.tif", rgb, tiled=True, lossless=True)
        files.append(tmp_path / "jpeg2000.tif")
    return files


def segments(path):
    with tifffile.TiffFile(path) as t:
        return list(zip(t.pages[0].dataoffsets, t.pages[0].databytecounts))


def test_damaged_segments_raise_naming_file_and_segment(tmp_path):
    files = codec_files(tmp_path)
    assert files
    rng = np.random.default_rng(7)
    for path in files:
        data = bytearray(path.read_bytes())
        off, count = segments(path)[1]
        # Junk in place of segment 1's bytes: no codec takes it for its own format.
        data[off:off + count] = rng.integers(0, 256, count, dtype=np.uint8).tobytes()
        bad = path.with_name("bad-" + path.name)
        bad.write_bytes(bytes(data))
        with pytest.raises(CorruptDataError, match=rf"bad-{path.stem}\.tif.*segment 1 "):
            read(bad, [(0, 0, 96, 96)])
        # The other segments still read (segment 1 is the second tile of the first row).
        read(bad, [(0, 64, 32, 32)])


def test_garbled_and_truncated_segments_never_crash(tmp_path):
    # Bytes flipped inside a segment (some codecs have no checksum and decode them to other cells) and
    # segments cut short: each read gives cells or CorruptDataError, never a panic (which pytest would
    # report as an error: pyo3's PanicException is not an Exception).
    rng = np.random.default_rng(11)
    for path in codec_files(tmp_path):
        good = path.read_bytes()
        off, count = segments(path)[0]
        for trial in range(25):
            data = bytearray(good)
            if trial % 2:
                for at in rng.integers(off, off + count, 4):
                    data[at] ^= int(rng.integers(1, 256))
            else:
                cut = int(rng.integers(0, count))
                data[off + cut:off + count] = bytes(count - cut)
            bad = path.with_name("g-" + path.name)
            bad.write_bytes(bytes(data))
            try:
                (cells,) = read(bad, [(0, 0, 32, 32)])
                assert cells.shape[1:] == (32, 32)
            except CorruptDataError as e:
                assert "segment 0" in str(e)


def test_the_async_reader_decodes_every_codec(tmp_path):
    """geopyspark_rs.cog reads each codec's file to the cells of the synchronous reader (itself compared with
    GDAL above), and lossless ones to GDAL's own cells."""
    import asyncio

    from geopyspark_rs.cog import GeoTIFF

    async def cog_read(path):
        tif = await GeoTIFF.open(str(path))
        return (await tif.read()).data

    files = codec_files(tmp_path)
    assert files
    for path in files:
        ours = asyncio.run(cog_read(path))
        info = _native.geotiff_info(str(path))
        np.testing.assert_array_equal(ours, read(path, [(0, 0, info["width"], info["height"])])[0],
                                      err_msg=path.name)
        if path.name == "jpeg2000.tif":  # GDAL's GTiff driver has no JPEG 2000 codec
            continue
        if not any(k in path.name for k in ("webp5", "jpeg6")):  # the lossy cases
            with rasterio.open(path) as src:
                np.testing.assert_array_equal(ours, src.read(), err_msg=path.name)
