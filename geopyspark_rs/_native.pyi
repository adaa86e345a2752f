"""Type stubs of the Rust extension (rust/python/src). Batches are pyarrow RecordBatches in the tile
contract (DESIGN §3). Errors are classes of ``geopyspark_rs.errors`` (mapped in rust/python/src/error.rs):
InvalidArgumentError (a ValueError) for bad values, TileContractError (a TypeError) for batches that break the
contract, NotFoundError (a FileNotFoundError) for missing files and objects, StorageError (an OSError) for other
I/O failures, CorruptDataError (a ValueError) for files that cannot be decoded."""

from typing import Any, Optional, Union

import numpy as np
import pyarrow as pa

# A layout argument (layout.rs): a LayoutDefinition (extent, tileLayout) or the flat tuple or list.
_Layout = Union[
    tuple[tuple[float, float, float, float], tuple[int, int, int, int]],
    tuple[float, float, float, float, int, int, int, int],
    list[Union[float, int]],
]

# catalog.rs — GeoTrellis catalog tile files. schema_json is the layer's stored writer schema (JSON text).
def catalog_read_tiles(paths: list[str], schema_json: str, space_time: bool,
                       key_box: Optional[tuple[int, int, int, int, Optional[int], Optional[int]]] = None,
                       options: Optional[dict[str, str]] = None, parallel: bool = False) -> pa.RecordBatch:
    """Tiles of the files (col, row[, instant] + tile columns), keys inside key_box (inclusive) only;
    ``parallel`` decodes on every core."""
def catalog_read_value(path: str, schema_json: str, col: int, row: int, instant: Optional[int] = None,
                       options: Optional[dict[str, str]] = None) -> Optional[tuple[str, int, int, int, bytes]]:
    """(cell_type, bands, rows, cols, cells) of one key, or None when the file or key is absent."""
def catalog_write_all(batch: pa.RecordBatch, index_column: str, directory: str, width: int, multiband: bool,
                      options: Optional[dict[str, str]] = None,
                      compression_level: Optional[int] = None) -> tuple[int, int]:
    """One file per run of equal index values of a whole batch sorted by the index, on every core: (files, bytes)."""
def catalog_write_runs(batch: pa.RecordBatch, key_columns: list[str], directory: str, width: int, multiband: bool,
                       last_run_complete: bool, existing_schema: Optional[str] = None,
                       options: Optional[dict[str, str]] = None,
                       compression_level: Optional[int] = None) -> tuple[pa.RecordBatch, int]:
    """One file per run of equal index values of a batch sorted by its one key column (the int64 index);
    returns a one-row batch ``files``, ``bytes`` and where the held-back last run starts.
    compression_level None: GeoTrellis' zlib level 6 bytes; 0-12: a faster libdeflate zlib stream."""
def catalog_schema(space_time: bool, multiband: bool) -> str:
    """The KeyValueRecord writer schema GeoTrellis 3.x stores, byte for byte."""

# crs.rs
def crs_to_proj4(crs: str) -> str:
    """EPSG code (``"4326"``, ``"EPSG:4326"``) or proj4 text → GeoTrellis' proj4 string."""
def transform_points(src: str, dst: str, points: np.ndarray) -> np.ndarray:
    """An n×2 float64 array of x, y (degrees for geographic CRSs) transformed from CRS src to dst."""

