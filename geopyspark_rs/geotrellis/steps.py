"""Builders of the per-tile steps a layer records (DESIGN §4), one per ``op`` of the engine's ``Step`` enum
(``rust/engine/src/plan/mod.rs``).

A step is a JSON-able dict such as ``{"op": "convert", "cell_type": "int16"}``; a layer keeps its pending steps
and ``plan.execute`` sends them, as one JSON list, to ``_native.run_plan``, which compiles the list once per
input cell type and runs it over each tile in one pass. Build steps only here, so the field names and their
JSON types stay in one place next to the engine's. Each builder checks what the engine would reject, so a bad
step fails on the driver (with the documented exception) instead of inside a Spark task. Python callbacks
(``map_cells``/``map_tiles``) are not engine steps: they are ``plan.PythonStep`` objects.

NoData follows GeoTrellis: NoData in gives NoData out, except where a builder says otherwise.
"""

from __future__ import annotations

from ..errors import InvalidPlanError

# The engine's `BinaryOp` (rust/engine/src/plan/pointwise.rs), in serde's snake_case.
BINARY_OPS = ("add", "sub", "mul", "div", "pow", "max", "min", "lt", "le", "gt", "ge", "eq", "ne")
# The engine's `UnaryOp`.
UNARY_OPS = ("abs", "neg")
# The engine's `ReclassifyStrategy`, spelled as `ClassificationStrategy`'s values.
RECLASSIFY_STRATEGIES = ("GreaterThan", "GreaterThanOrEqualTo", "LessThan", "LessThanOrEqualTo", "Exact")


def _one_of(what: str, value, accepted) -> str:
    if value not in accepted:
        raise InvalidPlanError(f"{what} must be one of {', '.join(accepted)}; got {value!r}")
    return value


def _optional_number(value) -> float | None:
    return None if value is None else float(value)


def combine(fn: str, inputs: int) -> dict:
    """Combine the tiles of ``inputs`` joined layers into one; only valid as a plan's first step.

    Args:
        fn: a binary operation (``BINARY_OPS``) folded over the inputs left to right (NoData in any input gives
            NoData; a comparison gives a bool tile), ``"mean"`` for the cell-wise mean ignoring NoData
            (GeoTrellis ``localMean``), or ``"concat_bands"`` for the inputs' bands in order.
        inputs: how many tiles each row holds (the layer itself and the joined ones), at least 1.
    """
    if isinstance(inputs, bool) or not isinstance(inputs, int) or inputs < 1:
        raise InvalidPlanError(f"combine needs a positive number of inputs, got {inputs!r}")
    _one_of("combine fn", fn, BINARY_OPS + ("mean", "concat_bands"))
    return {"op": "combine", "fn": fn if fn in ("mean", "concat_bands") else {"fold": fn}, "inputs": inputs}


def scalar(fn: str, value, reverse: bool = False) -> dict:
    """``cell fn value`` for every cell (``value fn cell`` when ``reverse``); comparisons give a bool tile
    (NoData compares false), integer division by zero gives NoData.

    Args:
        fn: one of ``BINARY_OPS``.
        value: the number.
        reverse: put the number on the left (``2 - layer``).
    """
    return {"op": "scalar", "fn": _one_of("scalar fn", fn, BINARY_OPS), "value": float(value),
            "reverse": bool(reverse)}


def unary(fn: str) -> dict:
    """``abs`` or ``neg`` of every cell; the cell type is kept."""
    return {"op": "unary", "fn": _one_of("unary fn", fn, UNARY_OPS)}


def convert(cell_type: str) -> dict:
    """Convert cells to ``cell_type`` (a GeoTrellis name such as ``"int16"`` or ``"float32ud-9999.0"``): values
    are cast as GeoTrellis casts them and NoData stays NoData. The engine rejects unknown names."""
    if not isinstance(cell_type, str):
        raise TypeError(f"cell_type must be a GeoTrellis cell type name, got {type(cell_type).__name__}")
    return {"op": "convert", "cell_type": cell_type}


def interpret(no_data) -> dict:
    """Reinterpret the cells with another NoData value (``None``: none), without changing them; bool stays
    bool."""
    return {"op": "interpret", "no_data": _optional_number(no_data)}


def bands(indices) -> dict:
    """Keep the bands at ``indices`` (ints, 0-based, in that order, repeats allowed). Consecutive ``bands``
    steps compose into one selection; an index past the tile's band count fails when the plan runs.

    Raises:
        TypeError: ``indices`` is empty or holds something other than ints.
        IndexError: a negative index.
    """
    indices = list(indices)
    if not indices or not all(isinstance(i, int) and not isinstance(i, bool) for i in indices):
        raise TypeError(f"band indices must be ints, got {indices!r}")
    if any(i < 0 for i in indices):
        raise IndexError(f"band indices must not be negative, got {indices!r}")
    return {"op": "bands", "indices": indices}


def reclassify(strategy: str, breaks, values, int_keys: bool, replace_nodata_with=None, fallback=None,
               strict: bool = False) -> dict:
    """Map each cell to the value of the break it falls under (GeoTrellis ``BreakMap``), on every band.

    Args:
        strategy: how a cell matches a break, one of ``RECLASSIFY_STRATEGIES`` (``ClassificationStrategy``).
        breaks: break values, strictly ascending.
        values: the value of each break (same length as ``breaks``).
        int_keys: compare cells truncated to integers (GeoPySpark's ``data_type=int``).
        replace_nodata_with: the value NoData cells take (default: they stay NoData).
        fallback: the value of cells that match no break (default: NoData).
        strict: fail on a cell that matches no break instead of using ``fallback``.
    """
    breaks = [float(b) for b in breaks]
    values = [float(v) for v in values]
    if len(breaks) != len(values):
        raise InvalidPlanError(f"reclassify needs one value per break, got {len(breaks)} breaks and "
                               f"{len(values)} values")
    # A NaN break matches no cell (every comparison with NaN is false, as in GeoTrellis' BreakMap).
    kept = [(b, v) for b, v in zip(breaks, values) if b == b]
    breaks, values = [b for b, _ in kept], [v for _, v in kept]
    if any(a >= b for a, b in zip(breaks, breaks[1:])):
        raise InvalidPlanError(f"reclassify breaks must be sorted and distinct, got {breaks}")
    return {
        "op": "reclassify",
        "strategy": _one_of("reclassify strategy", strategy, RECLASSIFY_STRATEGIES),
        "breaks": breaks,
        "values": values,
        "int_keys": bool(int_keys),
        "replace_nodata_with": _optional_number(replace_nodata_with),
        "fallback": _optional_number(fallback),
        "strict": bool(strict),
    }


def normalize(old_min, old_max, new_min, new_max) -> dict:
    """Rescale cells linearly from ``[old_min, old_max]`` to ``[new_min, new_max]`` (GeoTrellis
    ``normalize``); the cell type is kept."""
    return {"op": "normalize", "old_min": float(old_min), "old_max": float(old_max),
            "new_min": float(new_min), "new_max": float(new_max)}
