"""A TMS (XYZ) tile server for pyramids and catalog layers, with a web map (GeoPySpark's
``geopyspark.geotrellis.tms``).

The server is Rust (``rust/tms``: hyper on tokio, a background thread of this process). Avro catalog
layers are read and rendered in Rust without the GIL: a :class:`ColorMap` display never touches Python.
A Python display function takes the GIL per tile. A :class:`Pyramid` source is written once to a local
temporary catalog when the TMS is built (one Spark job per level), so requests never start Spark jobs.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import weakref
from importlib import resources

import numpy as np

from geopyspark_rs import _native

from . import tile_contract as tc
from .constants import LayerType

__all__ = ["TileRender", "TMS"]

_STATIC = resources.files("geopyspark_rs.geotrellis") / "static"


class TileRender(object):
    """A Python display function for :meth:`TMS.build`: ``render_function`` takes a
    :class:`~geopyspark_rs.geotrellis.Tile` (or a list of them, one per source, ``None`` where a source has
    no tile) and returns an image: a PIL image or a ``(rows, cols, 4)``/``(rows, cols, 3)`` uint8 array;
    ``None`` answers "no tile" (204)."""

    def __init__(self, render_function):
        if not callable(render_function):
            raise TypeError(f"render_function must be callable, got {type(render_function).__name__}")
        self.render_function = render_function

    def __call__(self, tiles):
        return self.render_function(tiles)


def _layer_levels(uri, layer_name):
    """The levels of a catalog layer as the server reads them: catalog levels for Avro layers, or a
    Python tile source for COG layers. Also the layer's metadata at its deepest zoom."""
    from .catalog.attributes import AttributeStore
    from .catalog.layers import StoredLayer

    store = AttributeStore.cached(uri)
    zooms = sorted(z for name, z in store._layer_ids() if name == layer_name)
    if not zooms:
        raise ValueError(f"the catalog {uri} has no layer {layer_name!r}")
    first = StoredLayer.open(store, layer_name, zooms[0])
    if first.layer_type != LayerType.SPATIAL:
        raise ValueError(f"layer {layer_name!r} is SPACETIME; a TMS serves SPATIAL layers")
    if first.layer_format == "COGLayerType":
        from .catalog.cog import CogLayer

        cog = CogLayer(first)
        zooms = list(range(cog.ranges[0][0], cog.ranges[-1][1] + 1))
        return _CogSource(store, layer_name, zooms), cog.metadata(zooms[-1])
    levels = []
    for z in zooms:
        layer = first if z == zooms[0] else StoredLayer.open(store, layer_name, z)
        levels.append((int(z), layer.tile_dir, layer.key_index_json, layer.schema_json, dict(store.options)))
    return levels, layer.metadata


class _CogSource:
    """Tiles of a COG layer, read through the Python reader (the server takes the GIL for them)."""

    def __init__(self, store, name, zooms):
        self.store, self.name, self._zooms = store, name, zooms
        self._layers = {}  # zoom → StoredLayer, so a request reads no attribute JSON

    def zooms(self):
        return self._zooms

    def tile(self, z, x, y):
        from .catalog.layers import StoredLayer
        from .catalog.cog import read_cog_value

        if z not in self._zooms:
            return None
        if z not in self._layers:
            self._layers[z] = StoredLayer.open(self.store, self.name, z)
        found = read_cog_value(self._layers[z], int(x), int(y))
        return None if found is None else tc.encode_tile(found)


def _display_function(display, n_sources):
    """The renderer the server calls: list of tile tuples (or None) → PNG bytes or None."""
    from .render import encode_rgba

    fn = display.render_function if isinstance(display, TileRender) else display

    def render(tiles):
        decoded = [None if t is None else tc.decode_tile(*t) for t in tiles]
        image = fn(decoded[0] if n_sources == 1 else decoded)
        if image is None:
            return None
        try:
            return encode_rgba(image)
        except ValueError as e:
            raise ValueError(f"the display function returned {type(image).__name__}: {e}") from None

    return render


