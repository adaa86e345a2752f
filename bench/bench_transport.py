"""Transport ceilings against our reductions: how fast cached 256×256 float32 tiles can cross between the
JVM and a Python worker, and how close ``layer.get_min_max()`` after a chain of local ops gets to that.

    .venv/bin/python bench/bench_transport.py [--tiles 2048] [--repeat 5] [--master local[2]]
        [--conf key=value ...] [--only substring ...] [--quick]

In one Spark session (default ``local[2]``, 2048 tiles = 134 Mpix = 537 MB of cells), every case runs
once per round, rounds interleave the cases (the machine is shared and noisy), and each figure is the
median over --repeat rounds after one warm-up round:

a. ``raw IPC``: a pyarrow IPC stream of the same 64-tile batches over a local TCP socket, from a writer
   process to this process (1 stream, and 2 streams at once on 2 cores): the pure transport ceiling.
b. ``plain``: a cached DataFrame of ``col, row, cells`` only. ``identity`` is a ``mapInArrow`` returning
   its input, written to Spark's ``noop`` sink (cells go JVM → Python → JVM); ``one-way`` is a
   ``mapInArrow`` that returns one tiny row per partition (cells go JVM → Python only: the ceiling for
   any reduction over cached tiles).
c. ``layer``: the same two over ``layer.dataframe`` of our cached layer (the full tile contract).
d. ``ours``: ``((l + 1) * 2 - 3).get_min_max()`` (chain of 3) and
   ``((((l + 1) * 2) - 3) / 4 + 5).get_min_max()`` (chain of 5), against a hand-written numpy
   ``mapInArrow`` UDF doing the same five operations and the min/max in one pass.

--conf sets Spark settings on the session before anything is cached (to try one setting at a time);
--quick is 256 tiles and 3 rounds. The environment variables BENCH_TILES and BENCH_REPEAT set the
defaults of --tiles and --repeat.
"""

import argparse
import multiprocessing as mp
import os
import socket
import statistics
import sys
import threading
import time

import numpy as np
import pyarrow as pa

SIZE = 256
BATCH_TILES = 64  # the rows per Arrow batch geopyspark_rs sets (session.ARROW_RECORDS_PER_BATCH)


# -- a. raw pyarrow IPC over a local socket -------------------------------------------------------------

def _tile_batches(n_tiles, batch_tiles, seed=0):
    """The bench's tiles as record batches of ``col, row, cells`` (random float32, as the cached layer)."""
    rng = np.random.default_rng(seed)
    out = []
    for start in range(0, n_tiles, batch_tiles):
        ids = np.arange(start, min(n_tiles, start + batch_tiles))
        cells = [rng.random((SIZE, SIZE), dtype=np.float32).tobytes() for _ in ids]
        out.append(pa.RecordBatch.from_pydict({
            "col": pa.array(ids % 64, pa.int32()), "row": pa.array(ids // 64, pa.int32()),
            "cells": pa.array(cells, pa.binary()),
        }))
    return out


def _ipc_server(port_conn, n_tiles, batch_tiles):
    """Writer process: builds the batches once, then streams all of them to every connection it accepts
    (each connection on its own thread), through a 64 KiB buffered socket file as Spark's worker uses."""
    batches = _tile_batches(n_tiles, batch_tiles)
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)
    port_conn.send(srv.getsockname()[1])

    def serve(conn):
        with conn, conn.makefile("wb", 65536) as f:
            with pa.ipc.new_stream(f, batches[0].schema) as w:
                for b in batches:
                    w.write_batch(b)

    while True:
        conn, _ = srv.accept()
        threading.Thread(target=serve, args=(conn,), daemon=True).start()


def _ipc_read(port):
    """Read one whole stream; returns the bytes of cells received."""
    with socket.create_connection(("127.0.0.1", port)) as s, s.makefile("rb", 65536) as f:
        total = 0
        for b in pa.ipc.open_stream(f):
            total += b.column("cells").buffers()[2].size
        return total


def _ipc_streams(port, streams, pool):
    if streams == 1:
        return _ipc_read(port)
    # Readers in separate processes, as the two Python workers of local[2] are.
    return sum(pool.map(_ipc_read, [port] * streams))


# -- b./c. Spark passes --------------------------------------------------------------------------------

