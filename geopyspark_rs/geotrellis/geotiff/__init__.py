"""``gps.geotiff``: reading GeoTIFFs into a RasterLayer (GeoPySpark's ``geotiff.get``).

The driver lists the files and reads only their headers; the executors decode the windows, each segment
once, through the Rust reader."""

from __future__ import annotations

from ...session import active_session, default_parallelism
from ..constants import (DEFAULT_CHUNK_SIZE, DEFAULT_GEOTIFF_TIME_FORMAT, DEFAULT_GEOTIFF_TIME_TAG,
                         DEFAULT_MAX_TILE_SIZE, DEFAULT_PARTITION_BYTES, DEFAULT_S3_CLIENT, LayerType, ReadMethod)
from . import plan as _plan

__all__ = ["get"]


def _crs_text(crs) -> str | None:
    """The tile contract's CRS text of a user's ``crs`` (EPSG int, ``"4326"``, ``"EPSG:4326"`` or proj4)."""
    if crs is None:
        return None
    if isinstance(crs, int) or (isinstance(crs, str) and crs.strip().isdigit()):
        return f"EPSG:{int(crs)}"
    if isinstance(crs, str) and crs.strip():
        return crs.strip()
    raise TypeError(f"crs must be an EPSG code (int or str) or a proj4 string, got {crs!r}")


def _positive(name, value, allow_none=False):
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"{name} must be a positive int{' or None' if allow_none else ''}, got {value!r}")
    return value


def read_layer(uri, layer_type, *, crs=None, max_tile_size=DEFAULT_MAX_TILE_SIZE, num_partitions=None,
               partition_bytes=DEFAULT_PARTITION_BYTES, time_tag=DEFAULT_GEOTIFF_TIME_TAG,
               time_format=DEFAULT_GEOTIFF_TIME_FORMAT, delimiter=None, s3_credentials=None,
               read_method=ReadMethod.GEOTRELLIS):
    """A RasterLayer of the GeoTIFFs at ``uri``: planned here from the headers into one source row per
    window, decoded by the executors in the pass that consumes the layer (``source``). With
    ``ReadMethod.GDAL`` rasterio lists and reads the rasters instead (any format GDAL reads)."""
    from .. import s3
    from ..layer import RasterLayer
    from ..plan import Head
    from ..source import source_frame
    from .read import window_reader, window_rows

    spark = active_session()
    layer_type = LayerType(layer_type)
    uris = [uri] if isinstance(uri, str) else list(uri)
    if s3_credentials is not None and not all(s3.is_s3_uri(u) for u in uris):
        raise RuntimeError(f"s3_credentials were given but not every uri is an S3 URI: {uris}")

    def store_options(u):
        return s3.store_options(u, s3_credentials, spark)

    head_of, readers = window_reader, {}
    if ReadMethod(read_method) == ReadMethod.GDAL:  # the same plan and layer, GDAL's headers and windows
        from .. import rasterio as gdal

        head_of, readers = gdal.window_reader, {"list_of": gdal.list_rasters, "info_of": gdal.raster_info}
    units = _plan.plan_read(uris, layer_type, crs=_crs_text(crs), max_tile_size=max_tile_size,
                            time_tag=time_tag, time_format=time_format, delimiter=delimiter,
                            store_options=store_options, **readers)
    n = _plan.partition_count(units, num_partitions, partition_bytes, default_parallelism(spark))
    parts = _plan.split_partitions(units, n)
    n = max(1, len(parts))
    ordered = [u for part in parts for u in part]
    part_of_window = [p for p, part in enumerate(parts) for u in part for _ in u.windows]
    store = {}
    for u in uris:
        store.update(store_options(u))
    layer = RasterLayer(layer_type, source_frame(spark, window_rows(ordered, layer_type), part_of_window, n))
    layer._head = Head(head_of(store), row_aligned=True)
    layer._partitions = n
    return layer


def get(layer_type, uri, crs=None, max_tile_size=DEFAULT_MAX_TILE_SIZE, num_partitions=None,
        chunk_size=DEFAULT_CHUNK_SIZE, partition_bytes=DEFAULT_PARTITION_BYTES, time_tag=DEFAULT_GEOTIFF_TIME_TAG,
        time_format=DEFAULT_GEOTIFF_TIME_FORMAT, delimiter=None, s3_client=DEFAULT_S3_CLIENT, s3_credentials=None):
    """Read GeoTIFFs into a RasterLayer.

    Args:
        layer_type (LayerType or str): SPATIAL, or SPACETIME to read each file's instant from ``time_tag``.
        uri (str or [str]): files, directories (searched recursively for .tif/.tiff), glob patterns,
            ``file://``, ``s3://`` (also ``s3a://``, ``s3n://``), ``gs://``, ``az://`` or ``http(s)://`` URIs.
        crs (int or str, optional): overrides the files' CRS.
        max_tile_size (int, optional): the largest window side; windows follow the files' segments as
            GeoTrellis' do. ``None`` reads each file whole.
        num_partitions (int, optional): partitions of the layer; by default enough that none holds more than
            ``partition_bytes`` of cells, and at least one per core.
        chunk_size (int): accepted for compatibility; the reader fetches exactly the byte ranges of the
            segments a window needs.
        time_tag (str), time_format (str): the tag holding the time and its Java DateTimeFormatter pattern
            (times without a zone are UTC).
        delimiter (str, optional): list only the direct children of a directory/prefix.
        s3_client (str): ``'default'``.
        s3_credentials (Credentials, optional): keys for S3 URIs (else Spark's ``spark.hadoop.fs.s3*`` keys,
            then the AWS environment).

    Returns:
        RasterLayer
    """
    layer_type = LayerType(layer_type)
    _positive("max_tile_size", max_tile_size, allow_none=True)
    _positive("num_partitions", num_partitions, allow_none=True)
    _positive("partition_bytes", partition_bytes)
    _positive("chunk_size", chunk_size)
    if s3_client != DEFAULT_S3_CLIENT:
        raise ValueError(f"s3_client must be {DEFAULT_S3_CLIENT!r}, got {s3_client!r}")
    return read_layer(uri, layer_type, crs=crs, max_tile_size=max_tile_size, num_partitions=num_partitions,
                      partition_bytes=partition_bytes, time_tag=time_tag, time_format=time_format,
                      delimiter=delimiter, s3_credentials=s3_credentials)