# histogram.rs
class Histogram:
    """A GeoTrellis StreamingHistogram (doubles) or FastMapHistogram (exact integer counts)."""
    @staticmethod
    def from_values(values: np.ndarray, int_histogram: bool, max_bucket_count: int = 80) -> Histogram: ...
    @staticmethod
    def from_json(text: str) -> Histogram: ...
    def to_json(self) -> str: ...
    def merge(self, other: Histogram) -> Histogram: ...
    @property
    def is_int(self) -> bool: ...
    def min(self) -> float: ...
    def max(self) -> float: ...
    def min_max(self) -> tuple[float, float]: ...
    def mean(self) -> float: ...
    def mode(self) -> float: ...
    def median(self) -> float: ...
    def values(self) -> list[float]: ...
    def item_count(self, item: float) -> int: ...
    def cdf(self) -> list[tuple[float, float]]: ...
    def bucket_count(self) -> int: ...
    def max_bucket_count(self) -> int: ...
    def total_count(self) -> int: ...
    def bin_counts(self) -> list[tuple[float, int]]: ...
    def quantile_breaks(self, num_breaks: int) -> list[float]: ...
def batch_histograms(batch: pa.RecordBatch, int_histogram: bool, max_bucket_count: int = 80) -> list[Histogram]:
    """One histogram per band over the batch's tiles."""

# key_index.rs — GeoTrellis key indexes (geotrellis_format.md §3). Indexes travel as their ``keyIndex`` JSON
# text; keys are ``(col, row)`` or ``(col, row, instant_ms)``. Bad methods, parameters, JSON or keys a
# Hilbert index cannot hold raise ValueError.
def key_index_create(
    method: str, min_key: tuple[int, ...], max_key: tuple[int, ...], temporal: Optional[int] = None
) -> str:
    """GeoTrellis' ``KeyIndexMethod.createIndex`` over the bounds ``min_key``..``max_key``: ``method`` is
    ``"zorder"``, ``"hilbert"`` or ``"rowmajor"`` (spatial only). Space-time keys need ``temporal``: ms per
    time bin for zorder, bits for hilbert; spatial keys take None. Hilbert indexes over 62 bits are refused.
    Returns the ``keyIndex`` JSON exactly as GeoTrellis writes it."""
def key_index_to_index(
    index_json: str,
    space_time: bool,
    cols: np.ndarray,
    rows: np.ndarray,
    instants: Optional[np.ndarray] = None,
) -> np.ndarray:
    """int64 indexes of the keys ``(cols[i], rows[i][, instants[i]])`` (int32, int32, int64 arrays of one
    length; ``instants`` iff ``space_time``). Releases the GIL."""
def key_index_ranges(
    index_json: str, space_time: bool, min_key: tuple[int, ...], max_key: tuple[int, ...]
) -> list[tuple[int, int]]:
    """Sorted, merged, inclusive ``(start, end)`` index ranges covering every key of the box
    ``min_key``..``max_key`` (instants inclusive). Releases the GIL."""
def key_index_file_width(index_json: str, space_time: bool) -> int:
    """Width of tile file names: decimal digits of the index of the bounds' max key (names are zero-padded
    to it)."""
def key_index_file_name(index_json: str, space_time: bool, key: tuple[int, ...]) -> str:
    """The tile file name of ``key``: its index zero-padded to the width of ``key_index_file_width``."""

# cell_type.rs
def cell_type_info(name: str) -> tuple[str, Optional[float], str]:
    """``(canonical name, NoData value or None, numpy dtype name)``."""
def cell_type_with_no_data(name: str, no_data: Optional[float]) -> str: ...
def cell_type_union(names: list[str]) -> str: ...

# layout.rs — layout math (rust/engine/src/layout.rs). ``layout`` arguments here and in every other binding
# are a LayoutDefinition ``(extent, tileLayout)`` or ``(xmin, ymin, xmax, ymax, layout_cols, layout_rows,
# tile_cols, tile_rows)`` (tuple or list); a layout with no tiles or an empty extent raises ValueError.
def layout_cell_size(layout: _Layout) -> tuple[float, float]:
    """``(cell width, cell height)`` of the layout's pixel grid."""
def layout_point_to_key(layout: _Layout, x: float, y: float) -> tuple[int, int]:
    """``(col, row)`` of the key holding a point (GeoTrellis pointToKey; not clamped to the layout).
    ValueError for a point that is not finite."""
