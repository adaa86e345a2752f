"""Every step parameter carries NaN, ±inf and the full range of float64 and int64 through the JSON plan
exactly (as the float the engine computes with), for every step kind; and reclassify with NaN in the value
map or as ``replace_nodata_with`` works on a float layer end to end."""

import math

import numpy as np
import pyarrow as pa
import pytest

import geopyspark_rs as gps
from geopyspark_rs import _native
from geopyspark_rs.geotrellis import steps
from geopyspark_rs.geotrellis.plan import plan_json
from layers import cells, tiled

SPECIAL = [math.nan, math.inf, -math.inf, 0.0, -0.0, 5e-324, -1.7976931348623157e308, 1.7976931348623157e308,
           0.1, 1 / 3, 2 ** 53 + 1, 2 ** 63 - 1, -(2 ** 63), 123456789.123456789]


def _batch(values, cell_type="float64"):
    a = np.asarray(values, np.float64 if cell_type.startswith("float64") else np.float32)
    return pa.RecordBatch.from_pydict({
        "cell_type": [cell_type], "bands": pa.array([1], pa.int32()), "rows": pa.array([1], pa.int32()),
        "cols": pa.array([a.size], pa.int32()), "cells": pa.array([a.tobytes()], pa.binary())})


def _cells(batch):
    return np.frombuffer(batch.column("cells")[0].as_py(), np.float64)


def _same(got, want):
    return (math.isnan(got) and math.isnan(want)) or (got == want and math.copysign(1, got) == math.copysign(1, want))


@pytest.mark.parametrize("v", SPECIAL, ids=repr)
def test_scalar_and_normalize_carry_every_number(v):
    # 0 + v is v exactly (the sign of a zero aside), so the cells show the number the plan carried.
    out = _cells(_native.run_plan(_batch([0.0, 0.0]), plan_json([steps.scalar("add", v)])))
    assert all(_same(o + 0.0, float(v) + 0.0) for o in out)
    out = _cells(_native.run_plan(_batch([1.0]), plan_json([steps.scalar("mul", v)])))
    assert _same(out[0], float(v))
    norm = steps.normalize(0.0, 1.0, 0.0, v)
    assert json_round_trip(norm)


def json_round_trip(step):
    # The engine accepts the plan and reports the cell type it produces.
    return _native.plan_output_cell_type(plan_json([step]), ["float64"]) == "float64"


@pytest.mark.parametrize("v", SPECIAL, ids=repr)
def test_reclassify_and_interpret_carry_every_number(v):
    # A value map sending every cell to v, NoData replaced by v, no fallback.
    step = steps.reclassify("GreaterThanOrEqualTo", [-math.inf], [v], int_keys=False, replace_nodata_with=v,
                            fallback=v)
    out = _cells(_native.run_plan(_batch([1.0, 2.5, np.nan]), plan_json([step])))
    assert all(_same(o, float(v)) for o in out) or math.isnan(float(v))
    if not math.isnan(float(v)) and math.isfinite(float(v)):
        name = _native.plan_output_cell_type(plan_json([steps.interpret(v)]), ["float64"])
        assert name.startswith("float64ud")
        assert float(name[len("float64ud"):]) == float(v)


def test_every_step_kind_accepts_special_numbers():
    for step in [steps.combine("add", 1), steps.scalar("pow", math.nan, reverse=True), steps.unary("abs"),
                 steps.convert("float32"), steps.interpret(math.nan), steps.bands([0]),
                 steps.reclassify("Exact", [math.nan, -math.inf, 1.0, math.inf], [1.0, math.nan, math.inf, -0.0],
                                  int_keys=False, replace_nodata_with=math.inf, fallback=-math.inf),
                 steps.normalize(-math.inf, math.inf, math.nan, 1.0)]:
        _native.plan_output_cell_type(plan_json([step]), ["float64"])


def test_reclassify_with_nan_on_a_float_layer(spark):
    a = np.array([[[1.0, 2.0], [np.nan, 4.0]]], np.float32)
    layer = tiled({(0, 0): a}, no_data=np.nan, layout_cols=1, layout_rows=1)
    out = cells(layer.reclassify({2.0: 10.0, 5.0: np.nan}, float, replace_nodata_with=-1.0))[(0, 0)]
    np.testing.assert_array_equal(out, [[[10.0, 10.0], [-1.0, np.nan]]])
    out = cells(layer.reclassify({1.0: 7.0, np.nan: 3.0, 4.0: 8.0}, float, replace_nodata_with=np.nan))[(0, 0)]
    np.testing.assert_array_equal(out, [[[7.0, 8.0], [np.nan, 8.0]]])
    out = cells(layer + math.inf)[(0, 0)]
    assert np.isinf(out[0, 0, 0]) and np.isnan(out[0, 1, 0])