def identity_udf(df):
    """A mapInArrow returning its input: cells cross JVM → Python → JVM."""

    def run(batches):
        yield from batches

    return df.mapInArrow(run, df.schema)


def one_way_udf(df):
    """A mapInArrow returning one tiny row per partition (rows and bytes of cells seen): cells cross
    JVM → Python only."""

    def run(batches):
        rows = size = 0
        for b in batches:
            rows += b.num_rows
            size += b.column("cells").buffers()[2].size
        yield pa.RecordBatch.from_pydict({"rows": [rows], "bytes": [size]})

    return df.mapInArrow(run, "rows long, bytes long")


def noop(df):
    df.write.format("noop").mode("overwrite").save()


def numpy_chain_min_max(df):
    """The chain of 5 and the min/max by hand, one pass: numpy per tile, one (min, max) row per
    partition, merged on the driver (NaN is float NoData, as in the layer)."""

    def run(batches):
        lo, hi = np.inf, -np.inf
        for b in batches:
            for buf in b.column("cells").to_pylist():
                a = np.frombuffer(buf, np.float32)
                r = (((a + 1) * 2 - 3) / 4 + 5)
                lo, hi = min(lo, float(np.nanmin(r))), max(hi, float(np.nanmax(r)))
        if lo <= hi:
            yield pa.RecordBatch.from_pydict({"lo": [lo], "hi": [hi]})

    rows = df.mapInArrow(run, "lo double, hi double").collect()
    return min(r.lo for r in rows), max(r.hi for r in rows)


def numpy_batch_chain_min_max(df):
    """The same, the way an Arrow-aware user would write it: the whole batch's cells as one zero-copy
    numpy view of the binary column's data buffer (every tile has the same size)."""

    def run(batches):
        lo, hi = np.inf, -np.inf
        for b in batches:
            cells = b.column("cells")
            offsets = np.frombuffer(cells.buffers()[1], np.int32)[cells.offset:cells.offset + len(cells) + 1]
            a = np.frombuffer(cells.buffers()[2], np.uint8)[offsets[0]:offsets[-1]].view(np.float32)
            r = (((a + 1) * 2 - 3) / 4 + 5)
            lo, hi = min(lo, float(np.nanmin(r))), max(hi, float(np.nanmax(r)))
        if lo <= hi:
            yield pa.RecordBatch.from_pydict({"lo": [lo], "hi": [hi]})

    rows = df.mapInArrow(run, "lo double, hi double").collect()
    return min(r.lo for r in rows), max(r.hi for r in rows)


