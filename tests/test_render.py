"""PNG rendering of tiles and layers: pictures decoded with Pillow equal RGBA arrays computed here with
numpy from the colour map's breaks and colours."""

import io

import numpy as np
import pytest

import geopyspark_rs as gps
from geopyspark_rs.geotrellis.color import ColorMap
from geopyspark_rs.geotrellis.constants import ClassificationStrategy as CS

from layers import tiled

Image = pytest.importorskip("PIL.Image")


def decode(png):
    im = Image.open(io.BytesIO(png))
    return np.asarray(im.convert("RGBA")), im.mode


def rgba(colors):
    """uint32 0xRRGGBBAA → (..., 4) uint8."""
    c = np.asarray(colors, dtype=np.uint32)
    return np.stack([(c >> s) & 0xFF for s in (24, 16, 8, 0)], axis=-1).astype(np.uint8)


def expected(values, breaks, colors, no_data, fallback):
    """LessThanOrEqualTo written with numpy: the smallest break >= value; NaN is NoData."""
    v = np.asarray(values, dtype=np.float64)
    i = np.searchsorted(np.asarray(breaks, dtype=np.float64), v, side="left")
    out = np.where(i < len(breaks), np.asarray(colors + [0], dtype=np.uint32)[np.minimum(i, len(breaks))], fallback)
    return rgba(np.where(np.isnan(v), no_data, out).astype(np.uint32))


@pytest.mark.parametrize("n_breaks", [5, 300])  # a palette PNG, and one with more colours than a palette holds
def test_tile_png_matches_numpy(n_breaks):
    rng = np.random.default_rng(n_breaks)
    cells = rng.uniform(-10, 110, (1, 64, 48)).astype(np.float32)
    cells[0, :3, :5] = np.nan
    breaks = list(np.linspace(0, 100, n_breaks))
    cmap = ColorMap.from_colors(breaks, [0x0000FFFF, 0xFF0000FF], no_data_color=0x00000000, fallback=0x00FF00FF)
    png = gps.Tile(cells, "FLOAT", np.nan).to_png(cmap)
    got, mode = decode(png)
    assert mode in ("P", "RGB", "RGBA")
    want = expected(cells[0].astype(np.float64), breaks, cmap.cmap["colors"], 0x00000000, 0x00FF00FF)
    np.testing.assert_array_equal(got, want)
    assert (got[:3, :5, 3] == 0).all()


def test_png_kinds():
    from geopyspark_rs import _native

    # Opaque greys beyond a palette: grey with a transparent value; many RGBA colours: RGBA.
    grey = np.arange(30 * 40, dtype=np.uint32).reshape(30, 40) % 256
    pixels = rgba((grey << 24 | grey << 16 | grey << 8 | 0xFF).astype(np.uint32))
    pixels[0, 0] = 0
    got, mode = decode(_native.encode_rgba_png(pixels.tobytes(), 30, 40))
    assert mode == "LA"  # the transparent black shares its RGB with opaque black, so alpha is stored
    np.testing.assert_array_equal(got, pixels)
    pixels[0, 0] = (7, 8, 9, 0)
    got, mode = decode(_native.encode_rgba_png(pixels.tobytes(), 30, 40))
    assert mode == "RGBA" or mode == "RGB"
    assert mode == "RGB"  # one fully transparent colour no opaque one shares: RGB with a tRNS value
    np.testing.assert_array_equal(got, pixels)
    rng = np.random.default_rng(0)
    many = rng.integers(0, 256, (30, 40, 4), dtype=np.uint8)
    got, mode = decode(_native.encode_rgba_png(many.tobytes(), 30, 40))
    assert mode == "RGBA"
    np.testing.assert_array_equal(got, many)


def test_multiband_renders_as_rgb(spark):
    rgb = np.zeros((3, 8, 8), np.uint8)
    rgb[0] = 200
    rgb[1, :, :4] = 100
    rgb[2] = np.arange(8, dtype=np.uint8) * 30
    got, _ = decode(gps.Tile(rgb, "UBYTE", None).to_png())
    assert (got[..., 0] == 200).all() and (got[:, :4, 1] == 100).all() and (got[..., 3] == 255).all()
    np.testing.assert_array_equal(got[0, :, 2], np.arange(8) * 30)
    # Band counts are only known in the tasks: Spark reports the engine's message.
    layer = tiled({(0, 0): np.zeros((2, 4, 4), np.float32)})
    with pytest.raises(Exception, match="2-band tile needs a colour map"):
        layer.to_png_rdd(None).collect()
    with pytest.raises(TypeError, match="ColorMap"):
        layer.to_png_rdd({1: 2})


def test_to_png_rdd_renders_band_zero_after_pending_steps(spark):
    a = np.arange(32, dtype=np.float32).reshape(2, 4, 4)
    a[0, 0, 0] = np.nan
    layer = tiled({(0, 0): a, (1, 1): a + 16}, no_data=np.nan)
    cmap = ColorMap.from_colors([float(b) for b in range(0, 40, 4)], [0x000000FF, 0xFFFFFFFF], fallback=0xFF0000FF)
    pngs = dict((k, v) for k, v in (layer * 2).to_png_rdd(cmap).collect())
    assert set(pngs) == {gps.SpatialKey(0, 0), gps.SpatialKey(1, 1)}
    for key, base in ((gps.SpatialKey(0, 0), a), (gps.SpatialKey(1, 1), a + 16)):
        got, _ = decode(pngs[key])
        want = expected(base[0].astype(np.float64) * 2, cmap.cmap["breaks"], cmap.cmap["colors"], 0, 0xFF0000FF)
        np.testing.assert_array_equal(got, want)
    df = layer.to_png_dataframe(cmap)
    assert df.columns == ["col", "row", "png"] and df.count() == 2


def test_int_layer_with_int_map(spark):
    a = np.array([[[0, 1, 2, 3], [4, 5, gps.NO_DATA_INT, 7], [8, 9, 10, 11], [12, 13, 14, 15]]], np.int32)
    layer = tiled({(0, 0): a}, no_data=gps.NO_DATA_INT)
    cmap = ColorMap.from_break_map({3: 0x112233FF, 7: 0x445566FF, 11: 0x778899FF}, no_data_color=0x01020304,
                                   fallback=0xAABBCCDD, classification_strategy=CS.LESS_THAN_OR_EQUAL_TO)
    [(_, png)] = layer.to_png_rdd(cmap).collect()
    got, _ = decode(png)
    want = expected(np.where(a[0] == gps.NO_DATA_INT, np.nan, a[0]).astype(np.float64), [3, 7, 11],
                    [0x112233FF, 0x445566FF, 0x778899FF], 0x01020304, 0xAABBCCDD)
    np.testing.assert_array_equal(got, want)


def test_repr_png_default_ramp():
    t = gps.Tile(np.linspace(0, 1, 100, dtype=np.float64).reshape(1, 10, 10), "DOUBLE", -1.0)
    t.cells[0, 0, 0] = -1.0
    got, _ = decode(t._repr_png_())
    assert got[0, 0, 3] == 0  # NoData is transparent
    assert (got[1:, :, 3] == 255).all() and len({tuple(p) for p in got.reshape(-1, 4)}) > 20
