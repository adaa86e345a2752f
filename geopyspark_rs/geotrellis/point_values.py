"""``TiledRasterLayer.get_point_values``: the layer's values at points.

The points' keys are computed on the driver (GeoTrellis ``MapKeyTransform.pointToKey``, vectorised: a point
on a cell's south/east edge belongs to the next cell, and to the next tile on a tile's edge); the layer is
filtered to those keys before its pending steps run, and the executors sample each point in the tile
holding it, within that tile only (as geopyspark-backend does), with one Rust call per Arrow batch. NoData
gives NaN; values are always floats, one per band.

Result shapes follow GeoPySpark's tests (``point_values_test.py``): a SPACETIME point gets the series of
every instant holding it, ``[(datetime, [floats]), ...]`` ascending, and ``[(None, None)]`` when none does
(the docstring of GeoPySpark's master describes a single ``(Point, datetime, [floats])`` instead). Instants
come back as timezone-aware UTC datetimes, as GeoPySpark parses the ISO strings of its backend (keys and
bounds elsewhere are naive UTC, as its protobuf codec decodes them). An empty list or dict gives an empty result
(GeoPySpark raised TypeError there).
"""

from __future__ import annotations

import numpy as np
from pyspark.sql import functions as F
from shapely.geometry import Point

from .. import _native
from . import tile_contract as tc
from .constants import LayerType, ResampleMethod
from .layout import points_to_keys

_ALLOWED = (ResampleMethod.NEAREST_NEIGHBOR, ResampleMethod.BILINEAR, ResampleMethod.CUBIC_CONVOLUTION,
            ResampleMethod.CUBIC_SPLINE)


def _method(resample_method) -> str:
    if resample_method is None:
        return ResampleMethod.NEAREST_NEIGHBOR.value
    try:
        method = ResampleMethod(resample_method)
    except ValueError:
        raise ValueError(f"unknown resample method {resample_method!r}") from None
    if method not in _ALLOWED:
        raise ValueError(f"{method} cannot be used to resample point values; use one of "
                         + ", ".join(m.name for m in _ALLOWED))
    return method.value


def get_point_values(layer, points, resample_method=None):
    """Values at ``points`` (list of shapely Points, or dict ``{label: Point}``).

    Returns, for a list, ``[(Point, [float per band] or None)]`` (SPATIAL) or ``[(Point, [(datetime,
    [floats]), ...] or [(None, None)])]`` (SPACETIME, instants ascending), in the order of ``points``; for a
    dict, ``{label: ...}`` with the same values.
    """
    method = _method(resample_method)
    if isinstance(points, dict):
        labels, pts = list(points.keys()), list(points.values())
    elif isinstance(points, (list, tuple)):
        labels, pts = None, list(points)
    else:
        raise TypeError(f"points must be a list or dict of shapely Points, got {type(points).__name__}")
    bad = {type(p).__name__ for p in pts if not isinstance(p, Point)}
    if bad:
        raise TypeError(f"only shapely Points can sample values, found {', '.join(sorted(bad))}")
    spacetime = layer.layer_type == LayerType.SPACETIME
    values = _sample(layer, pts, method, spacetime) if pts else {}
    missing = [(None, None)] if spacetime else None
    results = [(p, values.get(i, missing)) for i, p in enumerate(pts)]
    if labels is None:
        return results
    return dict(zip(labels, results))


def _sample(layer, pts, method, spacetime):
    """``{point index: values}`` for the points that fall in a tile of the layer."""
    layout = layer.layer_metadata.layout_definition
    xs = np.array([p.x for p in pts], dtype=np.float64)
    ys = np.array([p.y for p in pts], dtype=np.float64)
    cols, rows, found = points_to_keys(layout, xs, ys)
    if not found.any():
        return {}
    idx = np.nonzero(found)[0]
    cols_i, rows_i = cols[idx], rows[idx]
    # A superset filter on the key columns (runs before the layer's pending steps); Rust matches exactly.
    cond = F.col("col").isin(sorted({int(c) for c in cols_i})) & F.col("row").isin(sorted({int(r) for r in rows_i}))
    found_layer = layer._where(cond)
    args = (cols_i.tolist(), rows_i.tolist(), xs[idx].tolist(), ys[idx].tolist())

    def sample(batches):
        for batch in batches:
            yield _native.sample_points(batch, layout, *args, method)

    schema = "point int, instant long, values array<double>" if spacetime else "point int, values array<double>"
    table = found_layer._map_batches(sample, schema).toArrow()
    found = {}
    point = table.column("point").to_pylist()
    vals = table.column("values").to_pylist()
    if not spacetime:
        for k, v in zip(point, vals):
            found.setdefault(int(idx[k]), [float(x) for x in v])
        return found
    instants = table.column("instant").to_pylist()
    series = {}
    for k, t, v in sorted(zip(point, instants, vals), key=lambda r: (r[0], r[1])):
        per = series.setdefault(int(idx[k]), {})
        per.setdefault(t, [float(x) for x in v])
    # Aware UTC instants, as GeoPySpark parses the ISO strings its backend returns.
    return {i: [(tc.instant_datetime(t, aware=True), v) for t, v in sorted(per.items())] for i, per in series.items()}
