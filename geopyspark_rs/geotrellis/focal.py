"""Focal and terrain operations on tiled layers (GeoPySpark ``focal``, ``slope``, ``tobler``, ``hillshade``)
and the z-factor calculators.

Every tile needs cells of its neighbours: the layer goes through the neighbour-buffer exchange
(``exchange.buffered``). Tiles already in the JVM (a cached or plain layer) stay there and get their
neighbours' border strips, cut in Spark SQL and collected, in the one pass that computes the operation in
Rust (``_native.focal_with_strips``); other layers send tiles and strips through a shuffle whose reduce side
computes it (``_native.focal_runs``). Either way ``layer.focal(...) + 1`` and ``slope(...).reclassify(...)``
stay one pass per stage. Results do not depend on how the layer is tiled;
at the layer's outer edge and next to missing tiles the neighbourhood is partial, as in GeoTrellis.
Unlike GeoPySpark (band 0 only), every band of a multiband layer is processed.
"""

from __future__ import annotations

import json
import math
from numbers import Real

import numpy as np

from .. import _native
from .constants import Neighborhood as NeighborhoodEnum
from .constants import Operation, Unit
from .layout import LATLNG_PROJ4, _transform, cell_size, crs_to_proj4
from .neighborhood import Neighborhood, from_params

__all__ = ["ZFactorCalculator", "zfactor_lat_lng_calculator", "zfactor_calculator"]

# Degrees of latitude to ground units at the equator (GeoTrellis `ZFactor`; GeoPySpark's backend used
# 11 320 metres, a typo fixed upstream in GeoTrellis).
_UNITS_PER_DEGREE = {Unit.METERS: 111320.0, Unit.FEET: 365217.6}

_STATS = {
    Operation.SUM: "sum", Operation.MIN: "min", Operation.MAX: "max", Operation.MEAN: "mean",
    Operation.MEDIAN: "median", Operation.MODE: "mode", Operation.STANDARD_DEVIATION: "standard_deviation",
    Operation.VARIANCE: "variance",
}


class ZFactorCalculator:
    """A tile's z-factor (the factor turning its elevation unit into its horizontal unit) from the
    latitude of its extent's centre, as GeoTrellis' ``ZFactorCalculator``. ``func`` maps an array of
    latitudes (degrees) to z-factors. Calling the calculator with latitudes gives their z-factors."""

    def __init__(self, func, description: str, geographic_only: bool = False):
        self._func = func
        self._description = description
        self.geographic_only = geographic_only

    def __call__(self, latitudes):
        return self._func(np.asarray(latitudes, dtype=np.float64))

    def __repr__(self):
        return f"ZFactorCalculator({self._description})"


def zfactor_lat_lng_calculator(unit):
    """The calculator for layers in geographic coordinates whose elevations are in ``unit`` (``Unit.METERS``
    or ``Unit.FEET``): ``1 / (units per degree at the equator · cos(latitude))`` with 111 320 m (GeoTrellis;
    GeoPySpark's backend used 11 320, see docs/compatibility.md) or 365 217.6 ft per degree."""
    try:
        unit = Unit(unit)
    except ValueError:
        raise ValueError(f"unit must be one of {[u.value for u in Unit]}, got {unit!r}") from None
    k = _UNITS_PER_DEGREE[unit]

    def z(lat):
        return 1.0 / (k * np.cos(np.radians(lat)))

    return ZFactorCalculator(z, f"lat_lng, unit={unit.value}", geographic_only=True)


def zfactor_calculator(mapped_zfactors):
    """A calculator interpolating linearly between the z-factors given for some latitudes
    (``{latitude: zfactor}``, at least two); a tile whose latitude lies outside them is an error, as in
    GeoPySpark."""
    if not isinstance(mapped_zfactors, dict) or len(mapped_zfactors) < 2:
        raise ValueError("zfactor_calculator needs a dict of at least two {latitude: zfactor} entries")
    table = sorted((float(k), float(v)) for k, v in mapped_zfactors.items())
    lats = np.array([k for k, _ in table])
    zs = np.array([v for _, v in table])
    if not (np.isfinite(lats).all() and np.isfinite(zs).all()):
        raise ValueError("zfactor_calculator's latitudes and z-factors must be finite numbers")

    def z(lat):
        outside = (lat < lats[0]) | (lat > lats[-1])
        if outside.any():
            raise ValueError(f"latitude {lat[outside][0]:.6g} is outside the z-factor table's latitudes "
                             f"[{lats[0]:.6g}, {lats[-1]:.6g}]")
        return np.interp(lat, lats, zs)

    return ZFactorCalculator(z, f"{len(table)} latitudes", geographic_only=False)


def _check_calculator(calc, what):
    if isinstance(calc, Real) and not isinstance(calc, bool):
        return calc  # a constant z-factor
    if not callable(calc):
        raise TypeError(f"{what} needs a zfactor_calculator (gps.zfactor_lat_lng_calculator(unit), "
                        f"gps.zfactor_calculator({{lat: z}}), a function of latitude or a number), got "
                        f"{type(calc).__name__}")
    return calc


