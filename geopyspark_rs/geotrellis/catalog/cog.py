"""Reading GeoTrellis COG layers (``layerType: COGLayerType``): per zoom range ``<min>_<max>`` one GeoTIFF
per key of the range's smallest zoom, named by its index, holding the range's largest zoom at full
resolution and the smaller zooms as overviews. A tile of zoom z is a 256-pixel window of overview
``max - z`` of the file of its ancestor key."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pyarrow as pa

from ... import _native
from .. import tile_contract as tc
from ..data_model import Bounds, Extent, LayoutDefinition, Metadata, SpatialKey
from ..layout import key_bounds, zoomed_layout


def _layout(crs: str, tile_size: int, zoom: int) -> LayoutDefinition:
    """The layout of a zoom of a COG layer (GeoTrellis' ZoomedLayoutScheme over the CRS's world extent)."""
    return zoomed_layout(crs, tile_size, zoom)


def _is_zoom(z) -> bool:
    return isinstance(z, int) and not isinstance(z, bool) and 0 <= z <= 30


class CogLayer:
    """The zoom ranges, key indexes and layouts of a COG layer's metadata attribute."""

    def __init__(self, layer):
        try:
            md = layer.value["metadata"]["metadata"]
            self.cell_type = md["cellType"]
            self.crs = md["crs"]
            self.extent = Extent(**md["extent"])
            self.tile_size = int(md["layoutScheme"]["tileSize"])
            self.ranges = sorted((r["minZoom"], r["maxZoom"]) for r, _ in md["zoomRangeInfos"])
            self.indexes = {(r["minZoom"], r["maxZoom"]): index for r, index in layer.value["metadata"]["keyIndexes"]}
        except (KeyError, TypeError, ValueError) as e:
            raise ValueError(f"{layer.path}: not a GeoTrellis COG layer's metadata ({e})") from None
        if not self.ranges or not all(_is_zoom(a) and _is_zoom(b) and a <= b for a, b in self.ranges):
            raise ValueError(f"{layer.path}: a COG layer's zoom ranges must be 0 ≤ minZoom ≤ maxZoom ≤ 30, "
                             f"got {self.ranges}")
        missing = [r for r in self.ranges if r not in self.indexes]
        if missing:
            raise ValueError(f"{layer.path}: the COG layer has no key index for zoom ranges {missing}")
        if not 0 < self.tile_size <= 1 << 16:
            raise ValueError(f"{layer.path}: a COG layer's tileSize must be in 1..65536, got {self.tile_size}")
        self.layer = layer

    def zoom_range(self, zoom: int):
        for lo, hi in self.ranges:
            if lo <= zoom <= hi:
                return lo, hi
        raise ValueError(f"COG layer {self.layer.name!r} has no zoom {zoom} (zooms {self.ranges[0][0]}.."
                         f"{self.ranges[-1][1]})")

    def metadata(self, zoom: int) -> Metadata:
        """GeoTrellis' TileLayerMetadata of one zoom: the zoomed layout, keys of the extent."""
        self.zoom_range(zoom)
        layout = _layout(self.crs, self.tile_size, zoom)
        c0, r0, c1, r1 = key_bounds(layout, self.extent)
        return Metadata(Bounds(SpatialKey(c0, r0), SpatialKey(c1, r1)), self.crs, self.cell_type, self.extent, layout)

    def directory(self, zoom_range) -> str:
        location = self.layer.store.location
        return location.confine(f"{location.root}/{self.layer.name}/{zoom_range[0]}_{zoom_range[1]}")


def layer_metadata(layer) -> Metadata:
    return CogLayer(layer).metadata(layer.zoom)


def _windows(cog: CogLayer, zoom: int, zoom_range, base_col: int, base_row: int, key_box):
    """``[(key, window)]`` of the zoom's keys inside ``key_box`` within the file of base key."""
    dz = zoom - zoom_range[0]
    size = cog.tile_size
    c0, r0, c1, r1 = key_box
    out = []
    for col in range(max(c0, base_col << dz), min(c1, ((base_col + 1) << dz) - 1) + 1):
        for row in range(max(r0, base_row << dz), min(r1, ((base_row + 1) << dz) - 1) + 1):
            window = ((col - (base_col << dz)) * size, (row - (base_row << dz)) * size, size, size)
            out.append(((col, row), window))
    return out


