"""``Raster``: one georeferenced NumPy array (cells, ``affine.Affine`` transform, ``pyproj.CRS``, NoData) as
rasterio, rioxarray and the rest of the Python raster stack use it."""

from __future__ import annotations

import numpy as np

from ..geotrellis import tile_contract as tc
from ..geotrellis.data_model import Extent, Tile, crs_to_proj4


def _needs(module: str):
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise ImportError(f"this needs the {module!r} package: pip install {module}") from None


def proj4_of(crs) -> str | None:
    """GeoTrellis' proj4 string of a CRS given as an EPSG code, proj4/WKT text, or a ``pyproj.CRS`` or
    ``rasterio.crs.CRS`` (anything with ``to_epsg`` and ``to_wkt``)."""
    if crs is None:
        return None
    if hasattr(crs, "to_epsg") and hasattr(crs, "to_wkt"):
        code = crs.to_epsg()
        if code is not None:
            return crs_to_proj4(code)
        return crs_to_proj4(crs.to_proj4() if hasattr(crs, "to_proj4") else crs.to_wkt())
    return crs_to_proj4(crs)


def pyproj_crs(proj4: str | None):
    """The ``pyproj.CRS`` of a GeoTrellis proj4 string: its EPSG definition when one matches exactly."""
    if proj4 is None:
        return None
    pyproj = _needs("pyproj")
    crs = pyproj.CRS.from_user_input(proj4.strip())
    code = crs.to_epsg(min_confidence=70)
    if code is not None:
        try:
            if crs_to_proj4(code) == proj4:
                return pyproj.CRS.from_epsg(code)
        except ValueError:
            pass
    return crs


