"""Shapefiles as Features (GeoPySpark's ``geopyspark.geotools.shapefile``, exported as ``gps.shapefile``).

:func:`get` is GeoPySpark's: a PySpark RDD of :class:`~geopyspark_rs.geotrellis.data_model.Feature`\\ s, a
shapely geometry and a ``dict`` of every attribute as ``str``. :func:`get_dataframe` (ours) is the same read
as a Spark DataFrame with columns ``geometry`` (WKB ``binary``) and ``properties`` (``map<string,string>``); it
works on Spark Connect, which has no RDDs.

Both list the files on the driver (a path or a list of paths; a directory is searched recursively for names
ending with one of ``extensions``) and read them on the executors with pyogrio (GDAL): ``get`` parallelizes
the file paths into ``num_partitions`` slices and reads each in a ``flatMap``, as GeoPySpark's
``HadoopShapefileRDD`` does; ``get_dataframe`` runs the same read in a ``mapInArrow`` over
``spark.range(len(files), numPartitions=num_partitions)``, each row number naming one file. Files must be
readable at the same path by the executors (a local path in local mode, a shared file system on a cluster).

As GeoTools reads shapefiles, polygon layers give MultiPolygons and line layers MultiLineStrings (points stay
Points, multipoints MultiPoints). Attribute values are turned into strings as GeoPySpark's backend does
(Java's ``toString``: ``"5"``, ``"1.0"``, ``"1.0E-5"``, ``"true"``; null gives ``""``), except dates, which
are ISO ``"YYYY-MM-DD"`` rather than ``java.util.Date``'s time-zone dependent text.

Only local paths and ``file://`` URIs are read; ``s3://``, ``hdfs://`` and other schemes raise
:class:`~geopyspark_rs.errors.UnsupportedError` (a ``NotImplementedError``).
"""

from __future__ import annotations

import datetime
import os

import numpy as np

from ..errors import NotFoundError, UnsupportedError
from ..session import active_session
from .constants import DEFAULT_S3_CLIENT
from .data_model import Feature

__all__ = ["get", "get_dataframe"]

_EXTENSIONS = [".shp", ".SHP"]
_DF_SCHEMA = "geometry binary, properties map<string,string>"


def _files(uri, extensions) -> list[str]:
    """Absolute paths of every file ``uri`` names (files as given, directories searched recursively)."""
    uris = [uri] if isinstance(uri, str) else list(uri)
    if not uris:
        raise ValueError("shapefile.get needs at least one path")
    exts = tuple(extensions)
    found, missing = [], []
    for u in uris:
        if not isinstance(u, str):
            raise TypeError(f"uri must be a str or a list of str, got {type(u).__name__}")
        path = u[len("file://"):] if u.startswith("file://") else u
        if "://" in path:
            raise UnsupportedError(
                f"reading shapefiles from {u!r} is not supported: only local paths and file:// URIs are read "
                "(copy the files to a local or shared file system)")
        path = os.path.abspath(path)
        if os.path.isdir(path):
            files = sorted(os.path.join(d, f) for d, _, names in os.walk(path) for f in names if f.endswith(exts))
            if not files:
                raise NotFoundError(f"no file ending with one of {list(exts)} under {u!r}")
            found += files
        elif os.path.isfile(path):
            found.append(path)
        else:
            missing.append(u)
    if missing:
        raise NotFoundError(f"shapefile path(s) not found: {missing}")
    return found


def _partitions(spark, num_partitions) -> int:
    if num_partitions is None:
        from ..session import default_parallelism

        return default_parallelism(spark)
    if isinstance(num_partitions, bool) or not isinstance(num_partitions, int) or num_partitions <= 0:
        raise ValueError(f"num_partitions must be a positive int or None, got {num_partitions!r}")
    return num_partitions


