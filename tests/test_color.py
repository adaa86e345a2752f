"""Colour maps and ramps against GeoTrellis' rules (ColorMap.scala, ColorRamp.scala, ColorRamps.scala) and
GeoPySpark's color module; expected colours are computed here independently with numpy."""

import os
import re
import subprocess

import numpy as np
import pytest

import geopyspark_rs as gps
from geopyspark_rs.geotrellis.color import (ColorMap, get_colors_from_colors, get_colors_from_matplotlib,
                                            nlcd_color_map, ramp_colors)
from geopyspark_rs.geotrellis.constants import ClassificationStrategy as CS
from geopyspark_rs.geotrellis.constants import ColorRamp
from geopyspark_rs.geotrellis._ramps import RAMPS, greyscale

# A bare clone of locationtech/geotrellis to compare the ramps with (the test skips without one).
GEOTRELLIS = os.environ.get("GEOTRELLIS_GIT_DIR", "/work/.mirror/locationtech+geotrellis/repo")


def _geotrellis_ramps():
    """Every named ramp parsed from GeoTrellis' own ColorRamps.scala, when a GeoTrellis checkout exists."""
    try:
        files = subprocess.run(["git", f"--git-dir={GEOTRELLIS}", "ls-tree", "-r", "--name-only", "HEAD"],
                               capture_output=True, text=True, check=True).stdout.split()
        path = next(f for f in files if f.endswith("render/ColorRamps.scala"))
        src = subprocess.run(["git", f"--git-dir={GEOTRELLIS}", "show", f"HEAD:{path}"], capture_output=True,
                             text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError, StopIteration):
        return None
    return {m.group(1): [int(h, 16) for h in re.findall(r"0x([0-9A-Fa-f]{8})", m.group(2))]
            for m in re.finditer(r"final (?:def|val) (\w+)\s*=\s*ColorRamp\((.*?)\)", src, re.S)}


def test_every_ramp_member_has_colours():
    for member in ColorRamp:
        if member.value in ("Hot", "CoolWarm"):
            continue  # matplotlib's, checked below
        colors = ramp_colors(member)
        assert colors == RAMPS[member.value] and len(colors) >= 8
        assert all(c & 0xFF == 0xFF for c in colors)  # GeoTrellis' ramps are opaque
    # Spot values read from GeoTrellis' ColorRamps.scala.
    assert RAMPS["BlueToOrange"][0] == 0x2586ABFF and RAMPS["BlueToOrange"][-1] == 0xD76B27FF
    assert RAMPS["ClassificationMutedTerrain"] == [0xCEE1E8FF, 0x7CBCB5FF, 0x82B36DFF, 0x94C279FF,
                                                   0xD1DE8DFF, 0xEDECC3FF, 0xCCAFB4FF, 0xC99884FF]
    assert [len(RAMPS[n]) for n in ("Magma", "Inferno", "Plasma", "Viridis")] == [256] * 4
    assert RAMPS["Viridis"][0] == 0x440154FF and RAMPS["Magma"][0] == 0x000004FF


def test_ramps_equal_geotrellis_source():
    parsed = _geotrellis_ramps()
    if parsed is None:
        pytest.skip("no GeoTrellis checkout to compare with")
    assert parsed == RAMPS


def test_matplotlib_ramps():
    hot = ramp_colors(ColorRamp.Hot)
    mpl = pytest.importorskip("matplotlib")
    want = (mpl.colormaps["hot"](np.arange(256) / 255.0) * 255).astype(int)  # GeoPySpark: int(x * 255)
    assert hot == [int(r) << 24 | int(g) << 16 | int(b) << 8 | int(a) for r, g, b, a in want]
    assert len(ramp_colors(ColorRamp.COOLWARM)) == 256
    assert get_colors_from_matplotlib("viridis")[0] == 0x440154FF  # GeoPySpark's documented example
    assert len(get_colors_from_matplotlib("magma", 10)) == 10
    with pytest.raises(ValueError, match="matplotlib colormap"):
        get_colors_from_matplotlib("no-such-ramp")
    with pytest.raises(ValueError, match="unknown colour ramp"):
        ramp_colors("NoSuchRamp")


