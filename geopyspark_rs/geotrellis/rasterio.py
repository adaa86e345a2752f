"""``gps.rasterio``: rasters of any format GDAL reads (JPEG2000, NetCDF, VRT, GeoTIFF, ...), read by
windows with `rasterio <https://rasterio.readthedocs.io>`_ on the executors.

Two ways in:

* ``get`` (GeoPySpark's experimental reader): a PySpark RDD of ``(ProjectedExtent, Tile)`` windows, to feed
  ``RasterLayer.from_numpy_rdd``. Classic Spark only (Spark Connect has no RDDs).
* ``RasterLayer.read``/``TiledRasterLayer.read`` with ``read_method=ReadMethod.GDAL``: the GeoTIFF read's
  planned layer (``geotiff.read_layer``) with the headers read by rasterio on the driver and the windows
  decoded by rasterio on the executors (``raster_info``, ``list_rasters`` and ``window_reader`` below). This
  works on Spark Connect too.

rasterio is optional: ``import geopyspark_rs`` never imports it, and using this module without it raises an
ImportError that says how to install it. The cells are read by GDAL into numpy arrays, one call per window."""

from __future__ import annotations

import os
import re

import numpy as np

__all__ = ["get", "crs_to_proj4"]

_S3_SCHEMES = ("s3", "s3a", "s3n")
# GDAL's own dataset names: virtual file systems and driver-prefixed names such as NETCDF:"f.nc":var.
_GDAL_NAME = re.compile(r"^(/vsi[a-z0-9_]+/|[A-Za-z][A-Za-z0-9_]*:(?!//))")


def _rasterio():
    """The rasterio package, imported on first use."""
    try:
        import rasterio
        import rasterio.windows  # noqa: F401
    except ImportError as e:
        raise ImportError(
            "gps.rasterio and ReadMethod.GDAL read rasters with the rasterio package, which is not installed: "
            "pip install rasterio (or pip install 'geopyspark_rs[rasterio]')"
        ) from e
    return rasterio


# --- CRS ----------------------------------------------------------------------------------------------


def _proj4_layout(text: str) -> str:
    """A proj4 string as GeoTrellis lays it out: flags without ``=True`` (rasterio's dict form), one space
    after each parameter."""
    parts = [p[:-5] if p.endswith("=True") else p for p in text.split()]
    return "".join(p + " " for p in parts if not p.endswith("=False"))


def crs_to_proj4(crs):
    """The proj4 string of a raster's CRS, laid out as GeoTrellis does (``'+proj=... +no_defs '``).

    Args:
        crs: a ``rasterio.crs.CRS``, or anything ``rasterio.crs.CRS.from_user_input`` takes (EPSG code,
            ``"EPSG:4326"``, proj4, WKT). ``None`` (a raster without a CRS) gives ``None``.

    Unlike GeoPySpark's, this needs no GDAL Python bindings (``osgeo``): CRSs with an EPSG code take
    GeoTrellis' proj4 definition of that code (as :func:`geopyspark_rs.crs_to_proj4`), others GDAL's
    proj4 export through rasterio.
    """
    if crs is None:
        return None
    _rasterio()
    from rasterio.crs import CRS

    if not isinstance(crs, CRS):
        crs = CRS.from_user_input(crs)
    epsg = crs.to_epsg()
    if epsg is not None:
        from .data_model import crs_to_proj4 as geotrellis_proj4

        try:
            return geotrellis_proj4(epsg)
        except ValueError:
            pass  # a code GeoTrellis' bundled definitions lack: GDAL's definition below
    return _proj4_layout(crs.to_proj4())


def crs_text(crs) -> str | None:
    """The tile contract's CRS text of a rasterio CRS: ``EPSG:<code>`` as the GeoTIFF reader gives when the
    CRS has one, else its proj4 string."""
    if crs is None:
        return None
    epsg = crs.to_epsg()
    return f"EPSG:{epsg}" if epsg is not None else crs_to_proj4(crs)


# --- where and how GDAL opens a URI ------------------------------------------------------------------


