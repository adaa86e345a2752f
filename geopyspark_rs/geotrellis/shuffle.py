"""Shuffles (DESIGN §4): rows of equal keys are brought into one partition and sorted, then one
``mapInArrow`` streams runs of equal keys through a Rust kernel (no Python call per group)."""

from __future__ import annotations

import pyarrow as pa

from .. import _native
from .data_model import Tile
from .tile_contract import decode_tile


def shuffle_by_key(df, keys, layer_type, strategy, partitions=None):
    """Rows of equal keys brought together and consecutive: ``(DataFrame, strategy used or None)``. The
    partition count is the strategy's, else ``partitions``, else the input's."""
    from .partition import repartition

    n = partitions or input_partitions(df)
    if strategy is not None:
        df, strategy = repartition(df, keys, layer_type, strategy, strategy.num_partitions or n or 1)
    elif n:
        df = df.repartition(n, *keys)
    else:
        df = df.repartition(*keys)
    return df.sortWithinPartitions(*keys), strategy


def input_partitions(df):
    """The DataFrame's partition count when Spark can tell without a job (classic Spark), as GeoPySpark
    shuffles keep their input's count; None on Spark Connect (adaptive execution sizes the shuffle)."""
    from ..session import is_connect

    return None if is_connect(df) else df.rdd.getNumPartitions()


def _concat(a: pa.RecordBatch, b: pa.RecordBatch) -> pa.RecordBatch:
    if a.num_rows == 0:
        return b
    return pa.Table.from_batches([a, b.cast(a.schema) if b.schema != a.schema else b]).combine_chunks().to_batches()[0]


def combine_runs(sorted_df, keys, op, schema):
    """Each run of equal keys combined into one row by ``op`` ("fill" merges; else aggregate_by_cell)."""
    keys = list(keys)
    return stream_runs(sorted_df, schema, lambda batch, complete: _native.combine_runs(batch, keys, op, complete))


def stream_runs(sorted_df, schema, kernel):
    """Runs of equal keys of a sorted DataFrame through ``kernel(batch, last_run_complete) -> (out,
    start of the held-back run)``; a run that reaches the end of a batch is carried into the next."""

    def run(batches):
        carry = None
        for batch in batches:
            if carry is not None:
                batch = _concat(carry, batch)
            out, start = kernel(batch, False)
            carry = batch.slice(start)
            if out.num_rows:
                yield out
        if carry is not None and carry.num_rows:
            yield kernel(carry, True)[0]

    return sorted_df.mapInArrow(run, schema)


def stitch_raw(table: pa.Table):
    """Mosaic collected tiles (col, row + tile columns): ``(cell_type, bands, rows, cols, cells,
    (min_col, min_row, max_col, max_row))``."""
    if table.num_rows == 0:
        raise ValueError("cannot stitch an empty layer")
    return _native.stitch(table.combine_chunks().to_batches()[0])


def stitch(table: pa.Table) -> Tile:
    """Mosaic collected tiles (col, row + tile columns) into one Tile."""
    cell_type, bands, rows, cols, cells, _ = stitch_raw(table)
    return decode_tile(cell_type, bands, rows, cols, cells)
