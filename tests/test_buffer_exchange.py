"""The neighbour-buffer exchange on Spark: ``buffer_pieces`` on the map side, a shuffle on the key columns,
``buffer_runs`` streamed over runs of equal keys; every buffered tile equals the stitched raster (NoData where
tiles are missing and around the layer) cropped to the tile grown by the buffer width."""

import numpy as np
import pytest

from geopyspark_rs import _native
from geopyspark_rs.geotrellis import tile_contract as tc
from geopyspark_rs.geotrellis.exchange import buffer_piece_schema, buffered, keyed_exchange
from layers import tiled

LAYOUT = 3  # tiles per side
TILE = 4  # cells per tile side
BANDS = 2
MISSING = {(1, 0), (2, 2)}


def _layer(dtype, no_data):
    rng = np.random.default_rng(7)
    raster = rng.integers(1, 100, (BANDS, LAYOUT * TILE, LAYOUT * TILE)).astype(dtype)
    arrays = {}
    for r in range(LAYOUT):
        for c in range(LAYOUT):
            if (c, r) not in MISSING:
                arrays[(c, r)] = raster[:, r * TILE:(r + 1) * TILE, c * TILE:(c + 1) * TILE].copy()
    layer = tiled(arrays, no_data=no_data, layout_cols=LAYOUT, layout_rows=LAYOUT)
    return layer, arrays


def _buffered(layer, width, path):
    """The layer's tiles buffered through the exchange, as {(col, row): (cell_type, ndarray)}. ``path``:
    "in place" (tiles stay where they are; strips cut in Spark SQL and collected), "shuffled" (a pending
    step puts tiles and strips through one shuffle), or "unbounded" (strips for keys outside the layer too,
    through the engine's map and reduce sides directly)."""
    if path == "in place":
        ex = buffered(layer, width)
    elif path == "shuffled":
        ex = buffered(layer * 1, width)
    else:
        keys = list(layer._key_columns)
        ex = keyed_exchange(layer, lambda batch: _native.buffer_pieces(batch, width, None),
                            buffer_piece_schema(layer.layer_type), keys,
                            lambda batch, complete: _native.buffer_runs(batch, keys, width, complete), None, 2)
    out = layer._derive(df=ex.df, head=ex.head, partitions=ex.partitions)
    result = {}
    for row in out.dataframe.collect():
        tile = tc.decode_tile(row.cell_type, row.bands, row.rows, row.cols, bytes(row.cells))
        result[(row.col, row.row)] = (row.cell_type, np.asarray(tile.cells))
    return result


@pytest.mark.parametrize("dtype, no_data, cell_type", [
    (np.float32, np.nan, "float32"),
    (np.int16, -7, "int16ud-7"),
])
@pytest.mark.parametrize("width, path", [(1, "in place"), (3, "in place"), (2, "shuffled"), (3, "unbounded"),
                                         (0, "in place")])
def test_buffered_tiles_are_the_stitched_raster_cropped(spark, dtype, no_data, cell_type, width, path):
    layer, arrays = _layer(dtype, no_data)
    # Three rows per Arrow batch: runs of one key span batches and are carried.
    key = "spark.sql.execution.arrow.maxRecordsPerBatch"
    before = spark.conf.get(key)
    spark.conf.set(key, "3")
    try:
        got = _buffered(layer, width, path)
    finally:
        spark.conf.set(key, before)

    side = LAYOUT * TILE + 2 * width
    stitched = np.full((BANDS, side, side), no_data, dtype)
    for (c, r), a in arrays.items():
        stitched[:, width + r * TILE:width + (r + 1) * TILE, width + c * TILE:width + (c + 1) * TILE] = a
    assert set(got) == set(arrays)
    for (c, r), (name, cells) in got.items():
        expected = stitched[:, r * TILE:r * TILE + TILE + 2 * width, c * TILE:c * TILE + TILE + 2 * width]
        assert name == cell_type
        assert cells.shape == (BANDS, TILE + 2 * width, TILE + 2 * width)
        np.testing.assert_array_equal(cells, expected, err_msg=f"tile ({c}, {r})")


def test_width_wider_than_a_tile_is_a_value_error(spark):
    layer, _ = _layer(np.float32, np.nan)
    batch = layer.dataframe.limit(1).toArrow().to_batches()[0]
    with pytest.raises(ValueError, match="wider than the 4×4 tile"):
        _native.buffer_pieces(batch, TILE + 1)
    assert _native.buffer_pieces(batch, 0).num_rows == 1


def test_buffer_width_is_checked_on_the_driver(spark):
    layer, _ = _layer(np.float32, np.nan)
    with pytest.raises(ValueError, match="0..4 cells wide"):
        buffered(layer, TILE + 1)
