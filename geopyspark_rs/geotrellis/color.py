"""Colour maps and colour ramps (GeoPySpark's ``geopyspark.geotrellis.color``).

Colours are 32-bit ``0xRRGGBBAA`` ints. A :class:`ColorMap` holds sorted breaks, one colour per break, a
:class:`~geopyspark_rs.geotrellis.constants.ClassificationStrategy`, and the colours of NoData and of values
no break classifies; the engine applies it (``rust/engine/src/render``).
"""

import json
import math
import re
import struct

import numpy as np

from geopyspark_rs import _native

from ._ramps import RAMPS
from .constants import ClassificationStrategy, ColorRamp
from .histogram import Histogram

__all__ = ["get_colors_from_colors", "get_colors_from_matplotlib", "ColorMap"]

_HEX = re.compile(r"^(?:#|0x)?([0-9a-fA-F]{6}|[0-9a-fA-F]{8})$")


def _color(value):
    """One colour as an unsigned ``0xRRGGBBAA`` int: an int (signed 32-bit ints are taken as the JVM
    stores them), a hex string (``'#RRGGBB'``, ``'#RRGGBBAA'``, ``'0xRRGGBBAA'``; six digits are opaque) or
    an object with 4-byte ``.rgba`` (colortools' ``Color``)."""
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"a colour is an int or a hex string, got {value!r}")
    if isinstance(value, (int, np.integer)):
        if not -(1 << 31) <= int(value) < (1 << 32):
            raise ValueError(f"colour {value!r} does not fit in 32 bits (0xRRGGBBAA)")
        return int(value) & 0xFFFFFFFF
    if isinstance(value, str):
        m = _HEX.match(value.strip())
        if not m:
            raise ValueError(f"colour {value!r} is not a hex colour such as '#RRGGBB' or '#RRGGBBAA'")
        digits = m.group(1)
        return int(digits + ("ff" if len(digits) == 6 else ""), 16)
    rgba = getattr(value, "rgba", None)
    if rgba is not None:
        return struct.unpack(">L", bytes(rgba))[0]
    raise TypeError(f"a colour is an int or a hex string, got {type(value).__name__} {value!r}")


def get_colors_from_colors(colors):
    """Colours (colortools ``Color`` objects, ints or hex strings) as ``0xRRGGBBAA`` ints."""
    return [_color(c) for c in colors]


def get_colors_from_matplotlib(ramp_name, num_colors=1 << 8):
    """``num_colors`` colours sampled evenly from the matplotlib colormap ``ramp_name`` (e.g. ``'viridis'``),
    as ``0xRRGGBBAA`` ints. Needs matplotlib."""
    try:
        import matplotlib
    except ImportError as e:
        raise ImportError("get_colors_from_matplotlib needs matplotlib (pip install matplotlib)") from e
    if isinstance(num_colors, bool) or not isinstance(num_colors, (int, np.integer)) or num_colors < 1:
        raise ValueError(f"num_colors must be a positive integer, got {num_colors!r}")
    try:
        cmap = matplotlib.colormaps[ramp_name]
    except KeyError:
        raise ValueError(f"{ramp_name!r} is not a matplotlib colormap") from None
    rgba = cmap(np.arange(int(num_colors)) / max(int(num_colors) - 1, 1), bytes=True)
    return [int(r) << 24 | int(g) << 16 | int(b) << 8 | int(a) for r, g, b, a in rgba]


def ramp_colors(ramp, num_colors=None):
    """The colours of a named ramp: a :class:`ColorRamp` member or its value (``'BlueToOrange'``) gives
    GeoTrellis' ramp (``Hot`` and ``CoolWarm``, which GeoTrellis lacks, matplotlib's ``hot`` and
    ``coolwarm``, 256 colours); any other string is a matplotlib colormap (256 colours). With
    ``num_colors``, GeoTrellis' ``ColorRamp.stops`` picks or interpolates that many."""
    name = ramp.value if isinstance(ramp, ColorRamp) else ramp
    if not isinstance(name, str):
        raise TypeError(f"a colour ramp is a ColorRamp or its name, got {ramp!r}")
    matplotlib_names = {"Hot": "hot", "CoolWarm": "coolwarm"}
    if name in RAMPS:
        colors = list(RAMPS[name])
    elif name in matplotlib_names:
        colors = get_colors_from_matplotlib(matplotlib_names[name])
    else:
        try:
            colors = get_colors_from_matplotlib(name)
        except ValueError:
            known = ", ".join(sorted(list(RAMPS) + list(matplotlib_names)))
            raise ValueError(f"unknown colour ramp {name!r}: not one of GeoTrellis' ramps ({known}) nor a "
                             "matplotlib colormap") from None
    return colors if num_colors is None else _native.ramp_stops(colors, int(num_colors))


def _strategy(classification_strategy):
    try:
        return ClassificationStrategy(classification_strategy)
    except ValueError:
        try:
            return ClassificationStrategy[classification_strategy]
        except (KeyError, TypeError):
            raise ValueError(f"unknown classification strategy {classification_strategy!r}; expected one of "
                             f"{[s.value for s in ClassificationStrategy]}") from None


