"""Hillshade (GeoPySpark ``geopyspark.geotrellis.hillshade``)."""

from __future__ import annotations

import math
from numbers import Real

from .focal import _check_calculator

__all__ = ["hillshade"]


def hillshade(tiled_raster_layer, zfactor_calculator, band=0, azimuth=315.0, altitude=45.0):
    """Hillshade of one band of a tiled layer: ``round(127·max(0, cos Z·cos S + sin Z·sin S·cos(Az − A)))``
    as int16 (0..127, GeoTrellis' range; gdaldem's is 1..255), a sun at ``azimuth`` degrees clockwise from
    north and ``altitude`` degrees above the horizon, with each tile's z-factor from ``zfactor_calculator``."""
    from .layer import TiledRasterLayer

    if not isinstance(tiled_raster_layer, TiledRasterLayer):
        raise TypeError(f"hillshade needs a TiledRasterLayer, got {type(tiled_raster_layer).__name__}; "
                        "tile a RasterLayer first with tile_to_layout")
    calc = _check_calculator(zfactor_calculator, "hillshade")
    for name, v in (("azimuth", azimuth), ("altitude", altitude)):
        if not isinstance(v, Real) or not math.isfinite(v):
            raise ValueError(f"hillshade's {name} must be a finite number of degrees, got {v!r}")
    if isinstance(band, bool) or not isinstance(band, int) or band < 0:
        raise TypeError(f"hillshade's band must be an int ≥ 0, got {band!r}")
    sun = {"op": "hillshade", "azimuth": float(azimuth), "altitude": float(altitude)}
    return tiled_raster_layer._focal(sun, calc, band=band)
