"""``geopyspark_rs.local``: GeoTrellis catalogs as NumPy without Spark — round trips for every cell type,
space-time layers and both backends, files byte-identical to ``gps.write``'s, mosaics that rasterio and
rioxarray read with the same cells and georeferencing as a GeoTIFF of the same data, GeoTrellis-written
catalogs read as Spark reads them, no JVM, and the same functions inside Spark tasks."""

import datetime
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from shapely.geometry import box

import geopyspark_rs as gps
import geopyspark_rs.local as gl
from geopyspark_rs import _native

rasterio = pytest.importorskip("rasterio")
from affine import Affine  # noqa: E402  (rasterio's dependency)

UTC = datetime.timezone.utc
DTYPES = ["uint8", "int8", "uint16", "int16", "int32", "float32", "float64"]


def _raster(dtype, bands=2, rows=300, cols=517, nodata=None, seed=0, origin=(500000.0, 4200000.0), cell=30.0):
    rng = np.random.default_rng(seed)
    if np.dtype(dtype).kind == "f":
        data = rng.normal(0, 100, (bands, rows, cols)).astype(dtype)
    else:
        info = np.iinfo(dtype)
        data = rng.integers(info.min, info.max, (bands, rows, cols), endpoint=True).astype(dtype)
    transform = Affine(cell, 0, origin[0], 0, -cell, origin[1])
    return gl.Raster(data, transform, 32633, nodata)


def _tree(root: Path) -> dict:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


# --- round trips -------------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", DTYPES)
def test_raster_round_trip_every_cell_type(catalog_at, dtype):
    uri, options = catalog_at
    nodata = None if dtype == "int8" else (np.nan if dtype.startswith("float") else 7)
    raster = _raster(dtype, nodata=nodata, seed=len(dtype))
    gl.write(uri, "r", raster, layout=gps.LocalLayout(tile_cols=128, tile_rows=96), zoom_level=2, options=options)
    md = gl.read_layer_metadata(uri, "r", 2) if options is None else None
    if md is not None:
        assert md.cell_type == raster.cell_type
        assert md.tile_layout == gps.TileLayout(5, 4, 128, 96)
    back = gl.read(uri, "r", 2, options=options)
    # The mosaic covers whole tiles: the raster is its top-left corner, the rest NoData.
    np.testing.assert_array_equal(back.data[:, :300, :517], raster.data)
    assert back.data.shape == (2, 4 * 96, 5 * 128)
    if nodata is not None:
        pad = back.data[:, 300:, :]
        assert np.isnan(pad).all() if np.isnan(nodata) else (pad == nodata).all()
    assert back.transform == raster.transform
    assert back.crs == raster.crs and back.crs.to_epsg() == 32633
    # Cropped to the raster's own extent, it is the raster.
    exact = gl.read(uri, "r", 2, query_geom=gps.Extent(*raster.extent), options=options)
    np.testing.assert_array_equal(exact.data, raster.data)
    assert exact.transform == raster.transform and exact.extent == raster.extent


def test_bit_and_every_geotrellis_cell_type_as_tiles(tmp_path):
    """Layers of tiles (not rasters) of GeoTrellis' cell types, NoData variants included."""
    for i, ct in enumerate(["bool", "int8ud7", "uint8", "uint8raw", "int16", "uint16ud65535", "int32",
                            "int32ud-1", "float32", "float32ud-9999.0", "float64raw"]):
        base, _, dtype = _native.cell_type_info(ct)
        rng = np.random.default_rng(i)
        tiles = {}
        for c in range(3):
            for r in range(2):
                cells = (rng.integers(0, 2, (1, 8, 8)) if base == "bool" else rng.normal(0, 50, (1, 8, 8)))
                tiles[gps.SpatialKey(c, r)] = gps.Tile(cells.astype(dtype), ct, None)
        extent = gps.Extent(0.0, 0.0, 3.0, 2.0)
        md = gps.Metadata(gps.Bounds(gps.SpatialKey(0, 0), gps.SpatialKey(2, 1)), 4326, ct, extent,
                          gps.LayoutDefinition(extent, gps.TileLayout(3, 2, 8, 8)))
        gl.write(str(tmp_path), f"t{i}", gl.Layer(gps.LayerType.SPATIAL, tiles, md, 0))
        got = gl.query(str(tmp_path), f"t{i}", 0)
        assert set(got) == set(tiles)
        for k, t in tiles.items():
            np.testing.assert_array_equal(got[k].cells, t.cells, err_msg=f"{ct} {k}")
        assert gl.read_layer_metadata(str(tmp_path), f"t{i}", 0) == md


