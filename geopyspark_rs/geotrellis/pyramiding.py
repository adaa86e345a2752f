"""``TiledRasterLayer.pyramid``: the layer at every coarser zoom down to 0 (GeoTrellis ``Pyramid.levelStream``,
format reference §5.4–5.5).

Layout schemes:
* a layer with a ``zoom_level`` is a ZoomedLayoutScheme level: ``2^z × 2^z`` tiles; each coarser level keeps
  the layout extent and tile size with half the tiles per axis;
* a layer without one gets GeoTrellis' LocalLayoutScheme: base zoom ``max(ceil(log2 layoutCols),
  ceil(log2 layoutRows))``, each coarser level keeps extent and tile size with ``max(1, ceil(n/2))`` tiles.

Every level carries its zoom number as ``zoom_level``, the base level included: geopyspark-backend wraps every
level of both schemes as a layer with ``Some(zoom)``, and catalog writes and TMS serving need the number.

Differences from GeoTrellis, on purpose: a zoomed level keeps the layer's own layout extent and tile size
(GeoTrellis' ZoomedLayoutScheme.zoomOut would switch to the CRS's world extent and square ``tileRows``
tiles, which differ only for layers whose layout is not the scheme's own); and in odd local layouts a
downsampled tile that straddles two coarser keys is placed into both (GeoTrellis only fills the key
holding its centre, leaving holes). Any tile size pyramids, odd ones included: both schemes keep it.
Methods: NEAREST_NEIGHBOR (the bottom-right cell of each 2×2 block),
BILINEAR (the block's mean, rounded for integers), AVERAGE (mean of the block's data cells, truncated for
integers), MODE, MEDIAN, MAX, MIN; the cubic methods and LANCZOS raise ValueError as in GeoTrellis.

Each level is made from the one below in one pass and one shuffle: a ``mapInArrow`` resamples every tile in
Rust and keys it in the coarser layout, then the pieces are shuffled on the new keys and combined in Rust.
When the coarser layout has exactly half the tiles per axis (every zoomed level, even local levels) a tile is
one quadrant of its new tile: with an even tile size it is halved before the shuffle (a quarter of the
bytes cross it) and the quadrants assembled after; with an odd size whole tiles cross and the ``2T × 2T``
mosaic is halved after the shuffle, since a 2×2 block of cells straddles two tiles. Otherwise every tile is
resampled onto each new key it overlaps and the pieces merged ("fill").
"""

from __future__ import annotations

import math

from pyspark.sql.types import IntegerType

from .. import _native
from . import tile_contract as tc
from .constants import LayerType, ResampleMethod
from .data_model import Bounds, Extent, LayoutDefinition, Metadata, SpaceTimeKey, SpatialKey, TileLayout
from .layout import local_base_zoom, local_zoom_out

# Whether aligned levels shuffle half tiles with offsets (True) or full tiles merged by "fill" (benchmarks).
_QUADRANTS = True

_ALLOWED = (ResampleMethod.NEAREST_NEIGHBOR, ResampleMethod.BILINEAR, ResampleMethod.AVERAGE, ResampleMethod.MODE,
            ResampleMethod.MEDIAN, ResampleMethod.MAX, ResampleMethod.MIN)


def _method(resample_method) -> ResampleMethod:
    try:
        method = ResampleMethod(resample_method)
    except ValueError:
        raise ValueError(f"unknown resample method {resample_method!r}") from None
    if method not in _ALLOWED:
        raise ValueError(
            f"pyramid cannot use {method}; use one of " + ", ".join(m.name for m in _ALLOWED))
    return method


def level_layouts(layout: LayoutDefinition, zoom_level):
    """``(base zoom, {zoom: LayoutDefinition})`` of every level from the base down to 0."""
    tl = layout.tileLayout
    if zoom_level is not None:
        zoom = int(zoom_level)
        if zoom < 0 or tl.layoutCols != 2 ** zoom or tl.layoutRows != 2 ** zoom:
            raise ValueError(
                f"a layer at zoom {zoom_level} must have a power-of-two layout of {2 ** max(zoom, 0)}x"
                f"{2 ** max(zoom, 0)} tiles, this one has {tl.layoutCols}x{tl.layoutRows}; "
                "set zoom_level=None to pyramid it with a local layout scheme")
        return zoom, {z: LayoutDefinition(layout.extent, TileLayout(2 ** z, 2 ** z, tl.tileCols, tl.tileRows))
                      for z in range(zoom, -1, -1)}
    zoom = local_base_zoom(tl.layoutCols, tl.layoutRows)
    levels = {zoom: layout}
    for z in range(zoom - 1, -1, -1):
        levels[z] = local_zoom_out(levels[z + 1])
    return zoom, levels


def _floor_tol(v: float) -> int:
    r = math.floor(v + 0.5)
    return int(r) if abs(v - r) < 1e-7 else math.floor(v)


