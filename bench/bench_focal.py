"""Focal and terrain throughput, in one run: per core without Spark against scipy.ndimage, numpy, gdaldem and
xarray-spatial, then end to end on Spark over a cached layer reduced to min/max, against GeoTrellis 3.x on the
JVM (figures measured on this machine class, DESIGN §6; its kernels are tile-local, without edge exchange).

    .venv/bin/pip install -r bench/requirements.txt     # the peers (scipy, xarray-spatial)
    .venv/bin/python bench/bench_focal.py [--side 2048] [--tiles 256] [--repeat 5] [--master local[2]]

Per core: our reduce-side kernel (``_native.focal_runs``: loading a key's pieces into its working window
and computing the result, one thread) over the buffer pieces of a ``side × side`` DEM cut into 256×256
tiles, against the peers over the same raster as one array. End to end: ``--tiles`` cached random 256×256
float32 tiles, the operation then ``get_min_max()``: the border strips are cut in Spark SQL and collected
once per cached layer and width, then one Python pass computes the kernel and the reduction (the first
call, which also collects the strips, is reported apart).
Medians of ``--repeat`` runs; Mpix/s counts output cells.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import pyarrow as pa

import geopyspark_rs as gps
from geopyspark_rs import _native
from common import dem, median_time, random_tile_layer

TILE = 256
# GeoTrellis 3.x on the JVM, this machine class (DESIGN §6): Mpix/s on local[2] and per core.
GEOTRELLIS = {"focal mean 3×3": (38, 35), "slope": (22, 21)}

OPS = {
    "focal mean 3×3": {"op": "stat", "stat": "mean", "neighborhood": {"kind": "square", "extent": 1}},
    "focal mean 7×7": {"op": "stat", "stat": "mean", "neighborhood": {"kind": "square", "extent": 3}},
    "focal median 3×3": {"op": "stat", "stat": "median", "neighborhood": {"kind": "square", "extent": 1}},
    "focal median 7×7": {"op": "stat", "stat": "median", "neighborhood": {"kind": "square", "extent": 3}},
    "slope": {"op": "slope"},
    "hillshade": {"op": "hillshade", "azimuth": 315.0, "altitude": 45.0},
}


def tile_batch(raster):
    """The raster cut into 256×256 tiles, as one batch in the tile contract."""
    n = raster.shape[0] // TILE
    keys = [(c, r) for r in range(n) for c in range(n)]
    return pa.RecordBatch.from_pydict({
        "col": pa.array([c for c, _ in keys], pa.int32()), "row": pa.array([r for _, r in keys], pa.int32()),
        "cell_type": ["float32"] * len(keys), "bands": pa.array([1] * len(keys), pa.int32()),
        "rows": pa.array([TILE] * len(keys), pa.int32()), "cols": pa.array([TILE] * len(keys), pa.int32()),
        "cells": pa.array([raster[r * TILE:(r + 1) * TILE, c * TILE:(c + 1) * TILE].tobytes() for c, r in keys],
                          pa.binary()),
    }), n


def per_core(raster, repeat):
    batch, n = tile_batch(raster)
    mpix = raster.size / 1e6
    results = {}
    for name, op in OPS.items():
        spec = json.dumps({"operation": op, "cell_width": 30.0, "cell_height": 30.0})
        width, _ = _native.focal_output(spec, "float32")
        pieces = pa.Table.from_batches([_native.buffer_pieces(batch, width, (0, 0, n - 1, n - 1))])
        pieces = pieces.sort_by([("col", "ascending"), ("row", "ascending")]).combine_chunks().to_batches()[0]
        t = median_time(lambda: _native.focal_runs(pieces, ["col", "row"], spec, True), repeat)
        results[name] = {"ours": mpix / t}
    return results


def peers(raster, repeat, results):
    mpix = raster.size / 1e6
    try:
        import scipy.ndimage as ndi

        for name, fn in [("focal mean 3×3", lambda: ndi.uniform_filter(raster, 3, mode="constant")),
                         ("focal mean 7×7", lambda: ndi.uniform_filter(raster, 7, mode="constant")),
                         ("focal median 3×3", lambda: ndi.median_filter(raster, 3, mode="constant")),
                         ("focal median 7×7", lambda: ndi.median_filter(raster, 7, mode="constant"))]:
            results[name]["scipy.ndimage"] = mpix / median_time(fn, repeat)
    except ImportError:
        print("scipy missing: pip install -r bench/requirements.txt", file=sys.stderr)

    def numpy_slope():
        z = np.pad(raster, 1, mode="edge").astype(np.float32)
        dzdx = ((z[:-2, 2:] + 2 * z[1:-1, 2:] + z[2:, 2:]) - (z[:-2, :-2] + 2 * z[1:-1, :-2] + z[2:, :-2])) / 240
        dzdy = ((z[2:, :-2] + 2 * z[2:, 1:-1] + z[2:, 2:]) - (z[:-2, :-2] + 2 * z[:-2, 1:-1] + z[:-2, 2:])) / 240
        return np.degrees(np.arctan(np.hypot(dzdx, dzdy)))

    results["slope"]["numpy (vectorised Horn)"] = mpix / median_time(numpy_slope, repeat)

    if shutil.which("gdaldem"):
        import rasterio
        from rasterio.transform import from_origin

        with tempfile.TemporaryDirectory() as d:
            src = os.path.join(d, "dem.tif")
            with rasterio.open(src, "w", driver="GTiff", width=raster.shape[1], height=raster.shape[0], count=1,
                               dtype="float32", crs="EPSG:32618", transform=from_origin(0, 0, 30, 30)) as f:
                f.write(raster, 1)
            for name, mode in [("slope", "slope"), ("hillshade", "hillshade")]:
                out = os.path.join(d, f"{mode}.tif")
                cmd = ["gdaldem", mode, src, out, "-compute_edges", "-q"]
                results[name]["gdaldem (incl. file I/O)"] = mpix / median_time(lambda: subprocess.run(cmd, check=True),
                                                                               repeat)
    try:
        import xarray as xr
        from xrspatial import hillshade, slope

        da = xr.DataArray(raster, dims=("y", "x"),
                          coords={"y": np.arange(raster.shape[0]) * -30.0, "x": np.arange(raster.shape[1]) * 30.0})
        slope(da), hillshade(da)  # compile (numba) before timing
        results["slope"]["xarray-spatial"] = mpix / median_time(lambda: slope(da), repeat)
        results["hillshade"]["xarray-spatial"] = mpix / median_time(lambda: hillshade(da), repeat)
    except ImportError:
        print("xarray-spatial missing: pip install -r bench/requirements.txt", file=sys.stderr)


def end_to_end(master, n_tiles, repeat):
    from pyspark.sql import SparkSession

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    spark = (SparkSession.builder.master(master).config("spark.driver.memory", "6g")
             .config("spark.ui.showConsoleProgress", "false")
             .config("spark.ui.enabled", "false").getOrCreate())
    side = int(np.sqrt(n_tiles))
    layer = random_tile_layer(spark, side, side, gps.Extent(0, 0, side * 7680.0, side * 7680.0), TILE,
                              n_tiles=side * side)
    mpix = side * side * TILE * TILE / 1e6
    runs = {
        # First, so the JVM and the Python workers are warm for every focal figure.
        "(reference) local add + get_min_max": lambda: (layer + 1).get_min_max(),
        "focal mean 3×3": lambda: layer.focal(gps.Operation.MEAN, gps.Square(1)).get_min_max(),
        "focal mean 7×7": lambda: layer.focal(gps.Operation.MEAN, gps.Square(3)).get_min_max(),
        "focal median 3×3": lambda: layer.focal(gps.Operation.MEDIAN, gps.Square(1)).get_min_max(),
        "slope": lambda: layer.slope(1.0).get_min_max(),
        "hillshade": lambda: gps.hillshade(layer, 1.0).get_min_max(),
    }
    out = {}
    for name, run in runs.items():
        run()  # warm the Python workers (and collect the cached layer's border strips, see docs)
        out[name] = mpix / median_time(run, repeat)
    # The first focal operation on a freshly cached layer also cuts and collects its border strips.
    fresh = []
    for _ in range(repeat):
        layer.unpersist()
        layer.cache().count()
        fresh.append(median_time(lambda: layer.focal(gps.Operation.MEAN, gps.Square(1)).get_min_max(), 1))
    out["focal mean 3×3, first call on a fresh cache"] = mpix / sorted(fresh)[len(fresh) // 2]
    spark.stop()
    return out, mpix


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--side", type=int, default=2048)
    ap.add_argument("--tiles", type=int, default=1024)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--master", default="local[2]")
    args = ap.parse_args()

    raster = dem(args.side)
    results = per_core(raster, args.repeat)
    peers(raster, args.repeat, results)
    print(f"\nPer core, {args.side}×{args.side} float32 DEM (Mpix/s, medians of {args.repeat}):")
    for name, row in results.items():
        ours = row["ours"]
        cells = [f"ours {ours:7.1f}"]
        for peer, v in row.items():
            if peer != "ours":
                cells.append(f"{peer} {v:7.1f} ({ours / v:.2f}×)")
        if name in GEOTRELLIS:
            cells.append(f"GeoTrellis {GEOTRELLIS[name][1]} ({ours / GEOTRELLIS[name][1]:.1f}×, goal ≥ 3×)")
        print(f"  {name:18s} " + " | ".join(cells))

    e2e, mpix = end_to_end(args.master, args.tiles, args.repeat)
    print(f"\nEnd to end on {args.master}, {mpix:.0f} Mpix of cached 256×256 float32 tiles, op + get_min_max() "
          f"(Mpix/s, medians of {args.repeat}):")
    for name, v in e2e.items():
        extra = ""
        if name in GEOTRELLIS:
            extra = f"  GeoTrellis {GEOTRELLIS[name][0]} → {v / GEOTRELLIS[name][0]:.1f}× (goal ≥ 2×)"
        print(f"  {name:38s} {v:7.1f}{extra}")


if __name__ == "__main__":
    main()
