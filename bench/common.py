"""What the benchmarks share: timing, generated rasters and generated tile layers."""

import statistics
import time

import numpy as np
import pyarrow as pa

import geopyspark_rs as gps


def bench_session(master, app_name, driver_memory, conf_pairs=()):
    """A SparkSession from ``geopyspark_conf`` with the driver's memory and ``KEY=VALUE`` settings (``--conf``)."""
    from pyspark.sql import SparkSession

    conf = gps.geopyspark_conf(master=master, appName=app_name).set("spark.driver.memory", driver_memory)
    for kv in conf_pairs:
        key, _, value = kv.partition("=")
        conf.set(key, value)
    spark = SparkSession.builder.config(conf=conf).getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def median_time(fn, repeat):
    """Median wall time of ``repeat`` calls of ``fn``."""
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def dem(n, dtype="float32"):
    """An n×n smooth terrain with fine ripples and noise (compresses like real elevation data)."""
    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:n, 0:n].astype(np.float32)
    v = 500 + 200 * np.sin(x / 300) * np.cos(y / 250) + 30 * np.sin(x / 20) + rng.normal(0, 0.5, (n, n))
    if np.dtype(dtype).kind == "f":
        return v.astype(dtype)
    return np.round(v * 10 if dtype == "uint16" else v).astype(dtype)


def random_tile_layer(spark, layout_cols, layout_rows, extent, tile_size=256, zoom=None, n_tiles=None):
    """A cached TiledRasterLayer of random float32 tiles generated on the executors, keys row-major over a
    ``layout_cols × layout_rows`` layout of ``extent`` (the first ``n_tiles`` keys; all by default)."""
    n_tiles = layout_cols * layout_rows if n_tiles is None else n_tiles

    def tiles(batches):
        for b in batches:
            ids = b.column("id").to_numpy()
            rng = np.random.default_rng(int(ids[0]) if len(ids) else 0)
            cells = [rng.random((tile_size, tile_size), dtype=np.float32).tobytes() for _ in ids]
            yield pa.RecordBatch.from_pydict({
                "col": pa.array(ids % layout_cols, pa.int32()), "row": pa.array(ids // layout_cols, pa.int32()),
                "cell_type": pa.array(["float32"] * len(ids)), "bands": pa.array([1] * len(ids), pa.int32()),
                "rows": pa.array([tile_size] * len(ids), pa.int32()),
                "cols": pa.array([tile_size] * len(ids), pa.int32()),
                "cells": pa.array(cells, pa.binary()),
            })

    schema = "col int, row int, cell_type string, bands int, rows int, cols int, cells binary"
    df = spark.range(n_tiles, numPartitions=8).mapInArrow(tiles, schema)
    last = n_tiles - 1
    bounds = gps.Bounds(gps.SpatialKey(0, 0), gps.SpatialKey(min(last, layout_cols - 1), last // layout_cols))
    md = gps.Metadata(bounds, 3857, "float32", extent,
                      gps.LayoutDefinition(extent, gps.TileLayout(layout_cols, layout_rows, tile_size, tile_size)))
    layer = gps.TiledRasterLayer.from_dataframe(gps.LayerType.SPATIAL, df, md, zoom).cache()
    assert layer.count() == n_tiles
    return layer
