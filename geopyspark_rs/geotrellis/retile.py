"""Tiling rasters into a layout: ``collect_metadata`` and ``tile_to_layout`` in the layer's own CRS with
nearest-neighbour sampling, to a LocalLayout, GlobalLayout (zoomed power-of-two layout), LayoutDefinition,
Metadata or another layer's layout. Each raster is cut into layout tiles in Rust, the pieces are shuffled by
key and merged in Rust. (Reprojection and other resampling methods come with the CRS work.)"""

from __future__ import annotations

from pyspark.sql import functions as F

from . import steps
from . import tile_contract as tc
from .constants import LayerType, ResampleMethod
from .data_model import (Bounds, Extent, GlobalLayout, LayoutDefinition, LocalLayout, Metadata, SpaceTimeKey,
                         SpatialKey, crs_to_proj4)
from .layout import cell_size, key_bounds, layout_for
from .. import _native


def _bounds(layer_type, cols_rows, instants=None):
    c0, r0, c1, r1 = cols_rows
    if layer_type == LayerType.SPACETIME:
        t0, t1 = instants
        return Bounds(SpaceTimeKey(c0, r0, tc.instant_datetime(t0)), SpaceTimeKey(c1, r1, tc.instant_datetime(t1)))
    return Bounds(SpatialKey(c0, r0), SpatialKey(c1, r1))


def _check_crs(layer_crs, metadata):
    if layer_crs is not None and metadata.crs is not None and crs_to_proj4(layer_crs) != metadata.crs:
        raise ValueError(f"The layout's CRS ({metadata.crs!r}) differs from the layer's CRS ({crs_to_proj4(layer_crs)!r})")


class Retiling:
    """Mixed into both layer classes."""

    def _layer_crs(self):
        raise NotImplementedError

    def _target_metadata(self, layout):
        from .layer import TiledRasterLayer

        if isinstance(layout, TiledRasterLayer):
            layout = layout.layer_metadata
        if isinstance(layout, Metadata):
            _check_crs(self._layer_crs(), layout)
            return layout
        if isinstance(layout, (LayoutDefinition, LocalLayout, GlobalLayout)):
            return self.collect_metadata(layout)
        raise TypeError("Could not retile from the given layout")

    def tile_to_layout(self, layout=LocalLayout(), target_crs=None,
                       resample_method=ResampleMethod.NEAREST_NEIGHBOR, partition_strategy=None):
        """Cut the rasters into the tiles of a layout (a LocalLayout, GlobalLayout, LayoutDefinition, Metadata or
        another TiledRasterLayer); overlapping pieces are merged. A GlobalLayout sets the result's zoom level
        (its own, or the one chosen from the cell size)."""
        from .exchange import combine, keyed_exchange
        from .layer import TiledRasterLayer, tiled_from_exchange
        from .partition import check_partition_strategy
        from .reproject import warp_to_layout

        if target_crs is not None or ResampleMethod(resample_method) != ResampleMethod.NEAREST_NEIGHBOR:
            # Reprojection, or resampling across the rasters' edges in their own CRS.
            return warp_to_layout(self, layout, target_crs, resample_method, partition_strategy)
        check_partition_strategy(partition_strategy, self.layer_type)
        zoom = layout.zoom_level if isinstance(layout, TiledRasterLayer) else None
        metadata = self._target_metadata(layout)
        if isinstance(layout, GlobalLayout):
            zoom = self._global_zoom(layout, metadata)
        lt = metadata.layout_definition
        keys = tc.key_columns(True, self.layer_type)
        to_rasters = self._to_raster_batch()

        def cut(batch):
            return _native.cut_to_layout(to_rasters(batch), lt)

        ex = keyed_exchange(self, cut, tc.schema(True, self.layer_type), keys, combine(keys, "fill"),
                            partition_strategy, out_metadata=metadata)
        out = tiled_from_exchange(self.layer_type, ex, metadata, zoom)
        if self._cell_type() == metadata.cell_type:
            return out
        # Cells take the metadata's cell type, as GeoTrellis cuts into tiles of that type.
        return out._with_step(steps.convert(metadata.cell_type))

    def _global_zoom(self, layout, metadata):
        """The zoom of a GlobalLayout's layout (its own zoom, or the number of tiles across: 2^zoom)."""
        if layout.zoom is not None:
            return int(layout.zoom)
        return metadata.tile_layout.layoutCols.bit_length() - 1


def _layout_of(layout, crs, extent, cell_width, cell_height):
    if not isinstance(layout, (LocalLayout, GlobalLayout, LayoutDefinition)):
        raise TypeError(f"layout must be a LocalLayout, GlobalLayout or LayoutDefinition, got {type(layout).__name__}")
    if isinstance(layout, GlobalLayout) and crs is None:
        raise ValueError("GlobalLayout needs the layer's CRS, and the layer has none")
    return layout_for(layout, crs, extent, cell_width, cell_height)[0]


