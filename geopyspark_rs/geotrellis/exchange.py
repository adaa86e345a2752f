"""The keyed exchange (DESIGN §4): every shuffle has the same shape.

1. **Map side**, inside the input layer's one pass: its head and steps, then ``emit`` turns each tile batch
   into keyed pieces (or the tiles are shuffled as they are).
2. **Spark shuffle** on the key columns, sorted within partitions, so equal keys are consecutive.
3. **Reduce side**: a ``Head`` that streams runs of equal keys through one Rust kernel
   ``kernel(batch, last_run_complete) -> (output batch, start of the held-back run)``; a run that reaches the
   end of a batch is carried into the next. The head runs inside the *result's* pass, so whatever follows
   the shuffle (steps, a reduction, an encoder, the next map side) shares that pass.

The shuffle's partition count is the strategy's, else the one asked for, else the input's when it is known
without running anything; otherwise Spark's adaptive execution sizes it (asking a DataFrame for its
partitions would run its upstream shuffles once more).
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

from .. import _native
from .plan import Head


@dataclass
class Exchanged:
    """A shuffled, sorted DataFrame of pieces and the head that reduces its runs into tiles."""

    df: object
    head: Head
    strategy: object
    partitions: int | None


def shuffle_by_key(df, keys, layer_type, strategy, partitions):
    """Rows of equal keys brought together and consecutive: ``(DataFrame, strategy used or None, partition
    count or None)``."""
    from .partition import repartition

    if strategy is not None:
        partitions = strategy.num_partitions or partitions or 1
        df, strategy = repartition(df, keys, layer_type, strategy, partitions)
    elif partitions:
        df = df.repartition(partitions, *keys)
    else:
        df = df.repartition(*keys)
    return df.sortWithinPartitions(*keys), strategy, partitions


def keyed_exchange(layer, emit, piece_schema, keys, kernel, partition_strategy=None, partitions=None) -> Exchanged:
    """Shuffle ``layer``'s pieces on ``keys`` and reduce each run of equal keys with ``kernel``.

    ``emit``: a batch → batch of pieces function run in the layer's pass (None shuffles the tiles as they
    are, with ``piece_schema`` None); ``partitions``: the shuffle's partition count when no strategy
    says (default: the layer's, when known)."""
    if emit is None:
        pieces = layer.dataframe
    else:
        pieces = layer._map_batches(lambda batches: (emit(batch) for batch in batches), piece_schema)
    n = partitions or layer._partitions
    df, strategy, n = shuffle_by_key(pieces, keys, layer.layer_type, partition_strategy, n)
    return Exchanged(df, runs(kernel), strategy, n)


def combine(keys, op):
    """The kernel combining each run of equal keys into one tile by ``op`` ("fill" merges later tiles into
    the NoData cells of earlier ones; else an aggregate_by_cell operation)."""
    keys = list(keys)
    return lambda batch, complete: _native.combine_runs(batch, keys, op, complete)


def _concat(a: pa.RecordBatch, b: pa.RecordBatch) -> pa.RecordBatch:
    if a.num_rows == 0:
        return b
    return pa.Table.from_batches([a, b.cast(a.schema) if b.schema != a.schema else b]).combine_chunks().to_batches()[0]


def stream_runs(kernel):
    """An iterator of sorted batches → the kernel's outputs, carrying a run that reaches the end of a batch
    into the next one."""

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
            out = kernel(carry, True)[0]
            if out.num_rows:
                yield out

    return run


def runs(kernel) -> Head:
    """The reduce side of an exchange as a layer head."""
    return Head(stream_runs(kernel), row_aligned=False)


def piece_schema(layer_type, extra):
    """The Spark schema of an exchange's pieces: a tiled layer's key columns, then the ``extra`` fields
    (``[(name, Spark type)]``) that place a piece, then the tile columns."""
    from pyspark.sql.types import StructField, StructType

    from . import tile_contract as tc

    contract = tc.schema(True, layer_type)
    n = len(tc.key_columns(True, layer_type))
    return StructType(contract.fields[:n] + [StructField(name, t, False) for name, t in extra] + contract.fields[n:])


def buffer_piece_schema(layer_type):
    from pyspark.sql.types import IntegerType

    return piece_schema(layer_type, [("dx", IntegerType()), ("dy", IntegerType())])


def buffered(layer, width: int, partition_strategy=None, kernel=None) -> Exchanged:
    """The exchange giving every tile of a tiled ``layer`` a border of ``width`` cells from its eight
    neighbours (only the strips they need are shuffled; cells without a neighbour are NoData): the
    reduced tiles are ``(rows + 2w) × (cols + 2w)``. A ``kernel`` over the runs of pieces replaces that
    assembly (focal operations compute their result from the pieces directly)."""
    width = int(width)
    tl = layer.layer_metadata.tile_layout
    if width < 0 or width > min(tl.tileCols, tl.tileRows):
        raise ValueError(f"a neighbour buffer must be 0..{min(tl.tileCols, tl.tileRows)} cells wide (the tile "
                         f"size), got {width}")
    b = layer.layer_metadata.bounds
    key_bounds = None if b is None else (b.minKey.col, b.minKey.row, b.maxKey.col, b.maxKey.row)
    keys = list(layer._key_columns)

    schema = buffer_piece_schema(layer.layer_type)

    def assemble(batch, complete):
        return _native.buffer_runs(batch, keys, width, complete)

    if layer._head is not None or layer._steps:
        def emit(batch):
            return _native.buffer_pieces(batch, width, key_bounds)

        return keyed_exchange(layer, emit, schema, keys, kernel or assemble, partition_strategy)
    # The tiles are in the JVM as they are (a cached or plain layer): the pass reads them and returns only
    # the strips, and the tiles join the shuffle straight from the DataFrame.
    from pyspark.sql import functions as F

    strips = layer._df.mapInArrow(
        lambda batches: (_native.border_strips(batch, width, key_bounds) for batch in batches), schema)
    tiles = layer._df.select(*[F.col(f.name) if f.name in layer._df.columns else F.lit(0).alias(f.name)
                               for f in schema.fields])
    df, strategy, n = shuffle_by_key(tiles.unionByName(strips), keys, layer.layer_type, partition_strategy,
                                     layer._partitions)
    return Exchanged(df, runs(kernel or assemble), strategy, n)
