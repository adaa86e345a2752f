"""The Spark-free catalog API (``geopyspark_rs.local``) against the Spark path on the same catalog: reading a
region into one array (``local.read`` vs ``gps.query(...).stitch()``), reading the whole layer's tiles
(``local.query`` vs ``gps.query(...).to_numpy_tiles()``) and writing a raster as a layer (``local.write`` of
a Raster vs ``gps.write`` of a layer already tiled and cached). The local path runs on every core of this
process (``--threads``); Spark on ``--master``. The Spark session starts before anything is timed.

    .venv/bin/python bench/bench_local_read.py [--size 8192] [--repeat 5] [--master local[2]]

The layer is a --size × --size float32 DEM in 256×256 tiles; the region is its central quarter (half the
width and height). Figures are medians of --repeat runs; ratios > 1 mean the Spark-free path is faster.
"""

import argparse
import os
import shutil
import sys
import tempfile

import numpy as np
from affine import Affine

sys.path.insert(0, os.path.dirname(__file__))
from common import dem, median_time  # noqa: E402

import geopyspark_rs as gps  # noqa: E402
import geopyspark_rs.local as gl  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", type=int, default=8192)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--master", default="local[2]")
    ap.add_argument("--threads", type=int, default=None)
    args = ap.parse_args()
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    from pyspark.sql import SparkSession

    conf = gps.geopyspark_conf(master=args.master, appName="bench-local-read").set("spark.driver.memory", "6g")
    spark = SparkSession.builder.config(conf=conf).getOrCreate()
    n = args.size
    raster = gl.Raster(dem(n), Affine(10.0, 0, 300_000.0, 0, -10.0, 5_000_000.0), 32633, np.nan)
    root = tempfile.mkdtemp(prefix="bench-local-")
    try:
        uri = os.path.join(root, "cat")
        gl.write(uri, "dem", raster, layout=gps.LocalLayout(256))
        e = raster.extent
        w, h = e.xmax - e.xmin, e.ymax - e.ymin
        region = gps.Extent(e.xmin + w / 4, e.ymin + h / 4, e.xmax - w / 4, e.ymax - h / 4)
        mpix_region, mpix_all = (n // 2) ** 2 / 1e6, n * n / 1e6

        # Same cells both ways (the Spark stitch covers whole tiles; the local read crops to the region).
        local = gl.read(uri, "dem", 0, query_geom=region, threads=args.threads)
        spark_tile = gps.query(uri, "dem", 0, query_geom=region).stitch()
        assert local.shape == (1, n // 2, n // 2) and spark_tile.cells.shape[1] >= n // 2

        rows = []
        t_local = median_time(lambda: gl.read(uri, "dem", 0, query_geom=region, threads=args.threads), args.repeat)
        t_spark = median_time(lambda: gps.query(uri, "dem", 0, query_geom=region).stitch(), args.repeat)
        rows.append(("region read (central quarter)", mpix_region, t_local, t_spark))
        t_local = median_time(lambda: gl.query(uri, "dem", 0, threads=args.threads), args.repeat)
        t_spark = median_time(lambda: gps.query(uri, "dem", 0).to_numpy_tiles(), args.repeat)
        rows.append(("whole layer to tiles", mpix_all, t_local, t_spark))

        layer = gps.query(uri, "dem", 0).cache()
        layer.count()
        counter = iter(range(10 ** 6))

        def write_local():
            gl.write(uri, f"l{next(counter)}", raster, layout=gps.LocalLayout(256))

        def write_spark():
            gps.write(uri, f"s{next(counter)}", layer)

        t_local = median_time(write_local, args.repeat)
        t_spark = median_time(write_spark, args.repeat)
        rows.append(("write layer (raster → tiles → files)", mpix_all, t_local, t_spark))

        print(f"{n}×{n} float32, 256×256 tiles; local on {args.threads or os.cpu_count()} threads, Spark on "
              f"{args.master}; medians of {args.repeat}")
        print(f"{'operation':40s} {'local s':>9s} {'Mpix/s':>8s} {'Spark s':>9s} {'Mpix/s':>8s} {'ratio':>6s}")
        for name, mpix, tl, ts in rows:
            print(f"{name:40s} {tl:9.3f} {mpix / tl:8.1f} {ts:9.3f} {mpix / ts:8.1f} {ts / tl:6.2f}")
    finally:
        shutil.rmtree(root, ignore_errors=True)
        spark.stop()


if __name__ == "__main__":
    main()