class TMS(object):
    """A tile server of one or more sources. Build it with :meth:`build`, then :meth:`bind` it.

    Attributes:
        pysc: the SparkContext when one is active (GeoPySpark's attribute), else None.
        server: the running native server (None while unbound); collecting it stops the server.
        bound (bool): whether it is serving.
    """

    def __init__(self, sources, display, allow_overzooming, settings, cleanup=None):
        self._sources = sources
        self._display = display
        self._allow_overzooming = allow_overzooming
        self._settings = settings
        self._handshake = ""
        self.server = None
        self.pysc = None
        if cleanup is not None:
            weakref.finalize(self, shutil.rmtree, cleanup, True)

    @property
    def bound(self):
        return self.server is not None and self.server.bound

    @classmethod
    def build(cls, source, display, allow_overzooming=True):
        """A TMS of ``source``: a :class:`~geopyspark_rs.geotrellis.layer.Pyramid`, a ``(catalog_uri,
        layer_name)`` pair, or a list of these. ``display``: a
        :class:`~geopyspark_rs.geotrellis.color.ColorMap` (one source only; band 0 is rendered in Rust), or a
        callable / :class:`TileRender` taking a Tile (a list of Tiles for several sources) and returning a
        PIL image or an RGBA uint8 array. With ``allow_overzooming``, zooms past the deepest level crop and
        enlarge (nearest neighbour) that level's tiles."""
        from .color import ColorMap
        from .pyramid import Pyramid

        items = source if isinstance(source, list) else [source]
        if not items:
            raise ValueError("a TMS needs at least one source")
        sources, metas, cleanup = [], [], None
        for item in items:
            if isinstance(item, Pyramid):
                if cleanup is None:
                    cleanup = tempfile.mkdtemp(prefix="gps-tms-")
                name = f"level{len(sources)}"
                for layer in item.levels.values():
                    if layer.layer_type != LayerType.SPATIAL:
                        raise ValueError("a TMS serves SPATIAL pyramids")
                item.write(cleanup, name, compression_level=1)
                levels, meta = _layer_levels(cleanup, name)
            elif isinstance(item, tuple) and len(item) == 2 and all(isinstance(v, str) for v in item):
                levels, meta = _layer_levels(*item)
            else:
                raise ValueError("a TMS source is a Pyramid, a (catalog_uri, layer_name) pair, or a list of "
                                 f"them; got {item!r}")
            sources.append(levels)
            metas.append(meta)
        if isinstance(display, ColorMap):
            if len(sources) != 1:
                raise ValueError("a ColorMap displays one source; give a function to combine several")
            native_display = display.to_json()
        elif callable(display):
            native_display = _display_function(display, len(sources))
        else:
            raise ValueError(f"display must be a ColorMap or a callable, got {type(display).__name__}")
        settings = _map_settings(sources, metas, allow_overzooming)
        tms = cls(sources, native_display, bool(allow_overzooming), settings, cleanup)
        try:
            from pyspark import SparkContext

            tms.pysc = SparkContext._active_spark_context
        except ImportError:
            pass
        return tms

    def bind(self, host=None, requested_port=None, cache_entries=2048):
        """Start serving on ``host`` (default ``'localhost'``) and ``requested_port`` (default: any free
        port), keeping up to ``cache_entries`` rendered tiles in memory. Raises ``OSError`` naming the
        address when it cannot be bound (a port in use)."""
        if self.bound:
            return self
        host = "localhost" if host is None else str(host)
        port = 0 if requested_port is None else int(requested_port)
        if not 0 <= port <= 65535:
            raise ValueError(f"requested_port must be 0..65535, got {requested_port!r}")
        page = (_STATIC / "map.html").read_text().replace("__SETTINGS__", json.dumps(self._settings))
        files = {
            "/": ("text/html; charset=utf-8", page.encode()),
            "/index.html": ("text/html; charset=utf-8", page.encode()),
            "/static/leaflet.js": ("application/javascript", (_STATIC / "leaflet" / "leaflet.js").read_bytes()),
            "/static/leaflet.css": ("text/css", (_STATIC / "leaflet" / "leaflet.css").read_bytes()),
        }
        try:
            self.server = _native.tms_bind(self._sources, self._display, self._allow_overzooming, files, host,
                                           port, self._handshake, int(cache_entries))
        except Exception as e:
            raise OSError(f"cannot serve tiles on {host}:{port}: {e}") from e
        return self

    def unbind(self):
        """Stop serving; requests in flight finish first."""
        if self.server is not None:
            self.server.unbind()
            self.server = None

    def set_handshake(self, handshake):
        """The text ``GET /handshake`` answers (GeoPySpark's front ends poll it)."""
        self._handshake = str(handshake)
        if self.server is not None:
            self.server.set_handshake(self._handshake)

    @property
    def host(self):
        if not self.bound:
            raise ValueError("the TMS is not bound; call bind() first")
        return self.server.host

    @property
    def port(self):
        if not self.bound:
            raise ValueError("the TMS is not bound; call bind() first")
        return self.server.port

    @property
    def url_pattern(self):
        """``http://{host}:{port}/tile/{z}/{x}/{y}.png`` with this server's host and port."""
        return f"http://{self.host}:{self.port}/tile/{{z}}/{{x}}/{{y}}.png"

    @property
    def url(self):
        """The web map's address."""
        return f"http://{self.host}:{self.port}/"

    def request_log(self):
        """The last requests served (``METHOD path status bytes time``), oldest first."""
        return [] if self.server is None else self.server.request_log()

    def to_folium(self, folium_map=None):
        """A ``folium.Map`` (or ``folium_map``) showing this server's tiles, with the source's zoom range and
        bounds (needs folium; the map's own Leaflet comes from folium's CDN, unlike the page at ``url``)."""
        try:
            import folium
        except ImportError as e:
            raise ImportError("to_folium needs folium (pip install folium)") from e
        s = self._settings
        crs = "EPSG4326" if s["crs"] == "EPSG:4326" else "EPSG3857"
        m = folium_map if folium_map is not None else folium.Map(tiles=None, crs=crs, min_zoom=s["minZoom"],
                                                                 max_zoom=s["maxZoom"])
        folium.TileLayer(tiles=self.url_pattern, attr="geopyspark_rs", name="geopyspark_rs",
                         min_zoom=s["minZoom"], max_zoom=s["maxZoom"], max_native_zoom=s["maxNativeZoom"],
                         no_wrap=True).add_to(m)
        if s["bounds"]:
            m.fit_bounds(s["bounds"])
        return m

    def _repr_html_(self):
        if not self.bound:
            return "<p>TMS (not bound: call <code>bind()</code> to serve and show its map)</p>"
        return (f'<iframe src="{self.url}" width="100%" height="420" style="border:0"></iframe>'
                f'<p>Tiles at <code>{self.url_pattern}</code></p>')



