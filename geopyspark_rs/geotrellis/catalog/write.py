"""Writing layers: ``write`` (a new layer; tiles from the executors, the metadata attribute last so an
interrupted write never looks like a layer) and ``update_layer`` (merge into an existing one)."""

from __future__ import annotations

import warnings

import numpy as np
import pyarrow as pa
from ... import _native
from ...errors import LayerExistsError, UnsupportedError
from .. import tile_contract as tc
from ..constants import IndexingMethod, LayerType, TimeUnit
from ..data_model import Bounds, Extent, Metadata
from ..executor_errors import raising_worker_errors
from .attributes import AttributeStore
from .claim import LayerClaim, is_temp_tile, layer_files, remove_temp_files
from .layers import StoredLayer
from .store import RawJson, check_name, check_zoom, to_json, write_json

_DAY_MS = 86_400_000
# GeoTrellis' ZCurveKeyIndexMethod.by<Unit>(n) resolutions (months and years are 30 and 365 days).
_UNIT_MS = {
    TimeUnit.MILLIS: 1, TimeUnit.SECONDS: 1000, TimeUnit.MINUTES: 60_000, TimeUnit.HOURS: 3_600_000,
    TimeUnit.DAYS: _DAY_MS, TimeUnit.WEEKS: 7 * _DAY_MS, TimeUnit.MONTHS: 30 * _DAY_MS,
    TimeUnit.YEARS: 365 * _DAY_MS,
}
_KEY_CLASS = {LayerType.SPATIAL: "geotrellis.layer.SpatialKey", LayerType.SPACETIME: "geotrellis.layer.SpaceTimeKey"}


def _bounds_keys(bounds: Bounds, space_time: bool):
    lo, hi = bounds.minKey, bounds.maxKey
    if space_time:
        return (lo.col, lo.row, tc.instant_ms(lo.instant)), (hi.col, hi.row, tc.instant_ms(hi.instant))
    return (lo.col, lo.row), (hi.col, hi.row)


def _temporal(index_strategy, layer_type, time_unit, time_resolution):
    """The index's time parameter: Z-order resolution in ms, Hilbert resolution in bits, else None."""
    if layer_type == LayerType.SPATIAL:
        return None
    if index_strategy == IndexingMethod.ROWMAJOR:
        raise ValueError("IndexingMethod.ROWMAJOR indexes SPATIAL layers only")
    if index_strategy == IndexingMethod.HILBERT:
        if time_resolution is None:
            raise ValueError("a SPACETIME layer indexed with HILBERT needs time_resolution (bits of the time axis)")
        return int(time_resolution)
    if time_unit is None:
        raise ValueError("writing a SPACETIME layer needs time_unit (a TimeUnit) for its Z-order index")
    try:
        unit = TimeUnit(time_unit.value if isinstance(time_unit, TimeUnit) else time_unit)
    except ValueError:
        raise ValueError(f"time_unit must be a TimeUnit, got {time_unit!r}") from None
    multiple = 1 if time_resolution is None else int(time_resolution)
    if multiple <= 0:
        raise ValueError(f"time_resolution must be a positive number of time units, got {time_resolution!r}")
    return _UNIT_MS[unit] * multiple


def _float_extent(e: Extent) -> dict:
    return {"xmin": float(e.xmin), "ymin": float(e.ymin), "xmax": float(e.xmax), "ymax": float(e.ymax)}


def metadata_value(md: Metadata) -> dict:
    """The TileLayerMetadata JSON object in GeoTrellis 3.x key order, doubles as doubles."""
    d = md.to_dict()
    d["layoutDefinition"]["extent"] = _float_extent(md.layout_definition.extent)
    d["extent"] = _float_extent(md.extent)
    return d


def _with_index(index_json: str, space_time: bool):
    """``batch → batch`` adding each key's ``index`` column (computed in Rust from the key columns), run in
    the layer's own pass on the map side of the write's exchange."""

    def add(batch):
        cols = batch.column("col").to_numpy()
        rows = batch.column("row").to_numpy()
        instants = batch.column("instant").to_numpy() if space_time else None
        index = _native.key_index_to_index(index_json, space_time, cols, rows, instants)
        return batch.append_column(pa.field("index", pa.int64(), nullable=False), pa.array(index, pa.int64()))

    return add