# -- the run --------------------------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tiles", type=int, default=int(os.environ.get("BENCH_TILES", 2048)))
    ap.add_argument("--repeat", type=int, default=int(os.environ.get("BENCH_REPEAT", 5)))
    ap.add_argument("--master", default="local[2]")
    ap.add_argument("--conf", action="append", default=[], metavar="KEY=VALUE",
                    help="a Spark setting for the session (repeatable)")
    ap.add_argument("--only", action="append", default=[], metavar="SUBSTRING",
                    help="run only the cases whose name contains one of these (repeatable)")
    ap.add_argument("--quick", action="store_true", help="256 tiles, 3 rounds")
    args = ap.parse_args()
    if args.quick:
        args.tiles, args.repeat = 256, 3
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)

    # The IPC writer starts before the JVM (a spawned process, so nothing of Spark is inherited).
    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe()
    server = ctx.Process(target=_ipc_server, args=(child, args.tiles, BATCH_TILES), daemon=True)
    server.start()
    port = parent.recv()
    readers = ctx.Pool(2)

    import geopyspark_rs as gps
    from common import bench_session, random_tile_layer

    spark = bench_session(args.master, "bench-transport", "8g", args.conf)
    # geopyspark_rs sets its Arrow batch size when a layer first touches the session; --conf wins.
    layout_rows = (args.tiles + 63) // 64
    layer = random_tile_layer(spark, 64, layout_rows, gps.Extent(0, 0, 64, layout_rows), SIZE,
                              n_tiles=args.tiles)
    for kv in args.conf:
        key, _, value = kv.partition("=")
        if key.startswith("spark.sql."):
            spark.conf.set(key, value)
    plain = layer.dataframe.select("col", "row", "cells").cache()
    assert plain.count() == args.tiles
    mpix = args.tiles * SIZE * SIZE / 1e6
    cell_bytes = args.tiles * SIZE * SIZE * 4

    def chain3():
        return ((layer + 1) * 2 - 3).get_min_max()

    def chain5():
        return ((((layer + 1) * 2) - 3) / 4 + 5).get_min_max()

    cases = {
        "a. raw IPC socket, 1 stream": lambda: _ipc_streams(port, 1, readers),
        "a. raw IPC socket, 2 streams": lambda: _ipc_streams(port, 2, readers),
        "b. plain cached DF, scan only (no Python)": lambda: noop(plain),
        "b. plain cached DF, identity mapInArrow": lambda: noop(identity_udf(plain)),
        "b. plain cached DF, one-way reduction": lambda: one_way_udf(plain).collect(),
        "c. layer DF, identity mapInArrow": lambda: noop(identity_udf(layer.dataframe)),
        "c. layer DF, one-way reduction": lambda: one_way_udf(layer.dataframe).collect(),
        "d. ours, chain of 3 + get_min_max": chain3,
        "d. ours, chain of 5 + get_min_max": chain5,
        "d. numpy UDF, chain of 5 + min/max": lambda: numpy_chain_min_max(layer.dataframe),
        "d. numpy UDF (whole batch), chain of 5 + min/max": lambda: numpy_batch_chain_min_max(layer.dataframe),
    }
    if args.only:
        cases = {k: v for k, v in cases.items() if any(s in k for s in args.only)}

    # The answers agree (checked once, outside the timing).
    if any(k.startswith("d.") for k in cases):
        ours, theirs = chain5(), numpy_chain_min_max(layer.dataframe)
        assert np.allclose(ours, theirs, rtol=1e-6), (ours, theirs)
    if any(k.startswith("a.") for k in cases):
        assert _ipc_streams(port, 1, readers) == cell_bytes

    times = {k: [] for k in cases}
    for round_ in range(args.repeat + 1):  # round 0 warms up (workers, caches, page faults)
        for name, fn in cases.items():
            t = time.perf_counter()
            fn()
            if round_:
                times[name].append(time.perf_counter() - t)

    from pyspark import __version__ as pyspark_version
    arrow_conf = {k: spark.conf.get(k, None) for k in (
        "spark.sql.execution.arrow.maxRecordsPerBatch", "spark.sql.execution.arrow.maxBytesPerBatch")}
    print(f"{args.tiles} cached {SIZE}x{SIZE} float32 tiles = {mpix:.1f} Mpix ({cell_bytes / 1e6:.0f} MB), "
          f"{args.master}, PySpark {pyspark_version}, medians of {args.repeat} interleaved rounds")
    print(f"  {arrow_conf}" + (f", --conf {' '.join(args.conf)}" if args.conf else ""))
    med = {}
    for name, ts in times.items():
        med[name] = m = statistics.median(ts)
        # raw IPC with 2 streams moves twice the cells
        n = 2 if name.endswith("2 streams") else 1
        print(f"  {name:50s} {m:7.3f} s  {n * mpix / m:7.1f} Mpix/s  "
              f"(min {min(ts):.3f}, max {max(ts):.3f})", flush=True)

    def rate(name):
        return mpix / med[name] if name in med else float("nan")

    print()
    one_way = rate("b. plain cached DF, one-way reduction")
    c3, c5 = rate("d. ours, chain of 3 + get_min_max"), rate("d. ours, chain of 5 + get_min_max")
    udf = rate("d. numpy UDF, chain of 5 + min/max")
    print(f"  chain of 5 / numpy UDF:       {c5 / udf:5.2f}x  (goal >= 1.3x)")
    print(f"  chain of 5 / numpy UDF (whole batch): "
          f"{c5 / rate('d. numpy UDF (whole batch), chain of 5 + min/max'):5.2f}x")
    print(f"  chain of 3 / one-way ceiling: {c3 / one_way:5.2f}x  (goal >= 0.8x)")
    print(f"  chain of 3:                   {c3:6.1f} Mpix/s  (goal >= 160 Mpix/s)")
    print(f"  layer one-way / plain one-way: {rate('c. layer DF, one-way reduction') / one_way:5.2f}x; "
          f"plain one-way / raw IPC (1 stream): {one_way / rate('a. raw IPC socket, 1 stream'):5.2f}x")
    spark.stop()
    readers.terminate()
    server.terminate()


if __name__ == "__main__":
    main()