def _base_key(cog: CogLayer, zoom_range, info) -> tuple:
    """The smallest-zoom key a COG file covers, from its top-left corner."""
    layout = _layout(cog.crs, cog.tile_size, zoom_range[0])
    e, tl = layout.extent, layout.tileLayout
    xmin, _, _, ymax = info["extent"]
    col = round((xmin - e.xmin) / (e.xmax - e.xmin) * tl.layoutCols)
    row = round((e.ymax - ymax) / (e.ymax - e.ymin) * tl.layoutRows)
    return col, row


def read_cog_value(layer, col: int, row: int):
    cog = CogLayer(layer)
    zoom_range = cog.zoom_range(layer.zoom)
    dz = layer.zoom - zoom_range[0]
    base = (col >> dz, row >> dz)
    name = _native.key_index_file_name(json.dumps(cog.indexes[zoom_range]), False, base)
    path = layer.store.location.confine_file(f"{cog.directory(zoom_range)}/{name}.tiff")
    options = layer.store.options
    if not _native.file_exists(path, options):
        return None
    [(_, window)] = _windows(cog, layer.zoom, zoom_range, *base, (col, row, col, row))
    batch = _native.read_geotiff_windows(path, [window], options, zoom_range[1] - layer.zoom)
    r = batch.to_pylist()[0]
    return tc.decode_tile(r["cell_type"], r["bands"], r["rows"], r["cols"], r["cells"])


def cog_plan(layer, key_box, geom, is_point, num_partitions) -> dict:
    """Files of the zoom range, split into partitions, and what the executors need to cut windows."""
    from .read import select_files

    cog = CogLayer(layer)
    zoom_range = cog.zoom_range(layer.zoom)
    dz = layer.zoom - zoom_range[0]
    files = []
    if key_box is not None:
        c0, r0, c1, r1 = key_box[:4]
        base_box = (c0 >> dz, r0 >> dz, c1 >> dz, r1 >> dz, None, None)
        # The zoom range's files stand for a layer's tile files, indexed by their base keys.
        files_of_range = SimpleNamespace(key_index_json=json.dumps(cog.indexes[zoom_range]), space_time=False,
                                         tile_dir=cog.directory(zoom_range), store=layer.store)
        files = select_files(files_of_range, base_box, suffix=".tiff")
    n = num_partitions or max(1, min(len(files), 64))
    parts = [files[i::n] for i in range(n)] if files else [[]]
    md = cog.metadata(layer.zoom)
    e, tl = md.layout_definition.extent, md.tile_layout
    return {
        "cog": True,
        "zoom": layer.zoom,
        "zoom_range": list(zoom_range),
        "crs": cog.crs,
        "tile_size": cog.tile_size,
        "key_box": None if key_box is None else list(key_box[:4]),
        "layout": [e.xmin, e.ymin, e.xmax, e.ymax, tl.layoutCols, tl.layoutRows, tl.tileCols, tl.tileRows],
        "geometry": None if geom is None or is_point else geom.wkb_hex,
        "intervals": None,
        "parts": parts,
    }


_SCHEMA = tc.arrow_schema(True, tc.LayerType.SPATIAL)


def read_cog_part(paths, plan, options):
    """Batches of the tiles the plan wants from each COG file."""
    from .read import filter_batch

    cog = SimpleNamespace(tile_size=plan["tile_size"], crs=plan["crs"])  # what the windows need of a CogLayer
    zoom, zoom_range = plan["zoom"], tuple(plan["zoom_range"])
    for path in paths:
        info = _native.geotiff_info(path, options)
        base = _base_key(cog, zoom_range, info)
        wanted = _windows(cog, zoom, zoom_range, *base, plan["key_box"])
        if not wanted:
            continue
        batch = _native.read_geotiff_windows(path, [w for _, w in wanted], options, zoom_range[1] - zoom)
        keys = [pa.array([k[0] for k, _ in wanted], pa.int32()), pa.array([k[1] for k, _ in wanted], pa.int32())]
        tiles = [batch.column(c).cast(f.type) for c, f in zip(tc.TILE_COLUMNS, list(_SCHEMA)[2:])]
        batch = pa.RecordBatch.from_arrays(keys + tiles, schema=_SCHEMA)
        batch = filter_batch(batch, plan)
        if batch.num_rows:
            yield batch