def _java_str(v) -> str:
    """``v.toString`` as the JVM would print the value GeoTools reads (null → "")."""
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        if v != v:
            return "NaN"
        if v in (float("inf"), float("-inf")):
            return "Infinity" if v > 0 else "-Infinity"
        if v == 0 or 1e-3 <= abs(v) < 1e7:
            return repr(v)  # shortest round-trip digits, positional in this range, as Java's
        mantissa, exp = np.format_float_scientific(v, unique=True, trim="0").split("e")
        return f"{mantissa}E{int(exp)}"
    if isinstance(v, (datetime.date, datetime.datetime)):
        return v.isoformat()
    return str(v)


def _read(path):
    """``(geometries, properties)`` per Arrow batch of one shapefile: shapely geometries (single polygons
    and lines promoted to Multi*) and one ``dict[str, str]`` per feature."""
    import pyogrio.raw
    import shapely

    with pyogrio.raw.open_arrow(path, use_pyarrow=True) as (meta, reader):
        geom_col = meta.get("geometry_name") or "wkb_geometry"
        for batch in reader:
            names = [n for n in batch.schema.names if n != geom_col]
            columns = [[_java_str(v) for v in batch.column(n).to_pylist()] for n in names]
            props = [dict(zip(names, values)) for values in zip(*columns)] if names else [{}] * batch.num_rows
            geoms = shapely.from_wkb(np.asarray(batch.column(geom_col).to_pylist(), dtype=object))
            for single, multi in ((shapely.GeometryType.POLYGON, shapely.multipolygons),
                                  (shapely.GeometryType.LINESTRING, shapely.multilinestrings)):
                idx = np.flatnonzero(shapely.get_type_id(geoms) == single)
                if len(idx):
                    geoms[idx] = multi(geoms[idx], indices=np.arange(len(idx)))
            yield geoms, props


def _features(path):
    for geoms, props in _read(path):
        yield from map(Feature, geoms, props)


def get(uri, extensions=_EXTENSIONS, num_partitions=None, s3_client=DEFAULT_S3_CLIENT):  # noqa: B006
    """A PySpark RDD of ``Feature(geometry, properties)`` from shapefile(s) (classic Spark only; see
    :func:`get_dataframe`).

    Args:
        uri (str or [str]): path(s) or ``file://`` URI(s) of shapefiles or of directories searched recursively.
        extensions ([str]): the endings of the files taken from directories.
        num_partitions (int, optional): partitions of the RDD; ``defaultParallelism`` when ``None``.
        s3_client (str): accepted for compatibility; S3 is not read.

    Raises:
        FileNotFoundError: a path that does not exist, or a directory without a matching file.
        NotImplementedError: an ``s3://`` or other non-local URI.
        RuntimeError: on Spark Connect.
    """
    from .layer import _no_rdds_on_connect

    spark = active_session()
    _no_rdds_on_connect(spark, "shapefile.get", "shapefile.get_dataframe")
    paths = _files(uri, extensions)
    return spark.sparkContext.parallelize(paths, _partitions(spark, num_partitions)).flatMap(_features)


def get_dataframe(uri, extensions=_EXTENSIONS, num_partitions=None):  # noqa: B006
    """The features of :func:`get` as a DataFrame of ``geometry`` (WKB) and ``properties``
    (``map<string,string>``), read on the executors by a ``mapInArrow``; works on Spark Connect."""
    import pyarrow as pa

    spark = active_session()
    paths = _files(uri, extensions)
    n = _partitions(spark, num_partitions)
    schema = pa.schema([("geometry", pa.binary()), ("properties", pa.map_(pa.string(), pa.string()))])

    def read(batches):
        import shapely

        for b in batches:
            for i in b.column(0).to_pylist():
                for geoms, props in _read(paths[i]):
                    yield pa.RecordBatch.from_arrays(
                        [pa.array(shapely.to_wkb(geoms), pa.binary()),
                         pa.array([list(p.items()) for p in props], schema.field("properties").type)],
                        schema=schema)

    df = spark.range(0, len(paths), 1, n)
    return df.mapInArrow(read, _DF_SCHEMA)
