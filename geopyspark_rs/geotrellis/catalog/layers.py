"""A stored layer as its ``metadata`` attribute describes it: header, TileLayerMetadata, key index and
writer schema (format reference §2.1)."""

from __future__ import annotations

import json
import math

from ... import _native
from ...errors import CellTypeError, CorruptDataError, GeoPySparkError, LayerNotFoundError
from ..constants import LayerType
from ..data_model import Metadata, SpaceTimeKey, SpatialKey
from .store import check_name, check_zoom, read_json


def _number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _int32(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and -2**31 <= v < 2**31


def check_metadata(md: Metadata, path: str, space_time: bool) -> None:
    """Refuse a TileLayerMetadata whose values could not describe a layer of keys with (``space_time``) or
    without instants, naming the attribute file."""
    def bad(what):
        raise CorruptDataError(f"{path}: the layer's metadata has {what}")

    tl = md.tile_layout
    if not all(_int32(v) and v > 0 for v in tl):
        bad(f"a tileLayout that is not four positive 32-bit integers: {tuple(tl)}")
    for name, e in (("extent", md.extent), ("layoutDefinition extent", md.layout_definition.extent)):
        if not all(_number(v) for v in e) or e.xmin > e.xmax or e.ymin > e.ymax:
            bad(f"an {name} that is not four finite numbers, min ≤ max: {tuple(e)}")
    le = md.layout_definition.extent
    if le.xmin == le.xmax or le.ymin == le.ymax:
        bad(f"an empty layoutDefinition extent: {tuple(le)}")
    if not isinstance(md.cell_type, str):
        bad(f"a cellType that is not a name: {md.cell_type!r}")
    try:
        _native.cell_type_info(md.cell_type)
    except CellTypeError as e:
        bad(f"an unknown cellType: {e}")
    if md.crs is not None and not isinstance(md.crs, str):
        bad(f"a crs that is not a string: {md.crs!r}")
    if md.bounds is not None:
        keys = (md.bounds.minKey, md.bounds.maxKey)
        if not all(_int32(k.col) and _int32(k.row) for k in keys):
            bad(f"bounds whose keys are not 32-bit integers: {md.bounds}")
        if not all(isinstance(k, SpaceTimeKey if space_time else SpatialKey) for k in keys):
            bad(f"bounds whose keys are not {'SpaceTimeKeys' if space_time else 'SpatialKeys'} as the header says: "
                f"{md.bounds}")


class StoredLayer:
    """What the catalog says about layer ``name`` at ``zoom``."""

    def __init__(self, store, name, zoom, value, path):
        self.store, self.name, self.zoom, self.path = store, name, zoom, path
        try:
            self._parse(value)
        except (KeyError, TypeError, AttributeError, IndexError, OverflowError) as e:
            # What the checks below do not name: JSON of the wrong shape somewhere inside.
            if isinstance(e, GeoPySparkError):
                raise
            raise CorruptDataError(f"{path}: not a readable layer metadata attribute "
                                   f"({type(e).__name__}: {e})") from None

    def _parse(self, value):
        path, store = self.path, self.store
        try:
            self.header = value["header"]
            self.metadata_dict = value["metadata"]
        except (KeyError, TypeError):
            raise ValueError(f"{path}: not a layer's metadata attribute (no header and metadata)") from None
        self.layer_format = self.header.get("layerType", "AvroLayerType")
        key_class = self.header.get("keyClass", "")
        # geotrellis.layer (3.x), geotrellis.spark (≤ 2.x) or geotrellis.tiling (3.0 milestones).
        if key_class.endswith(".SpatialKey"):
            self.layer_type = LayerType.SPATIAL
        elif key_class.endswith(".SpaceTimeKey"):
            self.layer_type = LayerType.SPACETIME
        else:
            raise ValueError(f"{path}: unsupported key class {key_class!r}")
        self.multiband = self.header.get("valueClass", "").endswith("MultibandTile")
        self.value = value
        if self.layer_format == "COGLayerType":
            from .cog import layer_metadata

            self.metadata = layer_metadata(self)
        elif self.layer_format == "AvroLayerType":
            self.metadata = Metadata.from_dict(self.metadata_dict)
            check_metadata(self.metadata, path, self.layer_type == LayerType.SPACETIME)
            try:
                self.key_index_json = json.dumps(value["keyIndex"])
                self.schema_json = json.dumps(value["schema"])
            except KeyError as e:
                raise ValueError(f"{path}: the layer's metadata attribute has no {e.args[0]}") from None
            self.tile_dir = store.location.tile_dir(self.header)
        else:
            raise ValueError(f"{path}: unsupported layer type {self.layer_format!r} (Avro and COG layers are)")

    @property
    def space_time(self) -> bool:
        return self.layer_type == LayerType.SPACETIME

    @classmethod
    def open(cls, store, name, zoom):
        """The layer's description; LayerNotFoundError (a ValueError) when the catalog has no such layer."""
        name, zoom = check_name("layer name", name), check_zoom(zoom)
        path = store.location.attribute_path(name, zoom, "metadata")
        doc = read_json(path, store.options)
        if doc is not None:
            return cls(store, name, zoom, doc[1], path)
        # A COG layer keeps one metadata attribute, at zoom 0, for all its zooms.
        base = store.location.attribute_path(name, 0, "metadata")
        doc = read_json(base, store.options) if zoom != 0 else None
        if doc is not None:
            value = doc[1]
            if isinstance(value, dict) and value.get("header", {}).get("layerType") == "COGLayerType":
                return cls(store, name, zoom, value, base)
        raise LayerNotFoundError(f"layer {name!r} at zoom {zoom} does not exist in the catalog {store.uri}")
