"""``gps.cost_distance``: the least accumulated cost of reaching each cell of a friction layer from start
geometries (GeoPySpark's ``cost_distance``; GeoTrellis ``IterativeCostDistance``).

Each tile is searched on its own (Dijkstra in Rust, 8 neighbours); tiles whose costs changed send the costs
of their edge cells to their neighbours, which search again from them, until no cost changes. The search
state stays cached in Spark between rounds; only the edges (a few kB per changed tile) come to the driver
and go out to the next round's tasks. The result equals one search over the stitched raster.
"""

from __future__ import annotations

import math

from .. import _native
from . import vector
from .constants import LayerType

_STATE = "col int, row int, friction binary, cost binary, changed boolean"
_EDGES = "col int, row int, cells binary"


def _resolution(metadata) -> float:
    """GeoTrellis' metres per cell: the width in degrees of the lowest key's extent in LatLng, times the
    metres of a degree at the equator, over the tile's columns."""
    from pyproj import CRS, Transformer

    from .layout import key_extents

    b, layout = metadata.bounds, metadata.layout_definition
    e = key_extents(layout, [b.minKey.col], [b.minKey.row])[0]
    crs = CRS.from_user_input(metadata.crs)
    if crs.is_geographic:
        xmin, xmax = e[0], e[2]
    else:
        t = Transformer.from_crs(crs, 4326, always_xy=True)
        xs, _ = t.transform([e[0], e[2], e[0], e[2]], [e[1], e[1], e[3], e[3]])
        xmin, xmax = min(xs), max(xs)
    return (xmax - xmin) * 6378137.0 * 2 * math.pi / 360.0 / layout.tileLayout.tileCols


def cost_distance(friction_layer, geometries, max_distance):
    """A float64 layer of the least cost from the start ``geometries`` (shapely, in the layer's CRS: points
    start at their cell, lines at the cells they cross, polygons at the cells whose centre they contain)
    over band 0 of ``friction_layer`` (seconds per metre); a step between cells of frictions f1, f2 costs
    ``resolution · d · (f1 + f2) / 2`` with d = 1 or √2. Cells beyond ``max_distance`` (a number, ``inf``
    allowed) or unreachable (NoData friction) are NoData (NaN)."""
    from .data_model import Metadata
    from .layer import TiledRasterLayer

    if friction_layer.layer_type != LayerType.SPATIAL:
        raise ValueError("cost_distance needs a SPATIAL friction layer")
    try:
        max_cost = float(max_distance)
    except (TypeError, ValueError):
        raise TypeError(f"max_distance must be a number, got {max_distance!r}") from None
    if math.isnan(max_cost) or max_cost < 0:
        raise ValueError(f"max_distance must be >= 0, got {max_distance!r}")
    geoms = vector.to_geometries(geometries, "geometries")
    vector.check_valid(geoms, "geometries")
    friction = friction_layer.bands(0)
    lo, _ = friction.get_min_max()
    if lo < 0:
        raise ValueError(f"the friction layer has negative cells (minimum {lo}); friction is a cost per metre, >= 0")
    md = friction_layer.layer_metadata
    layout, wkbs, res = md.layout_definition, vector.wkb_list(geoms), _resolution(md)
    layout_t = tuple(layout)

    def start(batches):
        for batch in batches:
            yield _native.cost_start(batch, layout_t, wkbs, res, max_cost)

    state = friction._map_batches(start, _STATE).persist()
    state.count()
    while True:
        edges = state.mapInArrow(lambda batches: (_native.cost_edges(b, layout_t) for b in batches), _EDGES).toArrow()
        if edges.num_rows == 0:
            break
        edge_batches = edges.combine_chunks().to_batches()

        def step(batches, edge_batches=edge_batches):
            for batch in batches:
                yield _native.cost_step(batch, edge_batches, layout_t, res, max_cost)

        new = state.mapInArrow(step, _STATE).persist()
        new.count()
        state.unpersist()
        state = new
    from pyspark.sql import functions as F

    tl = layout.tileLayout
    tiles = state.select("col", "row", F.lit("float64").alias("cell_type"), F.lit(1).alias("bands"),
                         F.lit(tl.tileRows).alias("rows"), F.lit(tl.tileCols).alias("cols"), F.col("cost").alias("cells"))
    out_md = Metadata(md.bounds, md.crs, "float64", md.extent, layout)
    return TiledRasterLayer(LayerType.SPATIAL, tiles, out_md, None)
