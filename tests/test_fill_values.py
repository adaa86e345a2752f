"""Cells with no source: one rule for every resample method and cell type, for tiling (the padding of
partial tiles, cells outside a reprojected raster), merging, stitching and pyramids. A float cell with no
source is NaN (raw floats too: GeoTrellis zero-fills them, and a 0 reads as data); other types hold their
NoData, or for raw integer types GeoTrellis' NODATA narrowed to their width: 0 for 8- and 16-bit types,
Int.MinValue for int32raw (which GeoTrellis treats as NoData there)."""

import numpy as np
import pytest

import geopyspark_rs as gps

CELL_TYPES = [  # (numpy dtype, no_data, expected fill)
    (np.float32, None, np.nan),
    (np.float64, None, np.nan),
    (np.float32, np.nan, np.nan),
    (np.float32, -9999.0, -9999.0),
    (np.int16, -7, -7),
    (np.int16, None, 0),
    (np.uint8, None, 0),
    (np.int32, None, -2 ** 31),  # GeoTrellis' NODATA, which it reads as NoData in int32raw tiles too
]
METHODS = list(gps.ResampleMethod)


def _raster(dtype, no_data, value=7):
    cells = np.full((1, 10, 13), value, dtype)
    tile = gps.Tile(cells, gps.Tile.dtype_to_cell_type(np.dtype(dtype)), no_data)
    extent = gps.Extent(500000.0, 4100000.0, 500000.0 + 13 * 30, 4100000.0 + 10 * 30)
    return gps.RasterLayer.from_numpy_tiles(gps.LayerType.SPATIAL,
                                            [(gps.ProjectedExtent(extent, epsg=32618), tile)])


def _is(values, fill):
    return np.isnan(values) if np.isnan(fill) else values == fill


@pytest.mark.parametrize("dtype, no_data, fill", CELL_TYPES, ids=str)
def test_partial_tiles_are_padded_with_the_fill(spark, dtype, no_data, fill):
    tiled = _raster(dtype, no_data).tile_to_layout(gps.LocalLayout(8))
    whole = tiled.stitch().cells[0].astype(np.float64)
    assert whole.shape == (16, 16)
    assert (whole[:10, :13] == 7).all()
    assert _is(whole[10:, :], fill).all() and _is(whole[:, 13:], fill).all()
    # Pyramids and merges keep it.
    coarse = tiled.pyramid().levels[0].stitch().cells[0].astype(np.float64)
    assert not (coarse == 0).any() or fill == 0
    merged = gps.union([tiled, tiled]).merge().stitch().cells[0].astype(np.float64)
    np.testing.assert_array_equal(_is(merged, fill), _is(whole, fill))


@pytest.mark.parametrize("method", METHODS, ids=lambda m: m.name)
@pytest.mark.parametrize("dtype, no_data, fill", CELL_TYPES, ids=str)
def test_cells_outside_a_reprojected_raster_hold_the_fill(spark, method, dtype, no_data, fill):
    try:
        layer = _raster(dtype, no_data).tile_to_layout(gps.GlobalLayout(tile_size=64, zoom=12), target_crs=4326,
                                                       resample_method=method)
    except ValueError as e:  # a method GeoTrellis does not offer for this operation
        pytest.skip(str(e))
    cells = np.concatenate([t.cells.ravel().astype(np.float64) for _, t in layer.to_numpy_tiles()])
    data = cells[~_is(cells, fill)]
    # Every cell is the source's value or the fill: never a 0 that would read as data.
    assert _is(cells, fill).any() and data.size > 0
    # (Lanczos uses GeoTrellis' unnormalised kernel, which rings by up to about 1 % on constant data.)
    np.testing.assert_allclose(data, 7, rtol=1e-2 if method is gps.ResampleMethod.LANCZOS else 1e-6)