def gdal_path(uri: str) -> str:
    """The name GDAL opens for ``uri``: object-store URIs become GDAL's virtual file systems
    (``s3a://b/k`` → ``/vsis3/b/k``), ``file://`` URIs plain paths; GDAL names pass through."""
    scheme, sep, rest = uri.partition("://")
    if not sep:
        return uri
    scheme = scheme.lower()
    if scheme == "file":
        return rest if rest.startswith("/") else "/" + rest
    if scheme in _S3_SCHEMES:
        return "/vsis3/" + rest
    if scheme in ("gs", "gcs"):
        return "/vsigs/" + rest
    if scheme in ("az", "abfs", "abfss"):
        return "/vsiaz/" + rest
    if scheme in ("http", "https"):
        return "/vsicurl/" + uri
    return uri


def gdal_config(options: dict) -> dict:
    """GDAL configuration options equivalent to the object-store ``options`` of ``s3.store_options``
    (keys, endpoint, path style, region), so GDAL reads the buckets the Rust reader reads."""
    config = {}
    names = {"aws_access_key_id": "AWS_ACCESS_KEY_ID", "aws_secret_access_key": "AWS_SECRET_ACCESS_KEY",
             "aws_session_token": "AWS_SESSION_TOKEN", "aws_region": "AWS_REGION"}
    for key, name in names.items():
        if options.get(key):
            config[name] = options[key]
    endpoint = options.get("aws_endpoint")
    if endpoint:
        scheme, sep, host = endpoint.partition("://")
        config["AWS_S3_ENDPOINT"] = (host if sep else scheme).rstrip("/")
        config["AWS_HTTPS"] = "NO" if sep and scheme.lower() == "http" else "YES"
    if options.get("aws_virtual_hosted_style_request") == "false":
        config["AWS_VIRTUAL_HOSTING"] = "FALSE"
    return config


def gdal_env(config: dict | None):
    """A ``rasterio.Env`` with the GDAL options of ``gdal_config``. rasterio refuses AWS keys as plain
    options (it wants a boto3 session); a Session that hands GDAL the options as they are needs no boto3."""
    rasterio = _rasterio()
    if not config:
        return rasterio.Env()
    from rasterio.session import Session

    class _Options(Session):
        def get_credential_options(self):
            return dict(config)

    return rasterio.Env(session=_Options())


def local_absolute(uri: str) -> str:
    """A relative local path made absolute on the driver (executors, on Spark Connect or a cluster, run
    elsewhere); URIs and GDAL names unchanged."""
    if "://" in uri or _GDAL_NAME.match(uri) or os.path.isabs(uri):
        return uri
    return os.path.abspath(uri)


def _open(uri: str):
    """The rasterio dataset of ``uri``; NotFoundError (a FileNotFoundError) when it does not exist,
    CorruptDataError (a ValueError) when GDAL cannot read it, both naming ``uri``."""
    rasterio = _rasterio()
    from ..errors import CorruptDataError, NotFoundError

    path = gdal_path(uri)
    if not _GDAL_NAME.match(path) and "://" not in path and not os.path.exists(path):
        raise NotFoundError(f"no raster found at {uri!r}: no such file")
    try:
        return rasterio.open(path)
    except rasterio.errors.RasterioIOError as e:
        text = str(e)
        if "No such file" in text or "does not exist" in text or "HTTP response code: 404" in text:
            raise NotFoundError(f"no raster found at {uri!r}: {text}") from None
        raise CorruptDataError(f"{uri}: GDAL cannot read it as a raster: {text}") from None


def _storage_dtype(uri: str, dtypes) -> np.dtype:
    """The numpy dtype a raster's bands are read into: the GeoTrellis storage of their common type (uint32
    is read as float32, 64-bit integers as float64, as GeoTrellis and ``Tile`` do)."""
    from ..errors import UnsupportedError
    from .data_model import Tile
    from .tile_contract import _PROTO_TO_STORAGE

    try:
        return np.dtype(_PROTO_TO_STORAGE[Tile.dtype_to_cell_type(np.result_type(*dtypes))])
    except TypeError:
        raise UnsupportedError(f"{uri}: {'/'.join(sorted(set(dtypes)))} rasters have no GeoTrellis cell type") from None


