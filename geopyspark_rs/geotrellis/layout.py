"""Layout math on the driver (format reference §5): floating, zoomed (power-of-two) and local-pyramid layouts,
zoom selection and map ↔ key transforms. The key transforms and the floating layout are the engine's
(``_native.layout_*``, rust/engine/src/layout.rs). No Spark here."""

from __future__ import annotations

import math

import numpy as np

from .. import _native
from .data_model import Extent, LayoutDefinition, TileLayout, crs_to_proj4
from .tile_contract import cell_bytes

LATLNG_PROJ4 = crs_to_proj4(4326)
WEB_MERCATOR_PROJ4 = crs_to_proj4(3857)


def floating_layout(extent: Extent, cell_width: float, cell_height: float, tile_cols: int, tile_rows: int):
    """GeoTrellis' FloatingLayoutScheme: native resolution, anchored at the top-left, padded right/down."""
    (xmin, ymin, xmax, ymax), tile_layout = _native.layout_floating(
        tuple(extent), cell_width, cell_height, tile_cols, tile_rows)
    return LayoutDefinition(Extent(xmin, ymin, xmax, ymax), TileLayout(*tile_layout))


def cell_size(layout: LayoutDefinition):
    """``(cell width, cell height)`` of a layout's pixel grid."""
    return _native.layout_cell_size(layout)


def point_to_key(layout: LayoutDefinition, x: float, y: float):
    """``(col, row)`` of the key holding a point (GeoTrellis mapTransform; not clamped to the layout)."""
    return _native.layout_point_to_key(layout, x, y)


def points_to_keys(layout: LayoutDefinition, xs, ys):
    """``(cols, rows, found)`` int32 keys of points (GeoTrellis mapTransform); ``found`` is False for a point
    that is not finite or whose key does not fit the int32 key columns."""
    return _native.layout_points_to_keys(layout, np.ascontiguousarray(xs, dtype=np.float64),
                                         np.ascontiguousarray(ys, dtype=np.float64))


def key_bounds(layout: LayoutDefinition, extent: Extent):
    """``(col_min, row_min, col_max, row_max)`` of the keys an extent covers (GeoTrellis mapTransform:
    north/west edges inclusive, east/south exclusive)."""
    return _native.layout_key_bounds(layout, tuple(extent))


def key_extents(layout: LayoutDefinition, cols, rows) -> np.ndarray:
    """``(n, 4)`` extents (xmin, ymin, xmax, ymax) of the keys ``cols``, ``rows`` (GeoTrellis mapTransform)."""
    return _native.layout_key_extents(layout, np.asarray(cols, dtype=np.int64), np.asarray(rows, dtype=np.int64))


def tile_bytes(metadata) -> int:
    """Bytes of one band of one tile of a layer: its layout's tile size in its cell type."""
    tl = metadata.tile_layout
    return tl.tileCols * tl.tileRows * cell_bytes(metadata.cell_type)


def layer_bytes(metadata) -> int:
    """Bytes of one band of every key in a layer's bounds (0 when it has none)."""
    if metadata is None or metadata.bounds is None:
        return 0
    lo, hi = metadata.bounds.minKey, metadata.bounds.maxKey
    return (hi.col - lo.col + 1) * (hi.row - lo.row + 1) * tile_bytes(metadata)


# --- Zoomed (power-of-two) layouts, GeoTrellis' ZoomedLayoutScheme (format reference §5.3) ---------------

LATLNG_WORLD = Extent(-180.0, -89.99999, 179.99999, 89.99999)
WEB_MERCATOR_WORLD = Extent(-20037508.342789244, -20037508.342789244, 20037508.342789244, 20037508.342789244)
SINUSOIDAL_WORLD = Extent(-2.0015109355797417E7, -1.0007554677898709E7, 2.0015109355797417E7, 1.0007554677898709E7)
# GeoTrellis' Sinusoidal CRS (the MODIS sphere); crs_to_proj4 lays it out as GeoTrellis' toProj4String does.
SINUSOIDAL_PROJ4 = crs_to_proj4("+proj=sinu +lon_0=0 +x_0=0 +y_0=0 +a=6371007.181 +b=6371007.181 +units=m +no_defs")

