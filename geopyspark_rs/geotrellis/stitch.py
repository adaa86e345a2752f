"""Stitching: collected tiles mosaicked into one raster on the driver by the Rust engine."""

from __future__ import annotations

import pyarrow as pa

from .. import _native
from .data_model import Tile
from .tile_contract import decode_tile


def stitch_raw(table: pa.Table):
    """Mosaic collected tiles (col, row + tile columns): ``(cell_type, bands, rows, cols, cells,
    (min_col, min_row, max_col, max_row))``."""
    if table.num_rows == 0:
        raise ValueError("cannot stitch an empty layer")
    return _native.stitch(table.combine_chunks().to_batches()[0])


def stitch(table: pa.Table) -> Tile:
    """Mosaic collected tiles (col, row + tile columns) into one Tile."""
    cell_type, bands, rows, cols, cells, _ = stitch_raw(table)
    return decode_tile(cell_type, bands, rows, cols, cells)
