"""TiledRasterLayer.pyramid: level layouts and metadata, and every level's cells against an independent
numpy 2× reduction of the level below."""

import datetime
import warnings

import numpy as np
import pytest

import geopyspark_rs as gps
from geopyspark_rs.geotrellis.tile_contract import cell_type_name

WM = 20037508.342789244
RM = gps.ResampleMethod


def _layer(tiles, layout_cols, layout_rows, tile, cell_type, zoom=None, extent=None, no_data=None, instants=None):
    """A layer of ``{(col, row[, datetime]): ndarray (bands, rows, cols)}`` tiles."""
    extent = extent or gps.Extent(0.0, 0.0, float(layout_cols), float(layout_rows))
    layout = gps.LayoutDefinition(extent, gps.TileLayout(layout_cols, layout_rows, tile, tile))
    if no_data is None and next(iter(tiles.values())).dtype.kind == "f":
        no_data = float("nan")  # float32/float64 with NaN NoData, as the metadata says
    keys = list(tiles)
    cs, rs = [k[0] for k in keys], [k[1] for k in keys]
    if instants:
        bounds = gps.Bounds(gps.SpaceTimeKey(min(cs), min(rs), min(instants)),
                            gps.SpaceTimeKey(max(cs), max(rs), max(instants)))
        lt = gps.LayerType.SPACETIME
        recs = [(gps.SpaceTimeKey(*k), gps.Tile(a, gps.Tile.dtype_to_cell_type(a.dtype), no_data))
                for k, a in tiles.items()]
    else:
        bounds = gps.Bounds(gps.SpatialKey(min(cs), min(rs)), gps.SpatialKey(max(cs), max(rs)))
        lt = gps.LayerType.SPATIAL
        recs = [(gps.SpatialKey(*k), gps.Tile(a, gps.Tile.dtype_to_cell_type(a.dtype), no_data))
                for k, a in tiles.items()]
    tw, th = (extent.xmax - extent.xmin) / layout_cols, (extent.ymax - extent.ymin) / layout_rows
    data_extent = gps.Extent(extent.xmin + min(cs) * tw, extent.ymax - (max(rs) + 1) * th,
                             extent.xmin + (max(cs) + 1) * tw, extent.ymax - min(rs) * th)
    md = gps.Metadata(bounds, "EPSG:3857", cell_type, data_extent, layout)
    return gps.TiledRasterLayer.from_numpy_tiles(lt, recs, md, zoom)


def _grid(layer, instant=None):
    """The level as one float64 array (bands, rows, cols) over its whole layout, NaN where NoData/absent."""
    tl = layer.layer_metadata.tile_layout
    nd = layer.layer_metadata.no_data_value
    out = None
    for k, t in layer.to_numpy_tiles():
        if instant is not None and k.instant != instant:
            continue
        a = np.asarray(t.cells, dtype=np.float64)
        if a.ndim == 2:
            a = a[None]
        if nd is not None and not (isinstance(nd, float) and np.isnan(nd)):
            a = np.where(a == nd, np.nan, a)
        if out is None:
            out = np.full((a.shape[0], tl.layoutRows * tl.tileRows, tl.layoutCols * tl.tileCols), np.nan)
        out[:, k.row * tl.tileRows:(k.row + 1) * tl.tileRows, k.col * tl.tileCols:(k.col + 1) * tl.tileCols] = a
    return out


