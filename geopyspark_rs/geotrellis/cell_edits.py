"""Per-tile edits of cells and bands, shared by both layer classes; each records one fused step."""

from __future__ import annotations

from . import steps
from .constants import CellType, ClassificationStrategy
from .plan import PythonStep


def _cell_type_value(new_type) -> str:
    if isinstance(new_type, CellType):
        return new_type.value
    if isinstance(new_type, str):
        return new_type
    raise TypeError(f"new_type must be a CellType or its name, got {type(new_type).__name__}")


class CellEdits:
    def bands(self, band):
        """Select bands by index: an int, or a tuple, list or range of ints (in that order)."""
        if isinstance(band, range):
            band = list(band)
        if isinstance(band, bool) or not isinstance(band, (int, tuple, list)):
            raise TypeError(f"band must be an int, tuple, list or range, got {type(band).__name__}")
        return self._with_step(steps.bands([band] if isinstance(band, int) else band))

    def map_cells(self, func):
        """Apply ``func(cells, no_data_value) -> cells`` to every tile (numpy, per tile); cell type kept."""
        if not callable(func):
            raise TypeError("map_cells needs a callable")
        return self._with_step(PythonStep(func, "cells"))

    def map_tiles(self, func):
        """Apply ``func(Tile) -> Tile`` to every tile. The layer's metadata is kept as it is."""
        if not callable(func):
            raise TypeError("map_tiles needs a callable")
        return self._with_step(PythonStep(func, "tile"))

    def convert_data_type(self, new_type, no_data_value=None):
        """Convert cells to another cell type (NoData stays NoData), optionally with a user NoData."""
        name = _cell_type_value(new_type)
        if no_data_value is not None:
            if "bool" in name:
                raise ValueError("Cannot add user defined types to Bool")
            if "raw" in name:
                raise ValueError("Cannot add user defined NoData values to Raw CellTypes")
            name = CellType.create_user_defined_celltype(name, no_data_value)
        return self._with_step(steps.convert(name))

    def with_no_data(self, no_data_value):
        """Reinterpret the cells with another NoData value (cells are not changed; bool stays bool)."""
        if isinstance(no_data_value, bool) or not isinstance(no_data_value, (int, float)):
            raise TypeError(f"no_data_value must be a number, got {no_data_value!r}")
        return self._with_step(steps.interpret(no_data_value))

    def reclassify(self, value_map, data_type, classification_strategy=ClassificationStrategy.LESS_THAN_OR_EQUAL_TO,
                   replace_nodata_with=None, fallback_value=None, strict=False):
        """Map cells to new values by breaks (GeoTrellis BreakMap), on every band."""
        if data_type not in (int, float):
            raise TypeError(f"data_type must be int or float, got {data_type!r}")
        if not isinstance(value_map, dict) or not value_map:
            raise TypeError("value_map must be a non-empty dict of break → value")
        strategy = ClassificationStrategy(classification_strategy)
        breaks = {}
        for key, value in value_map.items():
            if isinstance(key, data_type) and not isinstance(key, bool):
                breaks[key] = value
            elif isinstance(key, (list, tuple)):
                for k in key:
                    breaks[k] = value
            else:
                raise TypeError(
                    f"Expected {data_type.__name__} or a list/tuple of them for the keys, but the type "
                    f"{type(key).__name__} was found"
                )
        # NaN keys match no cell (GeoTrellis compares with them, always false); they cannot be sorted.
        ordered = sorted((k, v) for k, v in breaks.items() if k == k)
        return self._with_step(steps.reclassify(
            strategy.value, [k for k, _ in ordered], [v for _, v in ordered], int_keys=data_type is int,
            replace_nodata_with=replace_nodata_with, fallback=fallback_value, strict=strict))

    def normalize(self, new_min, new_max, old_min=None, old_max=None):
        """Rescale cells linearly from ``[old_min, old_max]`` (the layer's min/max when not given)."""
        if old_min is None or old_max is None:
            lo, hi = self.get_min_max()
            old_min = lo if old_min is None else old_min
            old_max = hi if old_max is None else old_max
        return self._with_step(steps.normalize(old_min, old_max, new_min, new_max))
