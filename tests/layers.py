"""Small layers built from numpy for the tests."""

import numpy as np

import geopyspark_rs as gps


def metadata(cell_type, layout_cols=2, layout_rows=2, tile=4, crs="EPSG:4326", spacetime=False, instants=None):
    extent = gps.Extent(0.0, 0.0, float(layout_cols), float(layout_rows))
    layout = gps.LayoutDefinition(extent, gps.TileLayout(layout_cols, layout_rows, tile, tile))
    if spacetime:
        bounds = gps.Bounds(gps.SpaceTimeKey(0, 0, instants[0]), gps.SpaceTimeKey(layout_cols - 1, layout_rows - 1, instants[-1]))
    else:
        bounds = gps.Bounds(gps.SpatialKey(0, 0), gps.SpatialKey(layout_cols - 1, layout_rows - 1))
    return gps.Metadata(bounds, crs, cell_type, extent, layout)


def tiled(arrays, no_data=None, layout_cols=2, layout_rows=2):
    """A SPATIAL TiledRasterLayer with the given {(col, row): ndarray} tiles (cell type from the dtype)."""
    from geopyspark_rs.geotrellis.tile_contract import cell_type_name

    tiles = []
    for (c, r), arr in arrays.items():
        tiles.append((gps.SpatialKey(c, r), gps.Tile(arr, gps.Tile.dtype_to_cell_type(arr.dtype), no_data)))
    first = tiles[0][1]
    tile = first.cells.shape[-1]
    md = metadata(cell_type_name(first.cell_type, no_data), layout_cols, layout_rows, tile)
    return gps.TiledRasterLayer.from_numpy_tiles(gps.LayerType.SPATIAL, tiles, md)


def cells(layer):
    """{(col, row): ndarray (bands, rows, cols)} of a tiled layer."""
    return {(k.col, k.row): t.cells for k, t in layer.to_numpy_tiles()}


def ramp(shape, dtype=np.float32, start=0):
    return (np.arange(int(np.prod(shape))) + start).reshape(shape).astype(dtype)


def stitched_over_bounds(layer):
    """Band 0 of a tiled layer placed over its metadata's key bounds (keys without a tile stay NaN)."""
    md = layer.layer_metadata
    b = md.bounds
    tc, tr = md.tile_layout.tileCols, md.tile_layout.tileRows
    out = np.full(((b.maxKey.row - b.minKey.row + 1) * tr, (b.maxKey.col - b.minKey.col + 1) * tc), np.nan)
    for k, t in layer.to_numpy_tiles():
        r, c = (k.row - b.minKey.row) * tr, (k.col - b.minKey.col) * tc
        out[r:r + tr, c:c + tc] = t.cells[0]
    return out
