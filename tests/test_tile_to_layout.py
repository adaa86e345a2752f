"""collect_metadata and tile_to_layout in the same CRS with nearest-neighbour sampling."""

import numpy as np
import pytest

import geopyspark_rs as gps
from layers import ramp


def raster_layer(rasters, crs="EPSG:3857", no_data=-1.0):
    recs = [(gps.ProjectedExtent(gps.Extent(*ext), proj4=crs if crs.startswith("+") else None,
                                 epsg=None if crs.startswith("+") else int(crs.split(":")[1])),
             gps.Tile(arr, "FLOAT", no_data)) for ext, arr in rasters]
    return gps.RasterLayer.from_numpy_tiles(gps.LayerType.SPATIAL, recs)


@pytest.fixture(scope="module")
def mosaic(spark):
    full = ramp((1, 6, 10))
    left, right = full[:, :, :6], full[:, :, 6:]
    return full, raster_layer([((0, 0, 6, 6), left), ((6, 0, 10, 6), right)])


def test_collect_metadata_local_layout(mosaic):
    _, layer = mosaic
    md = layer.collect_metadata(gps.LocalLayout(4))
    assert md.extent == gps.Extent(0, 0, 10, 6)
    assert md.tile_layout == gps.TileLayout(3, 2, 4, 4)
    assert md.layout_definition.extent == gps.Extent(0, -2, 12, 6)
    assert md.bounds == gps.Bounds(gps.SpatialKey(0, 0), gps.SpatialKey(2, 1))
    assert md.cell_type == "float32ud-1.0"
    assert md.crs == gps.geotrellis.crs_to_proj4(3857)
    assert layer.collect_metadata().tile_layout == gps.TileLayout(1, 1, 256, 256)


def test_tile_to_local_layout_and_stitch_back(mosaic):
    full, layer = mosaic
    tiled = layer.tile_to_layout(gps.LocalLayout(4))
    assert tiled.zoom_level is None
    assert tiled.layer_metadata.cell_type == "float32ud-1.0"
    assert sorted(tiled.collect_keys()) == [gps.SpatialKey(c, r) for c in range(3) for r in range(2)]
    stitched = tiled.stitch().cells
    assert stitched.shape == (1, 8, 12)
    np.testing.assert_array_equal(stitched[:, :6, :10], full)
    assert (stitched[:, 6:, :] == -1).all() and (stitched[:, :, 10:] == -1).all()


def test_tile_to_layout_definition_nearest(spark):
    src = ramp((1, 5, 7))
    layer = raster_layer([((0, 0, 7, 5), src)], no_data=-1.0)
    # A grid of 0.5 cells offset by 0.25: every target centre falls inside one source cell.
    ld = gps.LayoutDefinition(gps.Extent(0.25, 0.25, 4.25, 4.25), gps.TileLayout(2, 2, 4, 4))
    got = layer.tile_to_layout(ld).stitch().cells[0]
    xs = 0.25 + (np.arange(8) + 0.5) * 0.5
    ys = 4.25 - (np.arange(8) + 0.5) * 0.5
    cols = np.floor(xs).astype(int)
    rows = np.floor(5 - ys).astype(int)
    np.testing.assert_array_equal(got, src[0][np.ix_(rows, cols)])


def test_retile_a_tiled_layer(mosaic):
    full, layer = mosaic
    tiled = layer.tile_to_layout(gps.LocalLayout(4))
    again = tiled.tile_to_layout(gps.LocalLayout(2))
    assert again.layer_metadata.tile_layout == gps.TileLayout(5, 3, 2, 2)
    np.testing.assert_array_equal(again.stitch().cells[:, :6, :10], full)
    same = layer.tile_to_layout(tiled)
    np.testing.assert_array_equal(same.stitch().cells, tiled.stitch().cells)
    assert same.layer_metadata == tiled.layer_metadata


def test_tile_to_layout_errors(mosaic):
    _, layer = mosaic
    with pytest.raises(TypeError, match="Could not retile"):
        layer.tile_to_layout("local")
    other_crs = layer.tile_to_layout(gps.LocalLayout(4)).layer_metadata
    md = gps.Metadata(other_crs.bounds, "EPSG:4326", other_crs.cell_type, other_crs.extent, other_crs.layout_definition)
    with pytest.raises(ValueError, match="CRS"):
        layer.tile_to_layout(md)
    # Resampling with another method checks the layout's CRS the same way.
    with pytest.raises(ValueError, match="CRS"):
        layer.tile_to_layout(md, resample_method=gps.ResampleMethod.BILINEAR)
    with pytest.raises(ValueError, match="resample method|ResampleMethod"):
        layer.tile_to_layout(gps.LocalLayout(4), resample_method="Cubic")


def test_reduce_side_calls_are_bounded_by_output_bytes(mosaic, monkeypatch):
    """Each reduce-side kernel call gets at most ``rows_per_call`` pieces, so an output batch of large
    tiles stays far from Arrow's 2 GiB; the tiles are the same as with unbounded calls."""
    import pyarrow as pa

    from geopyspark_rs.geotrellis import exchange
    from geopyspark_rs.geotrellis import tile_contract as tc

    full, layer = mosaic
    keys = tc.key_columns(True, gps.LayerType.SPATIAL)
    tiles = [(gps.SpatialKey(c % 3, 0), gps.Tile(np.full((1, 4, 4), c, np.float32), "FLOAT", -1.0))
             for c in range(9)]
    batch = tc.records_to_table(tiles, True, gps.LayerType.SPATIAL).sort_by([("col", "ascending")]).to_batches()[0]
    kernel = exchange.combine(keys, "fill")
    unbounded = list(exchange.stream_runs(kernel)([batch]))
    bounded = list(exchange.stream_runs(kernel, rows_per_call=2)([batch]))
    assert [b.num_rows for b in unbounded] == [2, 1]  # the last run is held back to the end
    assert all(b.num_rows <= 2 for b in bounded) and len(bounded) == 3
    assert pa.Table.from_batches(bounded).equals(pa.Table.from_batches(unbounded))

    # The same end to end: one output tile per kernel call gives the same layer.
    expected = layer.tile_to_layout(gps.LocalLayout(4)).stitch().cells
    monkeypatch.setattr(exchange, "OUTPUT_BATCH_BYTES", 1)
    np.testing.assert_array_equal(layer.tile_to_layout(gps.LocalLayout(4)).stitch().cells, expected)
