"""``union``: all records of several layers in one layer (duplicate keys kept)."""

from __future__ import annotations

from functools import reduce

from . import steps
from .data_model import Bounds, Metadata


def check_layers(layers, what):
    """Same layer class and layer type; tiled layers also the same TileLayout and CRS."""
    from .layer import TiledRasterLayer

    if not isinstance(layers, (list, tuple)) or len(layers) < 2:
        raise ValueError(f"{what} needs at least two layers")
    first = layers[0]
    for layer in layers[1:]:
        if type(layer) is not type(first):
            raise TypeError(f"{what}: all layers must be of the same class, got {type(first).__name__} and "
                            f"{type(layer).__name__}")
        if layer.layer_type != first.layer_type:
            raise ValueError(f"{what}: all layers must have the same layer_type, got {first.layer_type} and "
                             f"{layer.layer_type}")
        if isinstance(first, TiledRasterLayer):
            a, b = first.layer_metadata, layer.layer_metadata
            if a.tile_layout != b.tile_layout:
                raise ValueError(f"{what}: all layers must have the same TileLayout, got {a.tile_layout} and "
                                 f"{b.tile_layout}")
            if a.crs != b.crs:
                raise ValueError(f"{what}: all layers must have the same CRS, got {a.crs!r} and {b.crs!r}")


def _union_bounds(a: Bounds, b: Bounds) -> Bounds:
    lo = type(a.minKey)(*(min(x, y) for x, y in zip(a.minKey, b.minKey)))
    hi = type(a.maxKey)(*(max(x, y) for x, y in zip(a.maxKey, b.maxKey)))
    return Bounds(lo, hi)


def union(layers):
    """One layer holding the records of all ``layers`` (same class, layer type, layout and CRS)."""
    from .layer import TiledRasterLayer

    check_layers(layers, "union")
    df = reduce(lambda a, b: a.unionByName(b), [lay.dataframe for lay in layers])
    first = layers[0]
    if not isinstance(first, TiledRasterLayer):
        return first._derive(df=df)
    from .. import _native

    m = first.layer_metadata
    bounds = reduce(_union_bounds, [lay.layer_metadata.bounds for lay in layers])
    e = [lay.layer_metadata.extent for lay in layers]
    extent = type(m.extent)(min(x.xmin for x in e), min(x.ymin for x in e), max(x.xmax for x in e),
                            max(x.ymax for x in e))
    cell_type = _native.cell_type_union([lay.layer_metadata.cell_type for lay in layers])
    metadata = Metadata(bounds, m.crs, cell_type, extent, m.layout_definition)
    out = first._derive(df=df, layer_metadata=metadata)
    if any(lay.layer_metadata.cell_type != cell_type for lay in layers):
        # A tiled layer has one cell type: convert every tile to the union type.
        out = out._with_step(steps.convert(cell_type))
    return out
