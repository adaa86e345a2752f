"""Layers and tiles as PNG pictures, rendered and encoded in Rust (``rust/engine/src/render``).

A colour map renders band 0 (GeoTrellis' ``renderPng(colorMap)``); without one, 3- and 4-band tiles render
as RGB(A) with their cells read as bytes.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from geopyspark_rs import _native

from . import tile_contract as tc

PNG_COLUMN = "png"


def _color_map_json(color_map):
    from .color import ColorMap

    if color_map is None:
        return None
    if not isinstance(color_map, ColorMap):
        raise TypeError(f"color_map must be a ColorMap, got {type(color_map).__name__}")
    return color_map.to_json()


def default_color_map(values):
    """A colour map for a quick look at ``values``: viridis-like GeoTrellis ``Viridis`` over 64 breaks
    between the data's min and max, NoData transparent."""
    from .color import ColorMap, ramp_colors

    data = np.asarray(values, dtype=np.float64)
    data = data[np.isfinite(data)]
    lo, hi = (float(data.min()), float(data.max())) if data.size else (0.0, 1.0)
    if hi <= lo:
        hi = lo + 1.0
    breaks = np.linspace(lo, hi, 64)
    return ColorMap.from_colors([float(b) for b in breaks], ramp_colors("Viridis"))


def tile_png(tile, color_map=None):
    """PNG bytes of a :class:`~geopyspark_rs.geotrellis.Tile`: band 0 through ``color_map`` (by default a
    ramp over the tile's own range, NoData transparent), or RGB(A) for a 3- or 4-band tile without one."""
    ct_name, bands, rows, cols, raw = tc.encode_tile(tile)
    if color_map is None and bands not in (3, 4):
        band = np.asarray(tile.cells, dtype=np.float64).reshape(bands, rows, cols)[0]
        nd = tile.no_data_value
        if nd is not None and not np.isnan(nd):
            band = np.where(band == nd, np.nan, band)
        color_map = default_color_map(band)
    return _native.render_tile_png(ct_name, bands, rows, cols, raw, _color_map_json(color_map))


def encode_rgba(image):
    """PNG bytes of an RGBA picture: a ``(rows, cols, 4)`` uint8 array (or ``(rows, cols, 3)``, opaque) or a
    PIL image."""
    if hasattr(image, "convert") and hasattr(image, "size"):  # a PIL image
        image = np.asarray(image.convert("RGBA"))
    a = np.asarray(image)
    if a.ndim != 3 or a.shape[2] not in (3, 4) or a.dtype != np.uint8:
        raise ValueError(f"an image is a (rows, cols, 4) or (rows, cols, 3) uint8 array or a PIL image, "
                         f"got an array of shape {a.shape} and dtype {a.dtype}")
    if a.shape[2] == 3:
        a = np.concatenate([a, np.full(a.shape[:2] + (1,), 255, np.uint8)], axis=2)
    return _native.encode_rgba_png(np.ascontiguousarray(a).tobytes(), a.shape[0], a.shape[1])


class PngOutput:
    """``to_png_rdd`` for both layer classes and its DataFrame sibling."""

    def to_png_dataframe(self, color_map=None):
        """The layer's keys and one PNG per tile (column ``png``), as a DataFrame (works on Spark Connect).
        Rendering runs in the same pass as the layer's pending steps."""
        from pyspark.sql.types import BinaryType, StructField, StructType

        cmap_json = _color_map_json(color_map)
        tiled = hasattr(self, "layer_metadata")
        key_names = tc.key_columns(tiled, self.layer_type)

        def render(batches):
            for batch in batches:
                pngs = _native.render_png_batch(batch, cmap_json).column(PNG_COLUMN)
                yield pa.RecordBatch.from_arrays([batch.column(n) for n in key_names] + [pngs],
                                                 names=key_names + [PNG_COLUMN])

        schema = StructType([f for f in tc.schema(tiled, self.layer_type).fields if f.name in key_names]
                            + [StructField(PNG_COLUMN, BinaryType(), False)])
        return self._map_batches(render, schema)

    def to_png_rdd(self, color_map):
        """A PySpark RDD of ``(key, PNG bytes)``: band 0 of each tile through ``color_map`` (GeoTrellis'
        ``renderPng``). ``color_map=None`` renders 3- and 4-band tiles as RGB(A)."""
        from .layer import _no_rdds_on_connect

        _no_rdds_on_connect(self._df.sparkSession, "to_png_rdd", "to_png_dataframe")
        df = self.to_png_dataframe(color_map)
        tiled, layer_type = hasattr(self, "layer_metadata"), self.layer_type
        names = tc.key_columns(tiled, layer_type)
        return df.rdd.map(lambda r: (tc.decode_key({n: r[n] for n in names}, tiled, layer_type), bytes(r[PNG_COLUMN])))
