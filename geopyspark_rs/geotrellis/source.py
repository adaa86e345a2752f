"""Layers whose pass starts with a read (DESIGN §4, one pass per stage).

The driver plans a read (GeoTIFF windows, catalog files) into small *source rows* that hold no cells, and
the layer's head reads the cells of those rows inside whatever pass consumes the layer: the map side of a
shuffle, a reduction, an encoder or a writer. So cells read in Python never cross into the JVM unless the
layer is shuffled, cached or collected, and work that needs no cells (counts, keys, metadata) reads none.

Spark cannot place rows in a chosen partition directly; ``partition_values`` picks, for each partition, an
int whose Spark hash lands there, so ``repartition(n, "part")`` puts each planned partition in its own
Spark partition, in order, at the cost of a shuffle of the small source rows only.
"""

from __future__ import annotations

import pyarrow as pa

_MASK = 0xFFFFFFFF


def _rotl(x: int, r: int) -> int:
    return ((x << r) | (x >> (32 - r))) & _MASK


def spark_hash_int(value: int, seed: int = 42) -> int:
    """Spark's ``hash()`` of an int column (Murmur3 x86 32-bit of one int, seed 42), as a signed int."""
    k1 = _rotl((value & _MASK) * 0xCC9E2D51 & _MASK, 15) * 0x1B873593 & _MASK
    h1 = (_rotl(seed ^ k1, 13) * 5 + 0xE6546B64) & _MASK
    h1 ^= 4
    h1 ^= h1 >> 16
    h1 = h1 * 0x85EBCA6B & _MASK
    h1 ^= h1 >> 13
    h1 = h1 * 0xC2B2AE35 & _MASK
    h1 ^= h1 >> 16
    return h1 - (1 << 32) if h1 >= 1 << 31 else h1


def partition_values(n: int) -> list[int]:
    """For each partition ``i < n``, an int that Spark's hash partitioning into ``n`` places in ``i``."""
    found: list[int | None] = [None] * n
    missing, v = n, 0
    while missing:
        i = spark_hash_int(v) % n
        if found[i] is None:
            found[i] = v
            missing -= 1
        v += 1
    return found


def source_frame(spark, table: pa.Table, parts, n: int):
    """A DataFrame of the source rows ``table`` in ``n`` partitions, row ``r`` in partition ``parts[r]``
    (rows of one partition keep their order)."""
    values = partition_values(n)
    part = pa.array([values[p] for p in parts], pa.int32())
    df = spark.createDataFrame(table.append_column(pa.field("part", pa.int32(), nullable=False), part))
    return df.repartition(n, "part").drop("part")
