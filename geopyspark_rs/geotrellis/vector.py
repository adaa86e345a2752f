"""Geometry input shared by masking, polygonal summaries, zonal statistics, rasterization and distance:
shapely geometries, WKB bytes, lists of them, and DataFrames or files of zones, checked on the driver and
handed to the engine as WKB."""

from __future__ import annotations

import numpy as np

_AREAL = ("Polygon", "MultiPolygon")


def to_geometry(value, what: str):
    """One shapely geometry from a shapely geometry or WKB (``bytes``/``bytearray``/hex ``str``)."""
    import shapely
    from shapely.geometry.base import BaseGeometry

    if isinstance(value, BaseGeometry):
        return value
    if isinstance(value, (bytes, bytearray, memoryview)):
        try:
            return shapely.from_wkb(bytes(value))
        except shapely.errors.GEOSException as e:
            raise ValueError(f"{what}: the WKB could not be read ({e})") from None
    raise TypeError(f"{what} must be a shapely geometry or WKB bytes, got {type(value).__name__}")


def to_geometries(values, what: str) -> list:
    """A list of shapely geometries from one geometry, WKB, or a list/tuple of them."""
    if isinstance(values, (list, tuple)):
        return [to_geometry(v, what) for v in values]
    return [to_geometry(values, what)]


def check_polygons(geoms, what: str) -> None:
    """Refuse what a polygon-only operation cannot use: other geometry types (``TypeError``), empty or
    invalid polygons (``ValueError`` with GEOS' reason, e.g. a self-intersection)."""
    for i, g in enumerate(geoms):
        if g.geom_type not in _AREAL:
            raise TypeError(f"{what} must be Polygons or MultiPolygons; geometry {i} is a {g.geom_type}")
    check_valid(geoms, what)


def check_valid(geoms, what: str) -> None:
    import shapely

    arr = np.asarray(geoms, dtype=object)
    empty = shapely.is_empty(arr)
    if empty.any():
        raise ValueError(f"{what}: geometry {int(np.argmax(empty))} is empty")
    valid = shapely.is_valid(arr)
    if not valid.all():
        i = int(np.argmin(valid))
        raise ValueError(f"{what}: geometry {i} is invalid ({shapely.is_valid_reason(arr[i])})")


def wkb_list(geoms) -> list[bytes]:
    import shapely

    return [bytes(b) for b in shapely.to_wkb(np.asarray(geoms, dtype=object))]


def reproject(geoms, source_crs, target_crs):
    """Geometries moved from ``source_crs`` to ``target_crs`` (EPSG ints, proj4 or WKT strings) with pyproj,
    vectorised; unchanged when the two are the same."""
    import shapely
    from pyproj import CRS, Transformer

    from .data_model import crs_to_proj4

    def parse(crs):
        try:
            return CRS.from_user_input(crs_to_proj4(crs) if isinstance(crs, int) else crs)
        except Exception as e:  # pyproj's CRSError and friends
            raise ValueError(f"could not parse the CRS {crs!r}: {e}") from None

    src, dst = parse(source_crs), parse(target_crs)
    if src == dst:
        return list(geoms)
    t = Transformer.from_crs(src, dst, always_xy=True)
    return list(shapely.transform(np.asarray(geoms, dtype=object), lambda xy: np.column_stack(t.transform(xy[:, 0], xy[:, 1]))))
