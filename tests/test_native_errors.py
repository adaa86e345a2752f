"""Bad batches and arguments reaching the Rust extension raise clear Python exceptions, never a panic."""

import numpy as np
import pyarrow as pa
import pytest

from geopyspark_rs import _native


def batch(cells=None, cell_type="float32", rows=2, cols=2, drop=None):
    cells = cells if cells is not None else np.arange(rows * cols, dtype=np.float32).tobytes()
    data = {"col": pa.array([0], pa.int32()), "row": pa.array([0], pa.int32()), "cell_type": [cell_type],
            "bands": pa.array([1], pa.int32()), "rows": pa.array([rows], pa.int32()),
            "cols": pa.array([cols], pa.int32()), "cells": pa.array([cells], pa.binary())}
    if drop:
        del data[drop]
    return pa.RecordBatch.from_pydict(data)


def test_run_plan_contract_errors():
    with pytest.raises(TypeError, match="missing column \"cells\""):
        _native.run_plan(batch(drop="cells"), "[]")
    with pytest.raises(TypeError, match="row 0: 3 bytes of cells for a 1×2×2 float32 tile, expected 16"):
        _native.run_plan(batch(cells=b"abc"), "[]")
    with pytest.raises(ValueError, match="unknown cell type \"float16\""):
        _native.run_plan(batch(cell_type="float16"), "[]")
    with pytest.raises(ValueError, match="invalid plan"):
        _native.run_plan(batch(), '[{"op": "explode"}]')
    with pytest.raises(ValueError, match="invalid plan"):
        _native.run_plan(batch(), "not json")
    with pytest.raises(ValueError, match="out of range"):
        _native.run_plan(batch(), '[{"op": "bands", "indices": [1]}]')


def test_shuffle_kernel_errors():
    with pytest.raises(ValueError):
        _native.combine_runs(batch(), ["col", "row"], "median", True)
    with pytest.raises(TypeError):
        _native.combine_runs(batch(), ["nope"], "fill", True)
    raster = pa.RecordBatch.from_pydict({"xmin": [0.0], "ymin": [0.0], "xmax": [1.0], "ymax": [1.0],
                                         **{k: v for k, v in zip(batch().schema.names[2:], batch().columns[2:])}})
    with pytest.raises(ValueError):
        _native.cut_to_layout(raster, (0.0, 0.0, 1.0, 1.0, 0, 1, 256, 256))
    with pytest.raises(ValueError, match="no tiles"):
        _native.stitch(batch().slice(0, 0))
    assert _native.min_max(batch(cells=np.full(4, np.nan, np.float32).tobytes())) is None


def test_histogram_errors():
    with pytest.raises(ValueError):
        _native.Histogram.from_json('{"buckets": "nope"}')
    with pytest.raises(ValueError):
        _native.Histogram.from_values(np.array([1.0]), False, 0)
