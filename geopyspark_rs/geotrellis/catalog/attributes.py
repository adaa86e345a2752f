"""``AttributeStore``: the JSON attributes of a catalog's layers (GeoTrellis' ``AttributeStore``)."""

from __future__ import annotations

import json

from ... import _native
from .store import Location, check_name, check_zoom, list_attribute_files, read_json, write_json

_CACHE: dict = {}


class AttributeStore:
    """JSON attribute access for the catalog at ``uri`` (a local path, ``file://`` or ``s3://`` URI).

    Raises:
        ValueError: for an unsupported or malformed URI.
    """

    def __init__(self, uri):
        self.location = Location(uri)
        self.uri = uri
        self._options = None

    @property
    def options(self) -> dict:
        """Object-store options, resolved once (credentials from Spark's conf or the environment)."""
        if self._options is None:
            self._options = self.location.store_options()
        return self._options

    @classmethod
    def build(cls, store):
        """``store`` itself if it is an AttributeStore, else a new one for the URI string."""
        if isinstance(store, AttributeStore):
            return store
        if isinstance(store, str):
            return cls(store)
        raise ValueError(f"store must be an AttributeStore or a catalog URI string, got {store!r}")

    @classmethod
    def cached(cls, uri):
        """One AttributeStore per URI for the life of the process."""
        if uri not in _CACHE:
            _CACHE[uri] = cls(uri)
        return _CACHE[uri]

    def layer(self, name, zoom=None):
        """The attributes of layer ``name`` at ``zoom`` (``None`` means 0)."""
        return AttributeStore.Attributes(self, name, zoom)

    def _layer_ids(self):
        ids = set()
        for file_name in list_attribute_files(self.location, self.options):
            parsed = self.location.parse_attribute_file(file_name)
            if parsed is not None:
                ids.add(parsed[:2])
        return sorted(ids)

    def layers(self):
        """Attributes of every layer (name, zoom) with at least one attribute in the store."""
        return [self.layer(name, zoom) for name, zoom in self._layer_ids()]

    def contains(self, name, zoom=None):
        """Whether layer ``name`` exists at ``zoom`` (``None`` means 0): its metadata attribute exists."""
        path = self.location.attribute_path(check_name("layer name", name), check_zoom(zoom), "metadata")
        return _native.file_exists(path, self.options)

    def delete(self, name, zoom=None):
        """Delete every attribute of layer ``name`` at ``zoom`` (tiles are left in place, as GeoTrellis does)."""
        self.layer(name, zoom).delete_all()

    def __repr__(self):
        return f"AttributeStore({self.uri!r})"

    class Attributes:
        """The attributes of one layer: ``read``/``write``/``delete`` by name, or ``attrs[name]``."""

        def __init__(self, store, layer_name, layer_zoom):
            self.store = store
            self.layer_name = check_name("layer name", layer_name)
            self.layer_zoom = check_zoom(layer_zoom)

        def _path(self, name):
            return self.store.location.attribute_path(self.layer_name, self.layer_zoom,
                                                      check_name("attribute name", name))

        def read(self, name):
            """The attribute's value parsed from JSON; KeyError when the layer has no such attribute."""
            doc = read_json(self._path(name), self.store.options)
            if doc is None:
                raise KeyError(f"layer {self.layer_name!r} zoom {self.layer_zoom} has no attribute {name!r} "
                               f"in {self.store.uri}")
            return doc[1]

        def write(self, name, value):
            """Store ``value`` (anything JSON-serialisable) as attribute ``name``."""
            if name == "metadata":
                raise ValueError("the 'metadata' attribute is the layer's own; write the layer with gps.write")
            json.dumps(value)  # fail here, with Python's message, on values JSON cannot hold
            write_json(self._path(name), self.layer_name, self.layer_zoom, value, self.store.options)

        def delete(self, name):
            """Delete attribute ``name`` (no error when it does not exist)."""
            _native.delete_file(self._path(name), self.store.options)

        def delete_all(self):
            location = self.store.location
            for file_name in list_attribute_files(location, self.store.options):
                parsed = location.parse_attribute_file(file_name)
                if parsed is not None and parsed[:2] == (self.layer_name, self.layer_zoom):
                    _native.delete_file(f"{location.attributes_dir()}/{file_name}", self.store.options)

        def layer_metadata(self):
            """The layer's ``Metadata``."""
            from .layers import StoredLayer

            return StoredLayer.open(self.store, self.layer_name, self.layer_zoom).metadata

        def __getitem__(self, name):
            return self.read(name)

        def __setitem__(self, name, value):
            self.write(name, value)

        def __delitem__(self, name):
            self.delete(name)

        def __repr__(self):
            return f"Attributes({self.store.uri!r}, {self.layer_name!r}, {self.layer_zoom})"