EARTH_RADIUS = 6378137.0
EARTH_CIRCUMFERENCE = 2 * math.pi * EARTH_RADIUS
DEFAULT_TILE_SIZE = 256
DEFAULT_THRESHOLD = 0.1


def _proj4(crs) -> str:
    return crs_to_proj4(crs)


def _transform(src: str, dst: str, xy):
    """Points ``[(x, y), ...]`` from ``src`` to ``dst`` (degrees for lat/long) as an n×2 array."""
    points = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
    if src == dst:
        return points.copy()
    return _native.transform_points(src, dst, np.ascontiguousarray(points))


def world_extent(crs) -> Extent:
    """GeoTrellis' ``crs.worldExtent``: fixed extents for LatLng, WebMercator and Sinusoidal, an error for UTM,
    otherwise the LatLng world extent's four corners reprojected (GeoTrellis' ``Extent.reproject``: the
    envelope of the transformed corners)."""
    p = _proj4(crs)
    if p == LATLNG_PROJ4:
        return LATLNG_WORLD
    if p == WEB_MERCATOR_PROJ4:
        return WEB_MERCATOR_WORLD
    if p == SINUSOIDAL_PROJ4:
        return SINUSOIDAL_WORLD
    if "+proj=utm" in p.split():
        raise ValueError(f"Projection {p.strip()!r} (UTM) has no world extent; use another projection or a "
                         "LocalLayout")
    w = LATLNG_WORLD
    pts = _transform(LATLNG_PROJ4, p, [(w.xmin, w.ymin), (w.xmin, w.ymax), (w.xmax, w.ymax), (w.xmax, w.ymin)])
    if not np.isfinite(pts).all():
        raise ValueError(f"the LatLng world extent does not reproject to {p.strip()!r}")
    return Extent(float(pts[:, 0].min()), float(pts[:, 1].min()), float(pts[:, 0].max()), float(pts[:, 1].max()))


def zoomed_layout(crs, tile_size: int, zoom: int) -> LayoutDefinition:
    """GeoTrellis' ``ZoomedLayoutScheme.levelForZoom``: 2^zoom × 2^zoom tiles of ``tile_size`` over the
    CRS's world extent."""
    if zoom is None or int(zoom) != zoom or zoom < 0:
        raise ValueError(f"zoom must be an integer >= 0, got {zoom!r}")
    n = 2 ** int(zoom)
    return LayoutDefinition(world_extent(crs), TileLayout(n, n, int(tile_size), int(tile_size)))


def _utm_zone_crs(lon: float, lat: float) -> str:
    """EPSG code of the UTM zone holding a point, with the Norway/Svalbard exceptions (GeoTrellis UTM.getZone)."""
    zone = int(math.floor((lon + 180) / 6) + 1)
    band = "CDEFGHJKLMNPQRSTUVWXX"[int(math.floor(lat / 8 + 10))]
    if zone == 31 and band == "V" and lon >= 3:
        zone += 1
    if band == "X":
        if zone == 32:
            zone = 31 if lon < 9 else 33
        elif zone == 34:
            zone = 33 if lon < 21 else 35
        elif zone == 36:
            zone = 35 if lon < 33 else 37
    return f"EPSG:{326 if lat >= 0 else 327}{zone:02d}"


def _haversine(lon1, lat1, lon2, lat2) -> float:
    dlat = math.radians(lat2 - lat1)
    dlon = math.radians(lon2 - lon1)
    a = math.sin(dlat / 2) ** 2 + math.cos(math.radians(lat1)) * math.cos(math.radians(lat2)) * math.sin(dlon / 2) ** 2
    return EARTH_RADIUS * 2 * math.atan2(math.sqrt(a), math.sqrt(1 - a))