def _next_bounds(m: Metadata, layer_type, dst: LayoutDefinition):
    """§5.5 step 2: the centres of the min and max keys mapped into the coarser layout; the extent clipped
    to the new bounds' extent."""
    src = m.tile_layout
    d = dst.tileLayout
    b = m.bounds

    def conv(c, r):
        return (_floor_tol((c + 0.5) * d.layoutCols / src.layoutCols),
                _floor_tol((r + 0.5) * d.layoutRows / src.layoutRows))

    c0, r0 = conv(b.minKey.col, b.minKey.row)
    c1, r1 = conv(b.maxKey.col, b.maxKey.row)
    if layer_type == LayerType.SPACETIME:
        bounds = Bounds(SpaceTimeKey(c0, r0, b.minKey.instant), SpaceTimeKey(c1, r1, b.maxKey.instant))
    else:
        bounds = Bounds(SpatialKey(c0, r0), SpatialKey(c1, r1))
    e = dst.extent
    tw = (e.xmax - e.xmin) / d.layoutCols
    th = (e.ymax - e.ymin) / d.layoutRows
    be = Extent(e.xmin + c0 * tw, e.ymax - (r1 + 1) * th, e.xmin + (c1 + 1) * tw, e.ymax - r0 * th)
    x = m.extent
    extent = Extent(max(x.xmin, be.xmin), max(x.ymin, be.ymin), min(x.xmax, be.xmax), min(x.ymax, be.ymax))
    if extent.xmin > extent.xmax or extent.ymin > extent.ymax:
        extent = be
    return Metadata(bounds, m.crs, m.cell_type, extent, dst)


def _piece_schema(layer_type):
    from .exchange import piece_schema

    return piece_schema(layer_type, [("x_off", IntegerType()), ("y_off", IntegerType())])


def up(layer, src: LayoutDefinition, dst: LayoutDefinition, method: ResampleMethod, partition_strategy,
       partitions=None):
    """The exchange making the next coarser level of ``layer`` (``partitions``: the shuffle's partition count
    when no strategy says; None lets Spark choose)."""
    from .exchange import combine, keyed_exchange

    layer_type = layer.layer_type
    keys = tc.key_columns(True, layer_type)
    name = method.value
    s, d = src.tileLayout, dst.tileLayout
    quadrants = _QUADRANTS and (s.layoutCols == 2 * d.layoutCols and s.layoutRows == 2 * d.layoutRows
                                and tuple(src.extent) == tuple(dst.extent))

    def down(batch):
        return _native.pyramid_up(batch, src, dst, name, quadrants)

    if quadrants:
        tile_cols, tile_rows = d.tileCols, d.tileRows

        def kernel(batch, complete):
            return _native.assemble_quadrants(batch, keys, tile_cols, tile_rows, name, complete)

        return keyed_exchange(layer, down, _piece_schema(layer_type), keys, kernel, partition_strategy, partitions)
    return keyed_exchange(layer, down, tc.schema(True, layer_type), keys, combine(keys, "fill"), partition_strategy,
                          partitions)


def pyramid(layer, resample_method=ResampleMethod.NEAREST_NEIGHBOR, partition_strategy=None):
    """The Pyramid of ``layer`` from its zoom (or its LocalLayoutScheme zoom) down to 0."""
    from .layer import TiledRasterLayer
    from .partition import check_partition_strategy
    from .pyramid import Pyramid

    method = _method(resample_method)
    check_partition_strategy(partition_strategy, layer.layer_type)
    m = layer.layer_metadata
    base, layouts = level_layouts(m.layout_definition, layer.zoom_level)
    if m.bounds is None:
        # GeoPySpark's backend: require(!bounds.isEmpty). A layer whose tiles were filtered away keeps its
        # bounds and pyramids to empty levels, there as here.
        raise ValueError("cannot pyramid an empty layer (its metadata has no bounds)")
    from .layer import tiled_from_exchange

    levels = {base: layer._derive(zoom_level=base)}
    builders = {}
    # The base layer's partition count when known without running it, shrunk for coarse levels to about 16
    # tiles per partition: each level has a quarter of the tiles of the one below, and empty partitions
    # still cost a task each.
    partitions = layer._partitions
    level, meta = levels[base], m
    for z in range(base - 1, -1, -1):
        meta = _next_bounds(meta, layer.layer_type, layouts[z])
        b = meta.bounds
        keys = (b.maxKey.col - b.minKey.col + 1) * (b.maxKey.row - b.minKey.row + 1)
        level_partitions = max(1, min(partitions or keys, -(-keys // 16)))

        def build(finer, z=z, meta=meta, n=level_partitions):
            ex = up(finer, layouts[z + 1], layouts[z], method, partition_strategy, n)
            return tiled_from_exchange(layer.layer_type, ex, meta, z)

        builders[z] = build
        level = levels[z] = build(level)
    pyr = Pyramid(levels)
    # Each level is made in the pass that reduces the level below, so a level computed on its own repeats
    # the levels below it: Pyramid.persist/write rebuild each level from the cached one below instead.
    pyr._builders = builders
    return pyr
