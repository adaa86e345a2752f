"""Layout math on the driver (format reference §5): floating layouts and map ↔ key transforms."""

from __future__ import annotations

import math

from .data_model import Extent, LayoutDefinition, TileLayout


def floating_layout(extent: Extent, cell_width: float, cell_height: float, tile_cols: int, tile_rows: int):
    """GeoTrellis' FloatingLayoutScheme: native resolution, anchored at the top-left, padded right/down."""
    layout_cols = math.ceil(((extent.xmax - extent.xmin) / cell_width) / tile_cols)
    layout_rows = math.ceil(((extent.ymax - extent.ymin) / cell_height) / tile_rows)
    layout_extent = Extent(
        extent.xmin,
        extent.ymax - layout_rows * tile_rows * cell_height,
        extent.xmin + layout_cols * tile_cols * cell_width,
        extent.ymax,
    )
    return LayoutDefinition(layout_extent, TileLayout(layout_cols, layout_rows, tile_cols, tile_rows))


def _point_to_key(layout: LayoutDefinition, x: float, y: float):
    e, tl = layout.extent, layout.tileLayout
    col = math.floor(((x - e.xmin) / (e.xmax - e.xmin)) * tl.layoutCols)
    row = math.floor(((e.ymax - y) / (e.ymax - e.ymin)) * tl.layoutRows)
    return col, row


def key_bounds(layout: LayoutDefinition, extent: Extent):
    """``(col_min, row_min, col_max, row_max)`` of the keys an extent covers (GeoTrellis mapTransform:
    north/west edges inclusive, east/south exclusive)."""
    e, tl = layout.extent, layout.tileLayout
    tile_width = (e.xmax - e.xmin) / tl.layoutCols
    tile_height = (e.ymax - e.ymin) / tl.layoutRows
    col_min, row_min = _point_to_key(layout, extent.xmin, extent.ymax)

    def upper(d, low):
        return int(d) - 1 if d == int(d) and int(d) != low else math.trunc(d)

    col_max = upper((extent.xmax - e.xmin) / tile_width, col_min)
    row_max = upper((e.ymax - extent.ymin) / tile_height, row_min)
    return col_min, row_min, col_max, row_max


def layout_tuple(layout: LayoutDefinition):
    """The layout as the engine takes it."""
    e, tl = layout.extent, layout.tileLayout
    return (float(e.xmin), float(e.ymin), float(e.xmax), float(e.ymax),
            int(tl.layoutCols), int(tl.layoutRows), int(tl.tileCols), int(tl.tileRows))