def _reduce(g, method, integer=False):
    """The independent reference: 2× reduction of each 2×2 block (format §5.5)."""
    if method == RM.NEAREST_NEIGHBOR:
        return g[:, 1::2, 1::2]
    b, h, w = g.shape
    blocks = g.reshape(b, h // 2, 2, w // 2, 2)
    f = {RM.AVERAGE: np.nanmean, RM.MAX: np.nanmax, RM.MIN: np.nanmin, RM.MEDIAN: np.nanmedian}[method]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN blocks
        out = f(blocks, axis=(2, 4))
    return np.trunc(out) if integer else out


def _check_levels(pyr, method, integer=False, instant=None, rtol=0.0):
    zooms = sorted(pyr.levels, reverse=True)
    for z in zooms[1:]:
        below, level = _grid(pyr.levels[z + 1], instant), _grid(pyr.levels[z], instant)
        expected = _reduce(below, method, integer)
        h, w = expected.shape[1:]
        assert level.shape[1] >= h and level.shape[2] >= w
        if pyr.levels[z].layer_metadata.cell_type.startswith("float32"):
            expected = expected.astype(np.float32).astype(np.float64)
        np.testing.assert_allclose(level[:, :h, :w], expected, rtol=rtol, atol=0)


def _random_tiles(keys, tile, dtype, bands=1, seed=0, nan_fraction=0.1, no_data=None, lo=-1000, hi=1000):
    rng = np.random.default_rng(seed)
    tiles = {}
    for k in keys:
        if np.dtype(dtype).kind == "f":
            a = rng.uniform(lo, hi, (bands, tile, tile)).astype(dtype)
            a[rng.random(a.shape) < nan_fraction] = np.nan
        else:
            a = rng.integers(lo, hi, (bands, tile, tile)).astype(dtype)
            a[rng.random(a.shape) < nan_fraction] = no_data
        tiles[k] = a
    return tiles


GLOBAL_KEYS = [(0, 0), (1, 0), (0, 1), (1, 1), (5, 6), (7, 7), (4, 2)]


def _global(tiles, zoom=3, tile=256, cell_type="float32", **kw):
    n = 2 ** zoom
    return _layer(tiles, n, n, tile, cell_type, zoom=zoom, extent=gps.Extent(-WM, -WM, WM, WM), **kw)


@pytest.mark.parametrize("method", [RM.NEAREST_NEIGHBOR, RM.AVERAGE, RM.MAX, RM.MIN])
def test_global_layout_levels_match_numpy(spark, method):
    layer = _global(_random_tiles(GLOBAL_KEYS, 256, np.float32))
    pyr = layer.pyramid(method)
    assert isinstance(pyr, gps.Pyramid)
    assert sorted(pyr.levels) == [0, 1, 2, 3] and pyr.max_zoom == 3
    for z, level in pyr.levels.items():
        tl = level.layer_metadata.tile_layout
        assert (tl.layoutCols, tl.layoutRows, tl.tileCols, tl.tileRows) == (2 ** z, 2 ** z, 256, 256)
        assert level.zoom_level == z
        assert level.layer_metadata.layout_definition.extent == gps.Extent(-WM, -WM, WM, WM)
        assert level.layer_metadata.cell_type == "float32"
    b = pyr.levels[2].layer_metadata.bounds
    assert (b.minKey.col, b.minKey.row, b.maxKey.col, b.maxKey.row) == (0, 0, 3, 3)
    assert sorted((k.col, k.row) for k in pyr.levels[2].collect_keys()) == [(0, 0), (2, 1), (2, 3), (3, 3)]
    assert pyr.levels[0].count() == 1
    m0 = pyr.levels[0].layer_metadata
    assert m0.extent == layer.layer_metadata.extent  # clipped to the data, which lies inside the new bounds
    _check_levels(pyr, method)


def test_nearest_takes_bottom_right_cell(spark):
    tile = np.arange(16 * 16, dtype=np.float32).reshape(1, 16, 16)
    layer = _global({(0, 0): tile}, zoom=1, tile=16)
    level0 = _grid(layer.pyramid().levels[0])
    np.testing.assert_array_equal(level0[0, :8, :8], tile[0, 1::2, 1::2])
    assert np.isnan(level0[0, 8:, :]).all() and np.isnan(level0[0, :, 8:]).all()


@pytest.mark.parametrize("dtype,cell_type,no_data", [
    (np.int16, "int16", -32768), (np.uint16, "uint16ud7", 7), (np.int32, "int32", -2 ** 31),
])
def test_integer_average_truncates_and_skips_nodata(spark, dtype, cell_type, no_data):
    lo = 0 if np.dtype(dtype).kind == "u" else -500
    tiles = _random_tiles(GLOBAL_KEYS[:4], 32, dtype, no_data=no_data, lo=lo, hi=500, nan_fraction=0.2)
    layer = _global(tiles, zoom=2, tile=32, cell_type=cell_type, no_data=no_data)
    assert layer.layer_metadata.cell_type == cell_type
    pyr = layer.pyramid(RM.AVERAGE)
    assert all(lv.layer_metadata.cell_type == cell_type for lv in pyr.levels.values())
    _check_levels(pyr, RM.AVERAGE, integer=True)
    _check_levels(layer.pyramid(RM.MAX), RM.MAX, integer=True)


def test_multiband_median_and_bilinear(spark):
    tiles = _random_tiles(GLOBAL_KEYS[:3], 16, np.float64, bands=3, nan_fraction=0.0)
    layer = _global(tiles, zoom=2, tile=16, cell_type="float64")
    pyr = layer.pyramid(RM.MEDIAN)
    _check_levels(pyr, RM.MEDIAN)
    # Bilinear at the shared corner of a 2×2 block is the block's mean.
    _check_levels(layer.pyramid(RM.BILINEAR), RM.AVERAGE, rtol=1e-9)
    assert _grid(pyr.levels[0]).shape == (3, 16, 16)


def test_spacetime_pyramids_each_instant(spark):
    t0, t1 = datetime.datetime(2020, 1, 1), datetime.datetime(2020, 6, 1)
    tiles = {}
    for i, t in enumerate((t0, t1)):
        for k, a in _random_tiles(GLOBAL_KEYS[:4], 16, np.float32, seed=i).items():
            tiles[(k[0], k[1], t)] = a
    layer = _global(tiles, zoom=2, tile=16, instants=[t0, t1])
    pyr = layer.pyramid(RM.AVERAGE)
    assert pyr.layer_type == gps.LayerType.SPACETIME and sorted(pyr.levels) == [0, 1, 2]
    keys = pyr.levels[1].collect_keys()
    assert sorted((k.col, k.row, k.instant) for k in keys) == [(0, 0, t0), (0, 0, t1)]
    b = pyr.levels[0].layer_metadata.bounds
    assert (b.minKey.instant, b.maxKey.instant) == (t0, t1)
    for t in (t0, t1):
        _check_levels(pyr, RM.AVERAGE, instant=t)


def test_local_layout_16x16(spark):
    keys = [(c, r) for c in range(16) for r in range(16)]
    tiles = {k: np.full((1, 4, 4), k[0] * 16 + k[1], np.float32) + np.arange(16, dtype=np.float32).reshape(4, 4)
             for k in keys}
    layer = _layer(tiles, 16, 16, 4, "float32")
    assert layer.zoom_level is None
    pyr = layer.pyramid()
    assert pyr.max_zoom == 4
    assert [pyr.levels[z].layer_metadata.tile_layout.layoutCols for z in (4, 3, 2, 1, 0)] == [16, 8, 4, 2, 1]
    assert [pyr.levels[z].zoom_level for z in (4, 3, 2, 1, 0)] == [4, 3, 2, 1, 0]
    assert pyr.levels[0].count() == 1
    _check_levels(pyr, RM.NEAREST_NEIGHBOR)


def test_local_layout_odd_sizes(spark):
    keys = [(c, r) for c in range(5) for r in range(3)]
    rng = np.random.default_rng(3)
    tiles = {k: rng.uniform(0, 100, (1, 4, 4)).astype(np.float32) for k in keys}
    layer = _layer(tiles, 5, 3, 4, "float32")
    pyr = layer.pyramid()
    assert pyr.max_zoom == 3
    dims = [(pyr.levels[z].layer_metadata.tile_layout.layoutCols, pyr.levels[z].layer_metadata.tile_layout.layoutRows)
            for z in (3, 2, 1, 0)]
    assert dims == [(5, 3), (3, 2), (2, 1), (1, 1)]
    # Level 2 (3×2 tiles over the same extent): each cell the level-3 cell under its centre, as GeoTrellis'
    # nearest merge samples (on aligned levels the same rule takes the bottom-right cell of a 2×2 block).
    full = _grid(layer)  # 12 × 20 cells
    level2 = _grid(pyr.levels[2])  # 8 × 12 cells
    rows = np.floor((np.arange(8) + 0.5) * full.shape[1] / 8).astype(int)
    cols = np.floor((np.arange(12) + 0.5) * full.shape[2] / 12).astype(int)
    np.testing.assert_array_equal(level2, full[:, rows][:, :, cols])
    b = pyr.levels[2].layer_metadata.bounds
    assert (b.minKey.col, b.minKey.row, b.maxKey.col, b.maxKey.row) == (0, 0, 2, 1)
    assert pyr.levels[0].count() == 1


@pytest.mark.parametrize("tile", [5, 255])
@pytest.mark.parametrize("method", [RM.NEAREST_NEIGHBOR, RM.AVERAGE, RM.MAX])
def test_odd_tile_sizes_on_zoomed_layouts(spark, tile, method):
    # ZoomedLayoutScheme keeps the tile size: a coarser cell's 2×2 block straddles two tiles of the level
    # below, so each level must equal the 2× reduction of the whole level below.
    layer = _global(_random_tiles(GLOBAL_KEYS, tile, np.float32), zoom=3, tile=tile)
    pyr = layer.pyramid(method)
    assert sorted(pyr.levels) == [0, 1, 2, 3]
    for z, level in pyr.levels.items():
        tl = level.layer_metadata.tile_layout
        assert (tl.layoutCols, tl.tileCols, tl.tileRows) == (2 ** z, tile, tile)
    _check_levels(pyr, method)


def test_odd_tile_sizes_on_local_layouts(spark):
    rng = np.random.default_rng(5)
    # An even local layout (4×4 → 2×2 → 1×1): quadrant levels, reduced as one raster.
    even = _layer({(c, r): rng.uniform(0, 100, (1, 5, 5)).astype(np.float32) for c in range(4) for r in range(4)},
                  4, 4, 5, "float32")
    pyr = even.pyramid(RM.AVERAGE)
    assert [pyr.levels[z].layer_metadata.tile_layout.tileCols for z in (2, 1, 0)] == [5, 5, 5]
    _check_levels(pyr, RM.AVERAGE, rtol=1e-6)
    # An odd one (3×3 tiles of 5×5 → 2×2): each cell the cell under its centre one level below.
    odd = _layer({(c, r): rng.uniform(0, 100, (1, 5, 5)).astype(np.float32) for c in range(3) for r in range(3)},
                 3, 3, 5, "float32")
    pyr = odd.pyramid()
    full, level1 = _grid(odd), _grid(pyr.levels[1])
    assert level1.shape == (1, 10, 10)
    idx = np.floor((np.arange(10) + 0.5) * 15 / 10).astype(int)
    np.testing.assert_array_equal(level1, full[:, idx][:, :, idx])
    assert pyr.levels[0].count() == 1


def test_catalog_guide_spacetime_tile_size_5(spark, tmp_path):
    # GeoPySpark's catalog guide: a SPACETIME layer tiled to GlobalLayout(tile_size=5), pyramided, every
    # level written and read back.
    t = datetime.datetime(2017, 1, 1, tzinfo=datetime.timezone.utc)
    cells = np.random.default_rng(1).uniform(0, 50, (1, 40, 60)).astype(np.float32)
    tile = gps.Tile(cells, "float32", None)
    extent = gps.Extent(10.0, 40.0, 16.0, 44.0)
    raster = gps.RasterLayer.from_numpy_tiles(
        gps.LayerType.SPACETIME, [(gps.TemporalProjectedExtent(extent, t, epsg=4326), tile)])
    tiled = raster.tile_to_layout(gps.GlobalLayout(tile_size=5), target_crs=3857)
    assert tiled.layer_metadata.tile_layout.tileCols == 5
    pyr = tiled.pyramid()
    assert pyr.max_zoom == tiled.zoom_level and sorted(pyr.levels) == list(range(tiled.zoom_level + 1))
    uri = str(tmp_path / "catalog")
    for level in pyr.levels.values():
        gps.write(uri, "guide", level, time_unit=gps.TimeUnit.DAYS)
    for z in (tiled.zoom_level, tiled.zoom_level - 2, 0):
        back = gps.query(uri, "guide", z)
        assert back.layer_metadata.tile_layout.tileCols == 5
        key_time = t.replace(tzinfo=None)  # keys come back naive UTC, as in GeoPySpark
        got = _grid(back, key_time)
        assert got is not None
        np.testing.assert_array_equal(got, _grid(pyr.levels[z], key_time))
    # The pyramid keeps the data: a coarse level's mean is the base layer's, within resampling error.
    assert abs(np.nanmean(_grid(pyr.levels[tiled.zoom_level - 1], key_time)) - np.nanmean(cells)) < 2.0


def test_single_tile_is_zoom_zero(spark):
    layer = _layer({(0, 0): np.ones((1, 4, 4), np.float32)}, 1, 1, 4, "float32")
    pyr = layer.pyramid()
    assert pyr.max_zoom == 0 and list(pyr.levels) == [0]
    assert pyr.levels[0].zoom_level == 0 and pyr.levels[0].count() == 1


def test_bad_arguments(spark):
    layer = _global({(0, 0): np.ones((1, 16, 16), np.float32)}, zoom=1, tile=16)
    for m in (RM.CUBIC_CONVOLUTION, RM.CUBIC_SPLINE, RM.LANCZOS, "CubicSpline"):
        with pytest.raises(ValueError, match="Cubic|Lanczos|CUBIC|LANCZOS"):
            layer.pyramid(m)
    with pytest.raises(ValueError):
        layer.pyramid("nope")
    empty = gps.TiledRasterLayer.from_dataframe(
        gps.LayerType.SPATIAL, layer.dataframe.limit(0), layer.layer_metadata, 1)
    # As GeoPySpark: metadata with bounds but no tiles gives empty levels; metadata with no bounds raises.
    assert all(level.count() == 0 for level in empty.pyramid().levels.values())
    m = layer.layer_metadata
    no_bounds = gps.TiledRasterLayer.from_dataframe(
        gps.LayerType.SPATIAL, layer.dataframe.limit(0),
        gps.Metadata(None, m.crs, m.cell_type, m.extent, m.layout_definition), 1)
    with pytest.raises(ValueError, match="empty layer"):
        no_bounds.pyramid()
    not_pow2 = _layer({(0, 0): np.ones((1, 16, 16), np.float32)}, 3, 2, 16, "float32", zoom=2)
    with pytest.raises(ValueError, match="power-of-two"):
        not_pow2.pyramid()


def test_pyramid_write_and_read_back(spark, tmp_path):
    layer = _global(_random_tiles(GLOBAL_KEYS[:4], 16, np.float32), zoom=2, tile=16)
    pyr = layer.pyramid(RM.AVERAGE)
    uri = str(tmp_path / "catalog")
    pyr.write(uri, "pyr")
    back = gps.query(uri, "pyr", 1)
    assert back.layer_metadata.tile_layout == pyr.levels[1].layer_metadata.tile_layout
    np.testing.assert_array_equal(_grid(back), _grid(pyr.levels[1]))


def test_partition_strategy_and_partition_count(spark):
    layer = _global(_random_tiles(GLOBAL_KEYS[:4], 16, np.float32), zoom=2, tile=16)
    strategy = gps.SpatialPartitionStrategy(4)
    pyr = layer.pyramid(partition_strategy=strategy)
    assert pyr.levels[0].get_partition_strategy() == strategy
    assert pyr.levels[1].getNumPartitions() == 4
    # Without a strategy, coarse levels get about 16 tiles per partition (one tile at zoom 0: one partition).
    plain = layer.pyramid()
    assert plain.levels[0].getNumPartitions() == 1


def test_local_pyramid_from_a_raster(spark):
    """GeoPySpark's test_local_pyramid: one 256×256 raster tiled to LocalLayout(256) and LocalLayout(16)."""
    raster = gps.RasterLayer.from_numpy_tiles(gps.LayerType.SPATIAL, [
        (gps.ProjectedExtent(gps.Extent(0.0, 0.0, 10.0, 10.0), epsg=3857),
         gps.Tile(np.zeros((1, 256, 256), np.float32), "FLOAT", None))])
    assert raster.tile_to_layout(gps.LocalLayout(256)).pyramid().max_zoom == 0
    pyr = raster.tile_to_layout(gps.LocalLayout(16)).pyramid()
    assert pyr.max_zoom == 4
    assert [pyr.levels[z].layer_metadata.tile_layout.layoutCols for z in (4, 3, 2, 1, 0)] == [16, 8, 4, 2, 1]
    assert pyr.levels[0].stitch().cells.shape == (1, 16, 16)
