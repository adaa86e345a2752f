"""The tile contract (DESIGN §3): the columns every layer DataFrame has, and the conversions between
numpy ``Tile`` objects and contract rows. Only whole-tile numpy operations here; cells are Rust's."""

from __future__ import annotations

import datetime

import numpy as np
import pyarrow as pa
from pyspark.sql.types import BinaryType, DoubleType, IntegerType, LongType, StringType, StructField, StructType

from .. import _native
from ..errors import InvalidArgumentError
from .constants import CellType, LayerType
from .data_model import (Extent, ProjectedExtent, SpaceTimeKey, SpatialKey, TemporalProjectedExtent, Tile,
                         _convert_to_unix_time, _from_unix_time)

TILE_COLUMNS = ["cell_type", "bands", "rows", "cols", "cells"]

#: The most cell bytes one tile may hold. Spark keeps a row in one JVM byte array (at most 2³¹ − 16 bytes) and
#: sends batches to Python with 32-bit Arrow offsets; 16 MiB of room is left for the row's other columns.
MAX_TILE_BYTES = 2**31 - 16 * 1024 * 1024


def cell_bytes(cell_type: str) -> int:
    """Bytes of one cell of a cell type name in the contract's storage."""
    return np.dtype(_native.cell_type_info(cell_type)[2]).itemsize


def check_tile_bytes(what: str, bands: int, rows: int, cols: int, cell_type: str) -> None:
    """Refuse, before anything is read or allocated, a tile larger than Spark can carry."""
    size = int(bands) * int(rows) * int(cols) * cell_bytes(cell_type)
    if size > MAX_TILE_BYTES:
        raise InvalidArgumentError(
            f"{what}: a tile of {bands} band(s) × {rows} × {cols} {cell_type} cells is {size / 2**30:.2f} GiB, "
            f"more than the {MAX_TILE_BYTES / 2**30:.2f} GiB a Spark row can hold; use smaller tiles "
            f"(a smaller tile size or max_tile_size)")


_TILE_FIELDS = [
    StructField("cell_type", StringType(), False),
    StructField("bands", IntegerType(), False),
    StructField("rows", IntegerType(), False),
    StructField("cols", IntegerType(), False),
    StructField("cells", BinaryType(), False),
]

# GeoPySpark's Tile.cell_type names (its protobuf data types) and the GeoTrellis storage they stand for.
_PROTO_TO_STORAGE = {
    "BIT": "bool", "BYTE": "int8", "UBYTE": "uint8", "SHORT": "int16",
    "USHORT": "uint16", "INT": "int32", "FLOAT": "float32", "DOUBLE": "float64",
}
_STORAGE_TO_PROTO = {v: k for k, v in _PROTO_TO_STORAGE.items()}


def key_columns(tiled: bool, layer_type: LayerType) -> list[str]:
    base = ["col", "row"] if tiled else ["xmin", "ymin", "xmax", "ymax", "crs"]
    return base + (["instant"] if layer_type == LayerType.SPACETIME else [])


def schema(tiled: bool, layer_type: LayerType) -> StructType:
    """The Spark schema of a layer DataFrame."""
    if tiled:
        keys = [StructField("col", IntegerType(), False), StructField("row", IntegerType(), False)]
    else:
        keys = [StructField(c, DoubleType(), False) for c in ("xmin", "ymin", "xmax", "ymax")]
        keys.append(StructField("crs", StringType(), True))
    if layer_type == LayerType.SPACETIME:
        keys.append(StructField("instant", LongType(), False))
    return StructType(keys + _TILE_FIELDS)


def cell_type_name(cell_type, no_data_value=None) -> str:
    """The GeoTrellis cell type name of a Tile's ``cell_type`` (a GeoPySpark name such as ``'FLOAT'``,
    a GeoTrellis name or a ``CellType`` member) with its ``no_data_value``."""
    name = cell_type.value if isinstance(cell_type, CellType) else str(cell_type)
    base = _PROTO_TO_STORAGE.get(name)
    if base is None:
        base, _, _ = _native.cell_type_info(name)
        if no_data_value is None or "ud" in base:
            return base
    elif base != "bool":
        base += "raw"
    nd = None if no_data_value is None or no_data_value is False else float(no_data_value)
    return _native.cell_type_with_no_data(base, nd)


def encode_tile(tile) -> tuple[str, int, int, int, bytes]:
    """A Tile as contract values ``(cell_type, bands, rows, cols, cells)``."""
    if not isinstance(tile, Tile):
        raise TypeError(f"expected a Tile, got {type(tile).__name__}")
    cells = np.asarray(tile.cells)
    if cells.ndim == 2:
        cells = cells[np.newaxis]
    elif cells.ndim > 3:
        cells = cells.reshape((cells.shape[0], -1, cells.shape[-1]))
    elif cells.ndim != 3:
        raise ValueError(f"Tile cells must be 2-D (rows, cols) or 3-D (bands, rows, cols), got shape {cells.shape}")
    name = cell_type_name(tile.cell_type, tile.no_data_value)
    _, _, dtype = _native.cell_type_info(name)
    check_tile_bytes("Tile", *cells.shape, name)
    data = np.ascontiguousarray(cells, dtype=np.dtype(dtype).newbyteorder("<"))
    bands, rows, cols = data.shape
    return name, bands, rows, cols, data.tobytes()


