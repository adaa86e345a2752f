"""Focal operations against an independent reference on the whole raster: ``scipy.ndimage.generic_filter``
with the neighbourhood's footprint built here from its definition, NaN-aware where GeoTrellis skips NoData,
and cells off the raster outside every neighbourhood. Tiled results must equal it for every tiling (no
seams). Tolerances: float64 results 1e-9 relative, float32 results 1e-6 relative."""

import math
from pathlib import Path

import numpy as np
import pytest

import geopyspark_rs as gps
from geopyspark_rs.geotrellis.neighborhood import Annulus, Circle, Nesw, Square, Wedge
from test_passes import python_passes

ndi = pytest.importorskip("scipy.ndimage")

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "geotiff"

SHAPES = [Square(1), Square(2), Circle(1.5), Circle(2), Nesw(2), Wedge(2, 30, 150), Wedge(2.5, 300, 60),
          Annulus(1, 2)]
STATS = [gps.Operation.SUM, gps.Operation.MIN, gps.Operation.MAX, gps.Operation.MEAN, gps.Operation.MEDIAN,
         gps.Operation.MODE, gps.Operation.STANDARD_DEVIATION, gps.Operation.VARIANCE]


# --- The reference -------------------------------------------------------------------------------------------

def footprint(shape):
    """The cells a neighbourhood includes, from GeoTrellis' definitions: distances between cell centres,
    angles counter-clockwise from east with north up."""
    r = shape.param_1 if not isinstance(shape, Annulus) else shape.param_2
    e = int(r) if isinstance(shape, (Square, Nesw)) else math.ceil(r)
    dy, dx = np.mgrid[-e:e + 1, -e:e + 1]
    d2 = dx * dx + dy * dy
    if isinstance(shape, Square):
        return np.ones(dx.shape, bool)
    if isinstance(shape, Nesw):
        return (dx == 0) | (dy == 0)
    if isinstance(shape, Circle):
        return d2 <= r * r
    if isinstance(shape, Annulus):
        return (shape.param_1 ** 2 <= d2) & (d2 <= r * r)
    angle = np.degrees(np.arctan2(-dy, dx)) % 360
    start, end = shape.param_2 % 360, shape.param_3 % 360
    inside = (start <= angle) & (angle <= end) if start <= end else (angle >= start) | (angle <= end)
    return ((d2 <= r * r) & inside) | (d2 == 0)