def _check_north_up(uri: str, ds) -> None:
    """Rasters with rotated or south-up grids, or none, cannot be keyed by an extent: refused, naming the file."""
    from ..errors import UnsupportedError

    t = ds.transform
    if t.b != 0 or t.d != 0 or t.a <= 0 or t.e >= 0:
        raise UnsupportedError(
            f"{uri}: only georeferenced north-up rasters without rotation can be read (its geotransform is "
            f"{tuple(t)[:6]}); warp it first (gdalwarp, or a warped VRT)")


def check_bands(bands):
    """``None`` (all bands) or a tuple of 1-based band indexes from an int or a list of ints."""
    if bands is None:
        return None
    items = [bands] if isinstance(bands, (int, np.integer)) else bands
    if not isinstance(items, (list, tuple)) or not items:
        raise ValueError(f"bands must be None, a 1-based band index or a non-empty list of them, got {bands!r}")
    for b in items:
        if isinstance(b, bool) or not isinstance(b, (int, np.integer)):
            raise ValueError(f"bands must be 1-based band indexes (ints), got {bands!r}")
        if b < 1:
            raise IndexError(f"band indexes are 1-based (rasterio's), got {b} in {bands!r}")
    return tuple(int(b) for b in items)


def _check_bands_of(uri: str, ds, bands) -> None:
    if bands is not None and max(bands) > ds.count:
        raise IndexError(f"{uri} has {ds.count} band(s) (1..{ds.count}); bands {list(bands)} asked for more")


def _read(uri, ds, indexes, window, dtype):
    """The window's cells, or CorruptDataError naming the file, the window and GDAL's reason."""
    rasterio = _rasterio()
    from ..errors import CorruptDataError

    try:
        return ds.read(indexes, window=window, out_dtype=dtype)
    except rasterio.errors.RasterioIOError as e:
        reason = f"{e}: {e.__cause__}" if e.__cause__ is not None else str(e)
        raise CorruptDataError(f"{uri}: GDAL cannot read the window {window}: {reason}") from None


# --- the GDAL read of RasterLayer.read -------------------------------------------------------------------


def _raster_suffixes() -> tuple:
    from rasterio.drivers import raster_driver_extensions

    # .xml would also take GDAL's .aux.xml side-car files
    suffixes = {"." + ext.lower() for ext in raster_driver_extensions() if ext != "xml"} | {".tif", ".tiff"}
    return tuple(sorted(suffixes | {s.upper() for s in suffixes}))


def list_rasters(uris, store_options, delimiter=None) -> list[str]:
    """The rasters named by ``uris``: GDAL dataset names (``/vsi...``, ``NETCDF:...``) and files as given;
    directories, prefixes and glob patterns searched (recursively, or only their direct children with a
    ``delimiter``) for the file extensions of the raster drivers GDAL has. NotFoundError names a URI that
    matches nothing."""
    from .geotiff.plan import files_at

    _rasterio()
    found = []
    for uri in [uris] if isinstance(uris, str) else list(uris):
        if not isinstance(uri, str):
            raise TypeError(f"paths must be str or a list of str, got {type(uri).__name__}")
        if _GDAL_NAME.match(uri):
            found.append(uri)
            continue
        found.extend(files_at(uri, store_options, delimiter, _raster_suffixes(), "raster"))
    return found


def raster_info(uri: str, options: dict) -> dict:
    """What the read planner needs of a raster (the subset of ``_native.geotiff_info``'s answer it uses),
    read from its header by rasterio: size, bands, cell type, extent, CRS, block size and tags."""
    from .. import _native

    with gdal_env(gdal_config(options)), _open(uri) as ds:
        _check_north_up(uri, ds)
        dtype = _storage_dtype(uri, ds.dtypes)
        nodata = ds.nodata
        cell_type = _native.cell_type_with_no_data(dtype.name, None if nodata is None else float(nodata))
        block_rows, block_cols = ds.block_shapes[0] if ds.block_shapes else (ds.height, ds.width)
        return {
            "width": ds.width, "height": ds.height, "bands": ds.count, "cell_type": cell_type,
            "extent": tuple(ds.bounds), "crs": crs_text(ds.crs),
            "segment_cols": block_cols, "segment_rows": block_rows, "tags": ds.tags(),
        }


