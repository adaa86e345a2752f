"""The async GeoTIFF/COG reader (geopyspark_rs.cog) against rasterio: real files of ../shared/data/geotiff and
generated COGs (overviews, NoData, internal masks, each codec we decode), from local files, the loopback S3
server and obstore stores; bad input; concurrency and cancellation; the shipped type hints (mypy)."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import rasterio
from rasterio.windows import Window as RioWindow

from geopyspark_rs.cog import GeoTIFF, Window, WindowError
from geopyspark_rs.errors import CorruptDataError

ROOT = Path(__file__).resolve().parents[1]


def run(coro):
    return asyncio.run(coro)


def rio_window(w: Window) -> RioWindow:
    return RioWindow(w.col_off, w.row_off, w.width, w.height)


def sample_windows(width: int, height: int) -> list[Window]:
    """The whole image, a corner, an interior window crossing tile borders and a 1-pixel window."""
    wins = [Window(0, 0, width, height), Window(0, 0, min(width, 37), min(height, 23))]
    if width > 8 and height > 8:
        w, h = max(1, width // 3), max(1, height // 3)
        wins.append(Window(width // 2 - w // 2, height // 2 - h // 2, w, h))
        wins.append(Window(width - 1, height - 1, 1, 1))
    return wins


def assert_same_as_rasterio(path, image, windows, overview_level=None, atol=0):
    """Cells, mask and georeferencing of ``image`` (ours) equal rasterio's reading of ``path``."""
    kwargs = {} if overview_level is None else {"overview_level": overview_level}
    arrays = run(_gather(image, windows))
    with rasterio.open(path, **kwargs) as ds:
        assert (image.width, image.height, image.count) == (ds.width, ds.height, ds.count)
        assert image.dtype == np.dtype(ds.dtypes[0])
        assert image.transform.almost_equals(ds.transform, precision=1e-9)
        for w, arr in zip(windows, arrays):
            ref = ds.read(window=rio_window(w), masked=True)
            assert arr.shape == ref.shape
            if atol:
                diff = np.abs(arr.data.astype(float) - ref.data.astype(float))
                assert diff.max() <= atol and diff.mean() < 0.5, (w, diff.max(), diff.mean())
            else:
                np.testing.assert_array_equal(arr.data, ref.data, err_msg=f"{path} {w}")
            np.testing.assert_array_equal(~arr.mask, np.ma.getmaskarray(ref), err_msg=f"mask of {path} {w}")
            assert arr.transform.almost_equals(ds.window_transform(rio_window(w)), precision=1e-9)


async def _gather(image, windows):
    return await asyncio.gather(*(image.read(w) for w in windows))


# ---------------------------------------------------------------------------------------------- real files


def shared_geotiffs():
    from conftest import SHARED_DATA

    folder = SHARED_DATA / "geotiff"
    return sorted(p for p in folder.rglob("*") if p.suffix in (".tif", ".tiff")) if folder.is_dir() else []


