"""Bounded memory: a large uint8 COG through geotiff.get → tile_to_layout(GlobalLayout(), target_crs=3857)
→ pyramid() → catalog write on local[2], with 2 GiB for the driver JVM and 2 GiB for each Python worker,
nothing collected on the driver. Reports the peak RSS of every process of the job (driver Python, the JVM,
each Python worker), sampled from /proc every 0.2 s, and checks the written catalog.

    .venv/bin/python bench/check_bounded_memory.py [--size 40000] [--workdir /tmp/gps-memory]

The source (``--size``² uint8 cells in UTM 33N, 10 m, deflate, 512² tiles, overviews none) is generated once
in strips with rasterio and kept in --workdir. The job runs in a child process so that its whole process
tree can be watched; exit status 0 means it completed and every level was written.
"""

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
MEMORY = "2g"


def make_source(path: Path, n: int) -> None:
    import numpy as np
    import rasterio
    from rasterio.transform import from_origin
    from rasterio.windows import Window

    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".partial.tif")
    profile = dict(driver="GTiff", width=n, height=n, count=1, dtype="uint8", nodata=0, crs="EPSG:32633",
                   transform=from_origin(300_000, 5_000_000, 10, 10), tiled=True, blockxsize=512, blockysize=512,
                   compress="deflate", BIGTIFF="YES")
    rng = np.random.default_rng(0)
    with rasterio.open(tmp, "w", **profile) as dst:
        for r0 in range(0, n, 2048):
            rows = min(2048, n - r0)
            y, x = np.mgrid[r0:r0 + rows, 0:n].astype(np.float32)
            v = 128 + 80 * np.sin(x / 900) * np.cos(y / 700) + 20 * np.sin(x / 40) + rng.normal(0, 2, x.shape)
            dst.write(np.clip(v, 1, 255).astype("uint8"), 1, window=Window(0, r0, n, rows))
    tmp.rename(path)


def job(source: str, catalog: str) -> None:
    """The pipeline (in the child process)."""
    from pyspark.sql import SparkSession

    import geopyspark_rs as gps

    conf = gps.geopyspark_conf(master="local[2]", appName="bounded-memory")
    conf.set("spark.driver.memory", MEMORY).set("spark.executor.pyspark.memory", MEMORY)
    conf.set("spark.sql.shuffle.partitions", "64")
    spark = SparkSession.builder.config(conf=conf).getOrCreate()
    t = time.perf_counter()
    layer = gps.geotiff.get(gps.LayerType.SPATIAL, source, max_tile_size=512)
    tiled = layer.tile_to_layout(gps.GlobalLayout(), target_crs=3857)
    pyramid = tiled.pyramid()
    pyramid.write(catalog, "big")
    levels = sorted(pyramid.levels)
    store = gps.AttributeStore(catalog)
    written = {z: store.contains("big", z) for z in levels}
    print("RESULT " + json.dumps({"seconds": time.perf_counter() - t, "levels": levels, "written": written,
                                  "max_zoom": pyramid.max_zoom}), flush=True)
    spark.stop()


def rss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def role(pid: int) -> str:
    try:
        cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return "gone"
    if "java" in cmd.split(" ", 1)[0] or "org.apache.spark" in cmd:
        return "JVM (driver + executors)"
    if "pyspark.daemon" in cmd or "pyspark/daemon" in cmd:
        return "Python worker"
    if "check_bounded_memory" in cmd:
        return "driver Python"
    return "other: " + cmd[:60]


def children(pid: int) -> list[int]:
    out = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            out += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            pass
    return out


def watch(root: int, peaks: dict, stop: threading.Event) -> None:
    while not stop.is_set():
        todo, seen = [root], set()
        while todo:
            pid = todo.pop()
            if pid in seen:
                continue
            seen.add(pid)
            todo += children(pid)
            kb = rss_kb(pid)
            key = (pid, role(pid))
            peaks[key] = max(peaks.get(key, 0), kb)
        stop.wait(0.2)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", type=int, default=40000)
    ap.add_argument("--workdir", default="/tmp/gps-memory")
    ap.add_argument("--job", nargs=2, metavar=("SOURCE", "CATALOG"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.job:
        job(*args.job)
        return
    work = Path(args.workdir)
    source = work / f"source{args.size}.tif"
    t = time.perf_counter()
    make_source(source, args.size)
    print(f"source {source}: {args.size}² uint8, {source.stat().st_size / 1e6:.0f} MB "
          f"({time.perf_counter() - t:.0f} s to make or find)", flush=True)
    catalog = work / "catalog"
    subprocess.run(["rm", "-rf", str(catalog)], check=True)
    log = open(work / "job.log", "w")  # Spark's and the job's messages
    child = subprocess.Popen([sys.executable, __file__, "--job", str(source), str(catalog)],
                             stdout=subprocess.PIPE, stderr=log, text=True)
    peaks, stop = {}, threading.Event()
    watcher = threading.Thread(target=watch, args=(child.pid, peaks, stop), daemon=True)
    watcher.start()
    out = child.communicate()[0]
    stop.set()
    watcher.join()
    result = next((json.loads(line[7:]) for line in out.splitlines() if line.startswith("RESULT ")), None)
    by_role = {}
    for (pid, r), kb in peaks.items():
        if kb and not r.startswith("other"):  # launcher scripts and short-lived helpers
            by_role.setdefault(r, []).append(kb)
    log.close()
    print(f"exit {child.returncode} (messages in {work / 'job.log'}); {args.size}² cells = {args.size ** 2 / 1e9:.2f} G cells; limits: "
          f"spark.driver.memory={MEMORY}, spark.executor.pyspark.memory={MEMORY}")
    for r, kbs in sorted(by_role.items()):
        print(f"  {r:28s} {len(kbs):3d} processes, peak RSS {max(kbs) / 1024:7.0f} MB "
              f"(all: {', '.join(f'{k / 1024:.0f}' for k in sorted(kbs, reverse=True)[:6])} MB)")
    if result:
        files = sum(1 for p in catalog.rglob("*") if p.is_file())
        size = sum(p.stat().st_size for p in catalog.rglob("*") if p.is_file())
        print(f"  {result['seconds']:.0f} s; zooms {result['levels'][0]}..{result['levels'][-1]} all written: "
              f"{all(result['written'].values())}; {files} files, {size / 1e6:.0f} MB")
    sys.exit(0 if child.returncode == 0 and result and all(result["written"].values()) else 1)


if __name__ == "__main__":
    main()
