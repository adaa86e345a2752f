"""Reading layers: ``read_layer_metadata``, ``read_value`` (driver side, no Spark job) and ``query``
(the driver picks the tile files whose index ranges meet the query; the executors decode them)."""

from __future__ import annotations

import datetime

import numpy as np
import pyarrow as pa

from ... import _native
from .. import tile_contract as tc
from ..data_model import Extent
from ..layout import key_bounds, key_extents, tile_bytes
from .attributes import AttributeStore
from .layers import StoredLayer

# GeoPySpark sizes query partitions at about 16 MB of tile data.
_PARTITION_BYTES = 16 * 1024 * 1024


def _open(uri, layer_name, layer_zoom, store=None) -> StoredLayer:
    store = AttributeStore.cached(uri) if store is None else AttributeStore.build(store)
    return StoredLayer.open(store, layer_name, layer_zoom)


def read_layer_metadata(uri, layer_name, layer_zoom):
    """The ``Metadata`` of a stored layer (Avro or COG)."""
    return _open(uri, layer_name, layer_zoom).metadata


def _instant_ms(zdt) -> int:
    if not isinstance(zdt, datetime.datetime):
        raise TypeError(f"zdt must be a datetime.datetime, got {zdt!r}")
    return tc.instant_ms(zdt)