def zoom_for(crs, extent: Extent, cell_width: float, cell_height: float, tile_size: int = DEFAULT_TILE_SIZE,
             threshold: float = DEFAULT_THRESHOLD) -> int:
    """GeoTrellis' ``ZoomedLayoutScheme.levelFor``: the zoom whose resolution suits cells of this size at the
    extent's lower-left corner. The cell's size in metres is measured in the UTM zone of the point (haversine
    outside UTM's latitudes); the coarser zoom is taken unless the cell is finer than it by more than
    ``threshold`` of the step to the next zoom."""
    p = _proj4(crs)
    x, y = extent.xmin, extent.ymin
    ll = _transform(p, LATLNG_PROJ4, [(x + cell_width, y + cell_height), (x, y)])
    (lon1, lat1), (lon2, lat2) = ll.tolist()
    if -80 <= lat1 <= 84:
        utm = _utm_zone_crs(lon1, lat1)
        (x1, y1), (x2, y2) = _transform(LATLNG_PROJ4, utm, ll).tolist()
        dist = max(abs(x1 - x2), abs(y1 - y2))
    else:
        dist = _haversine(lon1, lat1, lon2, lat2)
    if not dist > 0 or not math.isfinite(dist):
        raise ValueError(f"cannot choose a zoom for cells of {cell_width} × {cell_height} at ({x}, {y}) in {p.strip()!r}")
    z = int(math.log(EARTH_CIRCUMFERENCE / (dist * tile_size)) / math.log(2))  # truncation toward zero
    z_res = EARTH_CIRCUMFERENCE / (2.0 ** z * tile_size)
    next_res = EARTH_CIRCUMFERENCE / (2.0 ** (z + 1) * tile_size)
    return z + 1 if (z_res - dist) / (z_res - next_res) > threshold else z


def layout_for(layout_type, crs, extent: Extent, cell_width: float, cell_height: float):
    """``(LayoutDefinition, zoom or None)`` for data of ``extent`` and cell size in ``crs`` under a layout type:
    GlobalLayout → the zoomed layout at its zoom (chosen with :func:`zoom_for` when None), LocalLayout → the
    floating layout (zoom None), LayoutDefinition → itself (zoom None)."""
    from .data_model import GlobalLayout, LocalLayout

    if isinstance(layout_type, GlobalLayout):
        tile_size = layout_type.tile_size or DEFAULT_TILE_SIZE
        zoom = layout_type.zoom
        if zoom is None:
            zoom = zoom_for(crs, extent, cell_width, cell_height, tile_size, layout_type.threshold or DEFAULT_THRESHOLD)
        return zoomed_layout(crs, tile_size, zoom), int(zoom)
    if isinstance(layout_type, LocalLayout):
        return floating_layout(extent, cell_width, cell_height, layout_type.tile_cols, layout_type.tile_rows), None
    if isinstance(layout_type, LayoutDefinition):
        return layout_type, None
    raise TypeError(f"layout must be a GlobalLayout, LocalLayout or LayoutDefinition, got {type(layout_type).__name__}")


# --- Local pyramids, GeoTrellis' LocalLayoutScheme (format reference §5.4) ----------------------------------

def local_zoom_out(layout: LayoutDefinition) -> LayoutDefinition:
    """One level coarser in a local pyramid: same extent and tile size, half the tiles (rounded up, at least 1)."""
    tl = layout.tileLayout
    return LayoutDefinition(layout.extent, TileLayout(max(1, (tl.layoutCols + 1) // 2),
                                                      max(1, (tl.layoutRows + 1) // 2), tl.tileCols, tl.tileRows))


def local_base_zoom(layout_cols: int, layout_rows: int) -> int:
    """The zoom of a layout of this many tiles in a local pyramid: ``max(ceil(log2 cols), ceil(log2 rows))``."""
    if layout_cols < 1 or layout_rows < 1:
        raise ValueError(f"a layout has at least one tile each way, got {layout_cols} × {layout_rows}")
    return max((int(layout_cols) - 1).bit_length(), (int(layout_rows) - 1).bit_length())
