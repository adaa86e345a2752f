"""geotiff.get, format("geotiff"), RasterLayer/TiledRasterLayer.read, to_geotiff_rdd and save_stitched on a
real SparkSession, compared with rasterio (GDAL) reading the same files."""

import datetime

import numpy as np
import pytest
import rasterio
from rasterio.windows import Window

import geopyspark_rs as gps
from geopyspark_rs.geotrellis.geotiff import plan as geotiff_plan


def _window_cells(path, window):
    col, row, cols, rows = window
    with rasterio.open(path) as src:
        return src.read(window=Window(col, row, cols, rows))


def _pixel_window(path, extent):
    """The pixel window of a tile's extent in the file (exact for windows on the pixel grid)."""
    with rasterio.open(path) as src:
        inv = ~src.transform
        c0, r0 = inv * (extent.xmin, extent.ymax)
        c1, r1 = inv * (extent.xmax, extent.ymin)
    return int(round(c0)), int(round(r0)), int(round(c1 - c0)), int(round(r1 - r0))


def _check_tiles_against_rasterio(records, path):
    for key, tile in records:
        window = _pixel_window(path, key.extent)
        expected = _window_cells(path, window)
        np.testing.assert_array_equal(tile.cells, expected)


def test_get_windows_follow_geotrellis_and_match_rasterio(spark, shared_data):
    path = str(shared_data / "geotiff" / "elevation.tif")  # 400×400, strips of 5 rows
    layer = gps.geotiff.get(gps.LayerType.SPATIAL, path, max_tile_size=256)
    records = layer.to_numpy_tiles()
    # GeoTrellis' listWindows: 200 columns (largest factor of 400 ≤ 256) × 255 rows (51 strips of 5)
    shapes = sorted({t.cells.shape for _, t in records})
    assert shapes == [(1, 145, 200), (1, 255, 200)]
    assert len(records) == 4
    _check_tiles_against_rasterio(records, path)
    key = records[0][0]
    assert key.epsg == 3857


def test_get_whole_files_directory_glob_and_list(spark, shared_data):
    folder = shared_data / "geotiff" / "one-month-tiles"
    by_dir = gps.geotiff.get("spatial", str(folder), max_tile_size=None)
    assert by_dir.count() == 6
    by_glob = gps.geotiff.get("spatial", str(folder / "*_0_*.tif"), max_tile_size=None)
    assert by_glob.count() == 3
    files = sorted(str(p) for p in folder.glob("*.tif"))[:2]
    by_list = gps.geotiff.get("spatial", ["file://" + files[0], files[1]], max_tile_size=None)
    records = by_list.to_numpy_tiles()
    assert len(records) == 2
    for (_, tile) in records:
        assert tile.cells.shape == (1, 512, 512)
        assert tile.no_data_value == pytest.approx(1e20, rel=1e-6)


def test_get_spacetime_reads_the_time_tag(spark, shared_data):
    path = str(shared_data / "geotiff" / "test-time-tag.tif")
    layer = gps.geotiff.get(gps.LayerType.SPACETIME, path)
    [(key, tile)] = layer.to_numpy_tiles()
    assert key.instant == datetime.datetime(2015, 3, 25, 18, 1, 4)
    _check_tiles_against_rasterio([(key, tile)], path)
    with pytest.raises(ValueError, match="TIFFTAG_MISSING"):
        gps.geotiff.get(gps.LayerType.SPACETIME, path, time_tag="TIFFTAG_MISSING")


def test_get_crs_override_and_num_partitions(spark, shared_data):
    path = str(shared_data / "geotiff" / "all-ones.tif")
    layer = gps.geotiff.get("spatial", path, crs=3857, max_tile_size=128, num_partitions=3)
    assert layer.getNumPartitions() == 3
    records = layer.to_numpy_tiles()
    assert len(records) == 16
    assert {k.epsg for k, _ in records} == {3857}


def test_large_striped_file_is_read_by_row_bands(spark, shared_data):
    """nodata-row.tif (12288×6400, one row per strip): no read unit decodes more than a row of windows."""
    path = str(shared_data / "geotiff" / "nodata-row.tif")
    units = geotiff_plan.plan_read([path], gps.LayerType.SPATIAL, max_tile_size=256)
    assert sum(len(u.windows) for u in units) == 48 * 25
    assert max(max(w[1] + w[3] for w in u.windows) - min(w[1] for w in u.windows) for u in units) == 256
    assert max(u.cell_bytes for u in units) <= 256 * 12288
    layer = gps.geotiff.get("spatial", path, max_tile_size=256)
    assert layer.count() == 1200
    sample = layer.dataframe.where("xmin < -19900000 and ymax > 4990000").limit(3).toArrow()
    from geopyspark_rs.geotrellis import tile_contract as tc

    _check_tiles_against_rasterio(tc.table_to_records(sample, False, gps.LayerType.SPATIAL), path)


