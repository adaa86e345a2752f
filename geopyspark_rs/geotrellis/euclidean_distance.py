"""``gps.euclidean_distance``: the distance from every cell centre to a geometry, on the zoomed layout of
its CRS (GeoPySpark's ``euclidean_distance``; GeoTrellis measures to a MultiPoint's points, and to the centres
of the cells any other geometry burns).

The source points are found once on the driver, in Rust (for a burned geometry only the edge of the
burned region, which is all that can be nearest); each task builds a k-d tree of them and computes its tiles,
so the layer is one pass over a DataFrame of keys with no shuffle.
"""

from __future__ import annotations

import numpy as np

from .. import _native
from . import vector
from .constants import CellType, LayerType


def _key_extent(layout, c0, r0, c1, r1):
    from .data_model import Extent

    e, tl = layout.extent, layout.tileLayout
    tw, th = (e.xmax - e.xmin) / tl.layoutCols, (e.ymax - e.ymin) / tl.layoutRows
    return Extent(e.xmin + c0 * tw, e.ymax - (r1 + 1) * th, e.xmin + (c1 + 1) * tw, e.ymax - r0 * th)


def euclidean_distance(geometry, source_crs, zoom, cell_type=CellType.FLOAT64):
    """A SPATIAL TiledRasterLayer at ``zoom`` of the zoomed layout of ``source_crs`` (256-cell tiles) over the
    keys of the geometry's envelope, each cell the planar distance from its centre to the geometry: to the
    points of a MultiPoint, else to the centres of the cells the geometry burns (0 on them)."""
    from ..session import active_session
    from .data_model import Bounds, Extent, Metadata, SpatialKey
    from .layer import TiledRasterLayer
    from .layout import key_bounds, zoomed_layout
    from .plan import Head
    from .rasterize import _crs_string

    geom = vector.to_geometry(geometry, "geometry")
    vector.check_valid([geom], "geometry")
    ct = CellType(cell_type).value
    _native.plan_output_cell_type("[]", [ct])
    layout = zoomed_layout(source_crs, 256, zoom)
    c0, r0, c1, r1 = key_bounds(layout, Extent(*geom.bounds))
    n = layout.tileLayout.layoutCols
    c0, r0, c1, r1 = max(c0, 0), max(r0, 0), min(c1, n - 1), min(r1, n - 1)
    if c0 > c1 or r0 > r1:
        raise ValueError(f"the geometry's envelope {geom.bounds} lies outside the layout of {source_crs!r}")
    wkb = vector.wkb_list([geom])[0]
    exact = geom.geom_type == "MultiPoint"
    points = _native.euclidean_sources(wkb, layout, (c0, r0, c1, r1), exact)
    if not points:
        raise ValueError("the geometry burns no cell at this zoom: no source points to measure from")
    points = np.asarray(points, np.float64)
    burned = None if exact else wkb
    layout_t = tuple(layout)

    def tiles(batches):
        surface = _native.EuclideanDistance([tuple(p) for p in points], layout_t, ct, burned)
        for batch in batches:
            yield surface.tiles(batch)

    from pyspark.sql import functions as F

    cols = c1 - c0 + 1
    spark = active_session()
    keys = spark.range((r1 - r0 + 1) * cols).select(
        (F.lit(c0) + F.col("id") % cols).cast("int").alias("col"),
        (F.lit(r0) + F.col("id") / cols).cast("int").alias("row"))
    md = Metadata(Bounds(SpatialKey(c0, r0), SpatialKey(c1, r1)), _crs_string(source_crs), ct,
                  _key_extent(layout, c0, r0, c1, r1), layout)
    out = TiledRasterLayer(LayerType.SPATIAL, keys, md, int(zoom))
    out._head = Head(tiles, row_aligned=True)
    return out
