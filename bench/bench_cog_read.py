"""Concurrent window reads of a COG: geopyspark_rs.cog vs async-geotiff vs rasterio (in a thread pool).

Generates (once, cached in --dir) a 16 000 x 16 000 uint16 deflate COG (512 x 512 tiles, overviews) with GDAL.
Each repetition reads 64 windows of 512 x 512 at random pixel offsets (new offsets each repetition, the same for
every reader, so no reader is served from a cache of the previous one), all started at once:
* ours: `await asyncio.gather(*(tif.read(w) for w in windows))` (file opened by path / s3:// URI, and through
  an obstore store for S3);
* async-geotiff: the same gather over its `GeoTIFF.read(window=...)`, files through obstore `LocalStore` /
  `S3Store`;
* rasterio: `loop.run_in_executor` per window over a thread pool of 2 x cores threads, one dataset per thread
  (GDAL_NUM_THREADS=1, GDAL_CACHEMAX=64 MB; S3 through /vsis3/).
Local files and a loopback S3 server: by default bench/s3_file_server.py (ranged GETs by sendfile), or
moto (tests/s3server.py, --s3 moto: it reads the whole object for every ranged GET). Prints the median time per 64 windows, Mpix/s
and ratios (above 1: ours faster).

    /work/main/.venv/bin/python bench/bench_cog_read.py [--repeat 5] [--size 16000] [--s3 files|moto|none]
"""

import argparse
import asyncio
import os
import statistics
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

os.environ.setdefault("GDAL_NUM_THREADS", "1")
os.environ.setdefault("GDAL_CACHEMAX", "64")

import numpy as np  # noqa: E402
import rasterio  # noqa: E402
import rasterio.shutil  # noqa: E402
from rasterio.transform import from_origin  # noqa: E402
from rasterio.windows import Window as RioWindow  # noqa: E402

from geopyspark_rs.cog import GeoTIFF, Window  # noqa: E402

N_WINDOWS = 64
WIN = 512


def make_cog(path: Path, n: int) -> None:
    """A smooth terrain with noise, written in strips, then copied by GDAL's COG driver."""
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".strips.tif")
    prof = dict(driver="GTiff", width=n, height=n, count=1, dtype="uint16", crs="EPSG:3857",
                transform=from_origin(0, n * 10.0, 10, 10), tiled=True, blockxsize=512, blockysize=512,
                compress="deflate", BIGTIFF="IF_SAFER")
    rng = np.random.default_rng(0)
    with rasterio.open(tmp, "w", **prof) as dst:
        for r0 in range(0, n, 1024):
            rows = min(1024, n - r0)
            y, x = np.mgrid[r0:r0 + rows, 0:n].astype(np.float32)
            v = 5000 + 2000 * np.sin(x / 300) * np.cos(y / 250) + 300 * np.sin(x / 20) + rng.normal(0, 5, x.shape)
            dst.write(v.astype("uint16"), 1, window=RioWindow(0, r0, n, rows))
    with rasterio.Env(GDAL_NUM_THREADS="ALL_CPUS"):
        rasterio.shutil.copy(tmp, path, driver="COG", compress="deflate", blocksize=512, BIGTIFF="IF_SAFER",
                             overview_resampling="average")
    tmp.unlink()


def windows_for(rep: int, n: int) -> list[tuple[int, int]]:
    rng = np.random.default_rng(1000 + rep)
    return list(zip(rng.integers(0, n - WIN, N_WINDOWS).tolist(), rng.integers(0, n - WIN, N_WINDOWS).tolist()))


async def read_ours(tif, offsets):
    arrs = await asyncio.gather(*(tif.read(Window(c, r, WIN, WIN)) for c, r in offsets))
    return sum(int(a.data[0, 0, 0]) for a in arrs)


async def read_async_geotiff(tif, offsets):
    from async_geotiff import Window as AGWindow

    arrs = await asyncio.gather(*(tif.read(window=AGWindow(c, r, WIN, WIN)) for c, r in offsets))
    return sum(int(a.data[0, 0, 0]) for a in arrs)


class RasterioPool:
    """rasterio in a thread pool: one open dataset per thread (datasets are not thread-safe)."""

    def __init__(self, path: str, env: dict, threads: int):
        self.path, self.env = path, env
        self.local = threading.local()
        self.pool = ThreadPoolExecutor(threads)
        self.envs: list = []

    def _read(self, c, r):
        ds = getattr(self.local, "ds", None)
        if ds is None:
            env = rasterio.Env(**self.env)
            env.__enter__()
            self.envs.append(env)
            ds = self.local.ds = rasterio.open(self.path)
        return ds.read(1, window=RioWindow(c, r, WIN, WIN))

    async def read(self, offsets):
        loop = asyncio.get_running_loop()
        arrs = await asyncio.gather(*(loop.run_in_executor(self.pool, self._read, c, r) for c, r in offsets))
        return sum(int(a[0, 0]) for a in arrs)


