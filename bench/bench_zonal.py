"""Zonal statistics of many polygons, and their rasterization, in one run: ours against exactextract,
rasterstats and rasterio (each single-threaded) over the same GeoTIFF and the same zones.

    .venv/bin/pip install exactextract rasterstats      # the peers (rasterio and shapely are ours already)
    .venv/bin/python bench/bench_zonal.py [--side 20000] [--zones 10000] [--repeat 3]
                                          [--rasterstats-zones 500] [--workdir /tmp/bench_zonal]
    .venv/bin/python bench/bench_zonal.py --side 4000 --zones 1000 --repeat 1     # a quick run
    .venv/bin/python bench/bench_zonal.py --rasterize-only                          # rasterio and ours only

The raster: a ``side × side`` float32 terrain (sums of sines plus noise, 0.1 % scattered NoData and a NoData
disc; EPSG:32633, 10 m cells, placed just north of the equator so that Web Mercator's zoom 14 (9.55 m) has
about as many cells), written once as a tiled GeoTIFF (512 × 512 blocks, uncompressed, so generating and
reading it stay cheap) under ``--workdir`` and reused by later runs. The zones: ``--zones`` random
star-shaped polygons (12–30 vertices, lognormal sizes) whose areas add up to about the raster's, so
they overlap; some hang over its edge. Seeded: every run and every process sees the same zones.

* exactextract: ``exact_extract(path, features, [count, sum, mean, min, max, stdev])`` (exact coverage
  fractions; GeoJSON-like features and the default ``feature-sequential`` strategy, the faster here than
  ``raster-sequential`` or a pandas output), one thread; also over the raster held in memory
  (``NumPyRasterSource``, read untimed), the fair peer of our cached layer.
* rasterstats: ``zonal_stats(features, path, stats="count sum mean min max std")`` (cell centres), one
  thread, timed over the first ``--rasterstats-zones`` zones only (it is slow): its time is scaled to all
  the zones, and said so.
* ours: ``gps.geotiff.get(SPATIAL, path).tile_to_layout(LocalLayout(256))``, cached and counted before
  the timing, then ``zonal_statistics(pairs, rule=...).collect()`` for ``fraction`` (exactextract's rule)
  and ``centre`` (rasterstats'); once more including the read and the tiling (not cached). On ``local[1]``
  (per core) and ``local[2]``, each in a process of its own (one SparkSession per process): the script
  runs itself with ``--ours MASTER`` and reads a JSON line from its stdout.
* rasterization: ``rasterio.features.rasterize`` of the zones onto the whole grid (uint8, one thread)
  against ``gps.rasterize`` of the same polygons reprojected to EPSG:3857, at zoom 14 (uint8), forced by
  ``cache().count()`` (the tiles also go into Spark's cache), by ``count()`` (every tile is made in the
  pass, nothing goes back to the JVM), by ``get_min_max()`` (every cell is also read), and by ``count()``
  with GeoPySpark's partition count (one per 512 keys of the envelope; ours caps it at Spark's parallelism,
  since every Python task costs Spark a fixed time); compared in Mcells/s of the output grid (ours: the
  256² tiles reached).

Sanity check: our ``fraction`` count and mean against exactextract's (which keeps coverage fractions as
float32) for the first 20 zones — the run stops when they differ by more than 1e-5 relative; the worst
relative difference over all the zones and the other statistics is printed too.
Medians of ``--repeat`` runs; ours after one unmeasured warm-up run (JVM, Python workers).
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np

CELL = 10.0
X0, Y0 = 400_000.0, 100_000.0  # the raster's lower-left corner in EPSG:32633: ~0.9° N, ~14° E
NODATA = -9999.0
STATS = ["count", "sum", "mean", "min", "max", "stdev"]
MERCATOR_ZOOM = 14  # 2 × 20037508.34 / (256 × 2**14) = 9.55 m


def median_time(fn, repeat):
    """Median wall time of ``repeat`` calls of ``fn`` (and the last call's result)."""
    times, out = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


def transform(side):
    from rasterio.transform import from_origin

    return from_origin(X0, Y0 + side * CELL, CELL, CELL)


def raster_path(workdir, side):
    """The GeoTIFF of ``side`` (made once per workdir)."""
    import rasterio
    from rasterio.windows import Window

    path = os.path.join(workdir, f"terrain_{side}.tif")
    if os.path.exists(path):
        return path
    os.makedirs(workdir, exist_ok=True)
    t = time.perf_counter()
    profile = dict(driver="GTiff", width=side, height=side, count=1, dtype="float32", crs="EPSG:32633",
                   transform=transform(side), nodata=NODATA, tiled=True, blockxsize=512, blockysize=512,
                   compress="none", BIGTIFF="IF_SAFER")
    rng = np.random.default_rng(0)
    x = np.arange(side, dtype=np.float32)
    along_x = (200 * np.sin(x / 300)).astype(np.float32)
    ripple = (30 * np.sin(x / 20) + 500).astype(np.float32)
    tmp = path + ".part"
    with rasterio.open(tmp, "w", **profile) as dst:
        for r0 in range(0, side, 512):
            h = min(512, side - r0)
            y = np.arange(r0, r0 + h, dtype=np.float32)
            v = np.cos(y / 250)[:, None] * along_x[None, :] + ripple[None, :]
            v += rng.standard_normal((h, side), dtype=np.float32) * np.float32(0.5)
            v[rng.random((h, side), dtype=np.float32) < 0.001] = NODATA  # scattered NoData
            yy, xx = np.ogrid[r0:r0 + h, 0:side]  # and a NoData "lake"
            v[(yy - side * 0.3) ** 2 + (xx - side * 0.6) ** 2 < (side * 0.04) ** 2] = NODATA
            dst.write(v, 1, window=Window(0, r0, side, h))
    os.replace(tmp, path)
    print(f"wrote {path} ({os.path.getsize(path) / 1e6:.0f} MB) in {time.perf_counter() - t:.1f} s", file=sys.stderr)
    return path


def zones(side, n, seed=1):
    """``n`` random star-shaped polygons (simple: angles strictly increase around the centre) whose areas
    add up to about the raster's."""
    import shapely

    rng = np.random.default_rng(seed)
    kmax = 30
    k = rng.integers(12, kmax + 1, n)
    j = np.arange(kmax)[None, :]
    ang = (j + rng.uniform(0, 0.8, (n, kmax))) * (2 * np.pi / k[:, None])
    # E[area] of a star with radii R·U(0.4, 1) ≈ 0.49·π·R²; lognormal scales normalised to E[s²] = 1.
    scale = np.exp(rng.normal(0, 0.4, n) - 0.4 ** 2)
    radius = np.sqrt((side * CELL) ** 2 / n / (0.49 * np.pi))
    rad = radius * scale[:, None] * rng.uniform(0.4, 1.0, (n, kmax))
    cx = X0 + rng.uniform(0, side * CELL, n)
    cy = Y0 + rng.uniform(0, side * CELL, n)
    keep = j < k[:, None]
    xs = (cx[:, None] + rad * np.cos(ang))[keep]
    ys = (cy[:, None] + rad * np.sin(ang))[keep]
    rings = shapely.linearrings(np.column_stack([xs, ys]), indices=np.repeat(np.arange(n), k))
    return list(shapely.polygons(rings))


def features(geoms):
    import shapely

    return [{"type": "Feature", "id": i, "properties": {"id": i}, "geometry": shapely.geometry.mapping(g)}
            for i, g in enumerate(geoms)]


# -- ours, in a process of its own per master ---------------------------------------------------------

def run_ours(master, path, args):
    from pyspark.sql import SparkSession

    import geopyspark_rs as gps

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    spark = (SparkSession.builder.master(master).config("spark.driver.memory", "8g")
             .config("spark.ui.showConsoleProgress", "false").config("spark.ui.enabled", "false").getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    pairs = list(enumerate(zones(args.side, args.zones)))
    times = {}
    n_tiles, results = None, {}
    if not args.rasterize_only:
        n_tiles, results = zonal_runs(gps, path, pairs, times, args)
    rasterized = rasterize_runs(gps, pairs, times, args)
    spark.stop()
    print("RESULT " + json.dumps({"times": times, "tiles": n_tiles, "rasterized_cells": rasterized,
                                  "results": results}))


def zonal_runs(gps, path, pairs, times, args):
    def tiled():
        return gps.geotiff.get(gps.LayerType.SPATIAL, path).tile_to_layout(gps.LocalLayout(256))

    t = time.perf_counter()
    layer = tiled().cache()
    n_tiles = layer.count()
    times["read + tile + cache"] = time.perf_counter() - t
    results = {}
    for rule in ("fraction", "centre"):
        run = lambda: layer.zonal_statistics(pairs, rule=rule).collect()  # noqa: E731
        run()  # warm-up: JVM code paths, Python workers
        times[f"zonal {rule}"], rows = median_time(run, args.repeat)
        results[rule] = {r.zone: [r["count"], r.cells, r.sum, r.mean, r.min, r.max, r.stddev] for r in rows}
    t = time.perf_counter()
    tiled().zonal_statistics(pairs, rule="fraction").collect()
    times["zonal fraction incl. read + tile"] = time.perf_counter() - t
    layer.unpersist()
    return n_tiles, results


def rasterize_runs(gps, pairs, times, args):
    """Times of ``gps.rasterize`` of the zones (in Web Mercator) forced four ways; the cells rasterized."""
    rasterized = None
    if hasattr(gps, "rasterize"):
        import shapely
        from pyproj import Transformer

        to_merc = Transformer.from_crs(32633, 3857, always_xy=True)
        merc = [g for _, g in pairs]
        merc = shapely.transform(np.array(merc, dtype=object),
                                 lambda xy: np.column_stack(to_merc.transform(xy[:, 0], xy[:, 1])))
        merc = list(merc)

        def layer(strategy=None):
            return gps.rasterize(merc, 3857, MERCATOR_ZOOM, 1, cell_type=gps.CellType.UINT8,
                                 partition_strategy=strategy)

        bounds = layer().layer_metadata.bounds
        keys = (bounds.maxKey.col - bounds.minKey.col + 1) * (bounds.maxKey.row - bounds.minKey.row + 1)
        geopyspark_partitions = gps.HashPartitionStrategy(max(1, keys // 512))

        def burn(how):
            out = layer(geopyspark_partitions if how == "geopyspark partitions" else None)
            if how == "cached":
                n = out.cache().count()
                out.unpersist()
                return n
            return out.get_min_max() if how == "min max" else out.count()

        returned = {}
        for how in ("cached", "count", "min max", "geopyspark partitions"):
            burn(how)
            times[f"rasterize {how}"], returned[how] = median_time(lambda: burn(how), args.repeat)
        rasterized = returned["count"] * 256 * 256
    return rasterized


def ours_on(master, args):
    cmd = [sys.executable, os.path.abspath(__file__), "--ours", master, "--side", str(args.side),
           "--zones", str(args.zones), "--repeat", str(args.repeat), "--workdir", args.workdir]
    cmd += ["--rasterize-only"] if args.rasterize_only else []
    log = os.path.join(args.workdir, f"ours_{master.replace('[', '').replace(']', '')}.log")
    print(f"  ours on {master}: {' '.join(cmd)} (log {log})", file=sys.stderr)
    with open(log, "w") as err:
        proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=err, text=True)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
    if proc.returncode or not lines:
        with open(log) as f:
            tail = f.read()[-4000:]
        sys.exit(f"our run on {master} failed (exit {proc.returncode}):\n{proc.stdout[-2000:]}\n{tail}")
    out = json.loads(lines[-1][len("RESULT "):])
    out["results"] = {rule: {int(z): v for z, v in rs.items()} for rule, rs in (out["results"] or {}).items()}
    return out


# -- the peers, in this process -----------------------------------------------------------------------

def peers(path, geoms, args):
    from exactextract import exact_extract
    from exactextract.raster import NumPyRasterSource
    from rasterstats import zonal_stats

    feats = features(geoms)
    out = {}
    print("  exactextract (file) …", file=sys.stderr)
    out["exactextract"], ee = median_time(lambda: exact_extract(path, feats, STATS, include_cols=["id"]), args.repeat)
    out["ee"] = {f["id"]: f["properties"] for f in ee}

    import rasterio

    with rasterio.open(path) as src:
        array = src.read(1)
    xmin, ymin = X0, Y0
    xmax, ymax = X0 + args.side * CELL, Y0 + args.side * CELL
    mem = NumPyRasterSource(array, xmin, ymin, xmax, ymax, nodata=NODATA, srs_wkt=None)
    print("  exactextract (in memory) …", file=sys.stderr)
    out["exactextract in memory"], _ = median_time(lambda: exact_extract(mem, feats, STATS, include_cols=["id"]), args.repeat)
    mem = array = None  # free the 1.6 GB before our runs

    sub = feats[:args.rasterstats_zones]
    print(f"  rasterstats ({len(sub)} zones) …", file=sys.stderr)
    t_sub, rs = median_time(lambda: zonal_stats(sub, path, stats="count sum mean min max std", nodata=NODATA), 1)
    out["rasterstats subset"] = (len(sub), t_sub)
    out["rasterstats"] = t_sub * len(geoms) / len(sub)
    out["rs"] = rs

    out["rasterio rasterize"] = rasterio_rasterize_time(geoms, args)
    return out


def rasterio_rasterize_time(geoms, args):
    from rasterio.features import rasterize as rio_rasterize

    print("  rasterio.features.rasterize …", file=sys.stderr)
    return median_time(lambda: rio_rasterize(((g, 1) for g in geoms), out_shape=(args.side, args.side), fill=0,
                                             transform=transform(args.side), dtype="uint8"), args.repeat)[0]


def print_rasterize(args, one, two, t_rio):
    n, mcells = args.zones, args.side * args.side / 1e6
    if not one.get("rasterized_cells"):
        print(f"\nrasterize: gps.rasterize is missing, skipped (rasterio.features.rasterize: {t_rio:.2f} s)")
        return
    cells = one["rasterized_cells"] / 1e6
    print(f"\nrasterize {n} polygons (uint8), Mcells/s of output grid, median of {args.repeat}:")
    print(f"  {'rasterio.features.rasterize (1 thread)':44} {mcells:7.0f} Mcells {t_rio:7.2f} s {mcells / t_rio:8.0f}")
    for key, how in (("rasterize cached", "cache().count()"), ("rasterize count", "count()"),
                     ("rasterize min max", "get_min_max()"),
                     ("rasterize geopyspark partitions", "count(), 1 partition / 512 keys")):
        for master, r in (("local[1]", one), ("local[2]", two)):
            t = r["times"][key]
            goal = "   goal ≥ 1× per core" if master == "local[1]" and key == "rasterize min max" else ""
            label = f"ours z{MERCATOR_ZOOM} {how} {master}"
            print(f"  {label:44} {cells:7.0f} Mcells {t:7.2f} s "
                  f"{cells / t:8.0f}  ({cells / t / (mcells / t_rio):.2f}× rasterio){goal}")


def rel(a, b):
    """Relative difference of ``a`` from ``b``; None and NaN (a zone without data cells) match each other."""
    a_none, b_none = a is None or a != a, b is None or b != b
    if a_none or b_none:
        return 0.0 if a_none and b_none else float("inf")
    return abs(a - b) / max(abs(b), 1e-300) if a != b else 0.0


def check(ours, ee, rs, n_check=20):
    """Worst relative differences of our fraction statistics from exactextract's (first ``n_check`` zones
    and all zones), and the zones where our centre cell count differs from rasterstats'."""
    names = {"count": 0, "sum": 2, "mean": 3, "min": 4, "max": 5, "stdev": 6}
    first, every, missing = {}, {}, []
    for z, want in ee.items():
        if z not in ours["fraction"]:
            if want["count"] > 0:
                missing.append(z)
            continue
        got = ours["fraction"][z]
        for name, i in names.items():
            d = rel(got[i], want[name])
            every[name] = max(every.get(name, 0.0), d)
            if z < n_check:
                first[name] = max(first.get(name, 0.0), d)
    centre_mismatch = [z for z, r in enumerate(rs) if ours["centre"].get(z, [0, 0])[1] != (r["count"] or 0)]
    return first, every, missing, centre_mismatch


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--side", type=int, default=20000, help="raster side in cells")
    ap.add_argument("--zones", type=int, default=10000, help="number of polygons")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--rasterstats-zones", type=int, default=500, help="zones rasterstats is timed over")
    ap.add_argument("--workdir", default="/tmp/bench_zonal", help="where the GeoTIFF is cached")
    ap.add_argument("--rasterize-only", action="store_true", help="only the rasterization figures (no zonal peers)")
    ap.add_argument("--ours", metavar="MASTER", help=argparse.SUPPRESS)  # internal: our figures on MASTER
    args = ap.parse_args()
    path = raster_path(args.workdir, args.side)
    if args.ours:
        return run_ours(args.ours, path, args)

    geoms = zones(args.side, args.zones)
    if args.rasterize_only:
        one, two = ours_on("local[1]", args), ours_on("local[2]", args)
        return print_rasterize(args, one, two, rasterio_rasterize_time(geoms, args))
    p = peers(path, geoms, args)
    one, two = ours_on("local[1]", args), ours_on("local[2]", args)

    first, every, missing, centre_mismatch = check(one["results"], p["ee"], p["rs"])
    n = args.zones
    mcells = args.side * args.side / 1e6
    print(f"\n{n} zones over a {args.side}×{args.side} float32 GeoTIFF ({mcells:.0f} Mcells, 512² blocks), "
          f"median seconds of {args.repeat}; ours over {one['tiles']} cached 256² tiles")
    print(f"{'tool':44} {'rule':9} {'zones':>6} {'s':>8} {'zones/s':>9}   {'ours/peer: local[1]':>19} {'local[2]':>9}"
          "   goal")
    rows = [("exactextract (file, 1 thread)", "fraction", p["exactextract"], "zonal fraction", "≥ 1× per core"),
            ("exactextract (in-memory array, 1 thread)", "fraction", p["exactextract in memory"], "zonal fraction",
             "≥ 1× per core"),
            ("rasterstats (file, 1 thread) *", "centre", p["rasterstats"], "zonal centre", "≥ 10×")]
    for name, rule, t, ours_key, goal in rows:
        a, b = one["times"][ours_key], two["times"][ours_key]
        print(f"{name:44} {rule:9} {n:6d} {t:8.2f} {n / t:9.0f}   {t / a:18.2f}× {t / b:8.2f}×   {goal}")
    for key, rule, peer, peer_name in (
            ("zonal fraction", "fraction", p["exactextract in memory"], "exactextract in memory"),
            ("zonal centre", "centre", p["rasterstats"], "rasterstats"),
            ("zonal fraction incl. read + tile", "fraction", p["exactextract"], "exactextract (file)")):
        for master, r in (("local[1]", one), ("local[2]", two)):
            t = r["times"][key]
            label = f"ours {master}" + (" (file: read+tile+zonal, 1 run)" if "incl" in key else " (cached tiles)")
            print(f"{label:44} {rule:9} {n:6d} {t:8.2f} {n / t:9.0f}   {peer / t:18.2f}× vs {peer_name}")
    k, t_sub = p["rasterstats subset"]
    print(f"* rasterstats timed over the first {k} zones ({t_sub:.2f} s, {k / t_sub:.0f} zones/s), scaled to {n}")
    print(f"  ours/peer = peer seconds / our seconds (> 1: we are faster). Read + tile + cache before timing: "
          f"local[1] {one['times']['read + tile + cache']:.2f} s, local[2] {two['times']['read + tile + cache']:.2f} s "
          "(cold: the session's first job)")

    empty = sum(1 for w in p["ee"].values() if not w["count"])
    print(f"\nfraction vs exactextract, max relative difference (first 20 zones | all {len(p['ee'])} zones, "
          f"{empty} without data cells):")
    print("  " + ", ".join(f"{s} {first.get(s, 0):.1e} | {every.get(s, 0):.1e}" for s in STATS))
    if missing:
        print(f"  {len(missing)} zones with exactextract cells but no row of ours: {missing[:10]}")
    print(f"centre vs rasterstats: {len(centre_mismatch)} of {k} zones with a different cell count"
          + (f" {centre_mismatch[:10]}" if centre_mismatch else ""))

    print_rasterize(args, one, two, p["rasterio rasterize"])

    bad = max(first.get("count", 0), first.get("mean", 0))
    if bad > 1e-5 or missing:
        sys.exit(f"ABORT: our fraction statistics disagree with exactextract's: count/mean relative difference "
                 f"{bad:.2e} over the first 20 zones (limit 1e-5), {len(missing)} zones missing")


if __name__ == "__main__":
    main()