class Raster:
    """A georeferenced raster in memory.

    Args:
        data (numpy.ndarray): cells, ``(bands, rows, cols)`` or ``(rows, cols)`` for one band.
        transform (affine.Affine or 6 numbers): the north-up affine transform of the top-left corner
            (``Affine(cell_width, 0, xmin, 0, -cell_height, ymax)``, GDAL's order ``(c, a, b, f, d, e)`` is not
            accepted: give an Affine or rasterio's ``(a, b, c, d, e, f)``).
        crs: an EPSG code, proj4/WKT text, a ``pyproj.CRS`` or a ``rasterio.crs.CRS`` (None: unknown).
        nodata (number, optional): the NoData value of the cells.

    Attributes: ``data``, ``transform`` (``affine.Affine``), ``crs`` (``pyproj.CRS``), ``nodata``,
    ``extent`` (:class:`Extent`), ``proj4`` (GeoTrellis' CRS string), ``cell_type`` (GeoTrellis' name).
    """

    def __init__(self, data, transform, crs=None, nodata=None):
        data = np.asarray(data)
        if data.ndim == 2:
            data = data[np.newaxis]
        if data.ndim != 3 or 0 in data.shape:
            raise ValueError(f"data must be a non-empty (bands, rows, cols) or (rows, cols) array, got shape "
                             f"{data.shape}")
        try:
            a, b, c, d, e, f = (float(v) for v in tuple(transform)[:6])
        except (TypeError, ValueError):
            raise TypeError(f"transform must be an affine.Affine or six numbers, got {transform!r}") from None
        if b != 0 or d != 0 or not (a > 0 and e < 0) or not all(np.isfinite((a, c, e, f))):
            raise ValueError(f"transform must be north-up, without rotation (b = d = 0, a > 0, e < 0), got "
                             f"{(a, b, c, d, e, f)}")
        self.data = data
        try:
            self.nodata = None if nodata is None else data.dtype.type(nodata).item()
        except (OverflowError, ValueError, TypeError):
            raise ValueError(f"nodata {nodata!r} does not fit the cells' dtype {data.dtype.name}") from None
        self._affine = (a, 0.0, c, 0.0, e, f)
        self.proj4 = proj4_of(crs)
        rows, cols = data.shape[1:]
        self.extent = Extent(c, f + e * rows, c + a * cols, f)
        self.cell_type = tc.cell_type_name(Tile.dtype_to_cell_type(data.dtype), self.nodata)

    @classmethod
    def _from_extent(cls, data, extent: Extent, proj4: str | None, nodata):
        rows, cols = data.shape[1:]
        cw, ch = (extent.xmax - extent.xmin) / cols, (extent.ymax - extent.ymin) / rows
        out = cls.__new__(cls)
        out.data, out.nodata, out.proj4, out.extent = data, nodata, proj4, extent
        out._affine = (cw, 0.0, extent.xmin, 0.0, -ch, extent.ymax)
        out.cell_type = tc.cell_type_name(Tile.dtype_to_cell_type(data.dtype), nodata)
        return out

    @property
    def transform(self):
        return _needs("affine").Affine(*self._affine)

    @property
    def crs(self):
        return pyproj_crs(self.proj4)

    @property
    def shape(self) -> tuple:
        return self.data.shape

    @property
    def tile(self) -> Tile:
        """The cells as a GeoPySpark :class:`Tile`."""
        return Tile.from_numpy_array(self.data, self.nodata)

    def masked(self) -> np.ma.MaskedArray:
        """The cells with NoData masked."""
        if self.nodata is None:
            return np.ma.MaskedArray(self.data)
        mask = np.isnan(self.data) if np.isnan(self.nodata) else self.data == self.nodata
        return np.ma.MaskedArray(self.data, mask=mask)

    @property
    def profile(self) -> dict:
        """What ``rasterio.open(path, "w", **raster.profile)`` needs to write these cells as a GeoTIFF."""
        bands, rows, cols = self.data.shape
        crs = self.crs
        return {"driver": "GTiff", "width": cols, "height": rows, "count": bands, "dtype": self.data.dtype.name,
                "crs": None if crs is None else crs.to_wkt(), "transform": self.transform, "nodata": self.nodata}

    def to_memory_file(self):
        """A ``rasterio.io.MemoryFile`` holding these cells as a GeoTIFF (open it with ``.open()``)."""
        rasterio_io = _needs("rasterio.io")
        memfile = rasterio_io.MemoryFile()
        with memfile.open(**self.profile) as dst:
            dst.write(self.data)
        return memfile

    def to_xarray(self, name: str | None = None):
        """An ``xarray.DataArray`` (band, y, x) with cell-centre coordinates and the CRS and transform where
        rioxarray looks for them (a ``spatial_ref`` coordinate with ``crs_wkt`` and ``GeoTransform``)."""
        xr = _needs("xarray")
        a, _, c, _, e, f = self._affine
        bands, rows, cols = self.data.shape
        coords = {"band": np.arange(1, bands + 1), "y": f + e * (np.arange(rows) + 0.5),
                  "x": c + a * (np.arange(cols) + 0.5)}
        crs = self.crs
        ref = {"GeoTransform": " ".join(repr(v) for v in (c, a, 0.0, f, 0.0, e))}
        if crs is not None:
            ref.update({"crs_wkt": crs.to_wkt(), "spatial_ref": crs.to_wkt()})
        attrs = {} if self.nodata is None else {"_FillValue": self.nodata}
        da = xr.DataArray(self.data, dims=("band", "y", "x"), coords=coords, name=name, attrs=attrs)
        return da.assign_coords(spatial_ref=xr.DataArray(np.int64(0), attrs=ref))

    def __repr__(self):
        return (f"Raster(shape={self.data.shape}, dtype={self.data.dtype.name}, extent={tuple(self.extent)}, "
                f"crs={self.proj4!r}, nodata={self.nodata!r})")


def raster_batch(raster: Raster):
    """The raster as a one-row batch of RasterLayer rows (extent, CRS and tile columns), as the Rust
    cutter takes it."""
    import pyarrow as pa

    name, bands, rows, cols, cells = tc.encode_tile(raster.tile)
    e = raster.extent
    values = {"xmin": [e.xmin], "ymin": [e.ymin], "xmax": [e.xmax], "ymax": [e.ymax], "crs": [raster.proj4],
              "cell_type": [raster.cell_type], "bands": [bands], "rows": [rows], "cols": [cols], "cells": [cells]}
    schema = tc.arrow_schema(False, tc.LayerType.SPATIAL)
    table = pa.Table.from_pydict(values, schema=schema)
    return table.to_batches()[0]