def layout_points_to_keys(layout: _Layout, xs: np.ndarray, ys: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The keys of points (float64 arrays of one length) as int32 ``cols``, ``rows`` and a bool ``found``
    array (False, key 0, 0, for a point that is not finite or whose key does not fit in int32)."""
def layout_key_bounds(layout: _Layout, extent: tuple[float, float, float, float]) -> tuple[int, int, int, int]:
    """``(col_min, row_min, col_max, row_max)`` of the keys an extent covers (GeoTrellis mapTransform: north
    and west edges inclusive, east and south exclusive; not clamped). ValueError for an extent that is not
    finite."""
def layout_key_extents(layout: _Layout, cols: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """n×4 float64 extents (xmin, ymin, xmax, ymax) of the keys (int64 arrays of one length)."""
def layout_floating(
    extent: tuple[float, float, float, float], cell_width: float, cell_height: float, tile_cols: int, tile_rows: int
) -> tuple[tuple[float, float, float, float], tuple[int, int, int, int]]:
    """GeoTrellis' FloatingLayoutScheme: ``((xmin, ymin, xmax, ymax), (layout_cols, layout_rows, tile_cols,
    tile_rows))``, anchored at the extent's upper-left corner and padded right and down. ValueError for a
    cell size that is not positive or an extent that gives no tiles."""

# plan.rs
def run_plan(batch: pa.RecordBatch, plan_json: str, layout: Optional[_Layout] = None) -> pa.RecordBatch:
    """Run a JSON list of per-tile steps over every tile, in one pass. ``layout`` (the layer's) is needed
    only by steps that use their tile's key, extent or cell size."""
def plan_output_cell_type(plan_json: str, input_cell_types: list[str]) -> str: ...

# retile.rs
def cut_to_layout(batch: pa.RecordBatch, layout: _Layout) -> pa.RecordBatch:
    """Cut rasters (extent columns + tiles) into the tiles of a layout, nearest neighbour."""

# merge.rs
def combine_runs(batch: pa.RecordBatch, key_columns: list[str], op: str, last_run_complete: bool) -> tuple[pa.RecordBatch, int]:
    """Combine runs of equal keys ("fill", "sum", "mean", "min", "max", "variance", "standard_deviation");
    returns the combined rows and where the unfinished last run starts."""

# stitch.rs
def stitch(batch: pa.RecordBatch) -> tuple[str, int, int, int, bytes, tuple[int, int, int, int]]: ...

# stats.rs
def min_max(batch: pa.RecordBatch, plan_json: Optional[str] = None,
            layout: Optional[_Layout] = None) -> Optional[tuple[float, float]]:
    """``(min, max)`` over all data cells (None when every cell is NoData); with ``plan_json``, of the tiles
    the plan makes, folded tile by tile without building the stepped batch."""

# geotiff.rs — GeoTIFF reading.
def geotiff_info(uri: str, options: Optional[dict[str, str]] = None) -> dict:
    """Header facts of a GeoTIFF: ``width``, ``height``, ``bands``, ``cell_type`` (GeoTrellis name with
    NoData, e.g. ``"uint8ud255"``), ``no_data_value`` (float or None), ``extent`` ``(xmin, ymin, xmax,
    ymax)``, ``geotransform`` (GDAL order), ``crs`` (``"EPSG:<n>"``, a proj4 string or None),
    ``pixel_is_point``, ``tiled``, ``segment_cols``, ``segment_rows``, ``planar``, ``compression``
    (``none``/``deflate``/``lzw``/``packbits``/``zstd``/``jpeg``), ``predictor``, ``photometric``,
    ``color_map`` (0xRRGGBBAA ints or None), ``bigtiff``, ``overviews`` (list of ``(cols, rows)``),
    ``tags`` (GDAL metadata names) and ``band_tags`` (one dict per band). NotFoundError or StorageError (OSErrors)
    if the file cannot be read, CorruptDataError (a ValueError) if it is not a readable GeoTIFF,
    UnsupportedError (a NotImplementedError) for a sample type the reader does not support."""
def read_geotiff_windows(
    uri: str,
    windows: list[tuple[int, int, int, int]],
    options: Optional[dict[str, str]] = None,
    overview: int = 0,
) -> pa.RecordBatch:
    """Pixel windows ``(col_off, row_off, cols, rows)`` of image ``overview`` (0: full resolution, k: the
    k-th internal overview) as tile-contract rows (``cell_type``, ``bands``, ``rows``, ``cols``,
    ``cells``), one per window, in order. Each segment is fetched and decoded at most once per call.
    InvalidArgumentError for a window outside the image, CorruptDataError for a corrupt file (both ValueErrors;
    the message names the file)."""

# cog.rs — the async GeoTIFF/COG reader (geopyspark_rs.cog). Images are numbered 0 (full resolution), k
# (the k-th overview); windows are (col_off, row_off, width, height); bands are indexes from 0. Every call
# that reads or decodes releases the GIL.
class CogSource:
    """An open GeoTIFF: its header and, when opened by URI, its storage."""

class CogBytes:
    """Byte ranges of a file fetched for one read."""
    @property
    def nbytes(self) -> int: ...

def cog_open(uri: str, options: Optional[dict[str, str]] = None) -> CogSource:
    """Opens a path or URI and parses its header. NotFoundError (a FileNotFoundError) naming a missing file,
    CorruptDataError for a file that is not a readable TIFF, UnsupportedError for a sample type we cannot read."""
def cog_open_partial(
    name: str, size: int, starts: list[int], buffers: list[Any]
) -> CogSource | tuple[int, int]:
    """Parses the header of a ``size``-byte file from the byte ranges at hand (``buffers[i]``, any buffer of
    bytes, holds the bytes from ``starts[i]``): the open source, or the ``(start, end)`` range still needed."""
def cog_info(src: CogSource) -> dict[str, Any]:
    """Header facts: ``name``, ``size``, ``bigtiff``, ``crs`` (``"EPSG:<n>"``, a proj4 string or None),
    ``geotransform`` (GDAL order), ``no_data`` (float or None), ``pixel_is_point``, ``alpha_band`` (index or
    None), ``color_map``, ``tags``,
    ``band_tags`` and ``images``: per image (full resolution first, then the overviews) a dict of ``width``,
    ``height``, ``bands``, ``dtype`` (numpy name; 1-bit reads as uint8), ``bits``, ``tiled``, ``tile_width``,
    ``tile_height``, ``planar``, ``compression``, ``predictor``, ``photometric`` and ``has_mask``."""
def cog_ranges(
    src: CogSource, image: int, windows: list[tuple[int, int, int, int]], bands: list[int], mask: bool
) -> list[tuple[int, int]]:
    """The byte ranges ``(start, end)`` that reading ``windows`` in ``bands`` needs (with ``mask``, also those
    of the image's internal mask). InvalidArgumentError for a window or band outside the image,
    CorruptDataError for a segment past the end of the file."""
def cog_bytes(starts: list[int], buffers: list[Any]) -> CogBytes:
    """Byte ranges fetched elsewhere (e.g. by an obstore store): ``buffers[i]`` holds the bytes from ``starts[i]``."""
def cog_fetch(src: CogSource, ranges: list[tuple[int, int]]) -> CogBytes:
    """Fetches ``ranges`` of a file opened by URI in one storage call (object stores coalesce them)."""
def cog_read(
    src: CogSource,
    image: int,
    windows: list[tuple[int, int, int, int]],
    bands: list[int],
    mask: bool,
    fetched: Optional[CogBytes] = None,
) -> list[tuple[np.ndarray, Optional[np.ndarray]]]:
    """Decodes ``windows``: per window a flat uint8 array of little-endian samples in the image's dtype,
    ``(bands, rows, cols)``, and with ``mask`` the internal mask as a flat 0/1 uint8 array ``(rows, cols)``
    or None. Bytes come from ``fetched`` or, when None, from the file's own storage. CorruptDataError names
    the file and segment; UnsupportedError (a NotImplementedError) names an unsupported codec."""

# geotiff_write.rs — GeoTIFF / COG writer. options keys: storage ('tiled'|'striped'), rows_per_strip,
# tile_cols, tile_rows, compression ('none'|'deflate'|'lzw'|'zstd'|'NoCompression'|'DeflateCompression'), compression_level,
# predictor (bool), interleave ('band'|'pixel'), color_space (int), color_map (list of 0xRRGGBBAA),
# head_tags (dict), band_tags (list of dicts), decimations (list of int), resample_method (str), cog (bool).
def write_geotiff(cells: bytes, cell_type: str, bands: int, rows: int, cols: int,
                  extent: tuple[float, float, float, float], crs: Optional[str],
                  options: Optional[dict] = None) -> bytes: ...
def write_geotiff_file(path: str, cells: bytes, cell_type: str, bands: int, rows: int, cols: int,
                       extent: tuple[float, float, float, float], crs: Optional[str],
                       options: Optional[dict] = None) -> None: ...

# resample.rs
def resample_tile(
    cells: bytes,
    cell_type: str,
    bands: int,
    rows: int,
    cols: int,
    src_extent: tuple[float, float, float, float],
    dst_cols: int,
    dst_rows: int,
    dst_extent: tuple[float, float, float, float],
    method: str,
) -> bytes:
    """Resample every band of a raster (band-sequential little-endian cells covering ``src_extent``,
    ``(xmin, ymin, xmax, ymax)``) onto ``dst_cols × dst_rows`` cells covering ``dst_extent``, with a
    GeoPySpark ResampleMethod name ("NearestNeighbor", "Bilinear", "CubicConvolution", "CubicSpline",
    "Lanczos", "Average", "Mode", "Median", "Max", "Min"). Same cell type out; cells whose centre is outside
    the source extent are NoData. Releases the GIL."""

# pyramid.rs
def pyramid_up(
    batch: pa.RecordBatch,
    src: _Layout,
    dst: _Layout,
    method: str,
    quadrants: bool,
) -> pa.RecordBatch:
    """One pyramid level up: every tile (keys in layout ``src``) downsampled to half size over its key
    extent with ``method`` (NearestNeighbor, Bilinear, Average, Mode, Median, Max, Min) and keyed in ``dst``.
    ``quadrants`` (``dst`` has half the tiles per axis over the same extent): half tiles with their pixel
    offsets ``x_off``, ``y_off`` for ``assemble_quadrants``; else full ``dst`` tiles for the "fill" merge."""
def assemble_quadrants(
    batch: pa.RecordBatch, key_columns: list[str], tile_cols: int, tile_rows: int, last_run_complete: bool
) -> tuple[pa.RecordBatch, int]:
    """Assemble runs of equal keys of ``pyramid_up(..., quadrants=True)`` pieces into full tiles; returns the
    batch (tile contract) and the row where the held-back last run starts."""

# point_values.rs
def sample_points(
    batch: pa.RecordBatch,
    layout: _Layout,
    cols: list[int],
    rows: list[int],
    xs: list[float],
    ys: list[float],
    method: str,
) -> pa.RecordBatch:
    """Values at points (their keys and coordinates) sampled in the tile of their key with ``method``
    (NearestNeighbor, Bilinear, CubicConvolution, CubicSpline): columns ``point``, optional ``instant``,
    ``values`` (list of float64, NaN for NoData)."""

# storage.rs — paths, file:// and object store URIs (s3://, s3a://, s3n://, gs://, az://, abfs(s)://, http(s)://).
# `options` are object_store config keys (aws_access_key_id, aws_endpoint, aws_allow_http, aws_region, ...)
# applied over the environment. Missing objects raise NotFoundError (a FileNotFoundError), unreadable ones
# StorageError (an OSError), both naming the URI; malformed URIs and unknown options InvalidArgumentError.
def list_files(uri: str, options: Optional[dict[str, str]] = None) -> list[str]:
    """The file itself, every file under a directory or prefix, or glob matches (``*``, ``?``, ``[...]``,
    ``**``); sorted, in the form ``uri`` was given; ``[]`` when nothing matches."""
def read_bytes(uri: str, options: Optional[dict[str, str]] = None, start: Optional[int] = None,
               end: Optional[int] = None) -> bytes:
    """The whole file, or bytes ``start..end`` (``end`` defaults to the size)."""
def write_bytes(uri: str, data: bytes, options: Optional[dict[str, str]] = None) -> None:
    """Atomic write: a temporary file renamed over the target locally, one put on object stores."""
def write_new_bytes(uri: str, data: bytes, options: Optional[dict[str, str]] = None) -> bool:
    """Create ``uri`` unless it exists, atomically (hard link locally, ``If-None-Match: *`` on S3): True when
    this call created it, False when it existed (untouched)."""
def file_size(uri: str, options: Optional[dict[str, str]] = None) -> int: ...
def file_exists(uri: str, options: Optional[dict[str, str]] = None) -> bool: ...
def read_bytes_if_exists(uri: str, options: Optional[dict[str, str]] = None) -> Optional[bytes]:
    """The bytes of uri, or None when it does not exist (one request)."""
def delete_file(uri: str, options: Optional[dict[str, str]] = None) -> None:
    """Deletes a file or object; deleting what does not exist is not an error."""

# warp.rs
def warp_raster(cells: bytes, cell_type: str, bands: int, rows: int, cols: int,
                src_extent: tuple[float, float, float, float], src_crs: str, dst_cols: int, dst_rows: int,
                dst_extent: tuple[float, float, float, float], dst_crs: str, method: str,
                error_threshold: float = 0.125) -> bytes:
    """A raster's bands warped onto another grid in another CRS (error threshold in source cells)."""
def suggested_grids(src_crs: str, dst_crs: str, extents: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """GDAL's suggested warp grid per raster: n×4 extents + n×2 (cols, rows) → n×6."""
def reproject_rasters(batch: pa.RecordBatch, dst_crs: str, method: str,
                      error_threshold: float = 0.125) -> pa.RecordBatch:
    """Each raster (xmin..ymax, crs, tile columns) reprojected onto its own grid."""
def warp_pieces(batch: pa.RecordBatch, src_crs: str, dst_crs: str,
                layout: _Layout, method: str) -> pa.RecordBatch:
    """Per raster and layout key it reaches, the window of source cells the key reads."""
def warp_runs(batch: pa.RecordBatch, key_columns: list[str], src_crs: str, dst_crs: str,
              layout: _Layout, method: str,
              last_run_complete: bool, error_threshold: float = 0.125) -> tuple[pa.RecordBatch, int]:
    """Runs of equal keys of warp_pieces rows mosaicked and warped into their key's tile."""

# buffer.rs — the neighbour-buffer exchange (focal operations): map side, shuffle on the key columns, reduce side.
def buffer_pieces(batch: pa.RecordBatch, width: int,
                  key_bounds: Optional[tuple[int, int, int, int]] = None) -> pa.RecordBatch:
    """Every tile (``col``, ``row``[, ``instant``] + tile columns) as the pieces it sends: itself (``dx = dy =
    0``) and the ``width``-cell border strips its up to 8 neighbours read, each keyed by the receiving tile with
    ``dx``, ``dy`` (-1..1, ``dy = -1`` north) placing it relative to the receiver. ``key_bounds = (min_col,
    min_row, max_col, max_row)`` (inclusive) leaves out strips for keys outside them. Raises ValueError when
    ``width`` exceeds a tile's side."""
def border_strips(batch: pa.RecordBatch, width: int,
                  key_bounds: Optional[tuple[int, int, int, int]] = None) -> pa.RecordBatch:
    """``buffer_pieces`` without the tiles themselves (the ``dx = dy = 0`` rows): only the border strips."""
def buffer_runs(batch: pa.RecordBatch, key_columns: list[str], width: int,
                last_run_complete: bool) -> tuple[pa.RecordBatch, int]:
    """Runs of equal keys of sorted ``buffer_pieces`` rows assembled into tiles of ``(rows + 2*width) × (cols +
    2*width)`` cells (tile contract, NoData where no neighbour exists, no row for a key without its own tile);
    returns the batch and the row where the held-back last run starts."""

def buffer_with_strips(tiles: pa.RecordBatch, strips: pa.RecordBatch, width: int) -> pa.RecordBatch:
    """Tiles (tile contract, any order, each key once) grown by ``width`` cells with their neighbours' strips
    from ``strips`` (``border_strips`` output of the layer), one per tile."""

# focal.rs — focal and terrain operations, the reduce side of the neighbour-buffer exchange.
def focal_output(spec_json: str, cell_type: str) -> tuple[int, str]:
    """The neighbour buffer width the operation of ``spec_json`` needs and its result's cell type for
    ``cell_type`` tiles. Raises ValueError for a bad spec."""
def focal_runs(batch: pa.RecordBatch, key_columns: list[str], spec_json: str,
               last_run_complete: bool) -> tuple[pa.RecordBatch, int]:
    """Runs of equal keys of sorted ``buffer_pieces`` rows (buffered by the spec's width) turned into the
    operation's result for each key's tile, every band; returns the batch and the row where the held-back
    last run starts."""
def focal_with_strips(tiles: pa.RecordBatch, strips: pa.RecordBatch, spec_json: str) -> pa.RecordBatch:
    """Tiles (any order) turned into the operation's result with their neighbours' strips from ``strips``
    (``border_strips`` output of the layer), one per tile."""

# render.rs — colour maps, PNG encoding, colour ramps (engine render/).
def colormap_colors(colormap_json: str, values: np.ndarray) -> np.ndarray:
    """0xRRGGBBAA colours (uint32) of float64 values (NaN = NoData) through a colour map's JSON."""
def render_png_batch(batch: pa.RecordBatch, colormap_json: str | None = None, level: int = 1,
                     filter: str = "up") -> pa.RecordBatch:
    """One PNG per row (a one-column batch `png`): band 0 through the map, or RGB(A) without one."""
def render_tile_png(cell_type: str, bands: int, rows: int, cols: int, cells: bytes,
                    colormap_json: str | None = None, level: int = 1, filter: str = "up") -> bytes: ...
def encode_rgba_png(rgba: bytes, rows: int, cols: int, level: int = 1, filter: str = "up") -> bytes: ...
def ramp_stops(colors: list[int], n: int) -> list[int]:
    """GeoTrellis' ColorRamp.stops(n): evenly picked or channel-interpolated colours."""

# tms.rs — the tile server (crate rust/tms).
class TmsServer:
    host: str
    port: int
    bound: bool
    max_zoom: int | None
    def set_handshake(self, text: str) -> None: ...
    def unbind(self) -> None: ...
    def request_log(self) -> list[str]: ...
    def clear_cache(self) -> None: ...
def tms_bind(sources: list, display: str | object, allow_overzooming: bool, files: dict[str, tuple[str, bytes]],
             host: str, port: int, handshake: str = "", cache_entries: int = 2048) -> TmsServer:
    """Serve tiles: sources are lists of catalog levels (zoom, tile_dir, key_index_json, schema_json,
    store_options) or objects with tile(z, x, y) and zooms(); display a colour map's JSON or a callable."""
