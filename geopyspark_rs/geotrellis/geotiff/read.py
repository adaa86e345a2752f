"""Reading planned units on the executors: one native call per unit decodes its windows, and the keys
(extent, CRS, instant) are computed here, whole arrays at a time."""

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
