"""Async GeoTIFF and Cloud-Optimized GeoTIFF reading, without GDAL and without Spark.

Open a file by path or URI (``s3://``, ``gs://``, ``az://``, ``http(s)://`` with store options) or through an
obstore store, then read windows of the full-resolution image or of an overview as numpy arrays with their
validity mask (NoData and internal masks applied). Segments are fetched with coalesced range requests and
decoded in Rust in a thread pool, so the event loop never blocks::

    import asyncio
    from geopyspark_rs.cog import GeoTIFF, Window

    async def main():
        tif = await GeoTIFF.open("s3://bucket/image.tif", options={"aws_region": "eu-west-1"})
        arr = await tif.read(window=Window(0, 0, 512, 512))
        small = await tif.overviews[-1].read()
        return arr.as_masked(), small.data

    asyncio.run(main())

Nothing here uses GDAL or starts a JVM (the ``geopyspark_rs`` package imports pyspark's Python modules,
but no Spark runs).
"""

from geopyspark_rs.cog._geotiff import BoundingBox, GeoTIFF, Overview, RasterArray, read_windows
from geopyspark_rs.cog._reader import Store
from geopyspark_rs.cog._window import Window, WindowError

__all__ = ["BoundingBox", "GeoTIFF", "Overview", "RasterArray", "Store", "Window", "WindowError", "read_windows"]
