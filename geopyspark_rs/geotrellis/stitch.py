"""Stitching: collected tiles mosaicked into one raster on the driver by the Rust engine."""

from __future__ import annotations

import pyarrow as pa

from .. import _native
from .data_model import Extent, Tile
from .layout import key_extents
from .tile_contract import decode_tile


def stitch_raw(table: pa.Table):
    """Mosaic collected tiles (col, row + tile columns): ``(cell_type, bands, rows, cols, cells,
    (min_col, min_row, max_col, max_row))``."""
    if table.num_rows == 0:
        raise ValueError("cannot stitch an empty layer")
    return _native.stitch(table.combine_chunks().to_batches()[0])


def keys_extent(layout, min_col: int, min_row: int, max_col: int, max_row: int) -> Extent:
    """The extent of a block of keys of a layout."""
    corners = key_extents(layout, [min_col, max_col], [min_row, max_row])
    return Extent(*(float(v) for v in (corners[0][0], corners[1][1], corners[1][2], corners[0][3])))


class StitchedTile(Tile):
    """The Tile ``stitch()`` returns (GeoPySpark's Tile, equal to it), which also knows where it lies:
    ``extent`` and ``crs`` (proj4), with :meth:`to_raster` (a georeferenced ``geopyspark_rs.local.Raster``,
    ready for rasterio) and :meth:`to_xarray`."""

    def to_raster(self):
        from ..local.raster import Raster

        data = self.cells if self.cells.ndim == 3 else self.cells[None]
        return Raster._from_extent(data, self.extent, self.crs, self.no_data_value)

    def to_xarray(self, name=None):
        """An ``xarray.DataArray`` with the CRS and transform as rioxarray expects them."""
        return self.to_raster().to_xarray(name)


def stitch(table: pa.Table, metadata=None) -> Tile:
    """Mosaic collected tiles (col, row + tile columns) into one Tile; with the layer's ``metadata``, a
    :class:`StitchedTile` that knows its extent and CRS."""
    cell_type, bands, rows, cols, cells, bounds = stitch_raw(table)
    tile = decode_tile(cell_type, bands, rows, cols, cells)
    if metadata is None:
        return tile
    out = StitchedTile(*tile)
    out.extent = keys_extent(metadata.layout_definition, *bounds)
    out.crs = metadata.crs
    return out