def timed(loop, repeat, n, readers):
    """Runs every reader once per repetition, interleaved (a busy machine slows them alike); per reader:
    (name, median, runs) and the checksums of what it read."""
    runs = {name: [] for name, _ in readers}
    checks = {name: [] for name, _ in readers}
    for rep in range(repeat):
        offsets = windows_for(rep, n)
        for name, fn in readers:
            t = time.perf_counter()
            checks[name].append(loop.run_until_complete(fn(offsets)))
            runs[name].append(time.perf_counter() - t)
    assert len({tuple(c) for c in checks.values()}) == 1, f"readers disagree: {checks}"
    return [(name, statistics.median(runs[name]), runs[name]) for name, _ in readers]


def report(title, rows, n_pix):
    print(f"\n{title}: {N_WINDOWS} windows of {WIN}x{WIN} at once, median of the repetitions")
    print(f"{'reader':34} {'s':>8} {'Mpix/s':>8} {'ours/this':>10}   all runs (s)")
    ours = rows[0][1]
    for name, t, runs in rows:
        print(f"{name:34} {t:8.3f} {n_pix / t / 1e6:8.1f} {t / ours:10.2f}   "
              + " ".join(f"{x:.3f}" for x in runs))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--size", type=int, default=16000)
    ap.add_argument("--dir", default="/tmp/gps-bench-cog")
    ap.add_argument("--s3", choices=["files", "moto", "none"], default="files",
                    help="the loopback S3 server: files (bench/s3_file_server.py), moto, or none")
    ap.add_argument("--no-s3", action="store_true", help="the same as --s3 none")
    args = ap.parse_args()
    n = args.size
    path = Path(args.dir) / f"cog{n}.tif"
    t = time.perf_counter()
    make_cog(path, n)
    print(f"{path}: {path.stat().st_size / 1e6:.0f} MB ({time.perf_counter() - t:.0f} s to make or find); "
          f"{os.cpu_count()} cores; python {sys.version.split()[0]}")
    n_pix = N_WINDOWS * WIN * WIN
    loop = asyncio.new_event_loop()
    threads = 2 * (os.cpu_count() or 1)

    from async_geotiff import GeoTIFF as AGGeoTIFF
    from obstore.store import LocalStore, S3Store

    ours = loop.run_until_complete(GeoTIFF.open(str(path)))
    ag = loop.run_until_complete(AGGeoTIFF.open(path.name, store=LocalStore(str(path.parent))))
    rio = RasterioPool(str(path), {}, threads)
    rows = timed(loop, args.repeat, n, [("geopyspark_rs.cog (path)", lambda o: read_ours(ours, o)),
                                        ("async-geotiff (LocalStore)", lambda o: read_async_geotiff(ag, o)),
                                        (f"rasterio ({threads} threads)", rio.read)])
    report("local file", rows, n_pix)

    if args.s3 == "none" or args.no_s3:
        return
    from s3_file_server import S3FileServer, S3Server  # S3Server: the tests' moto server

    if args.s3 == "files":
        server_cm, what = S3FileServer(Path(args.dir) / "s3"), "loopback S3 (bench/s3_file_server.py)"
    else:
        server_cm, what = S3Server(), "loopback S3 (moto)"
    with server_cm as server:
        bucket = "bench"
        t = time.perf_counter()
        if args.s3 == "files":
            key = server.put(bucket, path)
        else:
            server.create_bucket(bucket)
            server.client().upload_file(str(path), bucket, path.name)
            key = path.name
        print(f"\n{what}: object in place in {time.perf_counter() - t:.0f} s")
        opts = server.options()
        store = S3Store(bucket, endpoint=opts["aws_endpoint"], access_key_id=opts["aws_access_key_id"],
                        secret_access_key=opts["aws_secret_access_key"], region=opts["aws_region"],
                        client_options={"allow_http": True})
        ours_s3 = loop.run_until_complete(GeoTIFF.open(f"s3://{bucket}/{key}", options=opts))
        ours_store = loop.run_until_complete(GeoTIFF.open(key, store=store))
        ag_s3 = loop.run_until_complete(AGGeoTIFF.open(key, store=store))
        from rasterio.session import AWSSession

        endpoint = opts["aws_endpoint"].removeprefix("http://")
        env = dict(session=AWSSession(aws_access_key_id=opts["aws_access_key_id"],
                                      aws_secret_access_key=opts["aws_secret_access_key"],
                                      region_name=opts["aws_region"], endpoint_url=endpoint),
                   AWS_HTTPS="NO", AWS_VIRTUAL_HOSTING="FALSE", GDAL_DISABLE_READDIR_ON_OPEN="EMPTY_DIR")
        rio_s3 = RasterioPool(f"/vsis3/{bucket}/{key}", env, threads)
        rows = timed(loop, args.repeat, n, [
            ("geopyspark_rs.cog (s3:// URI)", lambda o: read_ours(ours_s3, o)),
            ("geopyspark_rs.cog (obstore S3Store)", lambda o: read_ours(ours_store, o)),
            ("async-geotiff (obstore S3Store)", lambda o: read_async_geotiff(ag_s3, o)),
            (f"rasterio /vsis3/ ({threads} threads)", rio_s3.read)])
        report(what, rows, n_pix)


if __name__ == "__main__":
    main()
