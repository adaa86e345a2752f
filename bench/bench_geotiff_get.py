"""Distributed GeoTIFF reading: ``gps.geotiff.get`` of a directory against the same windows read by
rasterio (GDAL) inside a plain ``mapInArrow`` UDF, the way one would without this project.

    .venv/bin/python bench/bench_geotiff_get.py [--files 8] [--size 2048] [--repeat 5] [--master local[2]]

The files are tiled 256×256 float32 deflate GeoTIFFs generated with rasterio in a temporary directory.
Each run writes every tile to Spark's ``noop`` sink; figures are medians of --repeat runs.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time

import numpy as np
import pyarrow as pa
import rasterio
from pyspark.sql import SparkSession

import geopyspark_rs as gps
from geopyspark_rs.geotrellis import tile_contract as tc

WINDOW = 256


def make_files(folder, n_files, size):
    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:size, 0:size].astype(np.float32)
    for i in range(n_files):
        data = (np.sin(x / 97.0 + i) * np.cos(y / 53.0) * 1000 + rng.normal(0, 5, (size, size))).astype(np.float32)
        profile = dict(driver="GTiff", width=size, height=size, count=1, dtype="float32", crs="EPSG:3857",
                       transform=rasterio.transform.from_origin(i * size * 10.0, 0, 10.0, 10.0),
                       tiled=True, blockxsize=256, blockysize=256, compress="deflate", nodata=-9999)
        with rasterio.open(os.path.join(folder, f"f{i:03d}.tif"), "w", **profile) as dst:
            dst.write(data, 1)


def rasterio_udf_dataframe(spark, folder, num_partitions):
    """Windows listed on the driver, read with rasterio in a mapInArrow UDF (GDAL_NUM_THREADS=1)."""
    rows = []
    for name in sorted(os.listdir(folder)):
        path = os.path.join(folder, name)
        with rasterio.open(path) as src:
            for r in range(0, src.height, WINDOW):
                for c in range(0, src.width, WINDOW):
                    rows.append((path, c, r))
    windows = spark.createDataFrame(rows, "path string, c int, r int").repartition(num_partitions)
    schema = tc.schema(False, gps.LayerType.SPATIAL)

    def read(batches):
        os.environ["GDAL_NUM_THREADS"] = "1"
        from rasterio.windows import Window

        for b in batches:
            out = {n: [] for n in schema.names}
            for path, c, r in zip(*(b.column(n).to_pylist() for n in ("path", "c", "r"))):
                with rasterio.open(path) as src:
                    w = Window(c, r, min(WINDOW, src.width - c), min(WINDOW, src.height - r))
                    cells = src.read(window=w)
                    left, bottom, right, top = rasterio.windows.bounds(w, src.transform)
                out["xmin"].append(left), out["ymin"].append(bottom), out["xmax"].append(right)
                out["ymax"].append(top), out["crs"].append("EPSG:3857"), out["cell_type"].append("float32ud-9999.0")
                out["bands"].append(cells.shape[0]), out["rows"].append(cells.shape[1])
                out["cols"].append(cells.shape[2]), out["cells"].append(cells.tobytes())
            yield pa.RecordBatch.from_pydict(out, schema=tc.arrow_schema(False, gps.LayerType.SPATIAL))

    return windows.mapInArrow(read, schema)


def timed(df, repeat):
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        df.write.format("noop").mode("overwrite").save()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--files", type=int, default=8)
    ap.add_argument("--size", type=int, default=2048)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--master", default="local[2]")
    args = ap.parse_args()
    os.environ["PYSPARK_PYTHON"] = sys.executable
    conf = gps.geopyspark_conf(master=args.master, appName="bench-geotiff-get")
    spark = SparkSession.builder.config(conf=conf).getOrCreate()
    parallelism = spark.sparkContext.defaultParallelism
    with tempfile.TemporaryDirectory() as folder:
        make_files(folder, args.files, args.size)
        mpix = args.files * args.size * args.size / 1e6
        ours = gps.geotiff.get(gps.LayerType.SPATIAL, folder, max_tile_size=WINDOW).dataframe
        baseline = rasterio_udf_dataframe(spark, folder, parallelism * 2)
        assert ours.count() == baseline.count()
        t_ours = timed(ours, args.repeat)
        t_base = timed(baseline, args.repeat)
    print(f"{args.files} files of {args.size}x{args.size} float32 tiled deflate, {args.master}, median of {args.repeat}")
    print(f"{'case':<34}{'seconds':>10}{'Mpix/s':>10}")
    print(f"{'gps.geotiff.get':<34}{t_ours:>10.2f}{mpix / t_ours:>10.1f}")
    print(f"{'rasterio in a mapInArrow UDF':<34}{t_base:>10.2f}{mpix / t_base:>10.1f}")
    print(f"ratio baseline/ours: {t_base / t_ours:.2f}x")
    spark.stop()


if __name__ == "__main__":
    main()