def _stops(colors, n):
    """GeoTrellis' ColorRamp.stops, written out independently: spread by rounding, or integer blending."""
    if n == len(colors):
        return list(colors)
    if n < len(colors):
        return [colors[int(np.floor(i * (len(colors) - 1) / max(n - 1, 1) + 0.5))] for i in range(n)]
    out = []
    mult, denom = len(colors) - 1, n - 1
    for i in range(n):
        j = i * mult // denom
        c = 0
        for shift in (24, 16, 8, 0):
            a = (colors[j] >> shift) & 0xFF
            if j < mult:
                b = (colors[j + 1] >> shift) & 0xFF
                num = (b - a) * ((i * mult) % denom)
                a = a + int(num / denom)  # Java's int division truncates toward zero
            c |= a << shift
        out.append(c)
    return out


@pytest.mark.parametrize("n", [1, 2, 3, 7, 11, 12, 40, 300])
def test_stops_pick_or_interpolate(n):
    ramp = RAMPS["BlueToOrange"]
    assert ramp_colors(ColorRamp.BLUE_TO_ORANGE, n) == _stops(ramp, n)


def test_greyscale():
    assert greyscale(2) == [0x000000FF, 0x808080FF, 0xFFFFFFFF]
    assert len(greyscale(255)) == 256 and greyscale(255)[17] == 0x111111FF


BREAKS = [10, 20, 30]
VALUES = [5, 10, 15, 20, 30, 35]
EXPECTED = {
    CS.LESS_THAN_OR_EQUAL_TO: [1, 1, 2, 2, 3, "f"],
    CS.LESS_THAN: [1, 2, 2, 3, "f", "f"],
    CS.GREATER_THAN_OR_EQUAL_TO: ["f", 1, 1, 2, 3, 3],
    CS.GREATER_THAN: ["f", "f", 1, 1, 2, 3],
    CS.EXACT: ["f", 1, "f", 2, 3, "f"],
}


@pytest.mark.parametrize("strategy", list(CS))
@pytest.mark.parametrize("integer", [True, False])
def test_class_boundaries(strategy, integer):
    colors = {1: 0x111111FF, 2: 0x222222FF, 3: 0x333333FF, "f": 0xFF0000FF}
    breaks = BREAKS if integer else [float(b) for b in BREAKS]
    cmap = ColorMap.from_break_map(dict(zip(breaks, [colors[1], colors[2], colors[3]])), no_data_color=0x0000FF80,
                                   fallback=colors["f"], classification_strategy=strategy)
    got = [cmap.map(v) & 0xFFFFFFFF for v in VALUES] if integer else [cmap.mapDouble(v) & 0xFFFFFFFF for v in VALUES]
    assert got == [colors[k] for k in EXPECTED[strategy]]
    assert cmap.mapDouble(float("nan")) & 0xFFFFFFFF == 0x0000FF80
    assert cmap.map(gps.NO_DATA_INT) & 0xFFFFFFFF == 0x0000FF80


def test_int_maps_truncate_double_maps_do_not():
    int_map = ColorMap.from_break_map({1: 0xAA, 2: 0xBB}, classification_strategy=CS.EXACT)
    assert int_map.mapDouble(1.7) == 0xAA
    double_map = ColorMap.from_break_map({1.0: 0xAA, 2.0: 0xBB}, classification_strategy=CS.EXACT)
    assert double_map.mapDouble(1.7) == 0 and double_map.mapDouble(2.0) == 0xBB


def test_signed_colours_like_the_jvm():
    cmap = ColorMap.from_break_map({1: 0xFF0000FF})
    assert cmap.map(1) == 0xFF0000FF - (1 << 32)  # GeoPySpark tests compare with signed 32-bit ints


