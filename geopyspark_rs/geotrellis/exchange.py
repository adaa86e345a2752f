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
from .layout import layer_bytes, tile_bytes
from .plan import Head
from .python_worker import freeze_worker_heap
from .tile_contract import cell_bytes, check_tile_bytes


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


#: The most bytes of tiles an exchange puts in one partition when it knows the output's size: a partition
#: is built, cached or written by one task, within one executor's memory.
EXCHANGE_PARTITION_BYTES = 128 * 1024 * 1024
#: The most bytes of output tiles (one band) a reduce-side kernel call makes when it knows the tile size.
OUTPUT_BATCH_BYTES = 256 * 1024 * 1024


def keyed_exchange(layer, emit, piece_schema, keys, kernel, partition_strategy=None, partitions=None,
                   out_metadata=None) -> Exchanged:
    """Shuffle ``layer``'s pieces on ``keys`` and reduce each run of equal keys with ``kernel``.

    ``emit``: a batch → batch of pieces function run in the layer's pass (None shuffles the tiles as they
    are, with ``piece_schema`` None); ``partitions``: the shuffle's partition count when no strategy
    says (default: the layer's, when known), raised so that no partition of the output (``out_metadata``,
    when known) holds more than ``EXCHANGE_PARTITION_BYTES``."""
    rows_per_call = None
    if out_metadata is not None:
        tl = out_metadata.tile_layout
        check_tile_bytes("the output layout", 1, tl.tileRows, tl.tileCols, out_metadata.cell_type)
        rows_per_call = max(1, OUTPUT_BATCH_BYTES // tile_bytes(out_metadata))
    if emit is None:
        pieces = layer.dataframe
    else:
        pieces = layer._map_batches(lambda batches: (emit(batch) for batch in batches), piece_schema)
    n = partitions or layer._partitions
    if n:
        n = max(n, -(-layer_bytes(out_metadata) // EXCHANGE_PARTITION_BYTES))
    df, strategy, n = shuffle_by_key(pieces, keys, layer.layer_type, partition_strategy, n)
    return Exchanged(df, runs(kernel, rows_per_call), strategy, n)


def combine(keys, op):
    """The kernel combining each run of equal keys into one tile by ``op`` ("fill" merges later tiles into
    the NoData cells of earlier ones; else an aggregate_by_cell operation)."""
    keys = list(keys)
    return lambda batch, complete: _native.combine_runs(batch, keys, op, complete)


def _concat(a: pa.RecordBatch, b: pa.RecordBatch) -> pa.RecordBatch:
    if a.num_rows == 0:
        return b
    return pa.Table.from_batches([a, b.cast(a.schema) if b.schema != a.schema else b]).combine_chunks().to_batches()[0]


def _slices(batches, rows: int | None):
    for batch in batches:
        if rows is None or batch.num_rows <= rows:
            yield batch
        else:
            yield from (batch.slice(i, rows) for i in range(0, batch.num_rows, rows))


def stream_runs(kernel, rows_per_call: int | None = None):
    """An iterator of sorted batches → the kernel's outputs, carrying a run that reaches the end of a batch
    into the next one. ``rows_per_call`` bounds the rows given to one kernel call, so one output batch holds
    at most that many runs (plus a carried one): large output tiles stay within an Arrow batch's 2 GiB."""

    def run(batches):
        freeze_worker_heap()
        carry = None
        for batch in _slices(batches, rows_per_call):
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


def runs(kernel, rows_per_call: int | None = None) -> Head:
    """The reduce side of an exchange as a layer head."""
    return Head(stream_runs(kernel, rows_per_call), row_aligned=False)


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


# Up to this many bytes of strips in all, tiles that are in the JVM as they are stay where they are and
# every task gets all the strips; beyond it, tiles and strips are shuffled together.
LOCAL_STRIP_BYTES = 64 << 20

_BYTES_PER_CELL = ("CASE WHEN cell_type LIKE 'float64%' THEN 8 "
                   "WHEN cell_type LIKE 'int32%' OR cell_type LIKE 'float32%' THEN 4 "
                   "WHEN cell_type LIKE 'int16%' OR cell_type LIKE 'uint16%' THEN 2 ELSE 1 END")


def _strip_sql(dx, dy, w):
    """Spark SQL for the cells a tile sends to the neighbour it sits at (``dx``, ``dy``) from, every band:
    the tile's last ``w`` columns when it lies west of the receiver (``dx = -1``), its first ``w`` when
    east, all of them when level (rows alike, ``dy = -1`` north), as ``border_strips`` cuts them."""
    r0, nr = {-1: (f"(rows - {w})", str(w)), 1: ("0", str(w)), 0: ("0", "rows")}[dy]
    c0, nc = {-1: (f"(cols - {w})", str(w)), 1: ("0", str(w)), 0: ("0", "cols")}[dx]
    empty = "cast('' as binary)"
    if dx == 0:  # whole rows: one contiguous run per band
        return (f"aggregate(sequence(0, bands - 1), {empty}, (acc, b) -> concat(acc, "
                f"substring(cells, ((b * rows + {r0}) * cols) * bpc + 1, {nr} * cols * bpc)))")
    return (f"aggregate(sequence(0, bands * {nr} - 1), {empty}, (acc, i) -> concat(acc, "
            f"substring(cells, (((i div {nr}) * rows + {r0} + i % {nr}) * cols + {c0}) * bpc + 1, {nc} * bpc)))")


def _strips_sql(layer, width, key_bounds):
    """The border strips of a layer's tiles cut in Spark SQL (``border_strips`` rows): the cells need not
    visit Python for it."""
    keys = list(layer._key_columns)
    structs = []
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            if dx == 0 and dy == 0:
                continue
            nr = str(width) if dy else "rows"
            nc = str(width) if dx else "cols"
            receiver = [f"col - ({dx}) AS col", f"row - ({dy}) AS row"] + (["instant"] if "instant" in keys else [])
            structs.append("struct(" + ", ".join(receiver + [
                f"{dx} AS dx", f"{dy} AS dy", "cell_type", "bands", f"{nr} AS rows", f"{nc} AS cols",
                f"{_strip_sql(dx, dy, width)} AS cells"]) + ")")
    pieces = layer._df.selectExpr(*keys, "cell_type", "bands", "rows", "cols", "cells", f"{_BYTES_PER_CELL} AS bpc")
    pieces = pieces.selectExpr(f"inline(array({', '.join(structs)}))")
    if key_bounds is not None:
        c0, r0, c1, r1 = key_bounds
        pieces = pieces.where(f"col BETWEEN {c0} AND {c1} AND row BETWEEN {r0} AND {r1}")
    return pieces


def _collected_strips(layer, width, key_bounds) -> pa.RecordBatch:
    """All the border strips of a layer as one Arrow batch on the driver. A cached layer keeps them, per
    width, so a second focal operation on the same tiles (slope, then aspect, then hillshade) reuses them."""
    cache = getattr(layer, "_strips", None) if layer.is_cached else None
    hit = cache.get(width) if cache is not None else None
    if hit is not None and hit[0] is layer._df:
        return hit[1]
    table = _strips_sql(layer, width, key_bounds).toArrow()
    strips = table.combine_chunks().to_batches()[0] if table.num_rows else pa.RecordBatch.from_pylist(
        [], schema=table.schema)
    if cache is not None:
        cache[width] = (layer._df, strips)
    return strips


def _strip_bytes(layer, width):
    """An upper bound of the bytes of all the strips of a layer, from its metadata (None when unknown)."""
    from .constants import LayerType

    m = layer.layer_metadata
    b = m.bounds
    if b is None or layer.layer_type == LayerType.SPACETIME:
        return None  # no bounds, or as many tiles per key as instants, which the metadata does not count
    tl = m.tile_layout
    tiles = (b.maxKey.col - b.minKey.col + 1) * (b.maxKey.row - b.minKey.row + 1)
    bytes_per_cell = cell_bytes(m.cell_type)
    side = 2 * (tl.tileCols + tl.tileRows) * width + 4 * width * width
    return tiles * side * bytes_per_cell * 4  # allowing for a few bands


def buffered(layer, width: int, partition_strategy=None, kernels=None) -> Exchanged:
    """The exchange giving every tile of a tiled ``layer`` a border of ``width`` cells from its eight
    neighbours (only the strips they need are sent; cells without a neighbour are NoData): the tiles are
    ``(rows + 2w) × (cols + 2w)``. ``kernels = (runs kernel, kernel of tiles and strips)`` replace that
    assembly (focal operations compute their result from the pieces directly).

    A layer whose tiles are in the JVM as they are (cached or plain, no pending steps) keeps them where
    they are: the strips are cut in Spark SQL and collected (a few percent of the cells), every task of the
    pass gets them all, and the tiles are not shuffled. Otherwise, or with a partition strategy or too many
    strips, the map side emits tiles and strips in the layer's pass and all of them are shuffled."""
    width = int(width)
    tl = layer.layer_metadata.tile_layout
    if width < 0 or width > min(tl.tileCols, tl.tileRows):
        raise ValueError(f"a neighbour buffer must be 0..{min(tl.tileCols, tl.tileRows)} cells wide (the tile "
                         f"size), got {width}")
    b = layer.layer_metadata.bounds
    key_bounds = None if b is None else (b.minKey.col, b.minKey.row, b.maxKey.col, b.maxKey.row)
    keys = list(layer._key_columns)
    runs_kernel, with_strips_kernel = kernels or (
        lambda batch, complete: _native.buffer_runs(batch, keys, width, complete),
        lambda batch, strips: _native.buffer_with_strips(batch, strips, width))

    plain = layer._head is None and not layer._steps
    strip_bytes = _strip_bytes(layer, width)
    if plain and width > 0 and partition_strategy is None and strip_bytes is not None \
            and strip_bytes <= LOCAL_STRIP_BYTES:
        strips = _collected_strips(layer, width, key_bounds)
        head = Head(lambda batches: (with_strips_kernel(batch, strips) for batch in batches), row_aligned=True)
        return Exchanged(layer._df, head, layer._partition_strategy, layer._partitions)

    def emit(batch):
        return _native.buffer_pieces(batch, width, key_bounds)

    return keyed_exchange(layer, emit, buffer_piece_schema(layer.layer_type), keys, runs_kernel,
                          partition_strategy)