def read_value(uri, layer_name, layer_zoom, col, row, zdt=None, store=None):
    """The tile at key ``(col, row[, zdt])`` of a stored layer, read on the driver without a Spark job;
    ``None`` when the layer has no tile there."""
    layer = _open(uri, layer_name, layer_zoom, store)
    for name, v in (("col", col), ("row", row)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
            raise TypeError(f"{name} must be an int, got {v!r}")
    instant = None
    if layer.space_time:
        if zdt is None:
            raise ValueError(f"layer {layer_name!r} is SPACETIME: read_value needs zdt (a datetime)")
        instant = _instant_ms(zdt)
    if layer.layer_format == "COGLayerType":
        from .cog import read_cog_value

        return read_cog_value(layer, int(col), int(row))
    try:
        key = (int(col), int(row)) if instant is None else (int(col), int(row), instant)
        path = f"{layer.tile_dir}/{_native.key_index_file_name(layer.key_index_json, layer.space_time, key)}"
    except ValueError:
        return None  # a key the index cannot hold (outside a Hilbert index's bounds) has no tile
    layer.store.location.confine_file(path)
    found = _native.catalog_read_value(path, layer.schema_json, int(col), int(row), instant, layer.store.options)
    return None if found is None else tc.decode_tile(*found)


def _geometry(query_geom, query_proj, layer: StoredLayer):
    """``(shapely geometry or None, is_point)`` in the layer's CRS."""
    import shapely
    from shapely.geometry import MultiPolygon, Point, Polygon

    if query_geom is None:
        return None, False
    if isinstance(query_geom, Extent):
        geom = query_geom.to_polygon
    elif isinstance(query_geom, (bytes, bytearray)):
        try:
            geom = shapely.from_wkb(bytes(query_geom))
        except Exception as e:
            raise ValueError(f"query_geom is not valid WKB: {e}") from None
    elif isinstance(query_geom, (Polygon, MultiPolygon, Point)):
        geom = query_geom
    else:
        raise TypeError(f"Could not query geometry of type {type(query_geom)}; expected a shapely Point, "
                        "Polygon or MultiPolygon, an Extent, or WKB bytes")
    if not isinstance(geom, (Polygon, MultiPolygon, Point)):
        raise TypeError(f"query_geom must be a Point, Polygon or MultiPolygon, got a {geom.geom_type}")
    if query_proj is not None:
        geom = _reproject(geom, query_proj, layer.metadata.crs)
    return geom, isinstance(geom, Point)


def _reproject(geom, from_crs, to_proj4):
    import shapely

    from ..data_model import crs_to_proj4

    source = crs_to_proj4(from_crs)
    if to_proj4 is None or source == to_proj4:
        return geom
    coords = shapely.get_coordinates(geom)
    moved = _native.transform_points(source, to_proj4, np.ascontiguousarray(coords, dtype=np.float64))
    return shapely.set_coordinates(geom, moved)


def _time_intervals(time_intervals):
    """``[(t0, t1), ...]`` epoch ms (inclusive) from GeoPySpark's list: pairs are ranges, a single time an
    instant. As GeoPySpark does, the list's datetimes are replaced by their UTC ISO strings."""
    if time_intervals is None:
        return None
    if not isinstance(time_intervals, list) or not time_intervals:
        raise ValueError("time_intervals must be a non-empty list of datetimes")
    ms = [_instant_ms(t) for t in time_intervals]
    for i, t in enumerate(time_intervals):
        utc = t.astimezone(datetime.timezone.utc) if t.tzinfo else t.replace(tzinfo=datetime.timezone.utc)
        time_intervals[i] = utc.isoformat()
    return [(ms[i], ms[i + 1] if i + 1 < len(ms) else ms[i]) for i in range(0, len(ms), 2)]


def _key_box(layer: StoredLayer, geom, is_point, intervals, key_range=None):
    """The inclusive key box to read (None when nothing can match): the layer's bounds, narrowed to the
    geometry's keys, the ``(min_col, min_row, max_col, max_row)`` key range and the time intervals."""
    md = layer.metadata
    if md.bounds is None:
        return None
    lo, hi = md.bounds.minKey, md.bounds.maxKey
    c0, r0, c1, r1 = lo.col, lo.row, hi.col, hi.row
    if geom is not None:
        if is_point:
            gc0, gr0, _, _ = key_bounds(md.layout_definition, Extent(geom.x, geom.y, geom.x, geom.y))
            gc1, gr1 = gc0, gr0
        else:
            gc0, gr0, gc1, gr1 = key_bounds(md.layout_definition, Extent(*geom.bounds))
        c0, r0, c1, r1 = max(c0, gc0), max(r0, gr0), min(c1, gc1), min(r1, gr1)
    if key_range is not None:
        kc0, kr0, kc1, kr1 = key_range
        c0, r0, c1, r1 = max(c0, kc0), max(r0, kr0), min(c1, kc1), min(r1, kr1)
    if c0 > c1 or r0 > r1:
        return None
    t0 = t1 = None
    if layer.space_time:
        t0, t1 = tc.instant_ms(lo.instant), tc.instant_ms(hi.instant)
        if intervals:
            t0 = max(t0, min(a for a, _ in intervals))
            t1 = min(t1, max(b for _, b in intervals))
            if t0 > t1:
                return None
    return (c0, r0, c1, r1, t0, t1)


def select_files(layer: StoredLayer, key_box, suffix: str = "") -> list[str]:
    """The layer's tile files whose index lies in the index ranges of ``key_box``: one listing of the
    layer's directory, then a search per file (GeoTrellis probes every index in the ranges instead)."""
    c0, r0, c1, r1, t0, t1 = key_box
    min_key, max_key = ((c0, r0, t0), (c1, r1, t1)) if layer.space_time else ((c0, r0), (c1, r1))
    # Exact, or past the engine's bound a cover of them: the executors filter keys by the box anyway.
    ranges = _native.key_index_ranges(layer.key_index_json, layer.space_time, min_key, max_key)
    if ranges == []:
        return []
    try:
        paths = _native.list_files(layer.tile_dir, layer.store.options)
    except FileNotFoundError:
        return []  # (a listing of what does not exist is empty anyway; any other failure must not read as "no tiles")
    names = [p.rsplit("/", 1)[-1] for p in paths]
    names = [n[:len(n) - len(suffix)] if suffix and n.endswith(suffix) else n for n in names]
    # ASCII digits only: str.isdigit() also takes other scripts' digits and superscripts.
    numeric = [(int(n), p) for n, p in zip(names, paths) if n.isascii() and n.isdigit()]
    confine = layer.store.location.confine_file
    for _, p in numeric:
        confine(p)  # a tile file symlinked out of the catalog is refused, not read
    if not numeric:
        return []
    starts = np.array([a for a, _ in ranges], dtype=np.int64)
    ends = np.array([b for _, b in ranges], dtype=np.int64)
    index = np.array([i for i, _ in numeric], dtype=np.int64)
    pos = np.searchsorted(starts, index, side="right") - 1
    keep = (pos >= 0) & (index <= ends[np.maximum(pos, 0)])
    return [p for (_, p), k in zip(numeric, keep) if k]


def make_plan(layer: StoredLayer, key_box, geom, is_point, intervals, num_partitions) -> dict:
    """What the executors need: files split into partitions, the key box and the exact filters."""
    files = select_files(layer, key_box) if key_box is not None else []
    if num_partitions is None:
        per_part = max(1, _PARTITION_BYTES // max(1, tile_bytes(layer.metadata)))
        n = max(1, -(-len(files) // per_part))
    else:
        if isinstance(num_partitions, bool) or not isinstance(num_partitions, int) or num_partitions <= 0:
            raise ValueError(f"num_partitions must be a positive int or None, got {num_partitions!r}")
        n = num_partitions
    parts = [files[i::n] for i in range(n)] if files else [[]]
    layout = layer.metadata.layout_definition
    e, tl = layout.extent, layout.tileLayout
    return {
        "schema": layer.schema_json,
        "space_time": layer.space_time,
        "key_box": key_box,
        "layout": [e.xmin, e.ymin, e.xmax, e.ymax, tl.layoutCols, tl.layoutRows, tl.tileCols, tl.tileRows],
        "geometry": None if geom is None or is_point else geom.wkb_hex,
        "intervals": intervals,
        "parts": parts,
    }


def filter_batch(batch: pa.RecordBatch, plan: dict) -> pa.RecordBatch:
    """Keep the tiles whose extent shares area with the query polygon and whose instant lies in an
    interval (whole-tile vectorised tests; no per-cell work)."""
    if batch.num_rows == 0:
        return batch
    keep = np.ones(batch.num_rows, dtype=bool)
    if plan.get("geometry"):
        import shapely

        geom = shapely.from_wkb(bytes.fromhex(plan["geometry"]))
        boxes = shapely.box(*key_extents(plan["layout"], batch.column("col"), batch.column("row")).T)
        keep &= shapely.intersects(geom, boxes) & ~shapely.touches(geom, boxes)
    if plan.get("intervals"):
        t = batch.column("instant").to_numpy()
        in_any = np.zeros(batch.num_rows, dtype=bool)
        for a, b in plan["intervals"]:
            in_any |= (t >= a) & (t <= b)
        keep &= in_any
    return batch if keep.all() else batch.filter(pa.array(keep))


# Files decoded per native call: bounds the memory of one batch.
_FILES_PER_BATCH = 32


def read_part(paths: list[str], plan: dict, options: dict):
    """Decoded, filtered batches of one partition's files."""
    box = plan["key_box"]
    box = None if box is None else tuple(box)
    for i in range(0, len(paths), _FILES_PER_BATCH):
        batch = _native.catalog_read_tiles(paths[i:i + _FILES_PER_BATCH], plan["schema"], plan["space_time"],
                                           box, options)
        batch = filter_batch(batch, plan)
        if batch.num_rows:
            yield batch


def query(uri, layer_name, layer_zoom=None, query_geom=None, time_intervals=None, query_proj=None,
          num_partitions=None, store=None):
    """Read a stored layer (or the part of it a geometry and time intervals select) into a
    ``TiledRasterLayer``.

    Args:
        uri (str): the catalog: a local path, ``file://`` or ``s3://`` URI.
        layer_name (str), layer_zoom (int, optional): the layer; zoom defaults to 0.
        query_geom (shapely Polygon, MultiPolygon or Point, Extent, or WKB bytes, optional): keep the tiles
            that intersect the polygon (share area with it) or contain the point.
        time_intervals ([datetime], optional): SPACETIME only; consecutive pairs are inclusive ranges, a
            last single time an instant. Like GeoPySpark, replaces the list's items by UTC ISO strings.
        query_proj (int or str, optional): the CRS of ``query_geom`` when it is not the layer's.
        num_partitions (int, optional): partitions of the result; default about 16 MB of tiles each.

    Returns:
        TiledRasterLayer with ``zoom_level=layer_zoom`` and the stored metadata.
    """
    from ...session import active_session

    layer, plan = plan_query(uri, layer_name, layer_zoom, query_geom, time_intervals, query_proj, num_partitions,
                             store)
    return planned_layer(active_session(), layer, plan)


def _key_range(key_range):
    if key_range is None:
        return None
    try:
        values = tuple(key_range)
    except TypeError:
        values = ()
    if len(values) != 4 or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in values):
        raise TypeError(f"key_range must be (min_col, min_row, max_col, max_row) ints, got {key_range!r}")
    return tuple(int(v) for v in values)


def plan_query(uri, layer_name, layer_zoom=None, query_geom=None, time_intervals=None, query_proj=None,
               num_partitions=None, store=None, key_range=None) -> tuple[StoredLayer, dict]:
    """The stored layer and the read plan of a query (``query``'s arguments, and an inclusive key range),
    made on the driver from the catalog's attributes and one listing: the tile files to read, in
    partitions, and the exact filters."""
    key_range = _key_range(key_range)
    layer = _open(uri, layer_name, layer_zoom, store)
    geom, is_point = _geometry(query_geom, query_proj, layer)
    intervals = _time_intervals(time_intervals)
    if intervals is not None and not layer.space_time:
        raise ValueError(f"time_intervals were given but layer {layer_name!r} is SPATIAL")
    key_box = _key_box(layer, geom, is_point, intervals, key_range)
    if layer.layer_format == "COGLayerType":
        from .cog import cog_plan

        return layer, cog_plan(layer, key_box, geom, is_point, num_partitions)
    return layer, make_plan(layer, key_box, geom, is_point, intervals, num_partitions)


def file_reader(plan: dict, options: dict):
    """The head of a layer whose source rows are tile files (column ``path``): each batch's files decoded
    and filtered by the plan."""
    plan = {k: v for k, v in plan.items() if k != "parts"}
    if plan.get("cog"):
        from .cog import read_cog_part as read
    else:
        read = read_part

    def run(batches):
        for batch in batches:
            if batch.num_rows:
                yield from read(batch.column("path").to_pylist(), plan, options)

    return run


def planned_layer(spark, layer: StoredLayer, plan: dict):
    """The TiledRasterLayer of a read plan: one source row per file, in the plan's partitions, decoded in
    the pass that consumes the layer (``source``)."""
    from ..layer import TiledRasterLayer
    from ..plan import Head
    from ..source import source_frame

    paths = [p for part in plan["parts"] for p in part]
    parts = [i for i, part in enumerate(plan["parts"]) for _ in part]
    n = max(1, len(plan["parts"]))
    rows = pa.table({"path": pa.array(paths, pa.string())})
    out = TiledRasterLayer(layer.layer_type, source_frame(spark, rows, parts, n), layer.metadata,
                           zoom_level=layer.zoom)
    out._head = Head(file_reader(plan, layer.store.options))
    out._partitions = n
    return out


__all__ = ["read_layer_metadata", "read_value", "query"]