def _median(t):
    t = np.sort(t)
    n = len(t)
    return t[n // 2] if n % 2 else np.trunc((t[n // 2 - 1] + t[n // 2]) / 2)


def _mode(t):
    values, counts = np.unique(t, return_counts=True)
    best = counts == counts.max()
    return values[best][0] if best.sum() == 1 else np.nan


def reference(raster, op, shape):
    """The focal ``op`` of a 2-D float64 raster (NaN = NoData) over ``shape`` with cells off the raster
    excluded. Median and mode work on integer values (truncated)."""

    def stat(v):
        v = v[~np.isnan(v)]
        if v.size == 0:
            return np.nan
        if op is gps.Operation.SUM:
            return v.sum()
        if op is gps.Operation.MIN:
            return v.min()
        if op is gps.Operation.MAX:
            return v.max()
        if op is gps.Operation.MEAN:
            return v.mean()
        if op is gps.Operation.STANDARD_DEVIATION:
            return v.std()
        if op is gps.Operation.VARIANCE:
            return v.var()
        t = np.trunc(v)  # GeoTrellis' median and mode work on integers, also for float rasters
        return _median(t) if op is gps.Operation.MEDIAN else _mode(t)

    return ndi.generic_filter(raster, stat, footprint=footprint(shape), mode="constant", cval=np.nan)


# --- Layers cut from a raster --------------------------------------------------------------------------------

def layer_of(raster, tile, no_data, crs="EPSG:3857", cell=30.0):
    """A SPATIAL TiledRasterLayer of ``raster`` (bands × rows × cols) cut into ``tile``-cell tiles; the
    partial tiles are padded with NoData."""
    bands, rows, cols = raster.shape
    lc, lr = -(-cols // tile), -(-rows // tile)
    padded = np.full((bands, lr * tile, lc * tile), no_data, raster.dtype)
    padded[:, :rows, :cols] = raster
    extent = gps.Extent(500000.0, 4000000.0, 500000.0 + lc * tile * cell, 4000000.0 + lr * tile * cell)
    layout = gps.LayoutDefinition(extent, gps.TileLayout(lc, lr, tile, tile))
    cell_type = gps.Tile.dtype_to_cell_type(raster.dtype)
    tiles = [(gps.SpatialKey(c, r), gps.Tile(padded[:, r * tile:(r + 1) * tile, c * tile:(c + 1) * tile].copy(),
                                             cell_type, no_data))
             for r in range(lr) for c in range(lc)]
    from geopyspark_rs.geotrellis.tile_contract import cell_type_name

    bounds = gps.Bounds(gps.SpatialKey(0, 0), gps.SpatialKey(lc - 1, lr - 1))
    md = gps.Metadata(bounds, crs, cell_type_name(cell_type, no_data), extent, layout)
    return gps.TiledRasterLayer.from_numpy_tiles(gps.LayerType.SPATIAL, tiles, md)


def raster_of(layer, rows, cols):
    """The layer's tiles stitched and cropped to ``rows × cols``, NoData as NaN: (bands, rows, cols) float64,
    and the result's cell type."""
    tiles = layer.to_numpy_tiles()
    tl = layer.layer_metadata.tile_layout
    bands = tiles[0][1].cells.shape[0]
    out = np.full((bands, tl.layoutRows * tl.tileRows, tl.layoutCols * tl.tileCols), np.nan)
    for key, t in tiles:
        cells = t.cells.astype(np.float64)
        if t.no_data_value is not None and not np.isnan(t.no_data_value):
            cells[t.cells == t.no_data_value] = np.nan
        out[:, key.row * tl.tileRows:(key.row + 1) * tl.tileRows, key.col * tl.tileCols:(key.col + 1) * tl.tileCols] = cells
    return out[:, :rows, :cols], layer.layer_metadata.cell_type


def assert_close(got, expected, rtol, what):
    assert np.array_equal(np.isnan(got), np.isnan(expected)), f"{what}: NoData cells differ"
    ok = ~np.isnan(expected)
    np.testing.assert_allclose(got[ok], expected[ok], rtol=rtol, atol=rtol, err_msg=what)


@pytest.fixture(scope="module")
def int_raster():
    """Small integers with NoData holes (a block and scattered cells)."""
    rng = np.random.default_rng(12)
    r = rng.integers(0, 9, (1, 45, 52)).astype(np.int16)
    r[0, 10:14, 20:27] = -9999
    r[0, rng.integers(0, 45, 60), rng.integers(0, 52, 60)] = -9999
    return r


@pytest.fixture(scope="module")
def float_raster():
    """A real DEM (GeoTrellis' elevation.tif) cropped, or a smooth synthetic surface when it is absent."""
    path = DATA / "elevation.tif"
    if path.exists():
        rasterio = pytest.importorskip("rasterio")
        with rasterio.open(path) as src:
            return src.read(window=((100, 160), (120, 177))).astype(np.float32)
    y, x = np.mgrid[0:60, 0:57]
    return (100 + 20 * np.sin(x / 7.0) * np.cos(y / 5.0) + x * 0.5).astype(np.float32)[None]


def _nan(raster, no_data):
    a = raster[0].astype(np.float64)
    if no_data is not None and not np.isnan(no_data):
        a[raster[0] == no_data] = np.nan
    return a


# --- Every operation × neighbourhood ---------------------------------------------------------------------------

@pytest.mark.parametrize("op", STATS, ids=lambda o: o.name)
def test_integer_raster_every_neighborhood(spark, int_raster, op):
    reference_raster = _nan(int_raster, -9999)
    layer = layer_of(int_raster, 16, -9999)
    for shape in SHAPES:
        got, cell_type = raster_of(layer.focal(op, shape), *int_raster.shape[1:])
        expected = reference(reference_raster, op, shape)
        if cell_type.startswith("int"):
            expected = np.trunc(expected)  # integer results are truncated as GeoTrellis' ints are
        assert_close(got[0], expected, 1e-9, f"{op.name} {shape} ({cell_type})")


@pytest.mark.parametrize("op", STATS, ids=lambda o: o.name)
def test_float_raster_every_neighborhood(spark, float_raster, op):
    reference_raster = _nan(float_raster, None)
    layer = layer_of(float_raster, 25, np.nan)
    for shape in SHAPES:
        got, cell_type = raster_of(layer.focal(op, shape), *float_raster.shape[1:])
        expected = reference(reference_raster, op, shape)
        if cell_type == "float32":
            expected = expected.astype(np.float32).astype(np.float64)
        assert_close(got[0], expected, 1e-6 if cell_type == "float32" else 1e-9, f"{op.name} {shape}")


@pytest.mark.parametrize("tile", [64, 100, 256])
@pytest.mark.parametrize("op, shape", [(gps.Operation.MEAN, Square(1)), (gps.Operation.MEDIAN, Circle(2)),
                                       (gps.Operation.MAX, Square(3)), (gps.Operation.MEDIAN, Square(3))],
                         ids=str)
def test_no_seams_for_any_tiling(spark, tile, op, shape):
    rng = np.random.default_rng(tile)
    raster = rng.integers(0, 1000, (1, 130, 270)).astype(np.int32)
    raster[0, 60:70, 95:110] = -1
    layer = layer_of(raster, tile, -1)
    if tile == 100:
        layer = layer.map_cells(lambda cells, nd: cells)  # a pending step: tiles and strips are shuffled
    got, _ = raster_of(layer.focal(op, shape), 130, 270)
    expected = reference(_nan(raster, -1), op, shape)
    assert_close(got[0], np.trunc(expected) if op is not gps.Operation.MEAN else expected, 1e-9,
                 f"{op.name} {shape} in {tile}-cell tiles")


def test_every_band_is_processed(spark, int_raster):
    two = np.concatenate([int_raster, np.where(int_raster == -9999, -9999, 8 - int_raster)]).astype(np.int16)
    got, _ = raster_of(layer_of(two, 16, -9999).focal(gps.Operation.SUM, Square(1)), *two.shape[1:])
    for b in range(2):
        assert_close(got[b], reference(_nan(two[b:b + 1], -9999), gps.Operation.SUM, Square(1)), 1e-9,
                     f"band {b}")


def test_missing_tiles_give_partial_neighbourhoods(spark, int_raster):
    layer = layer_of(int_raster, 16, -9999)
    # Drop tile (1, 1): its cells are off the layer for its neighbours.
    sparse = layer._where("NOT (col = 1 AND row = 1)")
    got, _ = raster_of(sparse.focal(gps.Operation.SUM, Square(2)), *int_raster.shape[1:])
    holed = _nan(int_raster, -9999)
    holed[16:32, 16:32] = np.nan
    expected = reference(holed, gps.Operation.SUM, Square(2))
    expected[16:32, 16:32] = np.nan  # no tile there, no result
    assert_close(got[0], expected, 1e-9, "sum next to a missing tile")


def test_result_cell_types_and_metadata(spark, int_raster):
    layer = layer_of(int_raster, 16, -9999)
    assert layer.focal(gps.Operation.SUM, Square(1)).layer_metadata.cell_type == layer.layer_metadata.cell_type
    mean = layer.focal(gps.Operation.MEAN, Square(1))
    assert mean.layer_metadata.cell_type == "float64"
    assert mean.layer_metadata.bounds == layer.layer_metadata.bounds
    assert mean.to_numpy_tiles()[0][1].cells.dtype == np.float64


def test_neighborhood_given_by_enum_and_params(spark, int_raster):
    layer = layer_of(int_raster, 16, -9999)
    by_instance = raster_of(layer.focal(gps.Operation.MAX, Wedge(2, 30, 150)), 45, 52)[0]
    by_enum = raster_of(layer.focal(gps.Operation.MAX, gps.Neighborhood.WEDGE, 2, 30, 150), 45, 52)[0]
    by_name = raster_of(layer.focal("Max", "Wedge", 2, 30, 150), 45, 52)[0]
    np.testing.assert_array_equal(by_instance, by_enum)
    np.testing.assert_array_equal(by_instance, by_name)


def test_focal_chain_is_one_pass_per_stage(spark, float_raster):
    layer = layer_of(float_raster, 25, np.nan).cache()
    layer.count()
    # Tiles in the JVM: the strips are cut there and joined to their tiles, so the kernel, the step and
    # the reduction are the one Python pass.
    chain = layer.focal(gps.Operation.MEAN, Square(1)) + 1
    assert python_passes(spark, chain.get_min_max) == ["MapInArrow"]
    # Pending steps run in the map side's pass, which emits tiles and strips; the rest is the second pass.
    chain = (layer * 2).focal(gps.Operation.MEAN, Square(1)) + 1
    assert python_passes(spark, chain.get_min_max) == ["MapInArrow"] * 2
    layer.unpersist()


# --- Neighbourhood classes and bad input ---------------------------------------------------------------------

def test_neighborhood_classes_match_geopyspark():
    assert str(Square(1)) == repr(Square(1)) == "Square(extent=1.0)"
    assert repr(Wedge(2, 30, 150)) == "Wedge(radius=2.0, start_angle=30.0, end_angle=150.0)"
    assert repr(Annulus(1, 2)) == "Annulus(inner_radius=1.0, outer_radius=2.0)"
    assert repr(Circle(1.5)) == "Circle(radius=1.5)" and repr(Nesw(3)) == "Nesw(extent=3.0)"
    n = Annulus(1, 2)
    assert (n.name, n.param_1, n.param_2, n.param_3, n.inner_radius) == ("Annulus", 1.0, 2.0, 0.0, 1)
    assert gps.Square is Square and gps.Neighborhood is gps.geotrellis.constants.Neighborhood


@pytest.mark.parametrize("call, exc, match", [
    (lambda l: l.focal("Blur", Square(1)), ValueError, "unknown focal operation 'Blur'"),
    (lambda l: l.focal(gps.Operation.SUM, "Hexagon", 1), ValueError, "unknown neighborhood 'Hexagon'"),
    (lambda l: l.focal(gps.Operation.SUM), ValueError, "neighborhood must be set"),
    (lambda l: l.focal(gps.Operation.SUM, Square(-1)), ValueError, "non-negative extent"),
    (lambda l: l.focal(gps.Operation.SUM, Circle(-2)), ValueError, "radius"),
    (lambda l: l.focal(gps.Operation.SUM, Annulus(3, 2)), ValueError, "radius"),
    (lambda l: l.focal(gps.Operation.SUM, Square(17)), ValueError, "more than the 16×16 tiles"),
    (lambda l: l.slope("steep"), TypeError, "needs a zfactor_calculator"),
    (lambda l: gps.hillshade(l.to_numpy_tiles, 1.0), TypeError, "needs a TiledRasterLayer"),
])
def test_bad_input(spark, int_raster, call, exc, match):
    with pytest.raises(exc, match=match):
        call(layer_of(int_raster, 16, -9999))
