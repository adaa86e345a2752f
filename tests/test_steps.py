"""The step builders (geopyspark_rs/geotrellis/steps.py) make steps the engine accepts, one per ``Step`` op,
and refuse bad ones on the driver."""

import json

import pytest

from geopyspark_rs import _native
from geopyspark_rs.errors import InvalidPlanError
from geopyspark_rs.geotrellis import steps


@pytest.mark.parametrize("plan, inputs, out", [
    ([steps.combine("add", 2)], ["int16", "float32"], "float32"),
    ([steps.combine("lt", 2)], ["int16", "int16"], "bool"),
    ([steps.combine("mean", 3)], ["uint8"] * 3, "uint8"),
    ([steps.combine("concat_bands", 2)], ["int32", "int32"], "int32"),
    ([steps.scalar("mul", 2, reverse=True)], ["int16"], "int16"),
    ([steps.scalar("ge", 0)], ["float64"], "bool"),
    ([steps.unary("abs"), steps.unary("neg")], ["int8"], "int8"),
    ([steps.convert("float32ud-9999.0")], ["int16"], "float32ud-9999.0"),
    ([steps.interpret(5)], ["uint8raw"], "uint8ud5"),
    ([steps.bands([1, 0, 1])], ["float32"], "float32"),
    ([steps.reclassify("LessThanOrEqualTo", [1, 2], [10, 20], int_keys=True, fallback=0)], ["uint8"], "uint8"),
    ([steps.normalize(0, 10, 0.0, 1.0)], ["float32"], "float32"),
])
def test_builders_make_steps_the_engine_runs(plan, inputs, out):
    assert _native.plan_output_cell_type(json.dumps(plan), inputs) == out


def test_every_engine_op_has_a_builder():
    ops = {"combine", "scalar", "unary", "convert", "interpret", "bands", "reclassify", "normalize"}
    assert all(callable(getattr(steps, op)) for op in ops)
    assert steps.convert("int16") == {"op": "convert", "cell_type": "int16"}
    assert steps.combine("max", 2) == {"op": "combine", "fn": {"fold": "max"}, "inputs": 2}


@pytest.mark.parametrize("build, exc, message", [
    (lambda: steps.scalar("mod", 1), InvalidPlanError, "scalar fn must be one of add"),
    (lambda: steps.unary("sqrt"), InvalidPlanError, "unary fn must be one of abs, neg"),
    (lambda: steps.combine("median", 2), InvalidPlanError, "combine fn"),
    (lambda: steps.combine("add", 0), InvalidPlanError, "positive number of inputs"),
    (lambda: steps.convert(16), TypeError, "cell_type"),
    (lambda: steps.bands([]), TypeError, "band indices must be ints"),
    (lambda: steps.bands([0, -1]), IndexError, "must not be negative"),
    (lambda: steps.reclassify("LessThan", [1, 2], [1], False), InvalidPlanError, "one value per break"),
    (lambda: steps.reclassify("LessThan", [2, 1], [1, 2], False), InvalidPlanError, "sorted and distinct"),
    (lambda: steps.reclassify("Nearest", [1], [1], False), InvalidPlanError, "reclassify strategy"),
])
def test_bad_steps_fail_when_recorded(build, exc, message):
    with pytest.raises(exc, match=message):
        build()