def _spacetime_layer(days=(1, 2, 5), seed=0):
    rng = np.random.default_rng(seed)
    tiles = {}
    instants = [datetime.datetime(2020, 1, d) for d in days]
    for t in instants:
        for c in range(4):
            for r in range(3):
                tiles[gps.SpaceTimeKey(c, r, t)] = gps.Tile(rng.normal(0, 1, (2, 16, 16)).astype("float32"),
                                                            "FLOAT", np.nan)
    extent = gps.Extent(-10.0, 40.0, -6.0, 43.0)
    md = gps.Metadata(gps.Bounds(gps.SpaceTimeKey(0, 0, instants[0]), gps.SpaceTimeKey(3, 2, instants[-1])),
                      4326, "float32", extent, gps.LayoutDefinition(extent, gps.TileLayout(4, 3, 16, 16)))
    return gl.Layer(gps.LayerType.SPACETIME, tiles, md, 5), tiles, instants


def test_spacetime_round_trip_and_time_queries(catalog_at):
    uri, options = catalog_at
    layer, tiles, instants = _spacetime_layer()
    gl.write(uri, "st", layer, time_unit=gps.TimeUnit.DAYS, options=options)
    got = gl.query(uri, "st", 5, options=options)
    assert set(got) == set(tiles)
    for k, t in tiles.items():
        np.testing.assert_array_equal(got[k].cells, t.cells)
    one = gl.query(uri, "st", 5, time_intervals=[instants[1]], options=options)
    assert {k.instant for k in one} == {instants[1]} and len(one) == 12
    # One instant mosaics; several are refused with a clear message.
    raster = gl.read(uri, "st", 5, time_intervals=[instants[2]], options=options)
    assert raster.data.shape == (2, 48, 64)
    np.testing.assert_array_equal(raster.data[:, 16:32, 32:48], tiles[gps.SpaceTimeKey(2, 1, instants[2])].cells)
    with pytest.raises(ValueError, match="3 instants"):
        gl.read(uri, "st", 5, options=options)


def test_region_reads_by_extent_polygon_key_range_and_reprojected_geometry(tmp_path):
    raster = _raster("int16", bands=1, rows=700, cols=900, nodata=-1)
    gl.write(str(tmp_path), "reg", raster, layout=gps.LocalLayout(100), zoom_level=0)
    a, c, f = 30.0, 500000.0, 4200000.0
    # A polygon's bounding box, widened to whole cells: rows 101..349, cols 250..600.
    poly = box(c + 250.5 * a, f - 349.2 * a, c + 600 * a, f - 101 * a).buffer(0)
    got = gl.read(str(tmp_path), "reg", 0, query_geom=poly)
    np.testing.assert_array_equal(got.data, raster.data[:, 101:350, 250:600])
    assert got.transform == Affine(a, 0, c + 250 * a, 0, -a, f - 101 * a)
    # The same region given in EPSG:4326.
    import pyproj

    to_ll = pyproj.Transformer.from_crs(32633, 4326, always_xy=True)
    ll = box(*to_ll.transform_bounds(*box(c + 300 * a, f - 300 * a, c + 400 * a, f - 200 * a).bounds))
    got = gl.read(str(tmp_path), "reg", 0, query_geom=ll, query_proj=4326)
    x0, y0 = got.transform.c, got.transform.f
    col0, row0 = round((x0 - c) / a), round((f - y0) / a)
    want = raster.data[:, row0:row0 + got.shape[1], col0:col0 + got.shape[2]]
    # The bounding box reaches corners of tiles the (curved) polygon does not meet: those are NoData.
    differ = got.data != want
    assert differ.mean() < 0.01 and (got.data[differ] == -1).all()
    assert col0 <= 300 and row0 <= 200 and col0 + got.shape[2] >= 400 and row0 + got.shape[1] >= 300
    tiles = gl.query(str(tmp_path), "reg", 0, key_range=(2, 1, 3, 4))
    assert sorted((k.col, k.row) for k in tiles) == [(c_, r) for c_ in (2, 3) for r in (1, 2, 3, 4)]
    np.testing.assert_array_equal(tiles[gps.SpatialKey(3, 2)].cells, raster.data[:, 200:300, 300:400])
    block = gl.read(str(tmp_path), "reg", 0, key_range=(2, 1, 3, 4))
    np.testing.assert_array_equal(block.data, raster.data[:, 100:500, 200:400])
    with pytest.raises(TypeError, match="key_range"):
        gl.query(str(tmp_path), "reg", 0, key_range=(1, 2))
    with pytest.raises(ValueError, match="selects no tiles"):
        gl.read(str(tmp_path), "reg", 0, key_range=(50, 50, 60, 60))