def _map_settings(sources, metas, allow_overzooming):
    """Zoom range, CRS kind and bounds (degrees) for the web map."""
    zooms = []
    for s in sources:
        zooms.extend(s.zooms() if hasattr(s, "zooms") else [lvl[0] for lvl in s])
    meta = metas[0]
    crs = meta.crs or ""
    kind = "EPSG:4326" if "+proj=longlat" in crs else "EPSG:3857"
    bounds = None
    try:
        e = meta.extent
        xs = np.array([e.xmin, e.xmax, e.xmin, e.xmax], dtype=np.float64)
        ys = np.array([e.ymin, e.ymin, e.ymax, e.ymax], dtype=np.float64)
        pts = _native.transform_points(crs, "+proj=longlat +datum=WGS84 +no_defs",
                                       np.ascontiguousarray(np.stack([xs, ys], axis=1)))
        lon, lat = pts[:, 0], pts[:, 1]
        if np.all(np.isfinite(pts)):
            bounds = [[max(float(lat.min()), -85.0), float(lon.min())], [min(float(lat.max()), 85.0), float(lon.max())]]
    except Exception:
        bounds = None
    max_native = max(zooms)
    return {
        "crs": kind,
        "minZoom": int(min(zooms)),
        "maxNativeZoom": int(max_native),
        "maxZoom": int(max_native + (4 if allow_overzooming else 0)),
        "bounds": bounds,
    }