def test_format_geotiff_data_source_matches_get(spark, shared_data):
    path = str(shared_data / "geotiff" / "lc8-utm-1-re.tif")
    df = spark.read.format("geotiff").option("maxTileSize", 256).load(path)
    layer = gps.geotiff.get("spatial", path)
    assert sorted(df.columns) == sorted(layer.dataframe.columns)
    got = sorted(df.select("xmin", "ymax", "cells").collect())
    want = sorted(layer.dataframe.select("xmin", "ymax", "cells").collect())
    assert got == want and len(got) == 9


def test_missing_and_corrupt_files_raise_naming_the_file(spark, shared_data, tmp_path):
    with pytest.raises(FileNotFoundError, match="nowhere"):
        gps.geotiff.get("spatial", str(tmp_path / "nowhere.tif"))
    garbage = tmp_path / "garbage.tif"
    garbage.write_bytes(b"II*\x00" + b"\xff" * 64)
    with pytest.raises(Exception, match="garbage.tif"):
        gps.geotiff.get("spatial", str(garbage))
    corrupt = shared_data / "geotiff" / "jpeg-test-deflate-small.tif"  # two truncated strips
    layer = gps.geotiff.get("spatial", str(corrupt), max_tile_size=None)
    with pytest.raises(Exception, match="jpeg-test-deflate-small.tif"):
        layer.to_numpy_tiles()  # counting reads no cells (the headers know the windows); decoding raises


def test_bad_arguments_raise_before_any_job(spark, shared_data):
    path = str(shared_data / "geotiff" / "all-ones.tif")
    with pytest.raises(ValueError):
        gps.geotiff.get("spatial", path, max_tile_size=0)
    with pytest.raises(ValueError):
        gps.geotiff.get("nonsense", path)
    with pytest.raises(RuntimeError, match="S3"):
        gps.geotiff.get("spatial", path, s3_credentials=gps.Credentials("a", "b"))


def test_raster_layer_read_one_record_per_file(spark, shared_data):
    paths = [str(shared_data / "geotiff" / n) for n in ("aspect.tif", "lc8-utm-1.tif")]
    records = gps.RasterLayer.read(paths).to_numpy_tiles()
    assert sorted(t.cells.shape for _, t in records) == [(1, 256, 256), (1, 292, 287)]
    with pytest.raises(NotImplementedError):
        gps.RasterLayer.read(paths, layer_type=gps.LayerType.SPACETIME)


def test_tiled_raster_layer_read_and_source_info(spark, shared_data):
    path = str(shared_data / "geotiff" / "multiband.tif")
    tiled = gps.TiledRasterLayer.read(path, gps.LocalLayout(256))
    with rasterio.open(path) as src:
        expected = src.read()
    np.testing.assert_array_equal(tiled.stitch().cells[:, :477, :539], expected)
    # bands 2 and 0 of the file as bands 0 and 1
    swapped = gps.TiledRasterLayer.read(gps.SourceInfo(path, {2: 0, 0: 1}), gps.LocalLayout(256))
    np.testing.assert_array_equal(swapped.stitch().cells[:, :477, :539], expected[[2, 0]])
    with pytest.raises(TypeError):
        gps.TiledRasterLayer.read(path, "not a layout")


def test_to_geotiff_rdd_reads_back_in_rasterio(spark, shared_data):
    path = str(shared_data / "geotiff" / "elevation.tif")
    layer = gps.geotiff.get("spatial", path, max_tile_size=None)
    [(key, tiff)] = layer.to_geotiff_rdd(storage_method=gps.StorageMethod.STRIPED, rows_per_strip=16,
                                         compression=gps.Compression.DEFLATE_COMPRESSION, decimations=[2, 4]).collect()
    with rasterio.open(path) as src:
        expected, transform = src.read(), src.transform
    with rasterio.MemoryFile(tiff) as mem, mem.open() as got:
        np.testing.assert_array_equal(got.read(), expected)
        assert got.block_shapes[0] == (16, 400)
        assert got.overviews(1) == [2, 4]
        assert got.transform.almost_equals(transform)
        assert got.crs.to_epsg() == 3857
    assert key.epsg == 3857


