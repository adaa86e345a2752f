"""Reprojection of layers (the engine's ``warp`` module does the cells).

* ``RasterLayer.reproject``: every raster onto its own grid in the target CRS (GDAL's suggested grid),
  independently, in one ``mapInArrow``.
* ``tile_to_layout(..., target_crs=...)`` for both layer classes and ``TiledRasterLayer.reproject``: the
  target metadata comes from the rasters' reprojected grids (finest cell size, union of extents) and
  the layout type; then one shuffle: each raster sends every layout key it reaches the window of its
  cells that key reads, and each key's windows are mosaicked and warped into its tile, so tiles sample
  across the edges of the rasters (or tiles) they straddle.
"""

from __future__ import annotations

import numpy as np
from pyspark.sql.types import DoubleType

from .. import _native
from . import steps
from . import tile_contract as tc
from .constants import LayerType, ResampleMethod
from .data_model import Extent, GlobalLayout, LayoutDefinition, LocalLayout, Metadata, crs_to_proj4
from .layout import cell_size, key_bounds, layout_for
from .plan import Head, pass_function


def reproject_rasters(layer, target_crs, resample_method):
    """A RasterLayer with each raster reprojected to ``target_crs`` on its own grid."""
    from .layer import RasterLayer

    dst = crs_to_proj4(target_crs)
    method = ResampleMethod(resample_method).value

    def run(batches):
        for batch in batches:
            yield _native.reproject_rasters(batch, dst, method)

    # The reprojection becomes the new layer's head, run in the pass of whatever consumes it.
    out = RasterLayer(layer.layer_type, layer._df)
    out._head = Head(pass_function(layer._head, layer._steps, run))
    out._partitions = layer._partitions
    return out


def _pieces_schema(layer_type):
    from .exchange import piece_schema

    return piece_schema(layer_type, [(c, DoubleType()) for c in ("xmin", "ymin", "xmax", "ymax")])


def _raster_table(layer):
    """The grids, cell types, CRSs (and instants) of a RasterLayer's stored rasters, collected in one job
    (pending steps keep the grids)."""
    columns = ["xmin", "ymin", "xmax", "ymax", "cols", "rows", "cell_type", "crs"]
    if layer.layer_type == LayerType.SPACETIME:
        columns.append("instant")
    return layer._headers().select(*columns).toArrow()


def _table_crs(table):
    """The one CRS of the rasters (None when they have none), as ``RasterLayer._layer_crs``."""
    crs = set(table["crs"].to_pylist())
    if len(crs) > 1:
        raise ValueError(f"the layer's rasters are in several CRSs ({sorted(crs, key=str)}); reproject them to one "
                         "first")
    return crs.pop() if crs else None


def _source_grids(layer, table):
    """``(extents n×4, sizes n×2, cell type, instants or None)`` of the layer's rasters (``table``), or of a
    tiled layer's grid over its key bounds."""
    from .layer import TiledRasterLayer

    if isinstance(layer, TiledRasterLayer):
        m = layer.layer_metadata
        e, tl = m.layout_definition.extent, m.tile_layout
        cw, ch = cell_size(m.layout_definition)
        b = m.bounds
        xmin, ymax = e.xmin + b.minKey.col * tl.tileCols * cw, e.ymax - b.minKey.row * tl.tileRows * ch
        cols = (b.maxKey.col - b.minKey.col + 1) * tl.tileCols
        rows = (b.maxKey.row - b.minKey.row + 1) * tl.tileRows
        instants = (b.minKey.instant, b.maxKey.instant) if layer.layer_type == LayerType.SPACETIME else None
        return (np.array([[xmin, ymax - rows * ch, xmin + cols * cw, ymax]]), np.array([[cols, rows]], dtype=float),
                m.cell_type, instants)
    extents = np.column_stack([table[c].to_numpy() for c in ("xmin", "ymin", "xmax", "ymax")]).astype(float)
    sizes = np.column_stack([table["cols"].to_numpy(), table["rows"].to_numpy()]).astype(float)
    stored = sorted(set(table["cell_type"].to_pylist()))
    cell_type = _native.cell_type_union(list(layer._steps_cell_types(stored)))
    instants = None
    if layer.layer_type == LayerType.SPACETIME:
        t = table["instant"].to_numpy()
        instants = (tc.instant_datetime(int(t.min())), tc.instant_datetime(int(t.max())))
    return extents, sizes, cell_type, instants


