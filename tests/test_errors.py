"""Each documented exception of ``geopyspark_rs.errors`` is raised for its real situation, and is also the
builtin a GeoPySpark user would catch. Real files in tmp_path; no mocks."""

import json

import numpy as np
import pyarrow as pa
import pytest

import geopyspark_rs as gps
from geopyspark_rs import _native, errors

EXTENT = (0.0, 0.0, 10.0, 10.0)


@pytest.mark.parametrize("cls, builtins", [
    (errors.InvalidArgumentError, (ValueError,)),
    (errors.CellTypeError, (errors.InvalidArgumentError, ValueError)),
    (errors.InvalidPlanError, (errors.InvalidArgumentError, ValueError)),
    (errors.TileContractError, (TypeError,)),
    (errors.CorruptDataError, (ValueError,)),
    (errors.StorageError, (OSError,)),
    (errors.NotFoundError, (errors.StorageError, FileNotFoundError)),
    (errors.LayerNotFoundError, (errors.NotFoundError, FileNotFoundError, ValueError)),
    (errors.LayerExistsError, (errors.StorageError, FileExistsError, ValueError)),
    (errors.UnsupportedError, (NotImplementedError,)),
    (errors.InternalError, (RuntimeError,)),
])
def test_each_class_is_also_the_builtin_users_catch(cls, builtins):
    assert issubclass(cls, errors.GeoPySparkError)
    for b in builtins:
        assert issubclass(cls, b)
    e = cls("some/path: what went wrong")
    assert str(e) == "some/path: what went wrong"  # one argument: no errno/strerror interpretation


def test_errors_is_gps_errors_and_lists_every_class():
    assert gps.errors is errors
    public = {n for n, v in vars(errors).items() if isinstance(v, type) and issubclass(v, BaseException)}
    assert set(errors.__all__) == public


def _geotiff(path):
    cells = np.arange(100, dtype=np.uint8).reshape(1, 10, 10)
    _native.write_geotiff_file(str(path), cells.tobytes(), "uint8", 1, 10, 10, EXTENT, "EPSG:4326")
    return path


def test_missing_geotiff_is_a_file_not_found_error_naming_it(tmp_path):
    missing = tmp_path / "nope.tif"
    with pytest.raises(FileNotFoundError, match=f"{missing}: not found") as info:
        _native.geotiff_info(str(missing))
    assert type(info.value) is errors.NotFoundError
    with pytest.raises(errors.NotFoundError, match=str(missing)):
        _native.read_geotiff_windows(str(missing), [(0, 0, 1, 1)])


@pytest.mark.parametrize("damage", ["garbage", "no_ifd", "truncated_header", "truncated_cells"])
def test_corrupt_geotiff_is_a_corrupt_data_error_naming_it(tmp_path, damage):
    good = _geotiff(tmp_path / "good.tif").read_bytes()
    bad = tmp_path / f"{damage}.tif"
    bad.write_bytes({
        "garbage": b"not a tiff at all",
        "no_ifd": b"II*\x00" + (0).to_bytes(4, "little") + b"\x00" * 64,
        "truncated_header": good[:40],
        "truncated_cells": good[:-30],
    }[damage])
    with pytest.raises(errors.CorruptDataError, match=f"{damage}.tif") as info:
        _native.geotiff_info(str(bad))
        _native.read_geotiff_windows(str(bad), [(0, 0, 10, 10)])
    assert isinstance(info.value, ValueError) and not isinstance(info.value, OSError)


def test_reading_a_directory_is_a_storage_error_not_a_missing_file(tmp_path):
    with pytest.raises(errors.StorageError, match="is a directory") as info:
        _native.read_bytes(str(tmp_path))
    assert isinstance(info.value, OSError) and not isinstance(info.value, FileNotFoundError)
    assert _native.read_bytes_if_exists(str(tmp_path / "absent.bin")) is None
    with pytest.raises(errors.NotFoundError, match="absent.bin: not found"):
        _native.read_bytes(str(tmp_path / "absent.bin"))


def test_writing_a_geotiff_to_an_object_store_is_unsupported(tmp_path):
    cells = np.zeros((1, 2, 2), np.uint8).tobytes()
    with pytest.raises(NotImplementedError, match="only local paths") as info:
        _native.write_geotiff_file("s3://bucket/x.tif", cells, "uint8", 1, 2, 2, EXTENT, None)
    assert type(info.value) is errors.UnsupportedError