def window_reader(store_options: dict):
    """The head of a layer of window rows (``geotiff.read.window_rows``) read with rasterio: each row's
    window of its raster, all bands, into the row's cell type; one open per run of rows of one raster."""
    from .. import _native
    from .geotiff.read import _SOURCE_COLUMNS

    config = gdal_config(store_options)

    def read(batches):
        import pyarrow as pa

        _rasterio()
        from rasterio.windows import Window

        with gdal_env(config):
            for batch in batches:
                if batch.num_rows == 0:
                    continue
                uris = batch.column("uri").to_pylist()
                cell_types = batch.column("cell_type").to_pylist()
                unit = batch.column("unit").to_numpy()
                windows = np.stack([batch.column(c).to_numpy().astype(np.int64)
                                    for c in ("col_off", "row_off", "cols", "rows")], axis=1).tolist()
                cut = [0, *(np.flatnonzero(np.diff(unit)) + 1).tolist(), batch.num_rows]
                cells = []
                for a, b in zip(cut, cut[1:]):
                    dtype = np.dtype(_native.cell_type_info(cell_types[a])[2])
                    with _open(uris[a]) as ds:
                        for col, row, width, height in windows[a:b]:
                            data = _read(uris[a], ds, None, Window(col, row, width, height), dtype)
                            cells.append(np.ascontiguousarray(data, dtype=dtype.newbyteorder("<")).tobytes())
                # The rows' key and tile-shape columns are already in contract order; the cells follow.
                keep = [n for n in batch.schema.names if n not in _SOURCE_COLUMNS]
                arrays = [batch.column(n) for n in keep] + [pa.array(cells, pa.binary())]
                fields = [batch.schema.field(n) for n in keep] + [pa.field("cells", pa.binary(), nullable=False)]
                yield pa.RecordBatch.from_arrays(arrays, schema=pa.schema(fields))

    return read


# --- gps.rasterio.get ------------------------------------------------------------------------------------


def _windows(width: int, height: int, xcols: int, ycols: int) -> np.ndarray:
    """``(n, 4)`` windows ``(col_off, row_off, cols, rows)`` covering the image row by row: ``xcols``
    columns and ``ycols`` rows each, smaller at the right and bottom edges (every cell in one window)."""
    cols = np.arange(0, width, xcols)
    rows = np.arange(0, height, ycols)
    c, r = np.meshgrid(cols, rows)
    c, r = c.ravel(), r.ravel()
    return np.stack([c, r, np.minimum(xcols, width - c), np.minimum(ycols, height - r)], axis=1)


def _read_windows(uri, xcols, ycols, bands, crs_to_proj4, config=None):
    """The ``(ProjectedExtent, Tile)`` windows of one raster, in row-major window order."""
    from .data_model import Extent, ProjectedExtent, Tile

    _rasterio()
    from rasterio.windows import Window

    with gdal_env(config), _open(uri) as ds:
        _check_north_up(uri, ds)
        _check_bands_of(uri, ds, bands)
        indexes = list(bands) if bands is not None else list(range(1, ds.count + 1))
        dtype = _storage_dtype(uri, [ds.dtypes[i - 1] for i in indexes])
        proj4 = crs_to_proj4(ds.crs)
        nodata = ds.nodata
        t = ds.transform
        windows = _windows(ds.width, ds.height, xcols, ycols)
        x0 = t.c + windows[:, 0] * t.a
        x1 = x0 + windows[:, 2] * t.a
        y1 = t.f + windows[:, 1] * t.e
        y0 = y1 + windows[:, 3] * t.e
        for i, (col, row, width, height) in enumerate(windows.tolist()):
            data = _read(uri, ds, indexes, Window(col, row, width, height), dtype)
            key = ProjectedExtent(Extent(float(x0[i]), float(y0[i]), float(x1[i]), float(y1[i])), proj4=proj4)
            yield key, Tile.from_numpy_array(data, nodata)


