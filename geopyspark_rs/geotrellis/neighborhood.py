"""Focal neighbourhoods (GeoPySpark ``geopyspark.geotrellis.neighborhood``): the shapes a focal operation
reads around each cell. Parameters are stored as floats in ``param_1..3``, as in GeoPySpark; the cells each
shape includes follow GeoTrellis' masks (computed by the engine)."""

from __future__ import annotations

import math

__all__ = ["Square", "Circle", "Wedge", "Nesw", "Annulus"]


class Neighborhood(object):
    """The base of every neighbourhood: ``name`` and the float parameters ``param_1..3`` (a missing or
    zero ``param_2``/``param_3`` is 0.0)."""

    def __init__(self, name, param_1, param_2=None, param_3=None):
        self.name = name
        self.param_1 = float(param_1)
        self.param_2 = float(param_2) if param_2 else 0.0
        self.param_3 = float(param_3) if param_3 else 0.0

    def __eq__(self, other):
        return type(self) is type(other) and self._params() == other._params()

    def __hash__(self):
        return hash((self.name, self._params()))

    def _params(self):
        return (self.param_1, self.param_2, self.param_3)

    def _spec(self) -> dict:
        """The engine's description of this shape (checked there: negative or NaN sizes are errors)."""
        raise NotImplementedError


def _extent(kind: str, value) -> int:
    """A Square or Nesw extent in cells past the centre, truncated to a whole number as GeoPySpark does."""
    v = float(value)
    if not math.isfinite(v) or v < 0:
        raise ValueError(f"{kind} needs a non-negative extent (cells past the centre), got {value!r}")
    return int(v)


class Square(Neighborhood):
    """The (2·extent + 1)² cells around the centre."""

    def __init__(self, extent):
        Neighborhood.__init__(self, name="Square", param_1=extent)
        self.extent = extent

    def _spec(self):
        return {"kind": "square", "extent": _extent("Square", self.param_1)}

    def __repr__(self):
        return f"Square(extent={self.param_1})"

    __str__ = __repr__


class Circle(Neighborhood):
    """The cells whose centres lie within ``radius`` cells of the centre (cells on the radius included)."""

    def __init__(self, radius):
        Neighborhood.__init__(self, name="Circle", param_1=radius)
        self.radius = radius

    def _spec(self):
        return {"kind": "circle", "radius": self.param_1}

    def __repr__(self):
        return f"Circle(radius={self.param_1})"

    __str__ = __repr__


class Nesw(Neighborhood):
    """The row and the column through the centre, ``extent`` cells each way (von Neumann)."""

    def __init__(self, extent):
        Neighborhood.__init__(self, name="Nesw", param_1=extent)
        self.extent = extent

    def _spec(self):
        return {"kind": "nesw", "extent": _extent("Nesw", self.param_1)}

    def __repr__(self):
        return f"Nesw(extent={self.param_1})"

    __str__ = __repr__


class Wedge(Neighborhood):
    """The part of a circle between ``start_angle`` and ``end_angle`` (degrees counter-clockwise from
    east; it wraps past 0° when start > end); the centre is always included."""

    def __init__(self, radius, start_angle, end_angle):
        Neighborhood.__init__(self, name="Wedge", param_1=radius, param_2=start_angle, param_3=end_angle)
        self.radius = radius
        self.start_angle = start_angle
        self.end_angle = end_angle

    def _spec(self):
        return {"kind": "wedge", "radius": self.param_1, "start_angle": self.param_2, "end_angle": self.param_3}

    def __repr__(self):
        return f"Wedge(radius={self.param_1}, start_angle={self.param_2}, end_angle={self.param_3})"

    __str__ = __repr__


class Annulus(Neighborhood):
    """The cells between ``inner_radius`` and ``outer_radius`` of the centre, both included (so the centre
    is left out when the inner radius is above 0)."""

    def __init__(self, inner_radius, outer_radius):
        Neighborhood.__init__(self, name="Annulus", param_1=inner_radius, param_2=outer_radius)
        self.inner_radius = inner_radius
        self.outer_radius = outer_radius

    def _spec(self):
        return {"kind": "annulus", "inner_radius": self.param_1, "outer_radius": self.param_2}

    def __repr__(self):
        return f"Annulus(inner_radius={self.param_1}, outer_radius={self.param_2})"

    __str__ = __repr__


_BY_NAME = {"Square": Square, "Circle": Circle, "Nesw": Nesw, "Wedge": Wedge, "Annulus": Annulus}


def from_params(name: str, param_1, param_2, param_3) -> Neighborhood:
    """The neighbourhood a ``Neighborhood`` enum name and GeoPySpark's ``param_1..3`` describe
    (Square and Nesw take ``param_1`` as the extent, Circle as the radius, Wedge all three, Annulus two)."""
    cls = _BY_NAME[name]
    if cls is Wedge:
        return Wedge(param_1, param_2, param_3)
    if cls is Annulus:
        return Annulus(param_1, param_2)
    return cls(param_1)