class RasterRetiling(Retiling):
    def reproject(self, target_crs, resample_method=ResampleMethod.NEAREST_NEIGHBOR):
        """Each raster reprojected to ``target_crs`` on its own grid (no sampling across rasters)."""
        from .reproject import reproject_rasters

        return reproject_rasters(self, target_crs, resample_method)

    def _to_raster_batch(self):
        """A function making a RasterLayer batch of one of this layer's tile batches (the identity)."""
        return lambda batch: batch

    def _layer_crs(self):
        crs = [r[0] for r in self._headers().select("crs").distinct().collect()]
        if len(crs) > 1:
            raise ValueError(f"the layer's rasters are in several CRSs ({crs}); reproject them to one first")
        return crs[0] if crs else None

    def collect_metadata(self, layout=LocalLayout()):
        """The Metadata of this layer tiled to ``layout`` (LocalLayout, GlobalLayout or LayoutDefinition): the
        extent of the data, the layout, and the keys the extent covers."""
        if not isinstance(layout, (LocalLayout, GlobalLayout, LayoutDefinition)):
            raise TypeError(f"layout must be a LocalLayout, GlobalLayout or LayoutDefinition, got {type(layout).__name__}")
        cw = (F.col("xmax") - F.col("xmin")) / F.col("cols")
        ch = (F.col("ymax") - F.col("ymin")) / F.col("rows")
        aggs = [F.min("xmin"), F.min("ymin"), F.max("xmax"), F.max("ymax"),
                F.min_by(F.struct(cw.alias("w"), ch.alias("h")), F.sqrt(cw * ch)),
                F.collect_set("cell_type"), F.collect_set("crs")]
        if self.layer_type == LayerType.SPACETIME:
            aggs += [F.min("instant"), F.max("instant")]
        row = self._headers().agg(*aggs).first()
        if row[0] is None:
            raise ValueError("cannot collect metadata of an empty layer")
        extent = Extent(row[0], row[1], row[2], row[3])
        if len(row[6]) > 1:
            raise ValueError(f"the layer's rasters are in several CRSs ({row[6]}); reproject them to one first")
        cell_type = _native.cell_type_union(list(self._steps_cell_types(row[5])))
        crs = row[6][0] if row[6] else None
        layout = _layout_of(layout, crs, extent, row[4]["w"], row[4]["h"])
        instants = (row[7], row[8]) if self.layer_type == LayerType.SPACETIME else None
        bounds = _bounds(self.layer_type, key_bounds(layout, extent), instants)
        return Metadata(bounds, crs, cell_type, extent, layout)

    def _steps_cell_types(self, input_types):
        """The cell types the recorded steps turn the stored cell types into."""
        from .plan import PythonStep, output_cell_type

        rust = [s for s in self._steps if not isinstance(s, PythonStep)]
        return [output_cell_type(rust, [t]) if rust else t for t in input_types]


def raster_batch_of(metadata, layer_type):
    """``batch → batch`` giving a tiled batch its tiles' extents and CRS in place of col and row."""
    import pyarrow as pa

    from .layout import key_extents

    layout, crs = metadata.layout_definition, metadata.crs
    schema = tc.arrow_schema(False, layer_type)
    extra = tc.key_columns(True, layer_type)[2:]

    def convert(batch):
        extents = key_extents(layout, batch.column("col"), batch.column("row"))
        arrays = [pa.array(extents[:, i]) for i in range(4)] + [pa.array([crs] * batch.num_rows, pa.string())]
        arrays += [batch.column(c) for c in extra + tc.TILE_COLUMNS]
        return pa.RecordBatch.from_arrays(arrays, schema=schema)

    return convert


class TiledRetiling(Retiling):
    def reproject(self, target_crs, resample_method=ResampleMethod.NEAREST_NEIGHBOR):
        """The layer reprojected to ``target_crs`` in a floating layout with the same tile size (what
        GeoPySpark documents; its own implementation fails)."""
        tl = self.layer_metadata.tile_layout
        return self.tile_to_layout(LocalLayout(tile_cols=tl.tileCols, tile_rows=tl.tileRows), target_crs,
                                   resample_method)

    def _layer_crs(self):
        return self.layer_metadata.crs

    def _to_raster_batch(self):
        """A function making a RasterLayer batch (extents and CRS instead of keys) of a tile batch, run
        inside the pass that needs it."""
        return raster_batch_of(self.layer_metadata, self.layer_type)

    def collect_metadata(self, layout=LocalLayout()):
        m = self.layer_metadata
        cw, ch = cell_size(m.layout_definition)
        layout = _layout_of(layout, m.crs, m.extent, cw, ch)
        b = m.bounds
        instants = (tc.instant_ms(b.minKey.instant), tc.instant_ms(b.maxKey.instant)) \
            if self.layer_type == LayerType.SPACETIME else None
        bounds = _bounds(self.layer_type, key_bounds(layout, m.extent), instants)
        return Metadata(bounds, m.crs, m.cell_type, m.extent, layout)