def target_metadata(layer, layout, src_crs, dst_crs, table):
    """``(Metadata, zoom)`` of the layer reprojected to ``dst_crs`` and tiled to ``layout`` (a
    LayoutDefinition, GlobalLayout or LocalLayout): extent = union of the rasters' reprojected extents,
    cell size = the finest of their reprojected cells."""
    extents, sizes, cell_type, instants = _source_grids(layer, table)
    grids = _native.suggested_grids(src_crs, dst_crs, np.ascontiguousarray(extents), np.ascontiguousarray(sizes))
    cw = (grids[:, 2] - grids[:, 0]) / grids[:, 4]
    ch = (grids[:, 3] - grids[:, 1]) / grids[:, 5]
    finest = int(np.argmin(np.sqrt(cw * ch)))
    extent = Extent(float(grids[:, 0].min()), float(grids[:, 1].min()), float(grids[:, 2].max()),
                    float(grids[:, 3].max()))
    layout_definition, zoom = layout_for(layout, dst_crs, extent, float(cw[finest]), float(ch[finest]))
    bounds = _bounds_in(layout_definition, extent, instants)
    return Metadata(bounds, dst_crs, cell_type, extent, layout_definition), zoom


def _bounds_in(layout_definition, extent, instants):
    from .data_model import Bounds, SpaceTimeKey, SpatialKey

    c0, r0, c1, r1 = key_bounds(layout_definition, extent)
    tl = layout_definition.tileLayout
    c0, r0 = max(c0, 0), max(r0, 0)
    c1, r1 = min(c1, tl.layoutCols - 1), min(r1, tl.layoutRows - 1)
    if instants is not None:
        return Bounds(SpaceTimeKey(c0, r0, instants[0]), SpaceTimeKey(c1, r1, instants[1]))
    return Bounds(SpatialKey(c0, r0), SpatialKey(c1, r1))


def warp_to_layout(layer, layout, target_crs, resample_method, partition_strategy):
    """``tile_to_layout`` with ``target_crs``: a TiledRasterLayer in ``target_crs``."""
    from .exchange import keyed_exchange
    from .layer import TiledRasterLayer, tiled_from_exchange
    from .partition import check_partition_strategy

    check_partition_strategy(partition_strategy, layer.layer_type)
    # A RasterLayer tiled to a layout type needs its rasters' grids: one job collects them with the CRS.
    table = None
    if not isinstance(layer, TiledRasterLayer) and isinstance(layout, (LayoutDefinition, GlobalLayout, LocalLayout)):
        table = _raster_table(layer)
        if table.num_rows == 0:
            raise ValueError("cannot tile an empty layer to a layout type")
    layer_crs = layer._layer_crs() if table is None else _table_crs(table)
    if target_crs is None:
        # Resampling in the layer's own CRS: an identity transform (any CRS stands in when there is none).
        src_crs = dst_crs = crs_to_proj4(layer_crs if layer_crs is not None else 4326)
    elif layer_crs is None:
        raise ValueError("cannot reproject a layer without a CRS")
    else:
        src_crs, dst_crs = crs_to_proj4(layer_crs), crs_to_proj4(target_crs)
    method = ResampleMethod(resample_method).value
    zoom = None
    if isinstance(layout, TiledRasterLayer):
        layout, zoom = layout.layer_metadata, layout.zoom_level
    if isinstance(layout, Metadata):
        if target_crs is not None and layout.crs != dst_crs:
            raise ValueError(f"The layout's CRS ({layout.crs!r}) differs from the target CRS ({dst_crs!r})")
        if target_crs is None and layer_crs is not None and layout.crs not in (None, dst_crs):
            raise ValueError(f"The layout's CRS ({layout.crs!r}) differs from the layer's CRS ({dst_crs!r})")
        metadata = layout
    elif isinstance(layout, (LayoutDefinition, GlobalLayout, LocalLayout)):
        if isinstance(layout, GlobalLayout) and layer_crs is None:
            raise ValueError("GlobalLayout needs the layer's CRS, and the layer has none")
        metadata, zoom = target_metadata(layer, layout, src_crs, dst_crs, table)
        if layer_crs is None:
            metadata.crs = None
    else:
        raise TypeError("Could not retile from the given layout")

    lt = metadata.layout_definition
    keys = tc.key_columns(True, layer.layer_type)

    to_rasters = layer._to_raster_batch()

    def cut(batch):
        return _native.warp_pieces(to_rasters(batch), src_crs, dst_crs, lt, method)

    def warp_run(batch, last_run_complete):
        return _native.warp_runs(batch, keys, src_crs, dst_crs, lt, method, last_run_complete)

    ex = keyed_exchange(layer, cut, _pieces_schema(layer.layer_type), keys, warp_run, partition_strategy,
                        out_metadata=metadata)
    out = tiled_from_exchange(layer.layer_type, ex, metadata, zoom)
    if layer._cell_type() == metadata.cell_type:
        return out
    return out._with_step(steps.convert(metadata.cell_type))