def test_build_dispatch():
    h = gps.Histogram._from_values(np.arange(100, dtype=np.float64), int_histogram=True)
    assert ColorMap.build({1: 0xFF}) == ColorMap.from_break_map({1: 0xFF})
    assert ColorMap.build([1, 2, 3], "viridis") == ColorMap.from_colors([1, 2, 3], get_colors_from_matplotlib("viridis"))
    assert ColorMap.build(np.array([1.0, 2.0]), [0xFF, 0xAA]).cmap["integer"] is False
    assert ColorMap.build([1, 2], ColorRamp.BLUE_TO_RED).cmap["colors"] == _stops(RAMPS["BlueToRed"], 2)
    assert ColorMap.build(h, ["#ff0000", "#00ff00"]).cmap["breaks"] == [float(b) for b in h.quantile_breaks(2)]
    with pytest.raises(ValueError):
        ColorMap.build([1, 2], 5)
    with pytest.raises(ValueError):
        ColorMap.build("1,2", [0xFF])


def test_from_colors_interpolates_to_the_breaks():
    cmap = ColorMap.from_colors([0, 1, 2, 3], [0x000000FF, 0xFFFFFFFF])
    assert cmap.cmap["colors"] == [0x000000FF, 0x555555FF, 0xAAAAAAFF, 0xFFFFFFFF]
    assert cmap.cmap["integer"] is True
    assert ColorMap.from_colors([0, 1.5], [1, 2]).cmap["integer"] is False


def test_from_histogram_fallbacks():
    h = gps.Histogram._from_values(np.linspace(0, 10, 1000), int_histogram=False)
    colors = [0x000000FF, 0x808080FF, 0xFFFFFFFF]
    lte = ColorMap.from_histogram(h, colors)
    assert lte.cmap["fallback"] == 0xFFFFFFFF and len(lte.cmap["breaks"]) == 3
    assert lte.mapDouble(1e9) & 0xFFFFFFFF == 0xFFFFFFFF  # beyond the approximate breaks: the last colour
    gt = ColorMap.from_histogram(h, colors, classification_strategy=CS.GREATER_THAN)
    assert gt.cmap["fallback"] == 0x000000FF
    hi = gps.Histogram._from_values(np.array([1, 1, 1, 2, 5], dtype=np.float64), int_histogram=True)
    ints = ColorMap.from_histogram(hi, colors)
    assert ints.cmap["integer"] is True and ints.cmap["fallback"] == 0


def test_nlcd():
    cmap = ColorMap.nlcd_colormap()
    assert len(nlcd_color_map) == 22
    assert cmap.map(11) & 0xFFFFFFFF == 0x526095FF and cmap.map(92) & 0xFFFFFFFF == 0xB6D8F5FF


def test_colours_of_every_form():
    class Rgba:  # what colortools' Color offers
        rgba = (0x12, 0x34, 0x56, 0x78)

    assert get_colors_from_colors([0x11223344, "#aabbcc", "#AABBCC80", "0x01020304", Rgba(), -1]) == [
        0x11223344, 0xAABBCCFF, 0xAABBCC80, 0x01020304, 0x12345678, 0xFFFFFFFF]


@pytest.mark.parametrize("bad, error", [
    ("red", ValueError), ("#12345", ValueError), (1.5, TypeError), (True, TypeError), (1 << 33, ValueError),
    (None, TypeError),
])
def test_bad_colours(bad, error):
    with pytest.raises(error):
        get_colors_from_colors([bad])


def test_bad_maps():
    with pytest.raises(ValueError, match="ascending"):
        ColorMap.from_colors([3, 2, 1], [1, 2, 3])
    with pytest.raises(ValueError, match="ascending"):
        ColorMap.from_colors([1, 1], [1, 2])
    with pytest.raises(TypeError, match="all ints or all floats"):
        ColorMap.from_break_map({1: 0xFF, 2.5: 0xAA})
    with pytest.raises(ValueError, match="NaN"):
        ColorMap.from_colors([1.0, float("nan")], [1, 2])
    with pytest.raises(ValueError, match="classification strategy"):
        ColorMap.from_break_map({1: 2}, classification_strategy="Sideways")
    with pytest.raises(ValueError, match="no values"):
        ColorMap.from_histogram(gps.Histogram._from_values(np.array([np.nan]), False), [1, 2])


def test_strict_maps_raise():
    cmap = ColorMap.from_break_map({1: 0xFF}, classification_strategy=CS.EXACT).with_strict()
    assert cmap.map(1) == 0xFF
    with pytest.raises(ValueError, match="strict"):
        cmap.map(2)