def _batch(cell_type="float32", cells=None):
    cells = np.zeros(4, np.float32).tobytes() if cells is None else cells
    return pa.RecordBatch.from_pydict({
        "col": pa.array([0], pa.int32()), "row": pa.array([0], pa.int32()), "cell_type": [cell_type],
        "bands": pa.array([1], pa.int32()), "rows": pa.array([2], pa.int32()), "cols": pa.array([2], pa.int32()),
        "cells": pa.array([cells], pa.binary())})


@pytest.mark.parametrize("plan, cls, message", [
    ("not json", errors.InvalidPlanError, "invalid plan"),
    ('[{"op": "explode"}]', errors.InvalidPlanError, "unknown variant `explode`"),
    ('[{"op": "scalar", "fn": "add", "value": 1}, {"op": "combine", "fn": "mean", "inputs": 1}]',
     errors.InvalidPlanError, "combine must be the first step"),
    ('[{"op": "convert", "cell_type": "float16"}]', errors.CellTypeError, "unknown cell type \"float16\""),
])
def test_bad_plans_are_value_errors(plan, cls, message):
    with pytest.raises(cls, match=message) as info:
        _native.run_plan(_batch(), plan)
    assert isinstance(info.value, ValueError)
    with pytest.raises(cls, match=message):
        _native.plan_output_cell_type(plan, ["float32"])


def test_a_batch_outside_the_tile_contract_is_a_type_error():
    with pytest.raises(errors.TileContractError, match="3 bytes of cells") as info:
        _native.run_plan(_batch(cells=b"abc"), "[]")
    assert isinstance(info.value, TypeError)


def test_binding_argument_checks_are_invalid_argument_errors():
    with pytest.raises(errors.InvalidArgumentError, match="max_bucket_count"):
        _native.Histogram.from_values(np.array([1.0]), False, 0)
    with pytest.raises(errors.InvalidArgumentError, match="invalid histogram JSON"):
        _native.Histogram.from_json('{"buckets": "nope"}')
    with pytest.raises(errors.InvalidArgumentError):
        _native.crs_to_proj4("not a crs")


def test_missing_geotiff_layer_source(spark, tmp_path):
    with pytest.raises(errors.NotFoundError, match="nowhere"):
        gps.geotiff.get("spatial", str(tmp_path / "nowhere" / "*.tif"))


def _tiled_layer():
    cells = np.arange(16, dtype=np.uint8).reshape(1, 4, 4)
    extent = gps.Extent(0.0, 0.0, 1.0, 1.0)
    layout = gps.LayoutDefinition(extent, gps.TileLayout(1, 1, 4, 4))
    md = gps.Metadata(gps.Bounds(gps.SpatialKey(0, 0), gps.SpatialKey(0, 0)), "EPSG:4326", "uint8", extent, layout)
    return gps.TiledRasterLayer.from_numpy_tiles(gps.LayerType.SPATIAL, [(gps.SpatialKey(0, 0),
                                                 gps.Tile(cells, "uint8", None))], md, zoom_level=1)


def test_catalog_errors(spark, tmp_path):
    catalog = str(tmp_path)
    layer = _tiled_layer()
    gps.write(catalog, "a", layer)

    with pytest.raises(FileExistsError, match="'a' at zoom 1 already exists") as info:
        gps.write(catalog, "a", layer)
    assert type(info.value) is errors.LayerExistsError and isinstance(info.value, ValueError)

    with pytest.raises(FileNotFoundError, match="'b' at zoom 1 does not exist") as info:
        gps.query(catalog, "b", 1)
    assert type(info.value) is errors.LayerNotFoundError and isinstance(info.value, ValueError)

    with pytest.raises(errors.UnsupportedError, match="COG"):
        gps.write(catalog, "c", layer, use_cogs=True)

    # A tile file cut short: read on the driver by read_value, so the class reaches the caller.
    [tile] = (tmp_path / "a" / "1").iterdir()
    tile.write_bytes(tile.read_bytes()[:10])
    with pytest.raises(errors.CorruptDataError, match=tile.name):
        gps.read_value(catalog, "a", 1, 0, 0)

    # An attribute that is not JSON.
    metadata = tmp_path / "attributes" / "a__.__1__.__metadata.json"
    metadata.write_text('[{"name": "a", "zoom": 1}, {"trunc')
    with pytest.raises(errors.CorruptDataError, match="a__.__1__.__metadata.json.*invalid JSON"):
        gps.query(catalog, "a", 1)
    metadata.write_text(json.dumps({"not": "a pair"}))
    with pytest.raises(errors.CorruptDataError, match=r"expected \[LayerId, value\]"):
        gps.query(catalog, "a", 1)
