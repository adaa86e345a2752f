"""Rendering and tile serving, ours against the peers in one run.

1. PNG encoding of 256×256 RGBA tiles: our Rust encoder against Pillow (default settings); then our
   encoder's compression levels and filters on rendered tiles (size and time), the basis of the default.
2. Tile serving on loopback: our TMS (Rust, over a GeoTrellis catalog, ColorMap display) against titiler
   (FastAPI + rio-tiler under uvicorn) serving a COG of the same layer with the same ramp: sequential
   latency (p50/p99), a paced loop at --rate requests/s, and saturated throughput with --clients clients.
   Our cache is off for the comparison (titiler has none); the cached figure is printed beside it.

    .venv/bin/pip install -r bench/requirements.txt
    .venv/bin/python bench/bench_render.py [--zoom 9] [--seconds 5] [--rate 200] [--clients 4]
"""

import argparse
import http.client
import io
import os
import subprocess
import sys
import tempfile
import threading
import time

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from common import dem, median_time  # noqa: E402

import geopyspark_rs as gps  # noqa: E402
from geopyspark_rs import _native  # noqa: E402

WM = 20037508.342789244


def bench_png(repeat):
    from PIL import Image

    cmap = gps.ColorMap.from_colors(list(np.linspace(300, 800, 256)), gps.geotrellis.color.ramp_colors("Viridis"))
    tiles = [dem(256) + np.float32(i) for i in range(8)]
    rgba = [cmap.colors_of(t.astype(np.float64)) for t in tiles]
    arrays = [np.stack([(c >> s) & 0xFF for s in (24, 16, 8, 0)], -1).astype(np.uint8) for c in rgba]
    raw = [a.tobytes() for a in arrays]

    def pillow():
        for a in arrays:
            buf = io.BytesIO()
            Image.fromarray(a, "RGBA").save(buf, format="PNG")

    def ours():
        for r in raw:
            _native.encode_rgba_png(r, 256, 256)

    def ours_render():
        for t in tiles:
            _native.render_tile_png("float32", 1, 256, 256, t.tobytes(), cmap.to_json())

    tp, to, tr = (median_time(f, repeat) / len(tiles) for f in (pillow, ours, ours_render))
    pil_size = len(_pillow_bytes(arrays[0]))
    our_size = len(_native.encode_rgba_png(raw[0], 256, 256))
    print("PNG encoding of a 256×256 RGBA tile (median per tile):")
    print(f"  Pillow (level 6)      {tp * 1e3:7.3f} ms  {pil_size:7d} bytes")
    print(f"  ours (encode RGBA)    {to * 1e3:7.3f} ms  {our_size:7d} bytes   {tp / to:5.1f}× Pillow")
    print(f"  ours (render cells)   {tr * 1e3:7.3f} ms                  {tp / tr:5.1f}× Pillow (colour map + encode)")
    print("our encoder's settings on rendered tiles (render + encode, median per tile):")
    for level in (0, 1, 2, 4, 6, 9):
        row = []
        for flt in ("none", "sub", "up", "paeth"):
            t = median_time(lambda: [_native.render_tile_png("float32", 1, 256, 256, x.tobytes(), cmap.to_json(),
                                                             level, flt) for x in tiles], repeat) / len(tiles)
            size = len(_native.render_tile_png("float32", 1, 256, 256, tiles[0].tobytes(), cmap.to_json(), level, flt))
            row.append(f"{flt:>5} {t * 1e3:6.3f} ms {size:6d} B")
        print(f"  level {level}: " + " | ".join(row))


def _pillow_bytes(a):
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(a, "RGBA").save(buf, format="PNG")
    return buf.getvalue()


def build_data(folder, zoom, side):
    """The same DEM as a GeoTrellis pyramid (catalog) and as a COG, in Web Mercator at ``zoom``."""
    cell = 2 * WM / (256 * 2 ** zoom)
    x0, y1 = 0.0, 0.0 + side * cell
    extent = gps.Extent(x0, 0.0, x0 + side * cell, y1)
    tile = gps.Tile.from_numpy_array(dem(side)[np.newaxis], np.nan)
    raster = gps.RasterLayer.from_numpy_tiles(gps.LayerType.SPATIAL, [(gps.ProjectedExtent(extent, epsg=3857), tile)])
    layer = raster.tile_to_layout(gps.GlobalLayout(256, zoom=zoom)).cache()
    catalog = os.path.join(folder, "catalog")
    layer.pyramid().write(catalog, "dem")
    cog = os.path.join(folder, "dem.tif")
    layer.save_stitched(cog, cog=True)
    keys = [(zoom, k.col, k.row) for k in layer.collect_keys()]
    lo, hi = layer.get_min_max()
    return layer, catalog, cog, keys, (lo, hi)


class Client:
    """Keep-alive HTTP GETs of tile paths against one server."""

    def __init__(self, port):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def get(self, path):
        self.conn.request("GET", path)
        r = self.conn.getresponse()
        body = r.read()
        return r.status, body