# --- byte-identical to gps.write --------------------------------------------------------------------

def test_files_are_byte_identical_to_gps_write(spark, tmp_path):
    raster = _raster("uint16", bands=3, rows=333, cols=444, nodata=0)
    local_root, spark_root = tmp_path / "local", tmp_path / "spark"
    layer = gl.Layer.from_raster(raster, gps.LocalLayout(64), zoom_level=4)
    gl.write(str(local_root), "same", layer, index_strategy=gps.IndexingMethod.HILBERT)
    tiled = gps.TiledRasterLayer.from_numpy_tiles(gps.LayerType.SPATIAL, list(layer.tiles.items()),
                                                  layer.layer_metadata, zoom_level=4)
    gps.write(str(spark_root), "same", tiled, index_strategy=gps.IndexingMethod.HILBERT)
    want, got = _tree(spark_root), _tree(local_root)
    assert len(want) == 1 + 7 * 6
    assert got == want
    # Spark reads what the Spark-free writer wrote, and the Spark-free reader what Spark wrote.
    np.testing.assert_array_equal(gps.query(str(local_root), "same", 4).stitch().cells[:, :333, :444],
                                  raster.data)
    # ... and the Spark-free cut equals Spark's tile_to_layout of the same raster.
    spark_tiles = gps.RasterLayer.from_numpy_rdd(
        gps.LayerType.SPATIAL, spark.sparkContext.parallelize(
            [(gps.ProjectedExtent(gps.Extent(*raster.extent), epsg=32633), raster.tile)])
    ).tile_to_layout(gps.LocalLayout(64))
    assert spark_tiles.layer_metadata == layer.layer_metadata
    for k, t in spark_tiles.to_numpy_tiles():
        np.testing.assert_array_equal(t.cells, layer.tiles[k].cells)


def test_spacetime_files_are_byte_identical_to_gps_write(spark, tmp_path):
    layer, tiles, _ = _spacetime_layer(seed=3)
    gl.write(str(tmp_path / "local"), "st", layer, time_unit=gps.TimeUnit.DAYS)
    tiled = gps.TiledRasterLayer.from_numpy_tiles(gps.LayerType.SPACETIME, list(tiles.items()),
                                                  layer.layer_metadata, zoom_level=5)
    gps.write(str(tmp_path / "spark"), "st", tiled, time_unit=gps.TimeUnit.DAYS)
    assert _tree(tmp_path / "local") == _tree(tmp_path / "spark")


def test_write_refuses_existing_layers_bad_names_and_bad_input(tmp_path):
    raster = _raster("uint8", bands=1, rows=50, cols=50)
    gl.write(str(tmp_path), "x", raster)
    with pytest.raises(gps.errors.LayerExistsError, match="already exists"):
        gl.write(str(tmp_path), "x", raster)
    with pytest.raises(FileExistsError):
        gl.write(str(tmp_path), "x", raster)
    with pytest.raises(ValueError, match="layer name"):
        gl.write(str(tmp_path), "../x", raster)
    with pytest.raises(TypeError, match="Layer or Raster"):
        gl.write(str(tmp_path), "y", np.zeros((4, 4)))
    with pytest.raises(ValueError, match="north-up"):
        gl.Raster(np.zeros((4, 4)), Affine(1, 0.5, 0, 0, -1, 0))
    with pytest.raises(ValueError, match="does not fit"):
        gl.Raster(np.zeros((4, 4), "uint8"), Affine(1, 0, 0, 0, -1, 0), nodata=-5)
    with pytest.raises(gps.errors.LayerNotFoundError):
        gl.query(str(tmp_path), "nope", 0)
    with pytest.raises(TypeError, match="options"):
        gl.query(str(tmp_path), "x", 0, options=["a"])
    assert gl.read_value(str(tmp_path), "x", 0, 0, 0) is not None
    assert gl.read_value(str(tmp_path), "x", 0, 9, 9) is None


# --- the mosaic in rasterio and xarray --------------------------------------------------------------

