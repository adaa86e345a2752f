"""Local map algebra on TiledRasterLayer: arithmetic, comparisons, abs/neg, local max/min/mean with a
scalar, another layer (joined on the key) or a list of layers. Every operation records one fused step;
a layer operand adds a join and a ``combine`` step that reads both tiles."""

from __future__ import annotations

import numbers

from pyspark.sql import functions as F

from . import steps
from . import tile_contract as tc


def joined_dataframe(layers):
    """The layers' DataFrames inner-joined on the key, tile columns of layer i suffixed ``__i``."""
    keys = layers[0]._key_columns
    df = layers[0].dataframe
    extra = []
    for i, other in enumerate(layers[1:], 1):
        names = [f"{c}__{i}" for c in tc.TILE_COLUMNS]
        right = other.dataframe.select(*keys, *[F.col(c).alias(n) for c, n in zip(tc.TILE_COLUMNS, names)])
        df = df.join(right, on=keys, how="inner")
        extra += names
    return df.select(*keys, *tc.TILE_COLUMNS, *extra)


def _is_number(value):
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


class MapAlgebra:
    def _combine_layers(self, others, fn):
        """A layer whose tiles combine this layer's with the others' at the same key."""
        from .layer import with_cell_type
        from .plan import output_cell_type
        from .union import check_layers

        layers = [self, *others]
        check_layers(layers, "local operation")
        step = steps.combine(fn, len(layers))
        cell_type = output_cell_type([step], [lay.layer_metadata.cell_type for lay in layers])
        return self._derive(df=joined_dataframe(layers), steps=(step,),
                            layer_metadata=with_cell_type(self.layer_metadata, cell_type))

    def _local(self, value, op, reverse=False, list_ok=False):
        if _is_number(value):
            return self._with_step(steps.scalar(op, value, reverse))
        # A layer on the left always handles layer-layer operations, so `reverse` is only ever scalar.
        if isinstance(value, type(self)):
            others = [value]
        elif isinstance(value, list) and list_ok and value:
            others = value
        else:
            raise TypeError(f"Local operation cannot be performed with {type(value).__name__} ({value!r})")
        return self._combine_layers(others, op)

    def __add__(self, value):
        return self._local(value, "add", list_ok=True)

    def __radd__(self, value):
        return self._local(value, "add", reverse=True)

    def __sub__(self, value):
        return self._local(value, "sub", list_ok=True)

    def __rsub__(self, value):
        return self._local(value, "sub", reverse=True)

    def __mul__(self, value):
        return self._local(value, "mul", list_ok=True)

    def __rmul__(self, value):
        return self._local(value, "mul", reverse=True)

    def __truediv__(self, value):
        return self._local(value, "div", list_ok=True)

    def __rtruediv__(self, value):
        return self._local(value, "div", reverse=True)

    def __pow__(self, value):
        return self._local(value, "pow", list_ok=True)

    def __rpow__(self, value):
        return self._local(value, "pow", reverse=True)

    def __abs__(self):
        return self._with_step(steps.unary("abs"))

    def __neg__(self):
        return self._with_step(steps.unary("neg"))

    # Comparisons give a bool layer (1 where true; NoData compares false).
    def __lt__(self, value):
        return self._local(value, "lt")

    def __le__(self, value):
        return self._local(value, "le")

    def __gt__(self, value):
        return self._local(value, "gt")

    def __ge__(self, value):
        return self._local(value, "ge")

    def __eq__(self, value):
        return self._local(value, "eq")

    def __ne__(self, value):
        return self._local(value, "ne")

    def local_max(self, value):
        """Cell-wise maximum with a number, a layer or a list of layers (NoData wins)."""
        return self._local(value, "max", list_ok=True)

    def local_min(self, value):
        """Cell-wise minimum with a number, a layer or a list of layers (NoData wins)."""
        return self._local(value, "min", list_ok=True)

    def local_mean(self, layers):
        """Cell-wise mean of this layer and a layer or list of layers (NoData cells are skipped)."""
        others = [layers] if isinstance(layers, type(self)) else layers
        if not isinstance(others, list) or not others:
            raise TypeError(f"local_mean needs a layer or a non-empty list of layers, got {type(layers).__name__}")
        return self._combine_layers(others, "mean")