def _row_z_factors(layer, calc):
    """``(first row, z-factors of the layout rows of the layer's bounds)`` from a calculator or a number.
    A tile's latitude is its extent's centre (taken on the layer's central meridian when the CRS is
    projected); tiles of one layout row share it."""
    m = layer.layer_metadata
    b = m.bounds
    if b is None:
        return 0, []
    rows = np.arange(b.minKey.row, b.maxKey.row + 1)
    if isinstance(calc, Real):
        if not math.isfinite(calc):
            raise ValueError(f"a z-factor must be a finite number, got {calc!r}")
        return int(rows[0]), [float(calc)] * len(rows)
    proj4 = crs_to_proj4(m.crs)
    geographic = "+proj=longlat" in proj4
    if getattr(calc, "geographic_only", False) and not geographic:
        raise ValueError(f"zfactor_lat_lng_calculator is for layers in geographic coordinates, and this "
                         f"layer is in {m.crs!r}; use gps.zfactor_calculator({{latitude: zfactor}}) or a number")
    layout = m.layout_definition
    tile_height = (layout.extent.ymax - layout.extent.ymin) / layout.tileLayout.layoutRows
    ys = layout.extent.ymax - (rows + 0.5) * tile_height
    if geographic:
        lats = ys
    else:
        x = (m.extent.xmin + m.extent.xmax) / 2
        xy = np.column_stack([np.full_like(ys, x), ys])
        lats = _transform(proj4, LATLNG_PROJ4, xy)[:, 1]
    zs = np.asarray(calc(lats), dtype=np.float64).reshape(-1)
    if zs.shape != lats.shape or not np.isfinite(zs).all():
        raise ValueError(f"the zfactor calculator must return one finite z-factor per latitude, got {zs!r}")
    return int(rows[0]), zs.tolist()


class Focal:
    """Focal and terrain methods of ``TiledRasterLayer``."""

    def _focal(self, operation: dict, z_factor=None, partition_strategy=None, band=None):
        """The layer with ``operation`` (an engine spec) computed for every cell of every band (or of
        ``band`` only, giving one band)."""
        from .exchange import buffered
        from .layer import tiled_from_exchange, with_cell_type

        m = self.layer_metadata
        if operation["op"] != "stat" and m.crs is None:
            raise ValueError(f"{operation['op']} needs to know the layer's CRS (its cells' ground size), and "
                             "this layer's metadata has none")
        cw, ch = cell_size(m.layout_definition)
        spec = {"operation": operation, "cell_width": cw, "cell_height": ch, "band": band}
        if z_factor is not None:
            row0, zs = _row_z_factors(self, z_factor)
            spec.update(z_row0=row0, z_factors=zs)
        spec_json = json.dumps(spec)
        width, cell_type = _native.focal_output(spec_json, m.cell_type)
        tl = m.tile_layout
        if width > min(tl.tileCols, tl.tileRows):
            raise ValueError(f"the neighborhood reaches {width} cells from the centre, more than the "
                             f"{tl.tileCols}×{tl.tileRows} tiles of this layer; retile it to larger tiles")
        keys = list(self._key_columns)
        kernels = (lambda batch, complete: _native.focal_runs(batch, keys, spec_json, complete),
                   lambda batch, strips: _native.focal_with_strips(batch, strips, spec_json))
        ex = buffered(self, width, partition_strategy, kernels)
        return tiled_from_exchange(self.layer_type, ex, with_cell_type(m, cell_type), self.zoom_level)

    def focal(self, operation, neighborhood=None, param_1=None, param_2=None, param_3=None,
              partition_strategy=None):
        """A focal operation over every band (GeoPySpark: band 0 only): an ``Operation`` statistic over
        ``neighborhood`` (a ``neighborhood`` instance, or a ``Neighborhood`` member or name with
        ``param_1..3``), or ``ASPECT``/``"Slope"`` over the 3×3 cells (``param_1``: the slope's z-factor,
        default 1). NoData cells are skipped; cells off the layer are not part of the neighbourhood."""
        if operation == "Slope":
            # Not an Operation member in GeoPySpark, but its backend accepts the name (param_1: z-factor).
            z = 1.0 if param_1 is None else param_1
            return self._focal({"op": "slope"}, _check_calculator(z, "Slope"), partition_strategy)
        try:
            operation = Operation(operation)
        except ValueError:
            raise ValueError(f"unknown focal operation {operation!r}; use one of "
                             f"{', '.join(o.name for o in Operation)} or 'Slope'") from None
        if operation is Operation.ASPECT:
            return self._focal({"op": "aspect"}, partition_strategy=partition_strategy)
        if isinstance(neighborhood, Neighborhood):
            shape = neighborhood
        elif isinstance(neighborhood, (str, NeighborhoodEnum)):
            try:
                name = NeighborhoodEnum(neighborhood).value
            except ValueError:
                raise ValueError(f"unknown neighborhood {neighborhood!r}; use one of "
                                 f"{', '.join(n.name for n in NeighborhoodEnum)}") from None
            shape = from_params(name, param_1 or 0.0, param_2 or 0.0, param_3 or 0.0)
        else:
            raise ValueError("neighborhood must be set (a neighborhood instance such as Square(1), or a "
                             "Neighborhood member with param_1..3) or the operation must be SLOPE or ASPECT; "
                             f"got {neighborhood!r}")
        op = {"op": "stat", "stat": _STATS[operation], "neighborhood": shape._spec()}
        return self._focal(op, partition_strategy=partition_strategy)

    def slope(self, zfactor_calculator, partition_strategy=None):
        """Slope in degrees (Horn's method over the 3×3 cells; NoData and off-layer neighbours take the
        centre's value) as float32, with each tile's z-factor from ``zfactor_calculator``."""
        calc = _check_calculator(zfactor_calculator, "slope")
        return self._focal({"op": "slope"}, calc, partition_strategy)

    def tobler(self, zfactor_calculator=1.0, partition_strategy=None):
        """Tobler's hiking speed in km/h, ``6·exp(−3.5·|tan(slope) + 0.05|)``, from an **elevation** layer
        (as GeoTrellis 3.x and GeoPySpark's documentation say; see docs/compatibility.md), with the slope
        computed as ``slope`` does."""
        calc = _check_calculator(zfactor_calculator, "tobler")
        return self._focal({"op": "tobler"}, calc, partition_strategy)
