"""``RasterLayer.read`` and ``TiledRasterLayer.read``: one raster per source file (GeoPySpark's
RasterSource reads), optionally reprojected, or tiled straight to a layout; ``SourceInfo`` lists
assemble bands of several files. ``ReadMethod.GEOTRELLIS`` reads GeoTIFFs with the Rust reader,
``ReadMethod.GDAL`` any raster GDAL reads, with rasterio on the executors (``gps.rasterio``)."""

from __future__ import annotations

from ...errors import UnsupportedError
from ..constants import LayerType, ReadMethod, ResampleMethod
from ..data_model import GlobalLayout, LocalLayout, SourceInfo


def _check(layer_type, read_method, resample_method):
    layer_type = LayerType(layer_type)
    if layer_type == LayerType.SPACETIME:
        raise UnsupportedError("read() of SPACETIME layers is not supported; use geotiff.get with a time_tag")
    ReadMethod(read_method)
    ResampleMethod(resample_method)
    return layer_type


def read_raster_layer(paths, layer_type=LayerType.SPATIAL, target_crs=None, num_partitions=None,
                      resample_method=ResampleMethod.NEAREST_NEIGHBOR, read_method=ReadMethod.GEOTRELLIS):
    from . import read_layer

    layer_type = _check(layer_type, read_method, resample_method)
    layer = read_layer(paths, layer_type, max_tile_size=None, num_partitions=num_partitions,
                       read_method=ReadMethod(read_method))
    return layer if target_crs is None else layer.reproject(target_crs, resample_method)


def read_tiled_layer(paths, layout_type, layer_type=LayerType.SPATIAL, target_crs=None, num_partitions=None,
                     resample_method=ResampleMethod.NEAREST_NEIGHBOR, partition_strategy=None,
                     read_method=ReadMethod.GEOTRELLIS):
    if not isinstance(layout_type, (GlobalLayout, LocalLayout)):
        raise TypeError(f"layout_type must be a GlobalLayout or a LocalLayout, got {type(layout_type).__name__}")
    layer_type = _check(layer_type, read_method, resample_method)
    sources = [paths] if isinstance(paths, (str, SourceInfo)) else list(paths)
    if not sources:
        raise ValueError("read() needs at least one path")
    if all(isinstance(s, str) for s in sources):
        raster = read_raster_layer(sources, layer_type, None, num_partitions, resample_method, read_method)
        return raster.tile_to_layout(layout_type, target_crs, resample_method, partition_strategy)
    if not all(isinstance(s, SourceInfo) for s in sources):
        raise TypeError("paths must be str, a list of str, a SourceInfo or a list of SourceInfo")
    return _assemble_bands(sources, layout_type, layer_type, target_crs, num_partitions, resample_method,
                           partition_strategy, read_method)


def _assemble_bands(sources, layout_type, layer_type, target_crs, num_partitions, resample_method,
                    partition_strategy, read_method):
    """Each SourceInfo's bands placed at their target band indexes of one tiled layer."""
    from ..combine_bands import combine_bands
    from ..union import union

    targets, rasters = [], []
    for info in sources:
        mapping = sorted(dict(info.source_to_target_band).items(), key=lambda kv: kv[1])
        if not mapping:
            raise ValueError(f"SourceInfo {info.source!r} maps no bands")
        raster = read_raster_layer(info.source, layer_type, None, num_partitions, resample_method, read_method)
        rasters.append(raster.bands([src for src, _ in mapping]))
        targets.extend(t for _, t in mapping)
    if sorted(targets) != list(range(len(targets))):
        raise ValueError(f"the SourceInfo target bands must be 0..{len(targets) - 1} once each, got {targets}")
    everything = union(rasters) if len(rasters) > 1 else rasters[0]
    metadata = everything.collect_metadata(layout_type) if target_crs is None else None
    tiled = [r.tile_to_layout(metadata or layout_type, target_crs, resample_method, partition_strategy)
             for r in rasters]
    combined = combine_bands(tiled) if len(tiled) > 1 else tiled[0]
    order = [targets.index(t) for t in range(len(targets))]
    return combined.bands(order) if order != list(range(len(order))) else combined
