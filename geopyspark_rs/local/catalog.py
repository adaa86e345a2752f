"""GeoTrellis catalogs without Spark: ``query``, ``read``, ``read_value`` and ``write`` in one Python process,
the tile files decoded and encoded in Rust on every core. The driver-side planning (which files a query
needs, the checks and key index of a new layer) is the same code ``gps.query`` and ``gps.write`` run, so
a layer written here is byte-identical to one written by ``gps.write``."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pyarrow as pa

from .. import _native
from ..geotrellis import tile_contract as tc
from ..geotrellis.catalog import read as catalog_read
from ..geotrellis.catalog.attributes import AttributeStore
from ..geotrellis.catalog.write import NewLayer
from ..geotrellis.constants import IndexingMethod, LayerType
from ..geotrellis.data_model import Bounds, Extent, GlobalLayout, LocalLayout, Metadata, SpatialKey
from ..geotrellis.layout import layout_for
from ..geotrellis.stitch import keys_extent
from .raster import Raster, raster_batch

# Files decoded per native call: the call decodes them on every core; bounds the memory of one batch.
_FILES_PER_CALL = 256


class Layer:
    """Tiles of a layout in memory, keyed as in a ``TiledRasterLayer``: the Spark-free counterpart of
    ``TiledRasterLayer.from_numpy_rdd(layer_type, numpy_rdd, metadata, zoom_level)``.

    Args:
        layer_type (LayerType): SPATIAL (``SpatialKey``) or SPACETIME (``SpaceTimeKey``).
        tiles (dict): key → :class:`Tile`.
        layer_metadata (Metadata): the layout, CRS, cell type, extent and bounds of the tiles.
        zoom_level (int, optional): the zoom ``write`` stores the layer at.
    """

    def __init__(self, layer_type, tiles: dict, layer_metadata: Metadata, zoom_level=None):
        self.layer_type = LayerType(layer_type)
        if not isinstance(layer_metadata, Metadata):
            raise TypeError(f"layer_metadata must be a Metadata, got {type(layer_metadata).__name__}")
        if not isinstance(tiles, dict):
            raise TypeError(f"tiles must be a dict of keys to Tiles, got {type(tiles).__name__}")
        self.layer_metadata, self.zoom_level = layer_metadata, zoom_level
        self._batch = _one_batch(tc.records_to_table(tiles.items(), True, self.layer_type))
        self._tiles = dict(tiles)

    @classmethod
    def _of_batch(cls, layer_type, batch: pa.RecordBatch, metadata: Metadata, zoom_level=None) -> "Layer":
        out = cls.__new__(cls)
        out.layer_type, out.layer_metadata, out.zoom_level = LayerType(layer_type), metadata, zoom_level
        out._batch, out._tiles = batch, None
        return out

    @classmethod
    def from_raster(cls, raster: Raster, layout=LocalLayout(), zoom_level=None) -> "Layer":
        """``raster`` cut into the tiles of ``layout`` (a LocalLayout, GlobalLayout or LayoutDefinition in the
        raster's CRS) in Rust, as ``tile_to_layout`` cuts a RasterLayer: keys the raster covers, cells outside
        it NoData. A GlobalLayout sets the zoom level."""
        if not isinstance(raster, Raster):
            raise TypeError(f"from_raster takes a Raster, got {type(raster).__name__}")
        if isinstance(layout, GlobalLayout) and raster.proj4 is None:
            raise ValueError("a GlobalLayout needs the raster's CRS, and the raster has none")
        bands, rows, cols = raster.data.shape
        e = raster.extent
        definition, zoom = layout_for(layout, raster.proj4, e, (e.xmax - e.xmin) / cols, (e.ymax - e.ymin) / rows)
        batch = _native.cut_to_layout(raster_batch(raster), definition)
        if batch.num_rows == 0:
            raise ValueError(f"the raster's extent {tuple(e)} lies outside the layout {definition}")
        kc, kr = batch.column("col").to_numpy(), batch.column("row").to_numpy()
        c0, r0, c1, r1 = int(kc.min()), int(kr.min()), int(kc.max()), int(kr.max())
        metadata = Metadata(Bounds(SpatialKey(c0, r0), SpatialKey(c1, r1)), raster.proj4, raster.cell_type, e,
                            definition)
        return cls._of_batch(LayerType.SPATIAL, batch, metadata, zoom if zoom_level is None else zoom_level)

    @property
    def tiles(self) -> dict:
        """key → :class:`Tile`."""
        if self._tiles is None:
            self._tiles = dict(tc.table_to_records(self._batch, True, self.layer_type))
        return self._tiles

    def to_raster(self) -> Raster:
        """The tiles mosaicked into one :class:`Raster` over the keys they cover (SPATIAL layers, or
        SPACETIME ones with a single instant); missing tiles are NoData."""
        return _mosaic(self._batch, self.layer_metadata, self.layer_type)

    def __len__(self):
        return self._batch.num_rows

    def __repr__(self):
        return (f"Layer({self.layer_type.value}, {len(self)} tiles, zoom_level={self.zoom_level!r}, "
                f"metadata={self.layer_metadata!r})")


def _one_batch(table: pa.Table) -> pa.RecordBatch:
    table = table.combine_chunks()
    batches = table.to_batches()
    return batches[0] if batches else pa.RecordBatch.from_pylist([], schema=table.schema)


def _threads(threads) -> int:
    import os

    if threads is None:
        return os.cpu_count() or 1
    if isinstance(threads, bool) or not isinstance(threads, int) or threads <= 0:
        raise ValueError(f"threads must be a positive int or None, got {threads!r}")
    return threads


def _read_batches(layer, plan: dict, threads: int) -> list[pa.RecordBatch]:
    """The plan's tiles, decoded in Rust: Avro tile files many per call on every core, COG files one
    per thread."""
    files = [p for part in plan["parts"] for p in part]
    options = layer.store.options
    if plan.get("cog"):
        from ..geotrellis.catalog.cog import read_cog_part

        with ThreadPoolExecutor(threads) as pool:
            per_file = pool.map(lambda path: list(read_cog_part([path], plan, options)), files)
            return [b for batches in per_file for b in batches]
    box = plan["key_box"]
    box = None if box is None else tuple(box)
    out = []
    for i in range(0, len(files), _FILES_PER_CALL):
        batch = _native.catalog_read_tiles(files[i:i + _FILES_PER_CALL], plan["schema"], plan["space_time"], box,
                                           options, parallel=threads > 1)
        batch = catalog_read.filter_batch(batch, plan)
        if batch.num_rows:
            out.append(batch)
    return out


def _store(uri, store, options):
    """The attribute store to use: ``store`` (an AttributeStore or URI, default ``uri``), with explicit
    object-store ``options`` when given (Spark-free code has no Spark conf to take S3 keys from; without
    options they come from the environment, as object_store reads it)."""
    store = AttributeStore.build(store if store is not None else uri)
    if options is not None:
        if not isinstance(options, dict) or not all(isinstance(k, str) for k in options):
            raise TypeError(f"options must be a dict of object-store options (str keys), got {options!r}")
        store = AttributeStore(store.uri)
        store._options = {k: str(v) for k, v in options.items()}
    return store


def _query_batch(uri, layer_name, layer_zoom, query_geom, time_intervals, query_proj, store, threads, key_range,
                 options):
    store = _store(uri, store, options)
    layer, plan = catalog_read.plan_query(uri, layer_name, layer_zoom, query_geom, time_intervals, query_proj,
                                          None, store, key_range)
    batches = _read_batches(layer, plan, _threads(threads))
    schema = tc.arrow_schema(True, layer.layer_type)
    table = pa.Table.from_batches([b.cast(schema) for b in batches], schema=schema)
    return layer, _one_batch(table)


def query(uri, layer_name, layer_zoom=None, query_geom=None, time_intervals=None, query_proj=None, store=None,
          threads=None, key_range=None, options=None) -> dict:
    """The tiles of a stored layer that a query selects, as a dict of ``SpatialKey``/``SpaceTimeKey`` →
    :class:`Tile`, read without Spark.

    Arguments as ``gps.query`` (no ``num_partitions``), and:
        threads (int, optional): cores decoding (default all).
        key_range (tuple, optional): ``(min_col, min_row, max_col, max_row)``, inclusive: only these keys.
        options (dict, optional): object-store options for S3 catalogs (``aws_endpoint``,
            ``aws_access_key_id``, ``aws_secret_access_key``, ``aws_region``, ``aws_allow_http``...); by
            default they come from the environment (``AWS_*`` variables).
    """
    layer, batch = _query_batch(uri, layer_name, layer_zoom, query_geom, time_intervals, query_proj, store,
                                threads, key_range,
                                options)
    return dict(tc.table_to_records(batch, True, layer.layer_type))


def read_layer(uri, layer_name, layer_zoom=None, query_geom=None, time_intervals=None, query_proj=None,
               store=None, threads=None, key_range=None, options=None) -> Layer:
    """Like :func:`query`, as a :class:`Layer` that keeps the stored metadata and zoom."""
    layer, batch = _query_batch(uri, layer_name, layer_zoom, query_geom, time_intervals, query_proj, store,
                                threads, key_range,
                                options)
    return Layer._of_batch(layer.layer_type, batch, layer.metadata, layer.zoom)


def read(uri, layer_name, layer_zoom=None, query_geom=None, time_intervals=None, query_proj=None, store=None,
         threads=None, key_range=None, options=None, crop=True) -> Raster:
    """The region of a stored layer that a query selects, mosaicked into one :class:`Raster` (cells,
    ``affine.Affine`` transform, ``pyproj.CRS``, NoData) ready for rasterio and xarray, without Spark.

    Arguments as :func:`query`. With a ``query_geom``, the mosaic is cropped to the geometry's bounding
    box, widened to whole cells (``crop=False`` keeps the whole tiles); areas without tiles are NoData.
    A SPACETIME layer needs ``time_intervals`` that select one instant.

    Raises:
        ValueError: nothing is selected, or several instants are.
    """
    layer, batch = _query_batch(uri, layer_name, layer_zoom, query_geom, time_intervals, query_proj, store,
                                threads, key_range,
                                options)
    if batch.num_rows == 0:
        raise ValueError(f"the query selects no tiles of layer {layer_name!r} at zoom {layer.zoom}")
    raster = _mosaic(batch, layer.metadata, layer.layer_type)
    if crop and query_geom is not None:
        geom, _ = catalog_read._geometry(query_geom, query_proj, layer)
        raster = _crop(raster, Extent(*geom.bounds))
    return raster


def _mosaic(batch: pa.RecordBatch, metadata: Metadata, layer_type: LayerType) -> Raster:
    if batch.num_rows == 0:
        raise ValueError("cannot mosaic an empty layer")
    if layer_type == LayerType.SPACETIME:
        instants = np.unique(batch.column("instant").to_numpy())
        if len(instants) > 1:
            raise ValueError(f"the tiles hold {len(instants)} instants; select one with time_intervals to "
                             "mosaic them (or use query for all)")
        batch = batch.drop_columns(["instant"])
    cell_type, bands, rows, cols, cells, bounds = _native.stitch(batch)
    tile = tc.decode_tile(cell_type, bands, rows, cols, cells)
    extent = keys_extent(metadata.layout_definition, *bounds)
    return Raster._from_extent(tile.cells, extent, metadata.crs, tile.no_data_value)


def _crop(raster: Raster, bounds: Extent) -> Raster:
    """The cells of ``raster`` that ``bounds`` touches (whole cells; a point's cell)."""
    a, _, c, _, e, f = raster._affine
    _, rows, cols = raster.data.shape
    x0 = int(np.clip(np.floor((bounds.xmin - c) / a), 0, cols - 1))
    x1 = int(np.clip(np.ceil((bounds.xmax - c) / a), x0 + 1, cols))
    y0 = int(np.clip(np.floor((bounds.ymax - f) / e), 0, rows - 1))
    y1 = int(np.clip(np.ceil((bounds.ymin - f) / e), y0 + 1, rows))
    data = raster.data[:, y0:y1, x0:x1]
    extent = Extent(c + a * x0, f + e * y1, c + a * x1, f + e * y0)
    return Raster._from_extent(np.ascontiguousarray(data), extent, raster.proj4, raster.nodata)


def read_value(uri, layer_name, layer_zoom, col, row, zdt=None, store=None, options=None):
    """The tile at a key of a stored layer, or None (``gps.read_value``, which needs no Spark either)."""
    return catalog_read.read_value(uri, layer_name, layer_zoom, col, row, zdt, _store(uri, store, options))


def read_layer_metadata(uri, layer_name, layer_zoom):
    """The ``Metadata`` of a stored layer (``gps.read_layer_metadata``)."""
    return catalog_read.read_layer_metadata(uri, layer_name, layer_zoom)


def write(uri, layer_name, layer, index_strategy=IndexingMethod.ZORDER, time_unit=None, time_resolution=None,
          store=None, compression_level=None, layout=LocalLayout(), zoom_level=None, options=None):
    """Write a :class:`Layer`, or a :class:`Raster` cut to ``layout`` in Rust, as a GeoTrellis 3.x Avro layer,
    without Spark. Arguments and refusals as ``gps.write``; the files are byte-identical to its.

    Args:
        layer (Layer or Raster): the tiles, or one raster to cut.
        layout (LocalLayout, GlobalLayout or LayoutDefinition): how a Raster is tiled (in its own CRS).
        zoom_level (int, optional): a Raster's zoom (a GlobalLayout gives its own; else 0).
        options (dict, optional): object-store options, as for :func:`query`.

    Raises:
        LayerExistsError: the layer exists (a ``FileExistsError`` and a ``ValueError``).
        ValueError: the layer is empty, or the arguments do not fit it.
    """
    if isinstance(layer, Raster):
        layer = Layer.from_raster(layer, layout, zoom_level)
        layer.zoom_level = layer.zoom_level or 0
    elif not isinstance(layer, Layer):
        raise TypeError(f"write takes a geopyspark_rs.local Layer or Raster, got {type(layer).__name__}")
    if layer._batch.num_rows == 0:
        raise ValueError(f"cannot write layer {layer_name!r}: it has no tiles")
    target = NewLayer(uri, layer_name, layer.layer_type, layer.layer_metadata, layer.zoom_level, index_strategy,
                      time_unit, time_resolution, _store(uri, store, options), False, compression_level)
    with target:  # the layer's write claim, released (and partial tiles removed) on failure
        batch = _with_sorted_index(layer._batch, target.index_json, target.space_time)
        width = _native.key_index_file_width(target.index_json, target.space_time)
        _native.catalog_write_all(batch, "index", target.directory, width, True, target.store.options,
                                  target.compression_level)
        target.commit()


def _with_sorted_index(batch: pa.RecordBatch, index_json: str, space_time: bool) -> pa.RecordBatch:
    """The batch with each key's index column (computed in Rust), sorted by index then key."""
    cols, rows = batch.column("col").to_numpy(), batch.column("row").to_numpy()
    instants = batch.column("instant").to_numpy() if space_time else None
    index = np.asarray(_native.key_index_to_index(index_json, space_time, cols, rows, instants), dtype=np.int64)
    keys = (rows, cols) if instants is None else (instants, rows, cols)
    order = np.lexsort(keys + (index,))
    batch = batch.append_column(pa.field("index", pa.int64(), nullable=False), pa.array(index, pa.int64()))
    return batch.take(pa.array(order))


__all__ = ["Layer", "Raster", "query", "read", "read_layer", "read_value", "read_layer_metadata", "write"]
