"""Reading planned units on the executors: one native call per unit decodes its windows, and the keys
(extent, CRS, instant) are computed here, whole arrays at a time.

Two shapes: ``read_units`` yields whole RasterLayer batches (the ``geotiff`` data source), and
``window_rows``/``window_reader`` make a layer whose source rows are the windows (keys, cell type and shape
known from the headers, no cells) and whose head decodes them inside the consuming pass."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pyarrow as pa

from ... import _native
from .. import tile_contract as tc
from ..constants import LayerType
from .plan import ReadUnit


def window_extents(unit: ReadUnit) -> np.ndarray:
    """``(n, 4)`` extents of the unit's windows, from the image extent and pixel windows (as GeoTrellis'
    RasterExtent.extentFor)."""
    xmin, ymin, xmax, ymax = unit.extent
    cw = (xmax - xmin) / unit.width
    ch = (ymax - ymin) / unit.height
    w = np.asarray(unit.windows, dtype=np.float64).reshape(-1, 4)
    x0 = xmin + w[:, 0] * cw
    y1 = ymax - w[:, 1] * ch
    return np.stack([x0, y1 - w[:, 3] * ch, x0 + w[:, 2] * cw, y1], axis=1)


def read_unit(unit: ReadUnit, layer_type: LayerType, options: dict) -> pa.RecordBatch:
    """The unit's windows as a RasterLayer batch in the tile contract."""
    tiles = _native.read_geotiff_windows(unit.uri, unit.windows, options)
    n = tiles.num_rows
    extents = window_extents(unit)
    arrays = [pa.array(extents[:, i]) for i in range(4)]
    arrays.append(pa.array([unit.crs] * n, type=pa.string()))
    if layer_type == LayerType.SPACETIME:
        arrays.append(pa.array(np.full(n, unit.instant, dtype=np.int64)))
    arrays.extend(tiles.column(name) for name in tc.TILE_COLUMNS)
    return pa.RecordBatch.from_arrays(arrays, schema=tc.arrow_schema(False, layer_type))


def read_units(units: list[ReadUnit], layer_type: LayerType, options_of) -> Iterator[pa.RecordBatch]:
    for unit in units:
        yield read_unit(unit, layer_type, options_of(unit.uri))


# Columns of a window row that say where to read it; the rest are the RasterLayer contract without cells.
_SOURCE_COLUMNS = ["uri", "unit", "col_off", "row_off"]


def window_rows(units: list[ReadUnit], layer_type: LayerType) -> pa.Table:
    """One row per window of ``units``: the RasterLayer key and tile-shape columns and where to read it."""
    names = [f.name for f in tc.arrow_schema(False, layer_type) if f.name != "cells"]
    columns: dict[str, list] = {name: [] for name in names + _SOURCE_COLUMNS}
    for u, unit in enumerate(units):
        n = len(unit.windows)
        w = np.asarray(unit.windows, dtype=np.int64).reshape(-1, 4)
        extents = window_extents(unit)
        for i, name in enumerate(("xmin", "ymin", "xmax", "ymax")):
            columns[name].append(extents[:, i])
        columns["crs"].append([unit.crs] * n)
        if layer_type == LayerType.SPACETIME:
            columns["instant"].append(np.full(n, unit.instant, dtype=np.int64))
        columns["cell_type"].append([unit.cell_type] * n)
        columns["bands"].append(np.full(n, unit.bands, dtype=np.int32))
        columns["cols"].append(w[:, 2].astype(np.int32))
        columns["rows"].append(w[:, 3].astype(np.int32))
        columns["uri"].append([unit.uri] * n)
        columns["unit"].append(np.full(n, u, dtype=np.int64))
        columns["col_off"].append(w[:, 0].astype(np.int32))
        columns["row_off"].append(w[:, 1].astype(np.int32))
    fields = {f.name: f for f in tc.arrow_schema(False, layer_type)}
    types = {"uri": pa.string(), "unit": pa.int64(), "col_off": pa.int32(), "row_off": pa.int32()}
    arrays, schema = [], []
    for name, parts in columns.items():
        field = fields[name] if name in fields else pa.field(name, types[name], nullable=False)
        flat = [v for part in parts for v in part] if field.type == pa.string() else \
            (np.concatenate(parts) if parts else [])
        arrays.append(pa.array(flat, type=field.type))
        schema.append(field)
    return pa.Table.from_arrays(arrays, schema=pa.schema(schema))


def window_reader(store_options: dict):
    """The head of a layer of window rows: each batch's windows decoded (one native call per run of rows
    of one unit), keyed by the row's own key columns."""

    def read(batches):
        for batch in batches:
            if batch.num_rows == 0:
                continue
            uris = batch.column("uri").to_pylist()
            unit = batch.column("unit").to_numpy()
            windows = np.stack([batch.column(c).to_numpy().astype(np.int64)
                                for c in ("col_off", "row_off", "cols", "rows")], axis=1)
            cut = [0, *(np.flatnonzero(np.diff(unit)) + 1).tolist(), batch.num_rows]
            tiles = pa.Table.from_batches([
                _native.read_geotiff_windows(uris[a], [tuple(w) for w in windows[a:b].tolist()], store_options)
                for a, b in zip(cut, cut[1:])]).combine_chunks()
            keys = [name for name in batch.schema.names
                    if name not in _SOURCE_COLUMNS and name not in tc.TILE_COLUMNS]
            arrays = [batch.column(name) for name in keys] + [tiles.column(name).chunk(0) for name in tc.TILE_COLUMNS]
            fields = [batch.schema.field(name) for name in keys] + [tiles.schema.field(name) for name in tc.TILE_COLUMNS]
            yield pa.RecordBatch.from_arrays(arrays, schema=pa.schema(fields))

    return read