def test_rasterio_reads_the_mosaic_as_a_geotiff_of_the_same_data(tmp_path):
    raster = _raster("float32", bands=2, rows=256, cols=300, nodata=-9999.0)
    gl.write(str(tmp_path), "m", raster, layout=gps.LocalLayout(100))
    mosaic = gl.read(str(tmp_path), "m", 0, query_geom=gps.Extent(*raster.extent))
    reference = tmp_path / "reference.tif"
    with rasterio.open(reference, "w", driver="GTiff", width=300, height=256, count=2, dtype="float32",
                       crs="EPSG:32633", transform=raster.transform, nodata=-9999.0) as dst:
        dst.write(raster.data)
    written = tmp_path / "mosaic.tif"
    with rasterio.open(written, "w", **mosaic.profile) as dst:
        dst.write(mosaic.data)
    with rasterio.open(reference) as want:
        for source in (rasterio.open(written), mosaic.to_memory_file().open()):
            with source as got:
                assert got.crs == want.crs and got.transform == want.transform and got.nodata == want.nodata
                assert (got.width, got.height, got.count, got.dtypes) == (want.width, want.height, want.count,
                                                                           want.dtypes)
                np.testing.assert_array_equal(got.read(), want.read())
                assert got.bounds == want.bounds


def test_xarray_has_the_crs_and_transform_rioxarray_expects(spark, tmp_path):
    rioxarray = pytest.importorskip("rioxarray")  # noqa: F841  (registers .rio)
    raster = _raster("int32", bands=1, rows=120, cols=90, nodata=-1)
    gl.write(str(tmp_path), "x", raster, layout=gps.LocalLayout(30))
    da = gl.read(str(tmp_path), "x", 0, query_geom=gps.Extent(*raster.extent)).to_xarray()
    assert da.dims == ("band", "y", "x")
    assert da.rio.crs.to_epsg() == 32633
    assert da.rio.transform() == raster.transform
    assert da.rio.nodata == -1
    np.testing.assert_array_equal(da.values, raster.data)
    # stitch() of a Spark layer converts the same way.
    stitched = gps.query(str(tmp_path), "x", 0).stitch()
    assert isinstance(stitched, gps.Tile)
    sda = stitched.to_xarray()
    assert sda.rio.crs.to_epsg() == 32633 and sda.rio.transform() == raster.transform
    np.testing.assert_array_equal(sda.values, da.values)
    assert stitched.to_raster().extent == gps.Extent(*raster.extent)


# --- GeoTrellis-written catalogs ---------------------------------------------------------------------

def test_reads_geotrellis_written_catalogs_as_spark_does(spark, shared_data):
    for root, name in [("geotrellis-catalog-2x", "landsat"), ("geotrellis-catalog-3x", "float32_nan"),
                       ("geotrellis-catalog-3x", "multiband_uint8"), ("geotrellis-catalog-3x", "spacetime_zorder_days")]:
        uri = str(shared_data / root)
        want = dict(gps.query(uri, name, 0).to_numpy_tiles())
        got = gl.query(uri, name, 0)
        assert set(got) == set(want), name
        for k, t in want.items():
            np.testing.assert_array_equal(got[k].cells, t.cells, err_msg=f"{name} {k}")
            assert (got[k].cell_type, str(got[k].no_data_value)) == (t.cell_type, str(t.no_data_value))
    landsat = gl.read(str(shared_data / "geotrellis-catalog-2x"), "landsat", 0)
    np.testing.assert_array_equal(landsat.data, gps.query(str(shared_data / "geotrellis-catalog-2x"),
                                                          "landsat", 0).stitch().cells)


def test_reads_a_geotrellis_cog_layer_as_spark_does(spark, shared_data):
    uri = str(shared_data / "geotrellis-cog-layer")
    layer = gps.query(uri, "stitch-layer", 9)
    want = dict(layer.to_numpy_tiles())
    got = gl.query(uri, "stitch-layer", 9)
    assert set(got) == set(want) and len(got) > 0
    for k, t in want.items():
        np.testing.assert_array_equal(got[k].cells, t.cells)


# --- no JVM, and inside Spark ------------------------------------------------------------------------

def test_runs_without_java(tmp_path):
    """Read, mosaic and write in a process where no JVM could start (no java on PATH, no JAVA_HOME)."""
    script = textwrap.dedent(f"""
        import numpy as np, sys
        import geopyspark_rs.local as gl
        from affine import Affine
        r = gl.Raster(np.arange(5000, dtype="uint16").reshape(50, 100), Affine(1, 0, 0, 0, -1, 50), 3857)
        gl.write({str(tmp_path)!r}, "nojvm", r)
        back = gl.read({str(tmp_path)!r}, "nojvm", 0)
        assert (back.data[0, :50, :100] == r.data[0]).all()
        from pyspark import SparkContext
        assert SparkContext._active_spark_context is None
        print("ok")
    """)
    env = {k: v for k, v in os.environ.items() if k not in ("JAVA_HOME", "SPARK_HOME")}
    env["PATH"] = os.path.dirname(sys.executable)
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


