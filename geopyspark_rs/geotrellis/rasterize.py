"""``gps.rasterize`` and ``gps.rasterize_features``: geometries burned onto a zoomed (GlobalLayout) grid,
producing a SPATIAL TiledRasterLayer (GeoTrellis ``RasterizeRDD``).

One keyed exchange: the map side sends each geometry, as WKB, to every key it reaches (``geometry_keys``,
in Rust; for a list of geometries this runs on the driver, which already holds them, so no map-side pass
is needed, and only the keys go through Spark while the geometries travel with the pass's function); the
shuffle brings the geometries of a key together in their input order; the reduce side burns them into one
tile per key (``rasterize_runs``). Only keys a geometry reaches get a tile (possibly all
NoData, when no cell centre falls in a small polygon, as in GeoPySpark); the metadata's bounds are the
keys of the geometries' common envelope.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from .. import _native
from . import vector
from ..session import default_parallelism
from .constants import DEFAULT_PARTITION_BYTES, CellType, LayerType
from .tile_contract import cell_bytes

__all__ = ["rasterize", "rasterize_features"]

_PIECES = "col int, row int, order long, wkb binary, value double, zindex double"
TILE_SIZE = 256
#: Features of a list up to this size go to the executors with the pass's function (PySpark broadcasts a
#: large one) and only their keys through Spark; larger lists go through Spark with each piece.
MAX_SHIPPED_FEATURE_BYTES = 64 * 1024 * 1024


def _features_df(rdd, spark):
    """A DataFrame of (order, wkb, value, zindex) from a PySpark RDD of (geometry, value, zindex) triples."""
    def encode(pair):
        item, i = pair
        geom, value, zindex = item
        return (i, bytes(vector.to_geometry(geom, "geometry").wkb), float(value), float(zindex))

    return rdd.zipWithIndex().map(encode).toDF("order long, wkb binary, value double, zindex double")


def _features_batch(rows, geoms) -> pa.RecordBatch:
    """(order, wkb, value, zindex) of a list of (geometry, value, zindex) with its shapely ``geoms``."""
    return pa.RecordBatch.from_pydict({
        "order": pa.array(np.arange(len(rows)), pa.int64()),
        "wkb": pa.array(vector.wkb_list(geoms) if geoms else [], pa.binary()),
        "value": pa.array([float(v) for _, v, _ in rows], pa.float64()),
        "zindex": pa.array([float(z) for _, _, z in rows], pa.float64())})


def _in_parts(pieces: pa.RecordBatch, n: int):
    """The pieces sorted by key and order, and the partition of each: runs of consecutive keys with about
    as many pieces each (a key's pieces share one)."""
    table = pa.Table.from_batches([pieces]).sort_by([("col", "ascending"), ("row", "ascending"),
                                                      ("order", "ascending")])
    cols, rows = table.column("col").to_numpy(), table.column("row").to_numpy()
    first = np.flatnonzero(np.r_[True, (cols[1:] != cols[:-1]) | (rows[1:] != rows[:-1])])
    part_of_key = first * n // max(1, len(cols))
    return table, np.repeat(part_of_key, np.diff(np.r_[first, len(cols)])).tolist()


def _attach(features: pa.RecordBatch):
    """Keyed pieces (col, row, order) → the same with their feature's wkb, value and zindex."""

    def attach(batch: pa.RecordBatch) -> pa.RecordBatch:
        order = batch.column("order")
        return pa.RecordBatch.from_arrays(
            [batch.column("col"), batch.column("row"), order] + [features.column(c).take(order)
                                                                  for c in ("wkb", "value", "zindex")],
            names=["col", "row", "order", "wkb", "value", "zindex"])

    return attach


def _pieces(features: pa.RecordBatch, layout) -> pa.RecordBatch:
    """The map side of the exchange: each feature once per key it reaches (keys found in Rust)."""
    index, cols, rows = _native.geometry_keys(features.column("wkb").to_pylist(), layout)
    idx = pa.array(index, pa.uint32())
    return pa.RecordBatch.from_pydict({
        "col": pa.array(cols, pa.int32()), "row": pa.array(rows, pa.int32()),
        "order": features.column("order").take(idx), "wkb": features.column("wkb").take(idx),
        "value": features.column("value").take(idx), "zindex": features.column("zindex").take(idx)})


def _rasterize(rows, crs, zoom, cell_type, options, zindex_cell_type, partition_strategy):
    from ..session import active_session
    from .data_model import Bounds, Metadata, SpatialKey
    from .layer import TiledRasterLayer
    from .layout import key_bounds, zoomed_layout
    from .partition import check_partition_strategy
    from .plan import Head
    from .exchange import stream_runs
    from .source import source_frame
    from .zonal import _rule_of_options

    check_partition_strategy(partition_strategy, LayerType.SPATIAL)
    rule = _rule_of_options(options)
    ct = CellType(cell_type).value
    zt = None if zindex_cell_type is None else CellType(zindex_cell_type).value
    _native.plan_output_cell_type("[]", [ct])  # refuses an unknown cell type on the driver
    layout = zoomed_layout(crs, TILE_SIZE, zoom)
    spark = active_session()
    geoms = [vector.to_geometry(g, "geometry") for g, _, _ in rows] if isinstance(rows, list) else None
    features = None if geoms is not None else _features_df(rows, spark)


    def envelope(batches):
        import shapely

        for batch in batches:
            if batch.num_rows:
                b = shapely.total_bounds(shapely.from_wkb(np.asarray(batch.column("wkb").to_pylist(), dtype=object)))
                yield pa.RecordBatch.from_pydict({k: [float(v)] for k, v in zip(("xmin", "ymin", "xmax", "ymax"), b)})

    from pyspark.sql import functions as F

    if geoms is not None:  # the geometries are here: no job for their envelope
        import shapely

        env = list(shapely.total_bounds(geoms)) if geoms else [None]
        env = [None] if env[0] is not None and np.isnan(env[0]) else env
    else:
        env = features.mapInArrow(envelope, "xmin double, ymin double, xmax double, ymax double").agg(
            F.min("xmin"), F.min("ymin"), F.max("xmax"), F.max("ymax")).collect()[0]
    from .data_model import Extent

    if env[0] is None:
        raise ValueError("nothing to rasterize: no geometries")
    c0, r0, c1, r1 = key_bounds(layout, Extent(*env))
    n = (partition_strategy.num_partitions if partition_strategy is not None and partition_strategy.num_partitions
         else _partition_count((c1 - c0 + 1) * (r1 - r0 + 1), ct, default_parallelism(spark)))
    attach = None
    if geoms is not None:  # the pieces are made here, in Rust: no pass for the map side
        batch = _features_batch(rows, geoms)
        pieces = _pieces(batch, layout)
        if batch.nbytes <= MAX_SHIPPED_FEATURE_BYTES:
            # Only the keys go through Spark; the features travel once, with the pass's function.
            pieces, attach = pieces.select(["col", "row", "order"]), _attach(batch)
        pieces = source_frame(spark, *_in_parts(pieces, n), n)
    else:
        emit = lambda batches: (_pieces(b, layout) for b in batches if b.num_rows)  # noqa: E731
        pieces = features.mapInArrow(emit, _PIECES).repartition(n, "col", "row")
    pieces = pieces.sortWithinPartitions("col", "row", "order")

    def burn(batch, complete):
        return _native.rasterize_runs(batch if attach is None else attach(batch), layout, rule, ct, zt, complete)

    head = Head(stream_runs(burn))
    extent = Extent(layout.extent.xmin + c0 * (layout.extent.xmax - layout.extent.xmin) / layout.tileLayout.layoutCols,
                    layout.extent.ymax - (r1 + 1) * (layout.extent.ymax - layout.extent.ymin) / layout.tileLayout.layoutRows,
                    layout.extent.xmin + (c1 + 1) * (layout.extent.xmax - layout.extent.xmin) / layout.tileLayout.layoutCols,
                    layout.extent.ymax - r0 * (layout.extent.ymax - layout.extent.ymin) / layout.tileLayout.layoutRows)
    metadata = Metadata(Bounds(SpatialKey(c0, r0), SpatialKey(c1, r1)), _crs_string(crs), ct, extent, layout)
    out = TiledRasterLayer(LayerType.SPATIAL, pieces, metadata, int(zoom))
    out._head, out._partitions = head, n
    return out


def _partition_count(keys: int, cell_type: str, parallelism: int) -> int:
    """GeoPySpark's count (one partition per 512 keys of the envelope), but no more than Spark runs at once
    unless the tiles need more room (``DEFAULT_PARTITION_BYTES`` each): a Python task costs Spark a fixed
    ~50 ms here, more than burning its few hundred tiles (docs/benchmarks.md)."""
    by_keys = max(1, keys // 512)
    by_bytes = -(-keys * TILE_SIZE * TILE_SIZE * cell_bytes(cell_type) // DEFAULT_PARTITION_BYTES)
    return min(by_keys, max(parallelism, by_bytes))


def _crs_string(crs):
    from .data_model import crs_to_proj4

    return crs_to_proj4(crs) if isinstance(crs, int) else str(crs)


def rasterize(geoms, crs, zoom, fill_value, cell_type=CellType.FLOAT64, options=None, partition_strategy=None):
    """Burn ``fill_value`` into the cells the geometries cover (``options``: ``RasterizerOptions``, default
    cell centres for polygons; lines and points burn the cells they touch) on the zoomed layout of ``crs``
    at ``zoom`` (256-cell tiles). ``geoms``: a list or tuple of shapely geometries, or a PySpark RDD of them.
    Returns a SPATIAL TiledRasterLayer whose untouched cells are NoData."""
    from pyspark import RDD

    if isinstance(geoms, RDD):
        rows = geoms.map(lambda g: (g, fill_value, 0.0))
    elif isinstance(geoms, (list, tuple)):
        rows = [(g, fill_value, 0.0) for g in geoms]
    else:
        raise TypeError(f"geoms must be a list or tuple of shapely geometries or an RDD of them, got {type(geoms).__name__}")
    if isinstance(rows, list):
        vector.check_valid([vector.to_geometry(g, "geoms") for g, _, _ in rows], "geoms")
    return _rasterize(rows, crs, zoom, cell_type, options, None, partition_strategy)


def rasterize_features(features, crs, zoom, cell_type=CellType.FLOAT64, options=None,
                       zindex_cell_type=CellType.INT8, partition_strategy=None):
    """Burn each ``Feature(geometry, CellValue(value, zindex))`` of a PySpark RDD (or list) into the zoomed
    layout of ``crs`` at ``zoom``: where features overlap, the higher z-index wins (ties keep the earlier
    feature; z-indexes are first stored as ``zindex_cell_type``, as GeoTrellis does)."""
    from pyspark import RDD

    def unpack(f):
        geometry, cv = f
        return (geometry, cv.value, cv.zindex)

    if isinstance(features, RDD):
        rows = features.map(unpack)
    elif isinstance(features, (list, tuple)):
        rows = [unpack(f) for f in features]
    else:
        raise TypeError(f"features must be an RDD or list of Feature(geometry, CellValue), got {type(features).__name__}")
    return _rasterize(rows, crs, zoom, cell_type, options, zindex_cell_type, partition_strategy)
