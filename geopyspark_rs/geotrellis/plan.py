"""Fused execution (DESIGN §4): per-tile steps are recorded on a layer and run together in one
``mapInArrow`` pass when the data is needed, inside the pass of whatever consumes them. Rust steps are JSON dicts run by ``_native.run_plan``;
``map_cells``/``map_tiles`` add Python steps, which run in the same pass between Rust segments."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Callable

import numpy as np
import pyarrow as pa

from .. import _native
from .python_worker import freeze_worker_heap
from .tile_contract import TILE_COLUMNS, decode_tile, encode_tile


@dataclass(frozen=True)
class PythonStep:
    """A user function over tiles: ``kind`` is ``"cells"`` (``func(cells, no_data_value) -> cells``,
    cell type kept) or ``"tile"`` (``func(Tile) -> Tile``)."""

    func: Callable
    kind: str


def _json_numbers(value):
    """A step with NaN and infinities as the strings the engine reads for them (JSON has no such numbers)."""
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, dict):
        return {k: _json_numbers(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_numbers(v) for v in value]
    return value


def plan_json(steps) -> str:
    """The JSON plan of Rust steps: every number exactly (floats by their shortest round-trip form, ints
    as they are), NaN and infinities included."""
    return json.dumps([_json_numbers(step) for step in steps], allow_nan=False)


def output_cell_type(steps, input_cell_types: list[str]) -> str:
    """The cell type a list of Rust steps produces (checked by the engine, so bad steps fail here)."""
    return _native.plan_output_cell_type(plan_json(steps), list(input_cell_types))


def _segments(steps):
    """Consecutive Rust steps grouped into one JSON plan each; Python steps stand alone."""
    out, rust = [], []
    for step in steps:
        if isinstance(step, PythonStep):
            if rust:
                out.append(plan_json(rust))
                rust = []
            out.append(step)
        else:
            rust.append(step)
    if rust:
        out.append(plan_json(rust))
    return out


def rust_plan(steps):
    """The steps as one JSON plan when they are all Rust steps (and there is one), else None: a consumer
    written in Rust can then run them itself, tile by tile, without building the stepped batch."""
    if not steps or any(isinstance(step, PythonStep) for step in steps):
        return None
    return plan_json(steps)


def _apply_python(batch: pa.RecordBatch, step: PythonStep) -> pa.RecordBatch:
    """Run a Python step tile by tile (numpy per tile; never per cell). The function gets cells it may
    change in place, as in GeoPySpark: each tile's cells are copied once out of the Arrow batch (where
    reading them as Python bytes copied them before)."""
    data = batch.select(TILE_COLUMNS[:-1]).to_pydict()
    data["cells"] = _cell_buffers(batch.column("cells"))
    new = {c: [] for c in TILE_COLUMNS}
    for values in zip(*(data[c] for c in TILE_COLUMNS)):
        tile = decode_tile(*values)
        if step.kind == "cells":
            cells = np.asarray(step.func(tile.cells, tile.no_data_value))
            encoded = (values[0],) + encode_tile(tile._replace(cells=cells.astype(tile.cells.dtype, copy=False)))[1:]
        else:
            result = step.func(tile)
            if isinstance(result, np.ndarray):
                result = tile._replace(cells=result)
            encoded = encode_tile(result)
        for c, v in zip(TILE_COLUMNS, encoded):
            new[c].append(v)
    arrays = []
    for name in batch.schema.names:
        if name in new:
            arrays.append(pa.array(new[name], type=batch.schema.field(name).type))
        else:
            arrays.append(batch.column(name))
    return pa.RecordBatch.from_arrays(arrays, schema=batch.schema)


def _cell_buffers(cells: pa.Array):
    """Each row's cells as a writable bytearray-backed buffer, copied straight from the Arrow data."""
    if pa.types.is_binary(cells.type) or pa.types.is_large_binary(cells.type):
        offsets = np.frombuffer(cells.buffers()[1], np.int64 if pa.types.is_large_binary(cells.type) else np.int32)
        offsets = offsets[cells.offset:cells.offset + len(cells) + 1]
        data = np.frombuffer(cells.buffers()[2], np.uint8) if cells.buffers()[2] is not None else np.empty(0, np.uint8)
        return [data[a:b].copy() for a, b in zip(offsets[:-1], offsets[1:])]
    return [np.frombuffer(bytearray(v), np.uint8) for v in cells.to_pylist()]


def run_steps(batch: pa.RecordBatch, segments) -> pa.RecordBatch:
    for seg in segments:
        batch = _apply_python(batch, seg) if isinstance(seg, PythonStep) else _native.run_plan(batch, seg)
    return batch


@dataclass(frozen=True)
class Head:
    """What turns the rows of a layer's DataFrame into tiles at the start of its pass: the read of source
    rows (GeoTIFF windows, catalog files) or the reduce side of a shuffle (runs of equal keys). ``run``
    maps an iterator of batches to an iterator of tile batches. ``row_aligned``: one tile per input row
    with the input row's key columns, so counts, keys and key filters can use the DataFrame unread."""

    run: Callable
    row_aligned: bool = False


def pass_function(head, steps, consume=None):
    """The function of one pass (an iterator of input batches → an iterator of output batches): the head
    makes tiles, the steps are applied to each batch, and ``consume`` (a reduction, an encoder, the map
    side of a shuffle) turns the tile batches into its output."""
    segments = _segments(steps)
    read = head.run if head is not None else None

    def run(batches):
        freeze_worker_heap()
        if read is not None:
            batches = read(batches)
        if segments:
            batches = (run_steps(batch, segments) for batch in batches)
        return consume(batches) if consume is not None else batches

    return run


def execute(df, head, steps, out_schema, consume=None):
    """One ``mapInArrow`` pass over ``df`` (DESIGN §4, one pass per stage) doing ``pass_function``'s work
    into ``out_schema``; with nothing to do, ``df`` itself."""
    if head is None and not steps and consume is None:
        return df
    return df.mapInArrow(pass_function(head, steps, consume), out_schema)
