"""An end-to-end job for spark-submit on any cluster: GeoTIFF → tile_to_layout to a GlobalLayout → map
algebra → pyramid → catalog write → query back.

    spark-submit --master spark://HOST:7077 --archives env.tar.gz#environment \\
        --conf spark.pyspark.python=./environment/bin/python examples/cluster_job.py OUT_DIR

With SPARK_REMOTE set (e.g. ``SPARK_REMOTE=local[2]``) the same job runs through Spark Connect. OUT_DIR must be
a path every worker reaches (here: the same machine; on a real cluster an object store or
a shared file system). The job writes ``OUT_DIR/input.tif``, the catalog ``OUT_DIR/catalog`` and
``OUT_DIR/result.npz`` (the queried tiles, by key), and prints one line of JSON with what it observed.
"""

import json
import os
import sys

import numpy as np
from pyspark.sql import SparkSession

import geopyspark_rs as gps


def main(out):
    spark = SparkSession.builder.appName("geopyspark_rs cluster job").getOrCreate()
    os.makedirs(out, exist_ok=True)
    # The input GeoTIFF: a smooth 1024×1024 surface in Web Mercator with a NoData hole.
    y, x = np.mgrid[0:1024, 0:1024].astype(np.float32)
    dem = (500 + 300 * np.sin(x / 100) * np.cos(y / 130)).astype(np.float32)
    dem[100:140, 200:260] = np.nan
    extent = gps.Extent(1_000_000.0, 5_000_000.0, 1_000_000.0 + 1024 * 30, 5_000_000.0 + 1024 * 30)
    source = gps.RasterLayer.from_numpy_tiles(
        gps.LayerType.SPATIAL, [(gps.ProjectedExtent(extent, epsg=3857), gps.Tile.from_numpy_array(dem[None], np.nan))])
    tiff = os.path.join(out, "input.tif")
    source.tile_to_layout(gps.LocalLayout(256)).save_stitched(tiff)

    raster = gps.geotiff.get(gps.LayerType.SPATIAL, tiff, max_tile_size=256, num_partitions=8)
    layer = raster.tile_to_layout(gps.GlobalLayout(tile_size=256), target_crs=3857).cache()
    scaled = (layer * 2 - 100).convert_data_type(gps.CellType.FLOAT32)
    pyramid = scaled.pyramid(gps.ResampleMethod.AVERAGE)
    catalog = os.path.join(out, "catalog")
    pyramid.write(catalog, "dem")
    back = gps.query(catalog, "dem", layer.zoom_level)
    tiles = {f"{k.col}_{k.row}": t.cells for k, t in back.to_numpy_tiles()}
    np.savez(os.path.join(out, "result.npz"), **tiles)

    # Where the tasks ran: an executor's working directory names its worker and executor.
    where = spark.range(0, 64, numPartitions=16).mapInPandas(
        lambda it: (__import__("pandas").DataFrame({"cwd": [os.getcwd()]}) for _ in it), "cwd string")
    print(json.dumps({
        "zoom": layer.zoom_level,
        "levels": sorted(pyramid.levels),
        "tiles": len(tiles),
        "min_max": scaled.get_min_max(),
        "executor_dirs": sorted({r.cwd for r in where.collect()}),
        "master": spark.conf.get("spark.master", "connect"),
    }))
    spark.stop()


if __name__ == "__main__":
    main(sys.argv[1])