def _compression_level(level):
    """``write``'s compression_level checked on the driver: None, or an int 0-12."""
    if level is None:
        return None
    if isinstance(level, bool) or not isinstance(level, (int, np.integer)):
        raise TypeError(f"compression_level must be None or an int from 0 to 12, got {level!r}")
    if not 0 <= level <= 12:
        raise ValueError(f"compression_level must be None (GeoTrellis' zlib level 6, byte-identical) or 0 to 12, "
                         f"got {level}")
    return int(level)


def _write_tiles(layer, directory: str, index_json: str, multiband: bool, existing_schema, options,
                 compression_level=None) -> tuple:
    """One keyed exchange on the tiles' index, then one file per index written from the executors:
    (files, bytes)."""
    from pyspark.sql.types import LongType, StructField, StructType

    from ..exchange import shuffle_by_key, stream_runs

    stats = StructType([StructField("files", LongType(), False), StructField("bytes", LongType(), False)])
    space_time = layer.layer_type == LayerType.SPACETIME
    width = _native.key_index_file_width(index_json, space_time)
    add_index = _with_index(index_json, space_time)
    pieces = layer._map_batches(lambda batches: (add_index(b) for b in batches),
                                layer._schema().add("index", LongType(), False))
    df, _, _ = shuffle_by_key(pieces, ["index"], layer.layer_type, None, layer._partitions)

    def write_run(batch, complete):
        return _native.catalog_write_runs(batch, ["index"], directory, width, multiband, complete, existing_schema,
                                          options, compression_level)

    totals = df.mapInArrow(stream_runs(write_run), stats).groupBy().sum("files", "bytes").collect()[0]
    return int(totals[0] or 0), int(totals[1] or 0)


def _remove_leftovers(directory: str, options: dict) -> None:
    """Delete tile files an interrupted write of this layer left behind (it never got its metadata, so
    the layer does not exist); a new write must not inherit their keys. Run while holding the layer's
    claim, so that no live writer's files are removed."""
    for path, name in layer_files(directory, options):  # one listing for tiles and temporary tiles
        if name.isdigit() or is_temp_tile(name):
            _native.delete_file(path, options)


@raising_worker_errors
def write(uri, layer_name, tiled_raster_layer, index_strategy=IndexingMethod.ZORDER, time_unit=None,
          time_resolution=None, store=None, use_cogs=False, compression_level=None):
    """Write a TiledRasterLayer to a catalog as a GeoTrellis 3.x Avro layer at its ``zoom_level``.

    Args:
        uri (str): the catalog: a local path, ``file://`` or ``s3://`` URI.
        layer_name (str): letters, digits, ``_``, ``-`` and ``.``.
        tiled_raster_layer (TiledRasterLayer): the layer; ``zoom_level`` None writes zoom 0.
        index_strategy (IndexingMethod): ZORDER (default), HILBERT or ROWMAJOR (SPATIAL only).
        time_unit (TimeUnit), time_resolution (int or str): SPACETIME Z-order index: time bins of
            ``time_resolution`` (default 1) ``time_unit``s. For HILBERT, ``time_resolution`` is the bits of
            the time axis.
        store (AttributeStore or str, optional): the attribute store, by default the catalog's.
        use_cogs (bool): GeoTrellis COG layers can be read but not written yet.
        compression_level (int, optional): how the tile files are deflated (not a GeoPySpark argument).
            None (the default) is GeoTrellis' own zlib level 6: the files are byte-identical to what
            GeoTrellis 3.x writes. An int from 0 to 12 compresses with libdeflate at that level instead
            (1 fastest, 6 about zlib 6's size, 12 smallest; 0 stores uncompressed): still one zlib stream
            per file, which GeoTrellis (and any zlib inflater) reads to the same cells, but not the same
            bytes. Level 1 writes several times faster (docs/benchmarks.md).

    Raises:
        LayerExistsError: the layer exists (a ``FileExistsError`` and a ``ValueError``).
        ValueError: the layer is empty, or the arguments do not fit the layer.
        UnsupportedError: ``use_cogs=True`` (a ``NotImplementedError``).
        TypeError: compression_level is not None or an int.
    """
    from ..layer import TiledRasterLayer

    if not isinstance(tiled_raster_layer, TiledRasterLayer):
        raise TypeError(f"write takes a TiledRasterLayer, got {type(tiled_raster_layer).__name__}")
    target = NewLayer(uri, layer_name, tiled_raster_layer.layer_type, tiled_raster_layer.layer_metadata,
                      tiled_raster_layer.zoom_level, index_strategy, time_unit, time_resolution, store, use_cogs,
                      compression_level)
    with target:
        _write_tiles(tiled_raster_layer, target.directory, target.index_json, True, None, target.store.options,
                     target.compression_level)
        target.commit()


