"""Local map algebra throughput: fused chains against a single operation and against the same chain
written by hand as a plain numpy mapInArrow UDF, over 2048 cached 256×256 float32 tiles.

    .venv/bin/python bench/bench_local_ops.py [--tiles 2048] [--repeat 5] [--master local[2]] [--cell-type int16]

``--cell-type`` converts the tiles (scaled to 0..1000 first) to another cell type before caching them; the
numpy UDF case runs for float32 only (integer tiles follow GeoTrellis' rules, which a plain numpy chain does
not).

Every figure is the median of --repeat runs, each writing all tiles to Spark's `noop` sink (so every
tile is computed and nothing is collected). Ratios matter more than absolute numbers on a shared machine.
"""

import argparse
import os
import sys

import numpy as np
import pyarrow as pa
from pyspark.sql import SparkSession

import geopyspark_rs as gps
from common import median_time, random_tile_layer

SIZE = 256


def make_layer(spark, n_tiles):
    """n cached random float32 tiles generated on the executors, 64 per layout row."""
    layout_rows = (n_tiles + 63) // 64
    return random_tile_layer(spark, 64, layout_rows, gps.Extent(0, 0, 64, layout_rows), SIZE, n_tiles=n_tiles)


def numpy_chain_udf(df):
    """The 5-operation chain by hand: numpy per tile in a mapInArrow UDF."""

    def run(batches):
        for b in batches:
            out = []
            for buf in b.column("cells").to_pylist():
                a = np.frombuffer(buf, np.float32)
                out.append((np.abs(((a + 1) * 2 - 3) / 4)).astype(np.float32).tobytes())
            cols = {name: b.column(name) for name in b.schema.names}
            cols["cells"] = pa.array(out, pa.binary())
            yield pa.RecordBatch.from_pydict(cols)

    return df.mapInArrow(run, df.schema)


def identity_udf(df):
    """A mapInArrow that returns its input: the JVM-Python crossing alone, the ceiling for any UDF."""

    def run(batches):
        yield from batches

    return df.mapInArrow(run, df.schema)


def run_noop(df):
    df.write.format("noop").mode("overwrite").save()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tiles", type=int, default=2048)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--master", default="local[2]", help="local[4] overlaps the JVM and Python stages of tasks")
    ap.add_argument("--cell-type", default="float32", help="the cached tiles' cell type (float32 by default)")
    args = ap.parse_args()
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    conf = gps.geopyspark_conf(master=args.master, appName="bench-local-ops")
    conf.set("spark.driver.memory", "8g")
    spark = SparkSession.builder.config(conf=conf).getOrCreate()
    layer = make_layer(spark, args.tiles)
    if args.cell_type != "float32":
        converted = (layer * 1000).convert_data_type(args.cell_type).cache()
        assert converted.count() == args.tiles
        layer.unpersist()
        layer = converted
    mpix = args.tiles * SIZE * SIZE / 1e6

    cases = {
        "identity (cached scan, no op)": lambda: run_noop(layer.dataframe),
        "identity mapInArrow (crossing only)": lambda: run_noop(identity_udf(layer.dataframe)),
        "single op (+1)": lambda: run_noop((layer + 1).dataframe),
        "fused chain of 3 (+1, *2, -3)": lambda: run_noop(((layer + 1) * 2 - 3).dataframe),
        "fused chain of 5 (+1, *2, -3, /4, abs)": lambda: run_noop(abs(((layer + 1) * 2 - 3) / 4).dataframe),
    }
    if args.cell_type == "float32":
        cases["numpy mapInArrow UDF, chain of 5"] = lambda: run_noop(numpy_chain_udf(layer.dataframe))
    results = {}
    for name, fn in cases.items():
        fn()  # warm up (Python workers, JIT)
        results[name] = median_time(fn, args.repeat)
        print(f"{name:42s} {results[name]:7.3f} s  {mpix / results[name]:8.1f} Mpix/s", flush=True)

    single = results["single op (+1)"]
    chain5 = results["fused chain of 5 (+1, *2, -3, /4, abs)"]
    udf = results.get("numpy mapInArrow UDF, chain of 5", float("nan"))
    chain3 = results["fused chain of 3 (+1, *2, -3)"]
    print(f"\n{args.tiles} cached {SIZE}x{SIZE} {args.cell_type} tiles = {mpix:.1f} Mpix, {args.master}")
    print(f"(a) chain of 5 / single op wall time: {chain5 / single:.2f}x  (target <= 1.5x)")
    print(f"(b) numpy UDF / our chain of 5 wall time: {udf / chain5:.2f}x  (target >= 1.0x)")
    crossing = results["identity mapInArrow (crossing only)"]
    print(f"(c) chain of 3: {mpix / chain3:.1f} Mpix/s  (target > 140 Mpix/s, 2x GeoTrellis' ~70 for one add); "
          f"the crossing alone allows {mpix / crossing:.1f} Mpix/s")
    spark.stop()


if __name__ == "__main__":
    main()
