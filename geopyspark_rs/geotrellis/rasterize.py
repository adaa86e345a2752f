"""``gps.rasterize`` and ``gps.rasterize_features``: geometries burned onto a zoomed (GlobalLayout) grid,
producing a SPATIAL TiledRasterLayer (GeoTrellis ``RasterizeRDD``).

One keyed exchange: the map side sends each geometry, as WKB, to every key it reaches (``geometry_keys``,
in Rust); the shuffle brings the geometries of a key together in their input order; the reduce side burns
them into one tile per key (``rasterize_runs``). Only keys a geometry reaches get a tile (possibly all
NoData, when no cell centre falls in a small polygon, as in GeoPySpark); the metadata's bounds are the
keys of the geometries' common envelope.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from .. import _native
from . import vector
from .constants import CellType, LayerType

__all__ = ["rasterize", "rasterize_features"]

_PIECES = "col int, row int, order long, wkb binary, value double, zindex double"
TILE_SIZE = 256


def _features_df(rows_or_rdd, geoms, spark):
    """A DataFrame of (order, wkb, value, zindex) from a list of (geometry, value, zindex) with its shapely
    ``geoms``, or from a PySpark RDD of such triples (``geoms`` None)."""
    schema = "order long, wkb binary, value double, zindex double"
    if geoms is None:
        def encode(pair):
            item, i = pair
            geom, value, zindex = item
            return (i, bytes(vector.to_geometry(geom, "geometry").wkb), float(value), float(zindex))

        return rows_or_rdd.zipWithIndex().map(encode).toDF(schema)
    wkbs = vector.wkb_list(geoms) if geoms else []
    data = [(i, w, float(v), float(z)) for i, (w, (_, v, z)) in enumerate(zip(wkbs, rows_or_rdd))]
    return spark.createDataFrame(data, schema)


def _rasterize(rows, crs, zoom, cell_type, options, zindex_cell_type, partition_strategy):
    from ..session import active_session
    from .data_model import Bounds, Metadata, SpatialKey
    from .layer import TiledRasterLayer
    from .layout import key_bounds, zoomed_layout
    from .partition import check_partition_strategy
    from .plan import Head
    from .exchange import stream_runs
    from .zonal import _rule_of_options

    check_partition_strategy(partition_strategy, LayerType.SPATIAL)
    rule = _rule_of_options(options)
    ct = CellType(cell_type).value
    zt = None if zindex_cell_type is None else CellType(zindex_cell_type).value
    _native.plan_output_cell_type("[]", [ct])  # refuses an unknown cell type on the driver
    layout = zoomed_layout(crs, TILE_SIZE, zoom)
    spark = active_session()
    geoms = [vector.to_geometry(g, "geometry") for g, _, _ in rows] if isinstance(rows, list) else None
    features = _features_df(rows, geoms, spark)

    def emit(batches):
        for batch in batches:
            if batch.num_rows == 0:
                continue
            wkbs = batch.column("wkb").to_pylist()
            index, cols, krows = _native.geometry_keys(wkbs, layout)
            idx = pa.array(index, pa.uint32())
            yield pa.RecordBatch.from_pydict({
                "col": pa.array(cols, pa.int32()), "row": pa.array(krows, pa.int32()),
                "order": batch.column("order").take(idx), "wkb": batch.column("wkb").take(idx),
                "value": batch.column("value").take(idx), "zindex": batch.column("zindex").take(idx)})

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
    # GeoTrellis' partition count, one per 512 keys of the envelope, unless the strategy says (Spark's
    # default of 200 shuffle partitions costs a Python worker round each for a few tiles).
    n = (partition_strategy.num_partitions if partition_strategy is not None and partition_strategy.num_partitions
         else max(1, (c1 - c0 + 1) * (r1 - r0 + 1) // 512))
    pieces = features.mapInArrow(emit, _PIECES).repartition(n, "col", "row").sortWithinPartitions("col", "row", "order")
    head = Head(stream_runs(lambda batch, complete: _native.rasterize_runs(batch, layout, rule, ct, zt, complete)))
    extent = Extent(layout.extent.xmin + c0 * (layout.extent.xmax - layout.extent.xmin) / layout.tileLayout.layoutCols,
                    layout.extent.ymax - (r1 + 1) * (layout.extent.ymax - layout.extent.ymin) / layout.tileLayout.layoutRows,
                    layout.extent.xmin + (c1 + 1) * (layout.extent.xmax - layout.extent.xmin) / layout.tileLayout.layoutCols,
                    layout.extent.ymax - r0 * (layout.extent.ymax - layout.extent.ymin) / layout.tileLayout.layoutRows)
    metadata = Metadata(Bounds(SpatialKey(c0, r0), SpatialKey(c1, r1)), _crs_string(crs), ct, extent, layout)
    out = TiledRasterLayer(LayerType.SPATIAL, pieces, metadata, int(zoom))
    out._head, out._partitions = head, n
    return out


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
