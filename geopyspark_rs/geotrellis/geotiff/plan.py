"""Planning a distributed GeoTIFF read on the driver: list the files, read only their headers, cut each
image into windows as GeoTrellis does, and group the windows into read units and Spark partitions.

A read unit is one native call on an executor: windows of one file that share segment rows, so each
segment is decoded once and no worker ever holds a whole large image."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field

from ... import _native
from ...errors import InvalidArgumentError, NotFoundError
from ..constants import LayerType
from ..tile_contract import cell_bytes, check_tile_bytes
from .time_format import parse_instant_ms

# Cells a read unit decodes at most (a row of windows across a very wide image is split).
UNIT_MAX_BYTES = 32 * 1024 * 1024
_TIFF_SUFFIXES = (".tif", ".tiff", ".TIF", ".TIFF")


@dataclass
class ReadUnit:
    """Windows ``(col, row, cols, rows)`` of one file and what their keys need."""

    uri: str
    extent: tuple  # of the whole image
    width: int
    height: int
    crs: str | None
    instant: int | None
    windows: list = field(default_factory=list)
    cell_bytes: int = 0
    cell_type: str = ""
    bands: int = 0

    def to_dict(self) -> dict:
        return self.__dict__ | {"extent": list(self.extent), "windows": [list(w) for w in self.windows]}

    @classmethod
    def from_dict(cls, d: dict) -> ReadUnit:
        return cls(**(d | {"extent": tuple(d["extent"]), "windows": [tuple(w) for w in d["windows"]]}))


def list_sources(uris, store_options, delimiter=None) -> list[str]:
    """Every GeoTIFF named by ``uris`` (a path/URI or a list): files as given, directories and prefixes
    searched recursively (only their direct children with a ``delimiter``) for .tif/.tiff files, glob
    patterns expanded. NotFoundError (a FileNotFoundError) names a URI that matches nothing."""
    found = []
    for uri in [uris] if isinstance(uris, str) else list(uris):
        if not isinstance(uri, str):
            raise TypeError(f"uri must be a str or a list of str, got {type(uri).__name__}")
        found.extend(files_at(uri, store_options, delimiter, _TIFF_SUFFIXES, "GeoTIFF"))
    return found


def files_at(uri: str, store_options, delimiter, suffixes: tuple, what: str) -> list[str]:
    """The files one path/URI names: itself when it is a file, else the files with one of ``suffixes`` its
    directory, prefix or glob pattern holds. Relative local paths are made absolute here, on the driver.
    NotFoundError names a URI that matches nothing (``what``: the kind of file looked for)."""
    if "\x00" in uri:  # abspath below would drop a NUL followed by '/..' along with what precedes it
        raise InvalidArgumentError(f"{uri!r}: a path or URI must not contain a NUL byte")
    if "://" not in uri:
        # Executors (on Spark Connect or a cluster) run in another directory than the driver.
        uri = os.path.abspath(uri)
    files = _native.list_files(uri, store_options(uri))
    if files != [uri]:  # a directory, prefix or pattern: keep the files of its kind
        files = [f for f in files if f.endswith(suffixes)]
        if delimiter and not _has_glob(uri):
            prefix = uri.rstrip("/") + "/"
            files = [f for f in files if delimiter not in f[len(prefix):]]
    if not files:
        raise NotFoundError(f"no {what} found at {uri!r}")
    return files


def _has_glob(uri: str) -> bool:
    return any(c in uri for c in "*?[")


def _best_window_size(max_size: int, segment: int) -> int:
    """The largest factor of ``segment`` not above ``max_size`` (GeoTrellis' search), else max_size."""
    i = 1
    while i < math.sqrt(segment):
        if segment % i == 0 and segment // i <= max_size:
            return segment // i
        i += 1
    return max_size


def _window_side(max_size: int, segment: int) -> int:
    if max_size >= segment * 2:
        return (max_size // segment) * segment
    if max_size >= segment:
        return segment
    return _best_window_size(max_size, segment)


def list_windows(info: dict, max_tile_size) -> list[tuple[int, int, int, int]]:
    """GeoTrellis' windows (GeoTiffSegmentLayout.listWindows): sides that are multiples or factors of
    the segment sides, so windows line up with segments; ``None`` gives the whole image."""
    width, height = info["width"], info["height"]
    if max_tile_size is None:
        return [(0, 0, width, height)]
    seg_cols = min(info["segment_cols"], width)
    seg_rows = min(info["segment_rows"], height)
    cols = _window_side(max_tile_size, seg_cols)
    rows = _window_side(max_tile_size, seg_rows)
    return [
        (c, r, min(cols, width - c), min(rows, height - r))
        for r in range(0, height, rows)
        for c in range(0, width, cols)
    ]


def units_of(uri: str, info: dict, windows, crs, instant) -> list[ReadUnit]:
    """Windows grouped into units: one row of windows each, split where it would exceed UNIT_MAX_BYTES."""
    cell_size = cell_bytes(info["cell_type"]) * info["bands"]
    if windows:  # the first window is the largest
        check_tile_bytes(uri, info["bands"], windows[0][3], windows[0][2], info["cell_type"])
    units, current = [], None
    for w in windows:
        size = w[2] * w[3] * cell_size
        if current is None or current.windows[-1][1] != w[1] or current.cell_bytes + size > UNIT_MAX_BYTES:
            current = ReadUnit(uri, tuple(info["extent"]), info["width"], info["height"], crs, instant,
                               cell_type=info["cell_type"], bands=info["bands"])
            units.append(current)
        current.windows.append(w)
        current.cell_bytes += size
    return units


def file_instant(uri: str, info: dict, time_tag: str, time_format: str) -> int:
    value = info["tags"].get(time_tag)
    if value is None:
        raise ValueError(f"{uri}: no {time_tag} tag to read the time from (tags: {sorted(info['tags'])})")
    return parse_instant_ms(value, time_format)


def plan_read(uris, layer_type, *, crs=None, max_tile_size=256, time_tag=None, time_format=None,
              delimiter=None, store_options=lambda uri: {}, list_of=list_sources,
              info_of=_native.geotiff_info) -> list[ReadUnit]:
    """The read units of every window of every file; raises on the driver for missing files, bad
    headers and missing time tags. ``list_of`` finds the files and ``info_of`` reads a header (the
    GeoTIFF reader's by default; ``gps.rasterio``'s for ``ReadMethod.GDAL``)."""
    units = []
    for uri in list_of(uris, store_options, delimiter):
        info = info_of(uri, store_options(uri))
        instant = file_instant(uri, info, time_tag, time_format) if layer_type == LayerType.SPACETIME else None
        units.extend(units_of(uri, info, list_windows(info, max_tile_size), crs or info["crs"], instant))
    return units


def split_partitions(units: list[ReadUnit], num_partitions: int) -> list[list[ReadUnit]]:
    """Contiguous runs of units (neighbouring windows stay together) of about equal bytes."""
    num_partitions = max(1, min(num_partitions, len(units)))
    total = sum(u.cell_bytes for u in units)
    parts, current, filled = [], [], 0
    for u in units:
        current.append(u)
        filled += u.cell_bytes
        if filled >= total * (len(parts) + 1) / num_partitions and len(parts) < num_partitions - 1:
            parts.append(current)
            current = []
    if current:
        parts.append(current)
    return parts


def partition_count(units: list[ReadUnit], num_partitions, partition_bytes, parallelism: int) -> int:
    """``num_partitions`` when given; otherwise enough partitions that none exceeds ``partition_bytes``,
    and at least one per core while there are units for them."""
    if num_partitions is not None:
        return int(num_partitions)
    total = sum(u.cell_bytes for u in units)
    return max(math.ceil(total / partition_bytes), min(len(units), parallelism), 1)