def _positive(name, value):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"{name} must be a positive int, got {value!r}")
    return int(value)


def get(data_source, xcols=256, ycols=256, bands=None, crs_to_proj4=crs_to_proj4):
    """Read rasters of any format rasterio (GDAL) opens into a PySpark RDD of windows.

    Each raster is cut into windows of ``xcols`` columns by ``ycols`` rows (smaller at the right and bottom
    edges), read by rasterio on the executors: ``ceil(width / xcols) * ceil(height / ycols)`` windows that
    cover every cell once.

    Args:
        data_source (str, [str] or pyspark.RDD): a raster's path or URI (local path, ``file://``,
            ``s3://``/``s3a://`` with the session's S3 settings, ``http(s)://``, or a GDAL name such as
            ``/vsizip/...`` or ``NETCDF:"file.nc":var``), a list of them (one partition per URI) or an RDD
            of them.
        xcols (int): columns of a window.
        ycols (int): rows of a window.
        bands (int or [int], optional): rasterio's 1-based band indexes to read; all bands by default.
        crs_to_proj4 (callable): turns a ``rasterio.crs.CRS`` (or None) into the keys' proj4 string.

    Returns:
        pyspark.RDD of ``(ProjectedExtent, Tile)``, for ``RasterLayer.from_numpy_rdd(LayerType.SPATIAL, rdd)``.

    Raises:
        ImportError: rasterio is not installed.
        RuntimeError: on Spark Connect, which has no RDDs (read with
            ``RasterLayer.read(paths, read_method=ReadMethod.GDAL)`` there).
        FileNotFoundError: a listed raster does not exist (checked on the driver for str and list sources).
        ValueError: bad ``xcols``, ``ycols`` or ``bands``, or a file GDAL cannot read.
        IndexError: a band index outside a raster's bands.
    """
    from pyspark import RDD

    from ..session import active_session, is_connect
    from . import s3

    _rasterio()
    xcols, ycols = _positive("xcols", xcols), _positive("ycols", ycols)
    bands = check_bands(bands)
    if not callable(crs_to_proj4):
        raise TypeError(f"crs_to_proj4 must be callable, got {crs_to_proj4!r}")
    spark = active_session()
    if is_connect(spark):
        raise RuntimeError(
            "gps.rasterio.get returns a PySpark RDD, and Spark Connect has no RDDs; read the rasters as a layer "
            "with RasterLayer.read(paths, read_method=ReadMethod.GDAL) instead")
    reader = _read_windows
    if isinstance(data_source, RDD):
        config = gdal_config(s3.store_options("s3a://bucket/", None, spark))
        return data_source.flatMap(lambda uri: reader(uri, xcols, ycols, bands, crs_to_proj4, config))
    uris = [data_source] if isinstance(data_source, str) else data_source
    if not isinstance(uris, (list, tuple)) or not uris or not all(isinstance(u, str) for u in uris):
        raise TypeError(f"data_source must be a URI, a non-empty list of URIs or an RDD of URIs, got {data_source!r}")
    uris = [local_absolute(u) for u in uris]
    configs = {u: gdal_config(s3.store_options(u, None, spark)) for u in uris}
    for u in uris:  # on the driver, headers only: a missing file or a bad band fails here, typed
        with gdal_env(configs[u]), _open(u) as ds:
            _check_north_up(u, ds)
            _check_bands_of(u, ds, bands)
            _storage_dtype(u, ds.dtypes if bands is None else [ds.dtypes[i - 1] for i in bands])
    sc = spark.sparkContext
    return sc.parallelize(list(uris), len(uris)).flatMap(
        lambda uri: reader(uri, xcols, ycols, bands, crs_to_proj4, configs.get(uri)))