def test_tiled_to_geotiff_rdd_extents_are_the_key_extents(spark, shared_data):
    path = str(shared_data / "geotiff" / "aspect.tif")
    tiled = gps.geotiff.get("spatial", path).tile_to_layout(gps.LocalLayout(128))
    layout = tiled.layer_metadata.layout_definition
    tiffs = tiled.to_geotiff_dataframe(tile_dimensions=(64, 64)).collect()
    assert len(tiffs) == 4
    tw = (layout.extent.xmax - layout.extent.xmin) / layout.tileLayout.layoutCols
    for row in tiffs:
        with rasterio.MemoryFile(bytes(row.geotiff)) as mem, mem.open() as got:
            assert got.block_shapes[0] == (64, 64)
            assert got.bounds.left == pytest.approx(layout.extent.xmin + row.col * tw)
            assert got.nodata == -9999


def test_save_stitched_with_crop_and_dimensions(spark, shared_data, tmp_path):
    path = str(shared_data / "geotiff" / "aspect.tif")
    tiled = gps.geotiff.get("spatial", path).tile_to_layout(gps.LocalLayout(100))
    out = tmp_path / "stitched.tif"
    tiled.save_stitched(str(out))
    with rasterio.open(path) as src, rasterio.open(out) as got:
        np.testing.assert_array_equal(got.read()[:, :256, :256], src.read())
        assert got.bounds.left == pytest.approx(src.bounds.left)
        assert got.bounds.top == pytest.approx(src.bounds.top)
        b = src.bounds
        crop = gps.Extent(b.left + 10 * src.res[0], b.bottom + 20 * src.res[1], b.left + 110 * src.res[0], b.top)
        expected_crop = src.read(window=Window(10, 0, 100, 236))
    tiled.save_stitched(str(out), crop_bounds=crop)
    with rasterio.open(out) as got:
        np.testing.assert_array_equal(got.read(), expected_crop)
    tiled.save_stitched(str(out), crop_bounds=crop, crop_dimensions=(50, 118))
    with rasterio.open(out) as got:
        assert (got.width, got.height) == (50, 118)
        np.testing.assert_array_equal(got.read(), expected_crop[:, 1::2, 1::2])
    with pytest.raises(Exception, match="crop_bounds"):
        tiled.save_stitched(str(out), crop_dimensions=(10, 10))


def test_save_stitched_cog_is_valid(spark, shared_data, tmp_path):
    from rio_cogeo.cogeo import cog_validate

    path = str(shared_data / "geotiff" / "singleband.tif")  # 1056×1052 uint8
    tiled = gps.geotiff.get("spatial", path).tile_to_layout(gps.LocalLayout(256))
    out = tmp_path / "stitched-cog.tif"
    tiled.save_stitched(str(out), cog=True)
    valid, errors, warnings = cog_validate(str(out))
    assert valid and not errors and not warnings, (errors, warnings)
    with rasterio.open(path) as src, rasterio.open(out) as got:
        np.testing.assert_array_equal(got.read()[:, :1052, :1056], src.read())
        assert got.overviews(1)


def test_get_from_s3_reads_windows_and_save_stitched_writes_back(spark, shared_data, s3_conf, tmp_path):
    from geopyspark_rs import _native

    bucket = s3_conf.create_bucket("geotiff-get")
    opts = s3_conf.options()
    for name in ("lc8-utm-1-re.tif", "aspect.tif"):
        data = (shared_data / "geotiff" / name).read_bytes()
        _native.write_bytes(f"s3://{bucket}/rasters/{name}", data, opts)
    path = str(shared_data / "geotiff" / "lc8-utm-1-re.tif")
    layer = gps.geotiff.get("spatial", f"s3://{bucket}/rasters/lc8*.tif", max_tile_size=256)
    records = layer.to_numpy_tiles()
    assert len(records) == 9
    _check_tiles_against_rasterio(records, path)
    assert gps.geotiff.get("spatial", f"s3a://{bucket}/rasters/", max_tile_size=None).count() == 2
    with gps.geotrellis.s3.set_s3_credentials(gps.Credentials("other", "keys"), "s3"):
        pass  # credentials are scoped: the conf keys are restored afterwards
    tiled = layer.tile_to_layout(gps.LocalLayout(256))
    tiled.save_stitched(f"s3://{bucket}/out/stitched.tif")
    local = tmp_path / "stitched.tif"
    local.write_bytes(_native.read_bytes(f"s3://{bucket}/out/stitched.tif", opts))
    with rasterio.open(path) as src, rasterio.open(local) as got:
        np.testing.assert_array_equal(got.read()[:, :602, :559], src.read())
