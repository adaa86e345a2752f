"""Ingest pipeline, ours vs gdal2tiles (Debian's gdal-bin), building the same Web Mercator zoom levels.

Generates an N×N single-band uint8 GeoTIFF in UTM 33N (30 m cells, NoData 0, tiled 256, deflate), then
* ours: `geotiff.get` → `tile_to_layout(GlobalLayout(), target_crs=3857, BILINEAR)` (the zoom chosen
  from the cell size, as GeoTrellis' ZoomedLayoutScheme does) → `pyramid(BILINEAR)`, every level
  materialised (counted), on local[2]; and the same with `Pyramid.write` to a file catalog;
* gdal2tiles: `gdal2tiles.py -p mercator -r bilinear -z 0-<our max zoom> --processes=2 -w none`, which also
  reprojects, cuts 256×256 tiles at the max zoom and builds every coarser level from the one below (it
  writes PNGs; ours keeps the tiles in Spark or writes Avro tiles).

    PYTHONPATH=. /work/main/.venv/bin/python bench/bench_ingest.py [--size 8192] [--repeat 1]
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import rasterio
from rasterio.transform import from_origin

os.environ.setdefault("PYSPARK_PYTHON", sys.executable)


def write_source(path, n):
    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:n, 0:n].astype(np.float32)
    v = 128 + 80 * np.sin(x / 400) * np.cos(y / 300) + 30 * np.sin(x / 25) + rng.normal(0, 2, (n, n))
    cells = np.clip(v, 1, 255).astype(np.uint8)
    profile = dict(driver="GTiff", width=n, height=n, count=1, dtype="uint8", crs="EPSG:32633", nodata=0,
                   transform=from_origin(300_000, 5_000_000, 30, 30), tiled=True, blockxsize=256,
                   blockysize=256, compress="deflate")
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(cells, 1)


def ours(spark, gps, path, catalog=None):
    t = time.perf_counter()
    layer = gps.geotiff.get(gps.LayerType.SPATIAL, str(path))
    tiled = layer.tile_to_layout(gps.GlobalLayout(), target_crs=3857, resample_method=gps.ResampleMethod.BILINEAR)
    pyramid = tiled.pyramid(gps.ResampleMethod.BILINEAR)
    if catalog is None:
        pyramid.cache()
        tiles = sum(level.count() for level in pyramid.levels.values())
        pyramid.unpersist()
    else:
        pyramid.write(catalog, "ingest")
        tiles = sum(1 for _ in Path(catalog.replace("file://", "")).rglob("*") if _.is_file())
    return time.perf_counter() - t, pyramid.max_zoom, tiles


def gdal2tiles(path, out, max_zoom):
    t = time.perf_counter()
    subprocess.run(["gdal2tiles.py", "-q", "-p", "mercator", "-r", "bilinear", "-z", f"0-{max_zoom}",
                    "--processes=2", "-w", "none", str(path), str(out)], check=True)
    return time.perf_counter() - t, sum(1 for _ in Path(out).rglob("*.png"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", type=int, default=8192)
    ap.add_argument("--repeat", type=int, default=1)
    args = ap.parse_args()
    if shutil.which("gdal2tiles.py") is None:
        sys.exit("gdal2tiles.py not found: apt-get install gdal-bin")

    from pyspark.sql import SparkSession

    import geopyspark_rs as gps

    conf = gps.geopyspark_conf(master="local[2]", appName="bench-ingest").set("spark.driver.memory", "6g")
    spark = SparkSession.builder.config(conf=conf).getOrCreate()
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "source.tif"
        write_source(src, args.size)
        print(f"{args.size}x{args.size} uint8 UTM 33N GeoTIFF → Web Mercator pyramid, local[2] vs gdal2tiles --processes=2")
        ours(spark, gps, src)  # warm-up: Python workers, JIT
        runs, wruns, gruns = [], [], []
        for i in range(args.repeat):
            seconds, max_zoom, tiles = ours(spark, gps, src)
            runs.append(seconds)
            cat = f"file://{tmp}/catalog{i}"
            wseconds, _, files = ours(spark, gps, src, cat)
            wruns.append(wseconds)
            gseconds, pngs = gdal2tiles(src, Path(tmp) / f"tiles{i}", max_zoom)
            gruns.append(gseconds)
        t, w, g = statistics.median(runs), statistics.median(wruns), statistics.median(gruns)
        print(f"zoom levels 0-{max_zoom}: ours {tiles} tiles, gdal2tiles {pngs} PNGs")
        print(f"ours, levels in memory     {t:8.2f} s   {g / t:5.2f}x gdal2tiles")
        print(f"ours, written to a catalog {w:8.2f} s   {g / w:5.2f}x gdal2tiles   ({files} files)")
        print(f"gdal2tiles                 {g:8.2f} s")
    spark.stop()


if __name__ == "__main__":
    main()
