"""Reprojection throughput, ours vs GDAL (rasterio.warp.reproject), one thread each.

A generated float32 raster in UTM 33N (30 m cells, NoData -9999) is warped to EPSG:3857 and EPSG:4326
onto the grid `calculate_default_transform` suggests, by
* ours: `_native.warp_raster`, the kernel Spark's workers run per tile (approximate transform with
  GDAL's 0.125-cell error threshold, then per-cell sampling), and
* GDAL: `rasterio.warp.reproject(num_threads=1)` (its default approximate transform, same threshold),
and prints medians, Mpix/s of destination cells and the ratio ours/GDAL (above 1 means we are faster).

    PYTHONPATH=. /work/main/.venv/bin/python bench/bench_reproject.py [--repeat 5] [--size 4096]
"""

import argparse
import os

os.environ.setdefault("GDAL_NUM_THREADS", "1")

import numpy as np  # noqa: E402
from rasterio.warp import Resampling, calculate_default_transform, reproject  # noqa: E402
from rasterio.transform import from_origin  # noqa: E402

from geopyspark_rs import _native  # noqa: E402
from common import dem, median_time  # noqa: E402

METHODS = [("NearestNeighbor", Resampling.nearest), ("Bilinear", Resampling.bilinear),
           ("CubicConvolution", Resampling.cubic)]
SRC_CRS = "EPSG:32633"
NODATA = -9999.0


def source(n):
    cells = dem(n)
    cells[: n // 16, : n // 16] = NODATA
    return cells


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--size", type=int, default=4096)
    args = ap.parse_args()
    n = args.size
    cells = source(n)
    src_transform = from_origin(400_000, 4_600_000, 30, 30)
    bounds = (400_000, 4_600_000 - 30 * n, 400_000 + 30 * n, 4_600_000)
    raw = cells.tobytes()
    print(f"{n}x{n} float32, {SRC_CRS} -> target, one thread each, median of {args.repeat}")
    print(f"{'case':34s} {'ours s':>8s} {'GDAL s':>8s} {'ours Mpix/s':>12s} {'GDAL Mpix/s':>12s} {'ours/GDAL':>10s}")
    for dst in ("EPSG:3857", "EPSG:4326"):
        transform, width, height = calculate_default_transform(SRC_CRS, dst, n, n, *bounds)
        extent = (transform.c, transform.f + height * transform.e, transform.c + width * transform.a, transform.f)
        for name, resampling in METHODS:
            out = np.empty((height, width), np.float32)

            def gdal():
                reproject(cells, out, src_transform=src_transform, src_crs=SRC_CRS, src_nodata=NODATA,
                          dst_transform=transform, dst_crs=dst, dst_nodata=NODATA, resampling=resampling,
                          num_threads=1)

            def ours():
                _native.warp_raster(raw, "float32ud-9999.0", 1, n, n, bounds, SRC_CRS, width, height, extent, dst,
                                    name)

            t_gdal = median_time(gdal, args.repeat)
            t_ours = median_time(ours, args.repeat)
            mpix = width * height / 1e6
            print(f"{dst + ' ' + name:34s} {t_ours:8.3f} {t_gdal:8.3f} {mpix / t_ours:12.1f} {mpix / t_gdal:12.1f} "
                  f"{t_gdal / t_ours:9.2f}x")


if __name__ == "__main__":
    main()
