"""How layers and pyramids show themselves in Jupyter: a metadata table and a thumbnail.

A thumbnail stitches tiles on the driver, so it is drawn only for small layers (at most
``THUMBNAIL_MAX_TILES`` keys in the metadata bounds); a pyramid draws its coarsest level. A map of a pyramid
is ``pyramid.show()``: a bound TMS, which Jupyter displays as its web map.
"""

from __future__ import annotations

import base64
import html

import numpy as np

THUMBNAIL_MAX_TILES = 16
THUMBNAIL_SIDE = 256


def _rows_html(rows):
    return "".join(f"<tr><th style='text-align:left'>{html.escape(str(k))}</th>"
                   f"<td style='text-align:left'>{html.escape(str(v))}</td></tr>" for k, v in rows)


def _thumbnail(layer):
    """A data-URI PNG of band 0 of a small SPATIAL tiled layer (None when it is not small or has no tiles)."""
    from .constants import LayerType
    from .render import tile_png

    m = layer.layer_metadata
    if layer.layer_type != LayerType.SPATIAL or m.bounds is None:
        return None
    b = m.bounds
    if (b.maxKey.col - b.minKey.col + 1) * (b.maxKey.row - b.minKey.row + 1) > THUMBNAIL_MAX_TILES:
        return None
    try:
        tile = layer.stitch()
    except ValueError:  # no tiles
        return None
    cells = np.asarray(tile.cells)
    step = max(1, int(np.ceil(max(cells.shape[-2:]) / THUMBNAIL_SIDE)))
    small = type(tile)(np.ascontiguousarray(cells[:1, ::step, ::step]), tile.cell_type, tile.no_data_value)
    return "data:image/png;base64," + base64.b64encode(tile_png(small)).decode()


def layer_html(layer) -> str:
    m = layer.layer_metadata
    tl = m.tile_layout
    b = m.bounds
    rows = [
        ("layer", type(layer).__name__), ("layer type", layer.layer_type.value), ("zoom", layer.zoom_level),
        ("crs", m.crs), ("cell type", m.cell_type), ("extent", tuple(m.extent)),
        ("layout", f"{tl.layoutCols}×{tl.layoutRows} tiles of {tl.tileCols}×{tl.tileRows}"),
        ("key bounds", "empty" if b is None else f"{tuple(b.minKey)} .. {tuple(b.maxKey)}"),
    ]
    thumb = _thumbnail(layer)
    img = "" if thumb is None else f"<img src='{thumb}' style='image-rendering:pixelated;max-width:256px'/>"
    return f"<div style='display:flex;gap:1em'><table>{_rows_html(rows)}</table>{img}</div>"


def pyramid_html(pyramid) -> str:
    rows = [("pyramid", f"{len(pyramid.levels)} levels, zooms {min(pyramid.levels)}..{pyramid.max_zoom}"),
            ("layer type", pyramid.layer_type.value)]
    for z in sorted(pyramid.levels, reverse=True):
        tl = pyramid.levels[z].layer_metadata.tile_layout
        rows.append((f"zoom {z}", f"{tl.layoutCols}×{tl.layoutRows} tiles of {tl.tileCols}×{tl.tileRows}"))
    thumb = _thumbnail(pyramid.levels[min(pyramid.levels)])
    img = "" if thumb is None else f"<img src='{thumb}' style='image-rendering:pixelated;max-width:256px'/>"
    return (f"<div style='display:flex;gap:1em'><table>{_rows_html(rows)}</table>{img}</div>"
            "<p>A map: <code>pyramid.show(color_map)</code></p>")
