"""Fused execution (DESIGN §4): per-tile steps are recorded on a layer and run together in one
``mapInArrow`` pass when the data is needed. Rust steps are JSON dicts run by ``_native.run_plan``;
``map_cells``/``map_tiles`` add Python steps, which run in the same pass between Rust segments."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Callable

import numpy as np
import pyarrow as pa

from .. import _native
from .tile_contract import TILE_COLUMNS, decode_tile, encode_tile


@dataclass(frozen=True)
class PythonStep:
    """A user function over tiles: ``kind`` is ``"cells"`` (``func(cells, no_data_value) -> cells``,
    cell type kept) or ``"tile"`` (``func(Tile) -> Tile``)."""

    func: Callable
    kind: str


def output_cell_type(steps, input_cell_types: list[str]) -> str:
    """The cell type a list of Rust steps produces (checked by the engine, so bad steps fail here)."""
    return _native.plan_output_cell_type(json.dumps(list(steps)), list(input_cell_types))


def _segments(steps):
    """Consecutive Rust steps grouped into one JSON plan each; Python steps stand alone."""
    out, rust = [], []
    for step in steps:
        if isinstance(step, PythonStep):
            if rust:
                out.append(json.dumps(rust))
                rust = []
            out.append(step)
        else:
            rust.append(step)
    if rust:
        out.append(json.dumps(rust))
    return out


def _apply_python(batch: pa.RecordBatch, step: PythonStep) -> pa.RecordBatch:
    """Run a Python step tile by tile (numpy per tile; never per cell)."""
    data = batch.select(TILE_COLUMNS).to_pydict()
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


def run_steps(batch: pa.RecordBatch, segments) -> pa.RecordBatch:
    for seg in segments:
        batch = _apply_python(batch, seg) if isinstance(seg, PythonStep) else _native.run_plan(batch, seg)
    return batch


def execute(df, steps, out_schema):
    """The DataFrame with the steps applied: one ``mapInArrow`` for all of them."""
    if not steps:
        return df
    segments = _segments(steps)

    def run(batches):
        for batch in batches:
            yield run_steps(batch, segments)

    return df.mapInArrow(run, out_schema)
