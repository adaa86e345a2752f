"""``Pyramid``: TiledRasterLayers of one layer at several zoom levels (GeoPySpark's ``Pyramid``)."""

from __future__ import annotations

from pyspark import StorageLevel

from .constants import IndexingMethod
from .executor_errors import raise_worker_errors

__all__ = ["Pyramid"]


@raise_worker_errors
class Pyramid:
    """Levels of a layer keyed by zoom.

    Args:
        levels (list or dict): TiledRasterLayers (keyed by their ``zoom_level``) or ``{zoom: layer}``.

    Attributes ``levels`` (dict), ``max_zoom``, ``layer_type`` (of the max level), ``is_cached``,
    ``histogram`` (None until ``get_histogram``).
    """

    def __init__(self, levels):
        from .layer import TiledRasterLayer

        if isinstance(levels, list):
            for layer in levels:
                if not isinstance(layer, TiledRasterLayer):
                    raise TypeError(f"a Pyramid level is a {type(layer).__name__}, not a TiledRasterLayer")
            levels = {layer.zoom_level: layer for layer in levels}
        elif isinstance(levels, dict):
            levels = dict(levels)
        else:
            raise TypeError(f"Pyramid takes a list or dict of TiledRasterLayers, got {type(levels).__name__}")
        if not levels:
            raise ValueError("a Pyramid needs at least one level")
        for zoom, layer in levels.items():
            if not isinstance(layer, TiledRasterLayer):
                raise TypeError(f"level {zoom} is a {type(layer).__name__}, not a TiledRasterLayer")
            if not isinstance(zoom, int):
                raise TypeError(f"pyramid levels are keyed by int zoom, got {zoom!r}")
        self.levels = levels
        self.max_zoom = max(levels)
        self.layer_type = levels[self.max_zoom].layer_type
        self.is_cached = False
        self.histogram = None
        # zoom → function making that level from the level one zoom finer (pyramids made by pyramid()).
        self._builders = {}

    @property
    def pysc(self):
        return self.levels[self.max_zoom].pysc

    def wrapped_rdds(self):
        return [layer.dataframe for layer in self.levels.values()]

    def cache(self):
        return self.persist()

    def _from_finer(self, zoom, finer):
        """Level ``zoom`` made from the (cached) level one zoom finer when this pyramid knows how."""
        build = self._builders.get(zoom)
        return self.levels[zoom] if build is None or finer is None else build(finer)

    def persist(self, storageLevel=StorageLevel.MEMORY_ONLY):
        finer = None
        for zoom in sorted(self.levels, reverse=True):
            if not self.levels[zoom].is_cached:
                self.levels[zoom] = self._from_finer(zoom, finer).persist(storageLevel)
            finer = self.levels[zoom]
        self.is_cached = True
        return self

    def unpersist(self):
        for layer in self.levels.values():
            layer.unpersist()
        self.is_cached = False
        return self

    def get_histogram(self):
        """The histogram of the max-zoom level (computed once)."""
        if self.histogram is None:
            self.histogram = self.levels[self.max_zoom].get_histogram()
        return self.histogram

    def write(self, uri, layer_name, index_strategy=IndexingMethod.ZORDER, time_unit=None, time_resolution=None,
              store=None, compression_level=None):
        """Write every level to the catalog at ``uri`` as layer ``layer_name`` at its zoom
        (``compression_level`` as in :func:`geopyspark_rs.write`: None is GeoTrellis' bytes).

        Levels are written from the finest down, each kept on the executors' local disk until the next
        coarser one is written: pyramid levels are built from the level below, so writing them uncached
        would recompute the finer levels for every level. On disk, not in memory, so that a pyramid of any
        size is written within the executors' heap (a 1.6 G-cell ingest with 2 GiB ran out of memory with
        the levels cached in memory; ``bench/check_bounded_memory.py``)."""
        from .catalog import write

        held = finer = None
        for zoom in sorted(self.levels, reverse=True):
            layer = self.levels[zoom]
            ours = not layer.is_cached
            if ours:
                layer = self._from_finer(zoom, finer).persist(StorageLevel.DISK_ONLY)
            write(uri, layer_name, layer, index_strategy=index_strategy, time_unit=time_unit,
                  time_resolution=time_resolution, store=store, compression_level=compression_level)
            if held is not None:
                held.unpersist()
            held = layer if ours else None
            finer = layer
        if held is not None:
            held.unpersist()

    def _apply(self, other, op):
        if isinstance(other, Pyramid):
            common = sorted(set(self.levels) & set(other.levels))
            return Pyramid({z: op(self.levels[z], other.levels[z]) for z in common})
        return Pyramid({z: op(layer, other) for z, layer in self.levels.items()})

    def __add__(self, other):
        return self._apply(other, lambda a, b: a + b)

    def __radd__(self, other):
        return self._apply(other, lambda a, b: b + a)

    def __sub__(self, other):
        return self._apply(other, lambda a, b: a - b)

    def __rsub__(self, other):
        return self._apply(other, lambda a, b: b - a)

    def __mul__(self, other):
        return self._apply(other, lambda a, b: a * b)

    def __rmul__(self, other):
        return self._apply(other, lambda a, b: b * a)

    def __truediv__(self, other):
        return self._apply(other, lambda a, b: a / b)

    def __rtruediv__(self, other):
        return self._apply(other, lambda a, b: b / a)

    def _repr_html_(self):
        """Jupyter: the levels as a table, with a thumbnail of the coarsest one."""
        from .display import pyramid_html

        return pyramid_html(self)

    def show(self, color_map=None, host=None, port=None):
        """A bound :class:`~geopyspark_rs.geotrellis.tms.TMS` of this pyramid (Jupyter shows its web map).
        Without ``color_map``, band 0 is coloured with GeoTrellis' Viridis ramp over the coarsest level's
        histogram."""
        from .color import ColorMap
        from .constants import ColorRamp
        from .tms import TMS

        if color_map is not None:
            return TMS.build(self, color_map).bind(host, port)
        # The histogram computes every level; cached, the TMS writes them without computing them again.
        was_cached, fresh = self.is_cached, [z for z, level in self.levels.items() if not level.is_cached]
        self.cache()
        try:
            color_map = ColorMap.build(self.levels[min(self.levels)].get_histogram(), ColorRamp.VIRIDIS)
            return TMS.build(self, color_map).bind(host, port)
        finally:
            for z in fresh:  # only what was cached here
                self.levels[z].unpersist()
            self.is_cached = was_cached

    def __repr__(self):
        return (f"Pyramid(layer_type={self.layer_type}, max_zoom={self.max_zoom}, num_levels={len(self.levels)}, "
                f"is_cached={self.is_cached})")

    __str__ = __repr__
