"""GeoTrellis catalog throughput: writing and fully reading a layer with ``gps.write``/``gps.query``
against a plain Parquet write/read of the same tile DataFrame, and ``read_value`` latency. Writes are
timed with GeoTrellis' zlib level 6 (the default, byte-identical files) and with the opt-in faster
``compression_level`` (libdeflate levels 1 and 6).

    .venv/bin/python bench/bench_catalog.py [--tiles 16] [--repeat 3] [--master local[2]]

The layer is --tiles × --tiles tiles of 256×256 float32 (smooth data plus noise), cached before timing.
Throughput is MB of cells per second; reads write every tile to Spark's ``noop`` sink. read_value is
timed over 200 random keys (median and p99). Figures are medians of --repeat runs.
"""

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
import zlib

import numpy as np
from pyspark.sql import SparkSession

import geopyspark_rs as gps

TILE = 256


def make_layer(n):
    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:TILE, 0:TILE].astype(np.float32)
    tiles = []
    for c in range(n):
        for r in range(n):
            cells = (np.sin((x + c * TILE) / 97.0) * np.cos((y + r * TILE) / 53.0) * 1000
                     + rng.normal(0, 5, (TILE, TILE))).astype(np.float32)
            tiles.append((gps.SpatialKey(c, r), gps.Tile(cells[None], "FLOAT", None)))
    extent = gps.Extent(0.0, 0.0, n * TILE * 10.0, n * TILE * 10.0)
    md = gps.Metadata(gps.Bounds(gps.SpatialKey(0, 0), gps.SpatialKey(n - 1, n - 1)), 3857, "float32", extent,
                      gps.LayoutDefinition(extent, gps.TileLayout(n, n, TILE, TILE)))
    layer = gps.TiledRasterLayer.from_numpy_tiles(gps.LayerType.SPATIAL, tiles, md, zoom_level=0)
    layer = gps.TiledRasterLayer(layer.layer_type, layer.dataframe.repartition(4), md, 0).cache()
    layer.count()
    return layer


def timed(fn):
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tiles", type=int, default=16)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--master", default="local[2]")
    args = ap.parse_args()
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    conf = gps.geopyspark_conf(master=args.master, appName="bench-catalog").set("spark.driver.memory", "4g")
    spark = SparkSession.builder.config(conf=conf).getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")

    layer = make_layer(args.tiles)
    mb = args.tiles * args.tiles * TILE * TILE * 4 / 1e6
    tmp = tempfile.mkdtemp(prefix="bench-catalog-")
    fast_levels = (1, 6)
    results = {k: [] for k in ("catalog write", *(f"catalog write, level {n}" for n in fast_levels),
                               "parquet write", "catalog read", "parquet read")}
    try:
        for i in range(args.repeat):
            cat, pq = os.path.join(tmp, f"cat{i}"), os.path.join(tmp, f"pq{i}")
            results["catalog write"].append(timed(lambda: gps.write(cat, "bench", layer)))
            for n in fast_levels:
                results[f"catalog write, level {n}"].append(timed(
                    lambda: gps.write(os.path.join(tmp, f"fast{n}_{i}"), "bench", layer, compression_level=n)))
            results["parquet write"].append(timed(lambda: layer.dataframe.write.parquet(pq)))
            results["catalog read"].append(timed(
                lambda: gps.query(cat, "bench", 0).dataframe.write.format("noop").mode("overwrite").save()))
            results["parquet read"].append(timed(
                lambda: spark.read.parquet(pq).write.format("noop").mode("overwrite").save()))

        print(f"layer: {args.tiles}x{args.tiles} tiles of {TILE}x{TILE} float32 = {mb:.0f} MB of cells, "
              f"{args.master}, median of {args.repeat}")
        med = {k: statistics.median(v) for k, v in results.items()}
        for k, v in med.items():
            print(f"  {k:24s} {v:7.2f} s  {mb / v:7.1f} MB/s")
        print(f"  write: catalog/parquet throughput ratio {med['parquet write'] / med['catalog write']:.2f}x")
        for n in fast_levels:
            k = f"catalog write, level {n}"
            print(f"  write, compression_level={n}: {med['catalog write'] / med[k]:.2f}x the default's throughput, "
                  f"{med['parquet write'] / med[k]:.2f}x parquet's")
        print(f"  read:  catalog/parquet throughput ratio {med['parquet read'] / med['catalog read']:.2f}x")

        def on_disk(cat):
            d = os.path.join(tmp, cat, "bench", "0")
            return sum(os.path.getsize(os.path.join(d, f)) for f in os.listdir(d)) / 1e6

        print(f"  on disk: catalog {on_disk('cat0'):.1f} MB (zlib level 6, as GeoTrellis), "
              + ", ".join(f"level {n} {on_disk(f'fast{n}_0'):.1f} MB" for n in fast_levels)
              + f", of {mb:.1f} MB of cells")
        # What zlib level 6 alone costs (GeoTrellis' bytes need it): the write's floor.
        sample = [t.cells.tobytes() for _, t in layer.to_numpy_tiles()[:16]]
        t0 = time.perf_counter()
        for b in sample:
            zlib.compress(b, 6)
        per_core = sum(map(len, sample)) / 1e6 / (time.perf_counter() - t0)
        print(f"  zlib level 6 alone: {per_core:.1f} MB/s per core")

        rng = np.random.default_rng(1)
        cat = os.path.join(tmp, "cat0")
        gps.read_value(cat, "bench", 0, 0, 0)  # warm the attribute store cache and page cache
        lat = []
        for _ in range(200):
            c, r = rng.integers(0, args.tiles, 2)
            t0 = time.perf_counter()
            tile = gps.read_value(cat, "bench", 0, int(c), int(r))
            lat.append((time.perf_counter() - t0) * 1000)
            assert tile is not None
        lat.sort()
        print(f"  read_value 256x256 float32: median {statistics.median(lat):.2f} ms, "
              f"p99 {lat[int(len(lat) * 0.99) - 1]:.2f} ms (target < 5 ms)")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        spark.stop()


if __name__ == "__main__":
    main()
