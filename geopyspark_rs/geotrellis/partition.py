"""Partition strategies as Spark repartitioning of the layer DataFrame.

GeoTrellis' spatial partitioners group keys by their Z-curve index shifted right by ``bits``, so that
neighbouring tiles share a partition. Spark DataFrames take no custom partitioner, so the Z-curve region
is a column expression that Spark hash-partitions on: keys of one region always land together.
"""

from __future__ import annotations

from pyspark.sql import functions as F

from .constants import LayerType, TimeUnit
from .data_model import HashPartitionStrategy, SpaceTimePartitionStrategy, SpatialPartitionStrategy

_MILLIS = {
    TimeUnit.MILLIS: 1, TimeUnit.SECONDS: 1000, TimeUnit.MINUTES: 60_000, TimeUnit.HOURS: 3_600_000,
    TimeUnit.DAYS: 86_400_000, TimeUnit.WEEKS: 7 * 86_400_000,
    TimeUnit.MONTHS: 30 * 86_400_000, TimeUnit.YEARS: 365 * 86_400_000,
}


def _spread(c, dims: int):
    """Spread the low bits of a non-negative integer column so that `dims` of them interleave."""
    c = c.cast("long")
    if dims == 2:
        masks = [(16, 0x0000FFFF0000FFFF), (8, 0x00FF00FF00FF00FF), (4, 0x0F0F0F0F0F0F0F0F),
                 (2, 0x3333333333333333), (1, 0x5555555555555555)]
        c = c.bitwiseAND(F.lit(0xFFFFFFFF))
    else:
        masks = [(32, 0x1F00000000FFFF), (16, 0x1F0000FF0000FF), (8, 0x100F00F00F00F00F),
                 (4, 0x10C30C30C30C30C3), (2, 0x1249249249249249)]
        c = c.bitwiseAND(F.lit(0x1FFFFF))
    for shift, mask in masks:
        c = F.shiftleft(c, shift).bitwiseOR(c).bitwiseAND(F.lit(mask))
    return c


def z_index(layer_type: LayerType, strategy):
    """The Z-curve region column of a strategy (its index shifted right by ``bits``)."""
    col, row = F.col("col"), F.col("row")
    if isinstance(strategy, SpaceTimePartitionStrategy):
        unit = _MILLIS[TimeUnit(strategy.time_unit)]
        resolution = int(strategy.time_resolution or 1)
        t = F.floor(F.col("instant") / F.lit(unit * resolution))
        z = _spread(col, 3).bitwiseOR(F.shiftleft(_spread(row, 3), 1)).bitwiseOR(F.shiftleft(_spread(t, 3), 2))
    else:
        z = _spread(col, 2).bitwiseOR(F.shiftleft(_spread(row, 2), 1))
    return F.shiftright(z, int(strategy.bits))


def check_partition_strategy(strategy, layer_type: LayerType) -> None:
    if strategy is None:
        return
    if not isinstance(strategy, (HashPartitionStrategy, SpatialPartitionStrategy, SpaceTimePartitionStrategy)):
        raise TypeError(
            f"partition_strategy must be a HashPartitionStrategy, SpatialPartitionStrategy or "
            f"SpaceTimePartitionStrategy, got {type(strategy).__name__}"
        )
    if isinstance(strategy, SpaceTimePartitionStrategy):
        if layer_type == LayerType.SPATIAL:
            raise TypeError("SpaceTimePartitionStrategy cannot be used on SPATIAL layers.")
        if not isinstance(strategy.time_unit, TimeUnit):
            raise TypeError(f"SpaceTimePartitionStrategy.time_unit must be a TimeUnit member, got {strategy.time_unit!r}")


def repartition(df, key_columns: list[str], layer_type: LayerType, strategy, current_partitions: int):
    """``(DataFrame, strategy with num_partitions filled in)`` partitioned by the strategy."""
    n = strategy.num_partitions or current_partitions
    if isinstance(strategy, HashPartitionStrategy):
        return df.repartition(n, *key_columns), HashPartitionStrategy(n)
    if "col" not in key_columns:
        raise TypeError("spatial partition strategies apply to tiled layers (keys with col and row)")
    region = z_index(layer_type, strategy)
    return df.repartition(n, region), strategy._replace(num_partitions=n)