def test_inside_spark_tasks_over_an_s3_catalog(spark, s3_server):
    """Executors read regions and write layers with the Spark-free functions, over the loopback S3 server."""
    bucket = s3_server.create_bucket("local-in-spark")
    uri, options = f"s3://{bucket}/cat", s3_server.options()
    raster = _raster("float32", bands=1, rows=512, cols=512, nodata=np.nan)
    gl.write(uri, "src", raster, layout=gps.LocalLayout(128), options=options)

    import pandas as pd

    def per_region(frames):
        import geopyspark_rs.local as gl_

        for df in frames:
            rows = []
            for region, c0, r0 in zip(df["region"], df["col"], df["row"]):
                part = gl_.read(uri, "src", 0, key_range=(c0, r0, c0, r0), options=options)
                rows.append((region, float(np.nanmean(part.data)), part.transform.c))
                # Each task writes its region as a layer of its own.
                gl_.write(uri, f"out{region}", part, layout=gps.LocalLayout(64), options=options)
            yield pd.DataFrame(rows, columns=["region", "mean", "x0"])

    regions = spark.createDataFrame([(i, i % 4, i // 4) for i in range(8)], "region int, col int, row int")
    got = sorted(regions.repartition(4).mapInPandas(per_region, "region int, mean double, x0 double").collect())
    assert len(got) == 8
    for region, mean, x0 in got:
        c0, r0 = region % 4, region // 4
        cells = raster.data[0, r0 * 128:(r0 + 1) * 128, c0 * 128:(c0 + 1) * 128]
        assert mean == pytest.approx(float(np.mean(cells)), rel=1e-6)
        assert x0 == raster.extent.xmin + c0 * 128 * 30.0
        back = gl.read(uri, f"out{region}", 0, options=options)
        np.testing.assert_array_equal(back.data, cells[None])


def test_the_example_runs_in_python_and_on_executors(spark, tmp_path):
    import importlib.util

    path = Path(__file__).resolve().parents[1] / "examples" / "local_catalog.py"
    spec = importlib.util.spec_from_file_location("local_catalog_example", path)
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    observed = example.write_and_read(str(tmp_path))
    assert observed["region_shape"] == [1, 500, 500]
    assert observed["transform"] == [10.0, 0.0, 405_000.0, 0.0, -10.0, 5_090_000.0]
    assert observed["rasterio_bounds"] == [405_000.0, 5_085_000.0, 410_000.0, 5_090_000.0]
    means = example.region_means_on_executors(spark, str(tmp_path))
    assert len(means) == 64
    tiles = gl.query(str(tmp_path), "dem", 0)
    for (c, r), mean in means.items():
        assert mean == pytest.approx(float(np.nanmean(tiles[gps.SpatialKey(c, r)].cells)), rel=1e-9)


def test_importing_stays_cheap():
    """The Spark-free modules import none of the optional heavy packages until used, and start no JVM."""
    script = textwrap.dedent("""
        import sys, time
        t = time.perf_counter()
        import geopyspark_rs, geopyspark_rs.local, geopyspark_rs.cog
        took = time.perf_counter() - t
        heavy = {"rasterio", "xarray", "rioxarray", "pyproj", "obstore", "scipy", "matplotlib", "pyogrio"}
        print(sorted(heavy & {m.split(".")[0] for m in sys.modules}), took)
        from pyspark import SparkContext
        assert SparkContext._active_spark_context is None
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    loaded, took = out.stdout.rsplit(" ", 1)
    assert loaded == "[]"
    assert float(took) < 5.0  # about 0.3 s here; generous for loaded CI machines


METADATA_REGRESSIONS = Path(__file__).resolve().parents[1] / "rust" / "fuzz" / "regressions" / "metadata_json"


@pytest.mark.parametrize("name", sorted(p.name for p in METADATA_REGRESSIONS.iterdir()))
def test_fuzzed_metadata_attributes_raise_clear_errors(tmp_path, name):
    """The inputs the metadata_json fuzz target found (a KeyError, an AttributeError and a KeyError deep in
    the query plan before) now raise a ValueError naming the attribute file."""
    data = (METADATA_REGRESSIONS / name).read_bytes()
    attribute = tmp_path / "attributes" / "layer__.__0__.__metadata.json"
    attribute.parent.mkdir()
    attribute.write_bytes(data)
    with pytest.raises(ValueError, match="layer__.__0__.__metadata.json"):
        gl.read_layer_metadata(str(tmp_path), "layer", 0)
        gl.query(str(tmp_path), "layer", 0)
