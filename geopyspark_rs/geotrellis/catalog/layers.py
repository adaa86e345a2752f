"""A stored layer as its ``metadata`` attribute describes it: header, TileLayerMetadata, key index and
writer schema (format reference §2.1)."""

from __future__ import annotations

import json

from ...errors import LayerNotFoundError
from ..constants import LayerType
from ..data_model import Metadata
from .store import check_name, check_zoom, read_json

class StoredLayer:
    """What the catalog says about layer ``name`` at ``zoom``."""

    def __init__(self, store, name, zoom, value, path):
        self.store, self.name, self.zoom, self.path = store, name, zoom, path
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