def _is_int(value):
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def _check_breaks(breaks):
    for b in breaks:
        if isinstance(b, (bool, np.bool_)) or not isinstance(b, (int, float, np.integer, np.floating)):
            raise TypeError(f"a break is a number, got {b!r}")
        if isinstance(b, (float, np.floating)) and math.isnan(b):
            raise ValueError("a break must not be NaN")


class ColorMap(object):
    """A GeoTrellis colour map.

    Args:
        cmap (dict): the map as the engine reads it: ``breaks``, ``colors`` (one per break), ``integer``
            (classify integer values), ``no_data_color``, ``fallback``, ``strategy`` and ``strict``. Build
            one with the class methods rather than by hand.

    Attributes:
        cmap (dict): that description.
    """

    def __init__(self, cmap):
        self.cmap = dict(cmap)
        self._json = json.dumps(self.cmap)
        _native.colormap_colors(self._json, np.zeros(0))  # checked once, here, not in every task

    def __repr__(self):
        c = self.cmap
        return (f"ColorMap({len(c['breaks'])} {'int' if c['integer'] else 'double'} breaks, "
                f"{c['strategy']}, no_data_color=0x{c['no_data_color']:08x}, fallback=0x{c['fallback']:08x})")

    def __eq__(self, other):
        return isinstance(other, ColorMap) and self.cmap == other.cmap

    def to_json(self):
        """The map as the engine reads it (JSON text)."""
        return self._json

    def colors_of(self, values):
        """The ``0xRRGGBBAA`` colours (uint32 array) of an array of values, NaN being NoData."""
        values = np.asarray(values, dtype=np.float64)
        return _native.colormap_colors(self._json, np.ascontiguousarray(values.ravel())).reshape(values.shape)

    @staticmethod
    def _signed(color):
        return color - (1 << 32) if color >= 1 << 31 else color

    def map(self, value):
        """The colour of an int value (``NO_DATA_INT`` is NoData), as the JVM's signed 32-bit int."""
        value = float("nan") if int(value) == -(1 << 31) else float(int(value))
        return self._signed(int(self.colors_of([value])[0]))

    def mapDouble(self, value):
        """The colour of a float value (NaN is NoData), as the JVM's signed 32-bit int."""
        return self._signed(int(self.colors_of([float(value)])[0]))

    def with_strict(self, strict=True):
        """This map, raising for values no break classifies instead of using the fallback colour."""
        return ColorMap({**self.cmap, "strict": bool(strict)})

    @classmethod
    def _from_pairs(cls, breaks, colors, integer, no_data_color, fallback, classification_strategy,
                    sort=False):
        pairs = list(zip(breaks, colors))
        if sort:  # a break map: GeoTrellis orders its keys
            pairs.sort(key=lambda p: p[0])
        for (a, _), (b, _) in zip(pairs, pairs[1:]):
            if not a < b:
                raise ValueError(f"colour map breaks must be strictly ascending, but {a!r} is followed by {b!r}")
        return cls({
            "breaks": [float(b) for b, _ in pairs],
            "colors": [_color(c) for _, c in pairs],
            "integer": bool(integer),
            "no_data_color": _color(no_data_color),
            "fallback": _color(fallback),
            "strategy": _strategy(classification_strategy).value,
            "strict": False,
        })

    @classmethod
    def build(cls, breaks, colors=None, no_data_color=0x00000000, fallback=0x00000000,
              classification_strategy=ClassificationStrategy.LESS_THAN_OR_EQUAL_TO):
        """A colour map from ``breaks`` and ``colors``.

        ``breaks`` is a dict ``{break: colour}`` (``colors`` is then ignored), a list or array of breaks, or
        a :class:`~geopyspark_rs.geotrellis.histogram.Histogram` (its quantile breaks). ``colors`` is a
        :class:`ColorRamp` or a ramp name (GeoTrellis' names such as ``'BlueToOrange'``, or any matplotlib
        colormap such as ``'viridis'``, sampled at 256 colours), or a list of colours (ints, hex strings or
        colortools ``Color`` objects). GeoTrellis interpolates the colours to the number of breaks.
        """
        if isinstance(breaks, dict):
            return cls.from_break_map(breaks, no_data_color, fallback, classification_strategy)
        if isinstance(colors, (str, ColorRamp)):
            color_list = ramp_colors(colors)
        elif isinstance(colors, (list, tuple, np.ndarray)):
            color_list = get_colors_from_colors(colors)
        else:
            raise ValueError("colors must be a ColorRamp, a ramp name or a list of colours, got {!r}".format(colors))
        if isinstance(breaks, Histogram):
            return cls.from_histogram(breaks, color_list, no_data_color, fallback, classification_strategy)
        if isinstance(breaks, np.ndarray):
            breaks = breaks.tolist()
        if isinstance(breaks, (list, tuple)):
            return cls.from_colors(breaks, color_list, no_data_color, fallback, classification_strategy)
        raise ValueError("breaks must be a dict, a list or array of numbers, or a Histogram, got {!r}".format(breaks))

    @classmethod
    def from_break_map(cls, break_map, no_data_color=0x00000000, fallback=0x00000000,
                       classification_strategy=ClassificationStrategy.LESS_THAN_OR_EQUAL_TO):
        """A colour map from ``{break: colour}``: all-int keys make an int map (cells classified by their
        integer value), all-float keys a double map."""
        if not isinstance(break_map, dict) or not break_map:
            raise ValueError(f"break_map must be a non-empty dict of break → colour, got {break_map!r}")
        keys = list(break_map)
        _check_breaks(keys)
        if all(_is_int(k) for k in keys):
            integer = True
        elif all(isinstance(k, (float, np.floating)) for k in keys):
            integer = False
        else:
            raise TypeError("the keys of a break map must be all ints or all floats, got "
                            + ", ".join(sorted({type(k).__name__ for k in keys})))
        return cls._from_pairs(keys, list(break_map.values()), integer, no_data_color, fallback,
                               classification_strategy, sort=True)

    @classmethod
    def from_colors(cls, breaks, color_list, no_data_color=0x00000000, fallback=0x00000000,
                    classification_strategy=ClassificationStrategy.LESS_THAN_OR_EQUAL_TO):
        """A colour map from ascending ``breaks`` and a colour ramp ``color_list``, interpolated (or
        picked) to one colour per break as GeoTrellis' ``ColorRamp.stops`` does. All-int breaks make an int
        map, otherwise a double map."""
        breaks = list(breaks)
        if not breaks:
            raise ValueError("a colour map needs at least one break")
        _check_breaks(breaks)
        colors = get_colors_from_colors(color_list)
        if not colors:
            raise ValueError("a colour map needs at least one colour")
        stops = _native.ramp_stops(colors, len(breaks))
        return cls._from_pairs(breaks, stops, all(_is_int(b) for b in breaks), no_data_color, fallback,
                               classification_strategy)

    @classmethod
    def from_histogram(cls, histogram, color_list, no_data_color=0x00000000, fallback=0x00000000,
                       classification_strategy=ClassificationStrategy.LESS_THAN_OR_EQUAL_TO):
        """A colour map from the quantile breaks of ``histogram`` (as many as colours, GeoTrellis'
        ``fromQuantileBreaks``). For a float histogram, which is approximate, values beyond the breaks take
        the last colour (LessThan strategies) or the first (GreaterThan strategies)."""
        if not isinstance(histogram, Histogram):
            raise TypeError(f"histogram must be a Histogram, got {type(histogram).__name__}")
        colors = get_colors_from_colors(color_list)
        if not colors:
            raise ValueError("a colour map needs at least one colour")
        breaks = histogram.quantile_breaks(len(colors))
        if not breaks:
            raise ValueError("the histogram has no values, so it has no quantile breaks")
        strategy = _strategy(classification_strategy)
        integer = all(_is_int(b) for b in breaks)
        if not integer:
            if strategy in (ClassificationStrategy.GREATER_THAN, ClassificationStrategy.GREATER_THAN_OR_EQUAL_TO):
                fallback = colors[0]
            elif strategy != ClassificationStrategy.EXACT:
                fallback = colors[-1]
        # Quantile breaks may repeat; GeoTrellis keeps the last colour of a repeated break.
        stops = _native.ramp_stops(colors, len(breaks))
        unique = dict(zip(breaks, stops))
        return cls._from_pairs(list(unique), list(unique.values()), integer, no_data_color, fallback, strategy,
                               sort=True)

    @classmethod
    def nlcd_colormap(cls):
        """The National Land Cover Database's legend: an int map of its classes (LessThanOrEqualTo, as
        GeoPySpark builds it)."""
        return cls.from_break_map(dict(nlcd_color_map))


