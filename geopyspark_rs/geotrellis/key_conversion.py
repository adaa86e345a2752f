"""Between layout keys and map geometry: :class:`KeyTransform` (GeoPySpark's ``key_conversion``), computed on
the driver with our own layout math (no JVM, no pyproj)."""

from __future__ import annotations

import numpy as np

from .data_model import Extent, GlobalLayout, LayoutDefinition, LocalLayout, SpaceTimeKey, SpatialKey, TileLayout
from .layout import (LATLNG_WORLD, WEB_MERCATOR_WORLD, floating_layout, key_bounds, key_extents, point_to_key,
                     zoomed_layout)

__all__ = ["KeyTransform"]

#: The WebMercator (EPSG:3857) world extent.
WEB_MERCATOR = WEB_MERCATOR_WORLD

#: The LatLng (EPSG:4326) world extent (GeoTrellis' slightly inset one).
LATLNG = LATLNG_WORLD


def _local_layout(layout: LocalLayout, extent, cellsize, dimensions) -> LayoutDefinition:
    if extent is None:
        raise ValueError("Must specify an extent when using LocalLayout")
    if (cellsize is None) == (dimensions is None):
        raise ValueError("For LocalLayout, must specify exactly one: cellsize or dimensions")
    extent = Extent(*extent)
    width, height = extent.xmax - extent.xmin, extent.ymax - extent.ymin
    if not (width > 0 and height > 0):
        raise ValueError(f"the extent must have a positive width and height, got {extent}")
    if dimensions is not None:
        cols, rows = (int(d) for d in dimensions)
        if cols < 1 or rows < 1:
            raise ValueError(f"dimensions must be positive, got {dimensions}")
        cw, ch = width / cols, height / rows
        layout_cols = -(-cols // layout.tile_cols)
        layout_rows = -(-rows // layout.tile_rows)
    else:
        cw, ch = (float(c) for c in cellsize)
        if not (cw > 0 and ch > 0):
            raise ValueError(f"cellsize must be positive, got {cellsize}")
        return floating_layout(extent, cw, ch, layout.tile_cols, layout.tile_rows)
    # Whole tile counts from the pixel dimensions, without rounding through the cell size.
    tile_w, tile_h = layout.tile_cols * cw, layout.tile_rows * ch
    # Anchored at the upper-left corner; the right and bottom edges may overrun the extent.
    ext = Extent(extent.xmin, extent.ymax - layout_rows * tile_h, extent.xmin + layout_cols * tile_w, extent.ymax)
    return LayoutDefinition(ext, TileLayout(layout_cols, layout_rows, layout.tile_cols, layout.tile_rows))


class KeyTransform:
    """Moves between keys and map geometry for a layout.

    Args:
        layout: a :class:`GlobalLayout` (needs ``layout.zoom`` and ``crs``: the power-of-two layout over the
            CRS's world extent), a :class:`LocalLayout` (needs ``extent`` and exactly one of ``cellsize=(width,
            height)`` or ``dimensions=(cols, rows)`` of pixels over the extent; the layout is anchored at the
            extent's upper-left corner and may overrun it right and down) or a :class:`LayoutDefinition`.
        crs: for GlobalLayout, an EPSG code, proj4 string or WKT.

    Attributes:
        layout (LayoutDefinition): the layout the keys refer to.
    """

    def __init__(self, layout, crs=None, extent=None, cellsize=None, dimensions=None):
        if isinstance(layout, LocalLayout):
            self.layout = _local_layout(layout, extent, cellsize, dimensions)
        elif isinstance(layout, GlobalLayout):
            if layout.zoom is None:
                raise ValueError("Must specify a zoom level when using GlobalLayout")
            if crs is None:
                raise ValueError("Must specify a crs when using GlobalLayout")
            self.layout = zoomed_layout(crs, layout.tile_size, layout.zoom)
        elif isinstance(layout, LayoutDefinition):
            self.layout = LayoutDefinition(Extent(*layout.extent), TileLayout(*layout.tileLayout))
        else:
            raise TypeError(f"layout must be a GlobalLayout, LocalLayout or LayoutDefinition, got "
                            f"{type(layout).__name__}")

    def __repr__(self):
        return f"KeyTransform({self.layout!r})"

    def key_to_extent(self, key, *args) -> Extent:
        """The extent of a key: a SpatialKey, SpaceTimeKey, ``(col, row)`` or two ints ``col, row``
        (row 0 is the northernmost)."""
        if isinstance(key, (SpatialKey, SpaceTimeKey)):
            col, row = key.col, key.row
        elif isinstance(key, tuple) and not args and len(key) == 2:
            col, row = key
        elif isinstance(key, (int, np.integer)) and len(args) == 1 and isinstance(args[0], (int, np.integer)):
            col, row = key, args[0]
        else:
            raise ValueError("Please supply either gps.SpatialKey, gps.SpaceTimeKey, (int, int), or two ints")
        return Extent(*(float(v) for v in key_extents(self.layout, [col], [row])[0]))

    def extent_to_keys(self, extent):
        """A generator of the SpatialKeys an extent covers (GeoTrellis' mapTransform: north and west edges
        inclusive, east and south exclusive)."""
        c0, r0, c1, r1 = key_bounds(self.layout, Extent(*extent))
        return (SpatialKey(c, r) for c in range(c0, c1 + 1) for r in range(r0, r1 + 1))

    def geometry_to_keys(self, geom):
        """The SpatialKeys of the layout whose tile extents intersect a shapely geometry (a point takes the
        one key that holds it, as in GeoTrellis)."""
        import shapely

        tl = self.layout.tileLayout
        if geom.is_empty:
            return []
        if geom.geom_type == "Point":
            col, row = point_to_key(self.layout, geom.x, geom.y)
            inside = 0 <= col < tl.layoutCols and 0 <= row < tl.layoutRows
            return [SpatialKey(col, row)] if inside else []
        # Candidate keys: the keys of the bounding box plus one around (a tile touching the geometry only
        # along a shared edge intersects it too), within the layout.
        c0, r0, c1, r1 = key_bounds(self.layout, Extent(*geom.bounds))
        c0, r0 = max(0, c0 - 1), max(0, r0 - 1)
        c1, r1 = min(tl.layoutCols - 1, c1 + 1), min(tl.layoutRows - 1, r1 + 1)
        if c0 > c1 or r0 > r1:
            return []
        cols, rows = np.meshgrid(np.arange(c0, c1 + 1), np.arange(r0, r1 + 1), indexing="ij")
        cols, rows = cols.ravel(), rows.ravel()
        boxes = shapely.box(*key_extents(self.layout, cols, rows).T)
        shapely.prepare(geom)
        hit = shapely.intersects(boxes, geom)
        return [SpatialKey(int(c), int(r)) for c, r in zip(cols[hit], rows[hit])]
