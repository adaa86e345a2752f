"""Whole-file GeoTIFF decode, ours vs GDAL (rasterio), one thread each.

Writes 4096x4096 files with rasterio into a temporary directory, then times
* ours: one `read_geotiff_windows` call for all 256x256 segment windows (one thread), and
* GDAL: `rasterio.open(...).read()` with GDAL_NUM_THREADS=1 and a small block cache,
and prints medians, Mpix/s and the ratio ours/GDAL (above 1 means we are faster).

    PYTHONPATH=. /work/main/.venv/bin/python bench/bench_geotiff_read.py [--repeat 5] [--size 4096]
"""

import argparse
import os
import tempfile
from pathlib import Path

os.environ.setdefault("GDAL_NUM_THREADS", "1")
os.environ.setdefault("GDAL_CACHEMAX", "16")

import numpy as np  # noqa: E402
import rasterio  # noqa: E402
from rasterio.transform import from_origin  # noqa: E402

from geopyspark_rs import _native  # noqa: E402
from common import dem, median_time  # noqa: E402

CASES = [
    ("float32 deflate tiled", "float32", dict(compress="deflate")),
    ("float32 deflate pred3", "float32", dict(compress="deflate", predictor=3)),
    ("float32 deflate pred2(int16)", "int16", dict(compress="deflate", predictor=2)),
    ("uint16 lzw tiled", "uint16", dict(compress="lzw")),
    ("float32 none tiled", "float32", dict(compress="none")),
]


def write(path, arr, opts):
    n = arr.shape[0]
    prof = dict(driver="GTiff", width=n, height=n, count=1, dtype=arr.dtype, crs="EPSG:3857",
                transform=from_origin(0, 0, 10, 10), tiled=True, blockxsize=256, blockysize=256, **opts)
    with rasterio.open(path, "w", **prof) as dst:
        dst.write(arr, 1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--size", type=int, default=4096)
    args = ap.parse_args()
    n = args.size
    wins = [(c, r, min(256, n - c), min(256, n - r)) for r in range(0, n, 256) for c in range(0, n, 256)]
    print(f"{n}x{n}, {len(wins)} windows of 256x256, median of {args.repeat}")
    print(f"{'case':32} {'ours s':>8} {'GDAL s':>8} {'ours Mpix/s':>12} {'GDAL Mpix/s':>12} {'ours/GDAL':>10}")
    with tempfile.TemporaryDirectory() as tmp:
        for name, dtype, opts in CASES:
            path = str(Path(tmp) / f"{name.replace(' ', '_')}.tif")
            arr = dem(n, dtype)
            write(path, arr, opts)

            def ours():
                return _native.read_geotiff_windows(path, wins)

            def gdal():
                with rasterio.open(path) as src:
                    return src.read(1)

            # Same pixels, checked once on the first window.
            first = ours().column("cells")[0].as_py()
            assert np.array_equal(np.frombuffer(first, dtype=arr.dtype).reshape(256, 256), arr[:256, :256])
            ours(), gdal()  # warm the page cache
            t_ours, t_gdal = median_time(ours, args.repeat), median_time(gdal, args.repeat)
            mpix = n * n / 1e6
            print(f"{name:32} {t_ours:8.3f} {t_gdal:8.3f} {mpix / t_ours:12.1f} {mpix / t_gdal:12.1f} {t_gdal / t_ours:10.2f}")


if __name__ == "__main__":
    main()