def sequential(port, paths, rounds):
    c = Client(port)
    times = []
    for _ in range(rounds):
        for p in paths:
            t = time.perf_counter()
            status, body = c.get(p)
            times.append(time.perf_counter() - t)
            assert status == 200, (status, body[:200])
    times.sort()
    return times[len(times) // 2], times[int(len(times) * 0.99)]


def loop(port, paths, seconds, clients, rate=None):
    """``clients`` threads for ``seconds``; paced to ``rate`` requests/s in total when given. Returns
    (completed requests per second, p50, p99)."""
    lat, lock = [], threading.Lock()
    stop = time.perf_counter() + seconds

    def run(i):
        c = Client(port)
        n = i
        mine = []
        start = time.perf_counter()
        while True:
            if rate:
                due = start + len(mine) * clients / rate
                now = time.perf_counter()
                if due > now:
                    time.sleep(due - now)
            if time.perf_counter() >= stop:
                break
            t = time.perf_counter()
            status, _ = c.get(paths[n % len(paths)])
            mine.append(time.perf_counter() - t)
            n += clients
        with lock:
            lat.extend(mine)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(clients)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - t0
    lat.sort()
    return len(lat) / elapsed, lat[len(lat) // 2], lat[int(len(lat) * 0.99)]


def start_titiler(port):
    code = (
        "import uvicorn\n"
        "from fastapi import FastAPI\n"
        "from titiler.core.factory import TilerFactory\n"
        "app = FastAPI()\n"
        "app.include_router(TilerFactory().router)\n"
        f"uvicorn.run(app, host='127.0.0.1', port={port}, log_level='warning')\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code])
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            http.client.HTTPConnection("127.0.0.1", port, timeout=1).request("GET", "/docs")
            return proc
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise RuntimeError("titiler did not start")


def free_port():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def bench_tms(args):
    folder = tempfile.mkdtemp(prefix="gps-bench-render-")
    layer, catalog, cog, keys, (lo, hi) = build_data(folder, args.zoom, args.side)
    cmap = gps.ColorMap.from_colors(list(np.linspace(lo, hi, 256)), gps.geotrellis.color.ramp_colors("Viridis"))
    pyramid = layer.pyramid()
    t = time.perf_counter()
    gps.TMS.build(pyramid, cmap)  # a Pyramid source is written once to a local catalog
    elapsed = time.perf_counter() - t
    n = sum(level.count() for level in pyramid.levels.values())
    print(f"\nPyramid source: {len(pyramid.levels)} levels, {n} tiles written for serving in {elapsed:.2f} s "
          "(once, at TMS.build)")
    ours_paths = [f"/tile/{z}/{x}/{y}.png" for z, x, y in keys]
    tt_paths = [f"/tiles/WebMercatorQuad/{z}/{x}/{y}.png?url={cog}&rescale={lo},{hi}&colormap_name=viridis"
                for z, x, y in keys]
    print(f"\ntile serving: {len(keys)} tiles of 256×256 at zoom {args.zoom} (a {args.side}² float32 DEM), loopback")
    results = {}
    port = free_port()
    titiler = start_titiler(port)
    try:
        for name, p, paths in (("titiler", port, tt_paths),):
            sequential(p, paths[:4], 1)
            results[name] = (sequential(p, paths, args.rounds), loop(p, paths, args.seconds, 1, args.rate),
                             loop(p, paths, args.seconds, args.clients))
    finally:
        titiler.kill()
    for name, entries in (("ours", 0), ("ours, cached", 4096)):
        tms = gps.TMS.build((catalog, "dem"), cmap)
        tms.bind("127.0.0.1", cache_entries=entries)
        try:
            p = tms.port
            sequential(p, ours_paths[:4], 1)
            results[name] = (sequential(p, ours_paths, args.rounds), loop(p, ours_paths, args.seconds, 1, args.rate),
                             loop(p, ours_paths, args.seconds, args.clients))
        finally:
            tms.unbind()
    base = results["titiler"]
    print(f"{'server':14} {'seq p50':>9} {'seq p99':>9} | {'@' + str(args.rate) + '/s got':>10} {'p50':>8} {'p99':>8} |"
          f" {'max req/s':>9} ({args.clients} clients) {'vs titiler':>10}")
    for name, ((p50, p99), (r_rate, r50, r99), (thr, _, _)) in results.items():
        print(f"{name:14} {p50 * 1e3:7.2f}ms {p99 * 1e3:7.2f}ms | {r_rate:10.0f} {r50 * 1e3:6.2f}ms {r99 * 1e3:6.2f}ms |"
              f" {thr:9.0f}                {thr / base[2][0]:9.1f}×")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--zoom", type=int, default=9)
    ap.add_argument("--side", type=int, default=2048)
    ap.add_argument("--seconds", type=float, default=5)
    ap.add_argument("--rate", type=float, default=200)
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    bench_png(args.repeat)
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    bench_tms(args)


if __name__ == "__main__":
    main()