"""NLCD land-cover classes and their legend colours (as GeoPySpark defines them)."""
nlcd_color_map = {
    0: 0x00000000,
    11: 0x526095FF,  # Open Water
    12: 0xFFFFFFFF,  # Perennial Ice/Snow
    21: 0xD28170FF,  # Low Intensity Residential
    22: 0xEE0006FF,  # High Intensity Residential
    23: 0x990009FF,  # Commercial/Industrial/Transportation
    31: 0xBFB8B1FF,  # Bare Rock/Sand/Clay
    32: 0x969798FF,  # Quarries/Strip Mines/Gravel Pits
    33: 0x382959FF,  # Transitional
    41: 0x579D57FF,  # Deciduous Forest
    42: 0x2A6B3DFF,  # Evergreen Forest
    43: 0xA6BF7BFF,  # Mixed Forest
    51: 0xBAA65CFF,  # Shrubland
    61: 0x45511FFF,  # Orchards/Vineyards/Other
    71: 0xD0CFAAFF,  # Grasslands/Herbaceous
    81: 0xCCC82FFF,  # Pasture/Hay
    82: 0x9D5D1DFF,  # Row Crops
    83: 0xCD9747FF,  # Small Grains
    84: 0xA7AB9FFF,  # Fallow
    85: 0xE68A2AFF,  # Urban/Recreational Grasses
    91: 0xB6D8F5FF,  # Woody Wetlands
    92: 0xB6D8F5FF,  # Emergent Herbaceous Wetlands
}
