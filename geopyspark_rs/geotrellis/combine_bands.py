"""``combine_bands``: the bands of several layers concatenated per key, in list order."""

from __future__ import annotations

from . import steps
from .union import check_layers


def combine_bands(layers):
    """A layer whose tiles hold the bands of ``layers`` in order, for keys present in every layer."""
    from .layer import TiledRasterLayer
    from .map_algebra import joined_dataframe
    from .plan import output_cell_type

    check_layers(layers, "combine_bands")
    first = layers[0]
    step = steps.combine("concat_bands", len(layers))
    if isinstance(first, TiledRasterLayer):
        from .layer import with_cell_type

        cell_type = output_cell_type([step], [lay.layer_metadata.cell_type for lay in layers])
        return first._derive(df=joined_dataframe(layers), steps=(step,),
                             layer_metadata=with_cell_type(first.layer_metadata, cell_type))
    return first._derive(df=joined_dataframe(layers), steps=(step,))
