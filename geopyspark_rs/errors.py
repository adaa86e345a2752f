"""Exceptions raised by geopyspark_rs.

Every class derives from :class:`GeoPySparkError` and also from the builtin exception a GeoPySpark user would
catch for the same situation, so ``except FileNotFoundError`` or ``except ValueError`` keeps working::

    import geopyspark_rs as gps

    try:
        gps.geotiff.get("spatial", "/data/missing.tif")
    except FileNotFoundError as e:  # gps.errors.NotFoundError
        print(e)                     # names the path

Errors from the Rust engine become these classes in one place, ``rust/python/src/error.rs``:

===================================  ==========================================================
engine error                         exception
===================================  ==========================================================
unknown cell type name               :class:`CellTypeError` (a ``ValueError``)
invalid plan                         :class:`InvalidPlanError` (a ``ValueError``)
batch outside the tile contract      :class:`TileContractError` (a ``TypeError``)
bad value, tiles that cannot be      :class:`InvalidArgumentError` (a ``ValueError``)
combined, key index, histogram
missing file or object               :class:`NotFoundError` (a ``FileNotFoundError``)
other I/O failure                    :class:`StorageError` (an ``OSError``)
corrupt or truncated file            :class:`CorruptDataError` (a ``ValueError``)
unsupported format feature           :class:`UnsupportedError` (a ``NotImplementedError``)
a bug in the engine                  :class:`InternalError` (a ``RuntimeError``)
===================================  ==========================================================

An exception raised inside a Spark task reaches the driver as Spark's ``PythonException`` with the worker's
traceback as text, so arguments are checked on the driver before any job runs.
"""

from __future__ import annotations

__all__ = [
    "GeoPySparkError",
    "InvalidArgumentError",
    "CellTypeError",
    "InvalidPlanError",
    "TileContractError",
    "CorruptDataError",
    "StorageError",
    "NotFoundError",
    "LayerNotFoundError",
    "LayerExistsError",
    "LayerBusyError",
    "PathEscapeError",
    "UnsupportedError",
    "InternalError",
]


class GeoPySparkError(Exception):
    """The root of every exception geopyspark_rs raises itself."""


class InvalidArgumentError(GeoPySparkError, ValueError):
    """An argument value that is out of range or does not fit the data: a window outside the image, layers
    whose tiles cannot be combined, a key outside a key index, an invalid histogram. The message says what was
    given and what is accepted."""


class CellTypeError(InvalidArgumentError):
    """A cell type name GeoTrellis would not parse (e.g. ``"float16"``); the message lists accepted forms."""


class InvalidPlanError(InvalidArgumentError):
    """A list of per-tile steps the engine cannot run: not JSON, an unknown ``op``, a misplaced ``combine``, a
    band index out of range."""


class TileContractError(GeoPySparkError, TypeError):
    """A DataFrame or Arrow batch that does not follow the tile contract: a missing or mistyped column, or
    cell bytes that do not match the tile's shape and cell type."""


class CorruptDataError(GeoPySparkError, ValueError):
    """A file whose bytes cannot be decoded: a corrupt or truncated GeoTIFF, Avro tile file or catalog
    attribute. The message names the file and what is wrong with it."""


class StorageError(GeoPySparkError, OSError):
    """A file or object that cannot be opened, listed, read or written (other than a missing one). The message
    names the path or URI and keeps the operating system's or object store's reason."""


class NotFoundError(StorageError, FileNotFoundError):
    """A file or object that does not exist, or a path, directory or glob that matches no GeoTIFF. The message
    names the path or URI."""


class LayerNotFoundError(NotFoundError, ValueError):
    """A catalog has no layer of this name at this zoom. Also a ``ValueError``, as GeoPySpark raised one."""


class LayerExistsError(StorageError, FileExistsError, ValueError):
    """Writing a layer that already exists in the catalog (delete it first, or use ``update_layer``). Also a
    ``ValueError``, as earlier versions raised one."""


class PathEscapeError(InvalidArgumentError, PermissionError):
    """A catalog path that would leave the catalog's root: a layer or attribute name that is not a plain name,
    a symlink inside a local catalog that resolves outside it, or a layer header (``path``, ``bucket``/``key``)
    in the catalog's attributes that points elsewhere. Nothing is read or written. Both a ``ValueError`` and a
    ``PermissionError``; the message names the path and where it leads."""


class LayerBusyError(LayerExistsError):
    """Another job is writing or updating this layer right now: its write claim is fresh. The message names
    the claim and its owner (host, pid, since when), and says when the claim of a dead writer expires."""


class UnsupportedError(GeoPySparkError, NotImplementedError):
    """A valid request this implementation does not support (yet): a GeoTIFF sample layout, a COG layer
    write, a layer type an operation does not take. The message says what is supported instead."""


class InternalError(GeoPySparkError, RuntimeError):
    """A failure inside the engine that no input should cause (Arrow or JSON machinery, a poisoned lock).
    It is a bug: please report it with the message."""