def decode_tile(cell_type: str, bands: int, rows: int, cols: int, cells: bytes) -> Tile:
    """A contract row's tile as a numpy Tile ``(bands, rows, cols)``, cell type named as GeoPySpark does."""
    _, no_data, dtype = _native.cell_type_info(cell_type)
    arr = np.frombuffer(cells, dtype=np.dtype(dtype).newbyteorder("<")).reshape(bands, rows, cols)
    storage = cell_type.split("ud")[0].replace("raw", "")
    return Tile(arr.astype(dtype, copy=False), _STORAGE_TO_PROTO[storage], no_data)


def instant_ms(dt: datetime.datetime) -> int:
    """Epoch milliseconds of a datetime; naive values are UTC, aware ones are converted."""
    return _convert_to_unix_time(dt)


def instant_datetime(ms: int, aware: bool = False) -> datetime.datetime:
    """The UTC datetime of epoch milliseconds: naive, as GeoPySpark decodes keys and bounds (its protobuf
    codec uses ``utcfromtimestamp``), or ``aware`` (tzinfo UTC), as its point values parse instants."""
    dt = _from_unix_time(int(ms))
    return dt.replace(tzinfo=datetime.timezone.utc) if aware else dt


_KEY_TYPES = {
    (True, LayerType.SPATIAL): SpatialKey, (True, LayerType.SPACETIME): SpaceTimeKey,
    (False, LayerType.SPATIAL): ProjectedExtent, (False, LayerType.SPACETIME): TemporalProjectedExtent,
}


def encode_key(key, tiled: bool, layer_type: LayerType) -> tuple:
    """Key values in contract column order."""
    expected = _KEY_TYPES[(tiled, layer_type)]
    if not isinstance(key, expected):
        kind = "TiledRasterLayer" if tiled else "RasterLayer"
        raise TypeError(f"a {layer_type} {kind} needs {expected.__name__} keys, got {type(key).__name__}: {key!r}")
    spacetime = layer_type == LayerType.SPACETIME
    if tiled:
        if spacetime:
            return (int(key.col), int(key.row), instant_ms(key.instant))
        return (int(key.col), int(key.row))
    extent = key.extent if isinstance(key.extent, Extent) else Extent(**key.extent)
    if key.epsg is not None:
        crs = f"EPSG:{int(key.epsg)}"
    else:
        crs = key.proj4
    values = (float(extent.xmin), float(extent.ymin), float(extent.xmax), float(extent.ymax), crs)
    return values + (instant_ms(key.instant),) if spacetime else values


def decode_key(values: dict, tiled: bool, layer_type: LayerType):
    """The GeoPySpark key of a contract row (given as a dict of key columns)."""
    spacetime = layer_type == LayerType.SPACETIME
    if tiled:
        if spacetime:
            return SpaceTimeKey(values["col"], values["row"], instant_datetime(values["instant"]))
        return SpatialKey(values["col"], values["row"])
    extent = Extent(values["xmin"], values["ymin"], values["xmax"], values["ymax"])
    crs = values["crs"]
    epsg, proj4 = (int(crs[5:]), None) if crs and crs.upper().startswith("EPSG:") else (None, crs)
    if spacetime:
        return TemporalProjectedExtent(extent, instant_datetime(values["instant"]), epsg=epsg, proj4=proj4)
    return ProjectedExtent(extent, epsg=epsg, proj4=proj4)


def check_dataframe(df, tiled: bool, layer_type: LayerType):
    """The DataFrame's contract columns, in order; ValueError naming what is missing."""
    names = schema(tiled, layer_type).names
    missing = [c for c in names if c not in df.columns]
    if missing:
        raise ValueError(f"the DataFrame lacks the tile-contract columns {missing} (it has {df.columns})")
    return df.select(*names)


def arrow_schema(tiled: bool, layer_type: LayerType) -> pa.Schema:
    fields = []
    for f in schema(tiled, layer_type).fields:
        t = {IntegerType: pa.int32(), LongType: pa.int64(), DoubleType: pa.float64(), StringType: pa.string(),
             BinaryType: pa.binary()}[type(f.dataType)]
        fields.append(pa.field(f.name, t, nullable=f.nullable))
    return pa.schema(fields)


def records_to_table(records, tiled: bool, layer_type: LayerType) -> pa.Table:
    """A pyarrow Table in the contract from ``(key, Tile)`` pairs."""
    rows = [encode_key(k, tiled, layer_type) + encode_tile(t) for k, t in records]
    sch = arrow_schema(tiled, layer_type)
    columns = list(zip(*rows)) if rows else [[] for _ in sch]
    return pa.Table.from_arrays([pa.array(c, type=f.type) for c, f in zip(columns, sch)], schema=sch)


def table_to_records(table, tiled: bool, layer_type: LayerType) -> list:
    """``(key, Tile)`` pairs of a contract table or batch."""
    names = key_columns(tiled, layer_type)
    data = table.to_pydict()
    out = []
    for i in range(table.num_rows):
        key = decode_key({c: data[c][i] for c in names}, tiled, layer_type)
        out.append((key, decode_tile(*(data[c][i] for c in TILE_COLUMNS))))
    return out