class NewLayer:
    """A layer about to be written: the checks, key index, header and directory worked out on the driver
    before any tile is written (by Spark's executors or by the Spark-free writer), the layer's write claim
    (claim.py: a concurrent writer of the same layer gets LayerBusyError, a ``FileExistsError``), and
    ``commit``, which writes the metadata attribute last, with an exclusive create, so that an interrupted
    write never looks like a layer and two writers never both commit. Use as a context manager: leaving it
    on an exception removes the tiles written so far and releases the claim."""

    def __init__(self, uri, layer_name, layer_type, metadata, zoom, index_strategy=IndexingMethod.ZORDER,
                 time_unit=None, time_resolution=None, store=None, use_cogs=False, compression_level=None):
        if use_cogs:
            raise UnsupportedError("writing GeoTrellis COG layers is not supported; use_cogs=False writes Avro")
        name = check_name("layer name", layer_name)
        self.compression_level = _compression_level(compression_level)
        if zoom is None:
            warnings.warn(f"layer {name!r} has no zoom_level; writing it at zoom 0", stacklevel=3)
            zoom = 0
        zoom = check_zoom(zoom)
        store = AttributeStore.build(store if store is not None else uri)
        index_strategy = IndexingMethod(index_strategy.value if isinstance(index_strategy, IndexingMethod)
                                        else index_strategy)
        layer_type = LayerType(layer_type)
        self.space_time = layer_type == LayerType.SPACETIME
        temporal = _temporal(index_strategy, layer_type, time_unit, time_resolution)
        if metadata.bounds is None:
            raise ValueError(f"cannot write layer {name!r}: it is empty")
        if store.contains(name, zoom):
            raise LayerExistsError(f"layer {name!r} at zoom {zoom} already exists in {store.uri}; "
                                   "use update_layer to change it")
        self.store, self.name, self.zoom, self.metadata = store, name, zoom, metadata
        self.index_json = _native.key_index_create(index_strategy.value, *_bounds_keys(metadata.bounds,
                                                                                       self.space_time), temporal)
        self.header = store.location.header(name, zoom, _KEY_CLASS[layer_type], "geotrellis.raster.MultibandTile")
        self.directory = store.location.tile_dir(self.header)
        self.claim = LayerClaim(self.directory, store.options, name).acquire()
        try:
            # A writer that finished between the check above and the claim: the layer exists now.
            if store.contains(name, zoom):
                raise LayerExistsError(f"layer {name!r} at zoom {zoom} already exists in {store.uri}; "
                                       "use update_layer to change it")
            _remove_leftovers(self.directory, store.options)
        except BaseException:
            self.claim.release()
            raise

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is not None:
            self.abort()
        return False

    def abort(self) -> None:
        """After a failed write: remove the tiles written so far (best effort: the next writer removes
        what is left) and release the claim. No metadata was written, so there is no layer."""
        if self.claim.generation is None:
            return
        try:
            if self.claim._lost is None:
                _remove_leftovers(self.directory, self.store.options)
        finally:
            self.claim.release()

    def commit(self) -> None:
        """Write the metadata attribute (only if this writer still holds the claim and no other metadata
        exists), then release the claim."""
        self.claim.check()
        remove_temp_files(self.directory, self.store.options)
        value = {
            "header": self.header,
            "metadata": metadata_value(self.metadata),
            "keyIndex": RawJson(self.index_json),
            "schema": RawJson(_native.catalog_schema(self.space_time, True)),
        }
        path = self.store.location.attribute_path(self.name, self.zoom, "metadata")
        text = ("[" + to_json({"name": self.name, "zoom": self.zoom}) + "," + to_json(value) + "]").encode("utf-8")
        if not _native.write_new_bytes(path, text, self.store.options) \
                and _native.read_bytes_if_exists(path, self.store.options) != text:
            # Only a writer that takes no claim (GeoTrellis, an older geopyspark_rs) gets here.
            raise LayerExistsError(f"layer {self.name!r} at zoom {self.zoom} was created in {self.store.uri} by "
                                   "another writer while this one wrote its tiles")
        self.claim.release()