@pytest.mark.parametrize("path", shared_geotiffs() or [None], ids=lambda p: p.name if p else "none")
def test_shared_geotiffs_match_rasterio(shared_data, path):
    if path is None:
        pytest.skip("no GeoTIFFs in ../shared/data/geotiff")
    tif = run(GeoTIFF.open(str(path)))
    with rasterio.open(path) as ds:
        assert tif.nodata == ds.nodata
        assert tif.res == pytest.approx(ds.res)
        assert tuple(tif.bounds) == pytest.approx(tuple(ds.bounds))
        if ds.crs is not None and ds.crs.to_epsg() is not None:
            assert tif.crs is not None and tif.crs.to_epsg() == ds.crs.to_epsg()
        n_overviews = len(ds.overviews(1))
    windows = sample_windows(tif.width, tif.height)
    if tif.width * tif.height > 4_000_000:  # nodata-row.tif: 78 Mpix; bands of rows are enough
        windows = [Window(0, 0, tif.width, 300), Window(tif.width // 3, tif.height // 2, 1000, 700)]
    atol = 4 if tif.compression == "jpeg" else 0
    try:
        with rasterio.open(path) as ds:
            ds.read()
    except rasterio.errors.RasterioError:
        # GDAL refuses a corrupt segment (jpeg-test-deflate-small.tif: a strip's zlib stream breaks off):
        # so do we, naming the file and the segment.
        with pytest.raises(CorruptDataError, match=rf"{path.name}.*segment \d+"):
            run(tif.read())
        return
    assert_same_as_rasterio(path, tif, windows, atol=atol)
    assert len(tif.overviews) == n_overviews
    for k, ov in enumerate(tif.overviews):
        assert_same_as_rasterio(path, ov, sample_windows(ov.width, ov.height), overview_level=k, atol=atol)


# ----------------------------------------------------------------------------------------- generated COGs

CODECS = ["deflate", "lzw", "zstd", "jpeg", "packbits", "none"]


def make_cog(path: Path, *, codec="deflate", dtype="uint16", bands=2, nodata=None, mask=False, size=(1100, 900),
             blocksize=256, overviews=(2, 4), predictor=None, interleave="pixel"):
    """A tiled GeoTIFF with internal overviews (and an internal mask) written by GDAL through rasterio."""
    width, height = size
    rng = np.random.default_rng(len(str(path)))
    y, x = np.mgrid[0:height, 0:width]
    base = (np.sin(x / 37.0) * np.cos(y / 53.0) * 100 + 110).astype("float64")
    data = np.stack([base + 5 * b + rng.normal(0, 2, base.shape) for b in range(bands)])
    data = np.clip(data, 1, 250).astype(dtype) if np.dtype(dtype).kind in "ui" else data.astype(dtype)
    if nodata is not None:
        data[:, 100:160, 200:300] = nodata
    profile = dict(driver="GTiff", width=width, height=height, count=bands, dtype=dtype, crs="EPSG:32631",
                   transform=rasterio.transform.from_origin(400000, 5600000, 30, 30), tiled=True,
                   blockxsize=blocksize, blockysize=blocksize, compress=codec, nodata=nodata, interleave=interleave)
    if predictor:
        profile["predictor"] = predictor
    if codec == "jpeg" and bands == 3:
        profile["photometric"] = "ycbcr"
    with rasterio.Env(GDAL_TIFF_INTERNAL_MASK=True, GDAL_TIFF_OVR_BLOCKSIZE=blocksize):
        with rasterio.open(path, "w", **profile) as ds:
            ds.write(data)
            if mask:
                m = np.full((height, width), 255, np.uint8)
                m[300:500, :400] = 0
                m[::7, ::5] = 0
                ds.write_mask(m)
            if overviews:
                ds.build_overviews(list(overviews), rasterio.enums.Resampling.average)
    return path


@pytest.mark.parametrize("codec", CODECS)
def test_generated_cog_per_codec(tmp_path, codec):
    dtype = "uint8" if codec == "jpeg" else "int16"
    path = make_cog(tmp_path / f"{codec}.tif", codec=codec, dtype=dtype, bands=3 if codec == "jpeg" else 2,
                    nodata=None if codec == "jpeg" else -7, mask=codec == "jpeg")
    tif = run(GeoTIFF.open(str(path)))
    assert tif.compression == codec
    assert len(tif.overviews) == 2
    atol = 0
    # GDAL's libjpeg-turbo and our zune-jpeg upsample chroma and convert YCbCr to RGB slightly differently.
    if codec == "jpeg":
        atol = 4
    assert_same_as_rasterio(path, tif, sample_windows(tif.width, tif.height), atol=atol)
    for k, ov in enumerate(tif.overviews):
        assert_same_as_rasterio(path, ov, sample_windows(ov.width, ov.height), overview_level=k, atol=atol)


@pytest.mark.parametrize(
    "dtype,nodata,predictor",
    [("uint8", 0, None), ("uint16", 65535, 2), ("int32", -9999, 2), ("uint32", None, None),
     ("float32", float("nan"), 3), ("float64", -1e30, 3), ("int8", -128, None)],
)
def test_generated_cog_dtypes_and_nodata(tmp_path, dtype, nodata, predictor):
    path = make_cog(tmp_path / "t.tif", dtype=dtype, nodata=nodata, predictor=predictor, bands=1)
    tif = run(GeoTIFF.open(str(path)))
    if nodata is None:
        assert tif.nodata is None
    elif np.isnan(nodata):
        assert tif.nodata is not None and np.isnan(tif.nodata)
    else:
        assert tif.nodata == nodata
    assert_same_as_rasterio(path, tif, sample_windows(tif.width, tif.height))
    arr = run(tif.read(Window(200, 100, 100, 60)))
    if nodata is not None:
        assert not arr.mask.any(), "the NoData block is masked"
        assert arr.as_masked().mask.all()
    else:
        assert arr.mask.all()


def test_internal_masks_of_images_and_overviews(tmp_path):
    path = make_cog(tmp_path / "m.tif", dtype="uint8", bands=3, mask=True, nodata=None)
    tif = run(GeoTIFF.open(str(path)))
    assert tif.has_mask and all(ov.has_mask for ov in tif.overviews)
    assert_same_as_rasterio(path, tif, sample_windows(tif.width, tif.height))
    for k, ov in enumerate(tif.overviews):
        assert_same_as_rasterio(path, ov, sample_windows(ov.width, ov.height), overview_level=k)
    w = Window(350, 250, 300, 300)
    mask = run(tif.read_mask(w))
    with rasterio.open(path) as ds:
        np.testing.assert_array_equal(mask, ds.read_masks(1, window=rio_window(w)) > 0)
    assert mask.dtype == np.bool_ and not mask.all() and mask.any()


def test_band_selection_and_planar_files(tmp_path):
    for interleave in ("pixel", "band"):
        path = make_cog(tmp_path / f"{interleave}.tif", dtype="uint16", bands=4, interleave=interleave,
                        overviews=())
        tif = run(GeoTIFF.open(str(path)))
        w = Window(100, 200, 513, 300)
        arr = run(tif.read(w, bands=[3, 0]))
        one = run(tif.read(w, bands=2))
        with rasterio.open(path) as ds:
            np.testing.assert_array_equal(arr.data, ds.read([4, 1], window=rio_window(w)))
            np.testing.assert_array_equal(one.data, ds.read([3], window=rio_window(w)))


def test_striped_files_and_one_bit(tmp_path):
    path = tmp_path / "strips.tif"
    data = (np.arange(300 * 200) % 2).astype("uint8").reshape(1, 200, 300)
    with rasterio.open(path, "w", driver="GTiff", width=300, height=200, count=1, dtype="uint8", nbits=1,
                       compress="deflate") as ds:
        ds.write(data)
    tif = run(GeoTIFF.open(str(path)))
    assert not tif.is_tiled and tif.dtype == np.uint8
    assert_same_as_rasterio(path, tif, sample_windows(300, 200))


# ------------------------------------------------------------------------------------------- storage


@pytest.fixture(scope="module")
def cog_path(tmp_path_factory):
    return make_cog(tmp_path_factory.mktemp("cog") / "s3.tif", dtype="float32", bands=2, nodata=-9999.0, mask=False)


def test_uris_and_file_scheme(cog_path):
    for uri in (str(cog_path), f"file://{cog_path}"):
        tif = run(GeoTIFF.open(uri))
        assert_same_as_rasterio(cog_path, tif, sample_windows(tif.width, tif.height))


def test_s3_uri_and_obstore_s3_store(s3_server, cog_path):
    bucket = s3_server.create_bucket("cog-reader")
    s3_server.client().upload_file(str(cog_path), bucket, "dir/s3.tif")
    tif = run(GeoTIFF.open(f"s3://{bucket}/dir/s3.tif", options=s3_server.options()))
    windows = sample_windows(tif.width, tif.height)
    assert_same_as_rasterio(cog_path, tif, windows)
    assert_same_as_rasterio(cog_path, tif.overviews[1], sample_windows(*tif.overviews[1].shape[::-1]),
                            overview_level=1)

    from obstore.store import S3Store

    opts = s3_server.options()
    store = S3Store(bucket, endpoint=opts["aws_endpoint"], access_key_id=opts["aws_access_key_id"],
                    secret_access_key=opts["aws_secret_access_key"], region=opts["aws_region"],
                    client_options={"allow_http": True})
    via_store = run(GeoTIFF.open("dir/s3.tif", store=store))
    assert_same_as_rasterio(cog_path, via_store, windows)

    with pytest.raises(FileNotFoundError, match="missing.tif"):
        run(GeoTIFF.open(f"s3://{bucket}/missing.tif", options=s3_server.options()))
    with pytest.raises(FileNotFoundError, match="missing.tif"):
        run(GeoTIFF.open("missing.tif", store=store))


def test_obstore_local_and_memory_stores(cog_path):
    from obstore.store import LocalStore, MemoryStore

    local = run(GeoTIFF.open(cog_path.name, store=LocalStore(str(cog_path.parent))))
    assert_same_as_rasterio(cog_path, local, sample_windows(local.width, local.height))
    mem = MemoryStore()
    mem.put("a/b.tif", cog_path.read_bytes())
    tif = run(GeoTIFF.open("a/b.tif", store=mem))
    assert_same_as_rasterio(cog_path, tif.overviews[0], [Window(0, 0, 100, 100)], overview_level=0)


def test_header_beyond_the_first_bytes_through_a_store(tmp_path):
    """A striped file whose IFD lies at the end: the header takes several rounds of fetches."""
    from obstore.store import MemoryStore

    path = tmp_path / "tail.tif"
    with rasterio.open(path, "w", driver="GTiff", width=2000, height=1500, count=1, dtype="uint16") as ds:
        ds.write(np.arange(3_000_000, dtype="uint32").reshape(1, 1500, 2000).astype("uint16"))
    mem = MemoryStore()
    mem.put("tail.tif", path.read_bytes())
    tif = run(GeoTIFF.open("tail.tif", store=mem))
    assert_same_as_rasterio(path, tif, [Window(1990, 1400, 10, 100), Window(0, 0, 2000, 3)])


# ------------------------------------------------------------------------------------------- bad input


def test_missing_files_name_them(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothere.tif"):
        run(GeoTIFF.open(str(tmp_path / "nothere.tif")))


def test_not_a_tiff_and_truncated_files(tmp_path, cog_path):
    bad = tmp_path / "text.tif"
    bad.write_bytes(b"hello, not a tiff" * 10)
    with pytest.raises(CorruptDataError, match="text.tif"):
        run(GeoTIFF.open(str(bad)))
    from rasterio.shutil import copy

    copy(cog_path, tmp_path / "real_cog.tif", driver="COG", compress="deflate")  # header first, as COGs are
    full = (tmp_path / "real_cog.tif").read_bytes()
    cut = tmp_path / "cut.tif"
    cut.write_bytes(full[: len(full) * 2 // 3])
    tif = run(GeoTIFF.open(str(cut)))  # the header is whole
    with pytest.raises(CorruptDataError, match=r"cut\.tif.*truncated.*segment \d+"):
        run(tif.read())
    with pytest.raises(ValueError):  # CorruptDataError is a ValueError
        run(tif.read(Window(tif.width - 10, tif.height - 10, 10, 10)))


@pytest.mark.parametrize("dtype,predictor", [("uint16", None), ("int16", 2), ("float32", 3)])
def test_windows_wanting_the_top_rows_of_tiles_match_rasterio(tmp_path, dtype, predictor):
    """Windows ending high in a row of tiles decode only down to their last row (deflate stops there);
    with others sharing those tiles and ending lower, the tiles decode down to the lowest row any needs."""
    path = make_cog(tmp_path / "top.tif", dtype=dtype, predictor=predictor, bands=1, overviews=())
    tif = run(GeoTIFF.open(str(path)))
    windows = [Window(3, 256, 300, 1), Window(100, 256, 40, 90), Window(300, 300, 500, 100),
               Window(0, 500, 700, 20), Window(260, 510, 10, 140), Window(512, 768, 256, 132)]
    assert_same_as_rasterio(path, tif, windows)
    for w in windows:  # alone, each decodes only as far as it needs
        assert_same_as_rasterio(path, tif, [w])


def test_corrupt_segment_names_file_and_segment(tmp_path):
    import tifffile

    path = make_cog(tmp_path / "garbled.tif", dtype="uint16", bands=1, overviews=())
    page = tifffile.TiffFile(path).pages[0]
    offset, count = page.dataoffsets[5], page.databytecounts[5]
    raw = bytearray(path.read_bytes())
    raw[offset + 2 : offset + count] = bytes(count - 2)
    path.write_bytes(bytes(raw))
    tif = run(GeoTIFF.open(str(path)))
    tile = Window(0, 256, 256, 256)  # segment 5: 5 tiles across
    with pytest.raises(CorruptDataError, match=r"garbled\.tif.*segment 5 "):
        run(tif.read(tile))
    # A window wanting only its top rows inflates no further than them, and still finds the garbage.
    with pytest.raises(CorruptDataError, match=r"garbled\.tif.*segment 5 "):
        run(tif.read(Window(10, 256, 50, 12)))
    # Windows read together with a bad one still get their cells; only the bad one fails.
    good, bad = run(_gather_settled(tif, [Window(0, 0, 256, 256), tile]))
    assert isinstance(good.data, np.ndarray) and isinstance(bad, CorruptDataError)


async def _gather_settled(image, windows):
    return await asyncio.gather(*(image.read(w) for w in windows), return_exceptions=True)


def test_unsupported_codec_is_named(tmp_path):
    import tifffile

    path = make_cog(tmp_path / "odd.tif", dtype="uint16", bands=1, codec="lzw", overviews=())
    with tifffile.TiffFile(path) as t:
        tag = t.pages[0].tags["Compression"]
        at = tag.valueoffset
    raw = bytearray(path.read_bytes())
    raw[at : at + 2] = (50002).to_bytes(2, "little")  # JPEG XL, which we do not decode
    path.write_bytes(bytes(raw))
    tif = run(GeoTIFF.open(str(path)))
    assert tif.compression == "jxl"
    with pytest.raises(NotImplementedError, match="jxl"):
        run(tif.read(Window(0, 0, 10, 10)))


def test_windows_and_bands_out_of_bounds(cog_path):
    tif = run(GeoTIFF.open(str(cog_path)))
    for w in (Window(tif.width - 5, 0, 6, 1), Window(0, tif.height, 1, 1)):
        with pytest.raises(IndexError, match="lies outside"):
            run(tif.read(w))
        with pytest.raises(ValueError):
            run(tif.read(w))
    with pytest.raises(WindowError, match="overview 1"):
        run(tif.overviews[1].read(Window(0, 0, tif.overviews[1].width + 1, 1)))
    with pytest.raises(IndexError, match="band"):
        run(tif.read(Window(0, 0, 1, 1), bands=[2]))
    with pytest.raises(IndexError):
        run(tif.read(Window(0, 0, 1, 1), bands=[-1]))
    for args in ((-1, 0, 1, 1), (0, 0, 0, 5), (0, 0, 1.5, 1)):
        with pytest.raises(ValueError):
            Window(*args)
    with pytest.raises(TypeError):
        run(tif.read((0, 0, 1, 1)))  # type: ignore[arg-type]


# ------------------------------------------------------------------------------- concurrency, cancellation


def test_many_concurrent_windows_equal_sequential_reads(cog_path):
    async def main():
        tif = await GeoTIFF.open(str(cog_path))
        rng = np.random.default_rng(1)
        wins = [Window(int(x), int(y), 200, 150) for x, y in
                zip(rng.integers(0, tif.width - 200, 64), rng.integers(0, tif.height - 150, 64))]
        together = await asyncio.gather(*(tif.read(w) for w in wins))
        one_by_one = [await tif.read(w) for w in wins]
        return together, one_by_one

    together, one_by_one = run(main())
    for a, b in zip(together, one_by_one):
        np.testing.assert_array_equal(a.data, b.data)
        np.testing.assert_array_equal(a.mask, b.mask)


def test_cancelled_reads_neither_crash_nor_hang(cog_path):
    async def main():
        tif = await GeoTIFF.open(str(cog_path))
        wins = [Window(i * 20, i * 15, 300, 300) for i in range(24)]
        tasks = [asyncio.ensure_future(tif.read(w)) for w in wins]
        await asyncio.sleep(0)  # the batch is under way
        for t in tasks[::2]:
            t.cancel()
        done = await asyncio.gather(*tasks, return_exceptions=True)
        # Cancelled before they could start: a whole batch dropped.
        early = [asyncio.ensure_future(tif.read(w)) for w in wins[:4]]
        for t in early:
            t.cancel()
        await asyncio.gather(*early, return_exceptions=True)
        # Timeouts cancel reads mid-flight.
        try:
            await asyncio.wait_for(tif.read(), timeout=0.0001)
        except asyncio.TimeoutError:
            pass
        after = await tif.read(wins[1])
        return done, after, wins

    done, after, wins = asyncio.run(asyncio.wait_for(main(), timeout=120))
    for i, r in enumerate(done):
        if i % 2 == 0:
            assert isinstance(r, (asyncio.CancelledError,)) or hasattr(r, "data")
        else:
            assert hasattr(r, "data"), r
    with rasterio.open(cog_path) as ds:
        np.testing.assert_array_equal(after.data, ds.read(window=rio_window(wins[1])))


def test_the_event_loop_keeps_running_while_decoding(tmp_path):
    path = make_cog(tmp_path / "big.tif", dtype="float32", bands=1, size=(4096, 4096), overviews=(),
                    codec="deflate", predictor=3)

    async def main():
        tif = await GeoTIFF.open(str(path))
        ticks = 0
        stop = False

        async def ticker():
            nonlocal ticks
            while not stop:
                ticks += 1
                await asyncio.sleep(0.001)

        t = asyncio.ensure_future(ticker())
        await asyncio.sleep(0)
        before = ticks
        await tif.read()
        during = ticks - before
        stop = True
        await t
        return during

    assert run(main()) >= 2, "the loop was blocked while a 16 Mpix window was decoded"


# ------------------------------------------------------------------------------------------- packaging


def test_cog_package_does_not_import_pyspark():
    import re

    for f in (ROOT / "geopyspark_rs" / "cog").glob("*.py"):
        assert not re.search(r"^\s*(import|from) pyspark", f.read_text(), re.M), f
    init = (ROOT / "geopyspark_rs" / "__init__.py").read_text()
    assert "cog" not in init, "geopyspark_rs must not import the cog reader eagerly"


def test_type_hints_pass_mypy(tmp_path):
    pytest.importorskip("mypy")
    example = tmp_path / "typed_usage.py"
    example.write_text(textwrap.dedent("""
        import asyncio

        import numpy as np
        from affine import Affine
        from obstore.store import MemoryStore

        from geopyspark_rs.cog import GeoTIFF, Overview, RasterArray, Window


        async def main(path: str) -> float:
            tif: GeoTIFF = await GeoTIFF.open(path, options={"aws_region": "eu-west-1"})
            other = await GeoTIFF.open("a.tif", store=MemoryStore())
            ov: Overview = tif.overviews[0]
            arr: RasterArray = await ov.read(window=Window(0, 0, 10, 10), bands=[0])
            t: Affine = arr.transform
            masked: np.ma.MaskedArray = arr.as_masked()
            valid: np.ndarray = await tif.read_mask()
            rows, cols = tif.shape
            return float(masked.sum()) + t.a + rows + cols + valid.size + other.width + tif.res[0]


        asyncio.run(main("x.tif"))
    """))
    for target in (["--follow-imports=silent", str(example)], ["--follow-imports=silent", "-p", "geopyspark_rs.cog"]):
        proc = subprocess.run([sys.executable, "-m", "mypy", "--no-incremental", *target],
                              capture_output=True, text=True, cwd=ROOT)
        assert proc.returncode == 0 and "Success" in proc.stdout, proc.stdout + proc.stderr
    bad = tmp_path / "bad_usage.py"
    bad.write_text("from geopyspark_rs.cog import Window\nw: str = Window(0, 0, 1, 1).width\n")
    proc = subprocess.run([sys.executable, "-m", "mypy", "--no-incremental", "--follow-imports=silent", str(bad)],
                          capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 1 and "Incompatible types" in proc.stdout, proc.stdout
