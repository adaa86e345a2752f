"""GeoTrellis catalogs as NumPy, without Spark — then the same code inside a Spark job.

    python examples/local_catalog.py CATALOG_URI

CATALOG_URI is a directory or an ``s3://bucket/prefix`` (object-store options from the ``AWS_*`` environment,
e.g. ``AWS_ENDPOINT``, ``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``, ``AWS_ALLOW_HTTP``). Part one writes a
NumPy raster as a GeoTrellis layer and reads a region back as an array with its transform and CRS, hands it
to rasterio and xarray — no SparkSession, no JVM. Part two runs the same reader on Spark's executors, one
region per task (``mapInPandas``), and prints one line of JSON with what it observed.
"""

import json
import sys

import numpy as np
from affine import Affine

import geopyspark_rs as gps
import geopyspark_rs.local as gl


def write_and_read(uri, options=None):
    """Part one, plain Python: a 2048×2048 elevation-like raster in UTM 33N written as layer ``dem``, and a
    region read back."""
    y, x = np.mgrid[0:2048, 0:2048].astype(np.float32)
    dem = (500 + 300 * np.sin(x / 150) * np.cos(y / 210)).astype(np.float32)
    raster = gl.Raster(dem, Affine(10.0, 0, 400_000.0, 0, -10.0, 5_100_000.0), crs=32633, nodata=np.nan)
    gl.write(uri, "dem", raster, layout=gps.LocalLayout(256), options=options)

    region = gps.Extent(405_000.0, 5_085_000.0, 410_000.0, 5_090_000.0)  # 500 × 500 cells
    mosaic = gl.read(uri, "dem", 0, query_geom=region, options=options)
    assert mosaic.shape == (1, 500, 500)
    observed = {"region_shape": list(mosaic.shape), "transform": list(mosaic.transform)[:6],
                "crs": mosaic.crs.to_string(), "mean": float(np.nanmean(mosaic.data))}
    try:  # rasterio opens the region as a GeoTIFF in memory
        with mosaic.to_memory_file() as memfile, memfile.open() as dataset:
            observed["rasterio_bounds"] = list(dataset.bounds)
    except ImportError:
        pass
    try:  # and xarray gets the CRS and transform where rioxarray looks for them
        observed["xarray_dims"] = list(mosaic.to_xarray().dims)
    except ImportError:
        pass
    return observed


def region_means_on_executors(spark, uri, options=None):
    """Part two: the same reader inside Spark tasks — each task reads its tile-sized regions."""
    import pandas as pd

    def means(frames):
        for df in frames:
            out = []
            for col, row in zip(df["col"], df["row"]):
                part = gl.read(uri, "dem", 0, key_range=(col, row, col, row), options=options)
                out.append((int(col), int(row), float(np.nanmean(part.data))))
            yield pd.DataFrame(out, columns=["col", "row", "mean"])

    keys = spark.createDataFrame([(c, r) for c in range(8) for r in range(8)], "col int, row int").repartition(4)
    return {(r.col, r.row): r.mean for r in keys.mapInPandas(means, "col int, row int, mean double").collect()}


def main(uri):
    from pyspark.sql import SparkSession

    observed = write_and_read(uri)
    spark = SparkSession.builder.master("local[2]").appName("geopyspark_rs local catalog").getOrCreate()
    means = region_means_on_executors(spark, uri)
    observed["tiles_read_on_executors"] = len(means)
    print(json.dumps(observed))


if __name__ == "__main__":
    main(sys.argv[1])