def _merge_metadata(old: Metadata, new: Metadata, name: str) -> Metadata:
    if old.layout_definition != new.layout_definition:
        raise ValueError(f"cannot update layer {name!r}: the layouts differ ({old.layout_definition} stored, "
                         f"{new.layout_definition} given)")
    if old.crs != new.crs:
        raise ValueError(f"cannot update layer {name!r}: the CRSs differ ({old.crs!r} stored, {new.crs!r} given)")
    e1, e2 = old.extent, new.extent
    extent = Extent(min(e1.xmin, e2.xmin), min(e1.ymin, e2.ymin), max(e1.xmax, e2.xmax), max(e1.ymax, e2.ymax))
    b1, b2 = old.bounds, new.bounds
    key = type(b1.minKey)
    lo = key(*[min(a, b) for a, b in zip(b1.minKey, b2.minKey)])
    hi = key(*[max(a, b) for a, b in zip(b1.maxKey, b2.maxKey)])
    return Metadata(Bounds(lo, hi), old.crs, old.cell_type, extent, old.layout_definition)


@raising_worker_errors
def update_layer(uri, layer_name, tiled_raster_layer, store=None):
    """Merge a TiledRasterLayer into the existing layer ``layer_name`` at the layer's ``zoom_level``:
    tiles at new keys are added, tiles at existing keys replaced (GeoTrellis' default merge).

    Raises:
        ValueError: the layer does not exist, or its key type, layout, CRS or index bounds do not admit
            the given layer.
    """
    from ..layer import TiledRasterLayer

    if not isinstance(tiled_raster_layer, TiledRasterLayer):
        raise TypeError(f"update_layer takes a TiledRasterLayer, got {type(tiled_raster_layer).__name__}")
    name = check_name("layer name", layer_name)
    zoom = check_zoom(tiled_raster_layer.zoom_level)
    store = AttributeStore.build(store if store is not None else uri)
    stored = StoredLayer.open(store, name, zoom)
    if stored.layer_format != "AvroLayerType":
        raise ValueError(f"layer {name!r} is a {stored.layer_format}; only Avro layers can be updated")
    if stored.layer_type != tiled_raster_layer.layer_type:
        raise ValueError(f"cannot update {stored.layer_type.value} layer {name!r} with a "
                         f"{tiled_raster_layer.layer_type.value} layer")
    md = tiled_raster_layer.layer_metadata
    if md.bounds is None:
        return
    # One writer at a time (claim.py); the layer is read again once claimed, as another update may have
    # changed it meanwhile.
    with LayerClaim(stored.tile_dir, store.options, name, "update") as claim:
        stored = StoredLayer.open(store, name, zoom)
        _update(store, stored, name, zoom, tiled_raster_layer, claim)


def _update(store, stored, name, zoom, tiled_raster_layer, claim) -> None:
    md = tiled_raster_layer.layer_metadata
    # GeoTrellis refuses keys the stored index cannot address (its bounds are fixed at the first write).
    space_time = stored.space_time
    index_bounds = stored.value["keyIndex"]["properties"]["keyBounds"]
    lo, hi = _bounds_keys(md.bounds, space_time)
    ilo, ihi = index_bounds["minKey"], index_bounds["maxKey"]
    names = ("col", "row", "instant")[:len(lo)]
    if any(lo[i] < ilo[n] or hi[i] > ihi[n] for i, n in enumerate(names)):
        raise ValueError(f"cannot update layer {name!r}: the keys {md.bounds} exceed the key index bounds "
                         f"{index_bounds} fixed when the layer was written")
    merged = _merge_metadata(stored.metadata, md, name)
    store.location.confine_tree(stored.tile_dir)  # the merge reads existing tile files: none may lead out
    _write_tiles(tiled_raster_layer, stored.tile_dir, stored.key_index_json, stored.multiband, stored.schema_json,
                 store.options)
    claim.check()
    remove_temp_files(stored.tile_dir, store.options)
    value = dict(stored.value)
    value["metadata"] = metadata_value(merged)
    value["keyIndex"] = RawJson(stored.key_index_json)
    value["schema"] = RawJson(stored.schema_json)
    write_json(stored.path, name, zoom, value, store.options)
