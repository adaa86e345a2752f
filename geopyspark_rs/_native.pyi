"""Type stubs of the Rust extension (rust/python/src). Batches are pyarrow RecordBatches in the tile
contract (DESIGN §3); every function raises ValueError for bad values and TypeError for batches that
break the contract."""

from typing import Optional

import numpy as np
import pyarrow as pa

# crs.rs
def crs_to_proj4(crs: str) -> str:
    """EPSG code (``"4326"``, ``"EPSG:4326"``) or proj4 text → GeoTrellis' proj4 string."""

# tiles.rs
def transform_points(src: str, dst: str, points: np.ndarray) -> np.ndarray:
    """An n×2 float64 array of x, y (degrees for geographic CRSs) transformed from CRS src to dst."""
def run_plan(batch: pa.RecordBatch, plan_json: str) -> pa.RecordBatch:
    """Run a JSON list of per-tile steps over every tile, in one pass."""
def plan_output_cell_type(plan_json: str, input_cell_types: list[str]) -> str: ...
def cell_type_info(name: str) -> tuple[str, Optional[float], str]:
    """``(canonical name, NoData value or None, numpy dtype name)``."""
def cell_type_with_no_data(name: str, no_data: Optional[float]) -> str: ...
def cell_type_union(names: list[str]) -> str: ...

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

# shuffle.rs
def cut_to_layout(batch: pa.RecordBatch, layout: tuple[float, float, float, float, int, int, int, int]) -> pa.RecordBatch:
    """Cut rasters (extent columns + tiles) into the tiles of a layout, nearest neighbour."""
def combine_runs(batch: pa.RecordBatch, key_columns: list[str], op: str, last_run_complete: bool) -> tuple[pa.RecordBatch, int]:
    """Combine runs of equal keys ("fill", "sum", "mean", "min", "max", "variance", "standard_deviation");
    returns the combined rows and where the unfinished last run starts."""
def stitch(batch: pa.RecordBatch) -> tuple[str, int, int, int, bytes, tuple[int, int, int, int]]: ...
def min_max(batch: pa.RecordBatch) -> Optional[tuple[float, float]]: ...

# storage.rs — paths, file:// and object store URIs (s3://, s3a://, s3n://, gs://, az://, abfs(s)://, http(s)://).
# `options` are object_store config keys (aws_access_key_id, aws_endpoint, aws_allow_http, aws_region, ...)
# applied over the environment. Missing or unreadable objects raise OSError naming the URI; malformed URIs and
# unknown options ValueError.
def list_files(uri: str, options: Optional[dict[str, str]] = None) -> list[str]:
    """The file itself, every file under a directory or prefix, or glob matches (``*``, ``?``, ``[...]``,
    ``**``); sorted, in the form ``uri`` was given; ``[]`` when nothing matches."""
def read_bytes(uri: str, options: Optional[dict[str, str]] = None, start: Optional[int] = None,
               end: Optional[int] = None) -> bytes:
    """The whole file, or bytes ``start..end`` (``end`` defaults to the size)."""
def write_bytes(uri: str, data: bytes, options: Optional[dict[str, str]] = None) -> None:
    """Atomic write: a temporary file renamed over the target locally, one put on object stores."""
def file_size(uri: str, options: Optional[dict[str, str]] = None) -> int: ...
def file_exists(uri: str, options: Optional[dict[str, str]] = None) -> bool: ...
def read_bytes_if_exists(uri: str, options: Optional[dict[str, str]] = None) -> Optional[bytes]:
    """The bytes of uri, or None when it does not exist (one request)."""
def delete_file(uri: str, options: Optional[dict[str, str]] = None) -> None:
    """Deletes a file or object; deleting what does not exist is not an error."""

# GeoTrellis catalog tile files. schema_json is the layer's stored writer schema (JSON text).
def catalog_read_tiles(paths: list[str], schema_json: str, space_time: bool,
                       key_box: Optional[tuple[int, int, int, int, Optional[int], Optional[int]]] = None,
                       options: Optional[dict[str, str]] = None) -> pa.RecordBatch:
    """Tiles of the files (col, row[, instant] + tile columns), keys inside key_box (inclusive) only."""
def catalog_read_value(path: str, schema_json: str, col: int, row: int, instant: Optional[int] = None,
                       options: Optional[dict[str, str]] = None) -> Optional[tuple[str, int, int, int, bytes]]:
    """(cell_type, bands, rows, cols, cells) of one key, or None when the file or key is absent."""
def catalog_write_runs(batch: pa.RecordBatch, index_column: str, directory: str, width: int, multiband: bool,
                       last: bool, existing_schema: Optional[str] = None,
                       options: Optional[dict[str, str]] = None,
                       compression_level: Optional[int] = None) -> tuple[int, int, int]:
    """One file per run of equal index values of a batch sorted by index; (files, bytes, held-back start).
    compression_level None: GeoTrellis' zlib level 6 bytes; 0-12: a faster libdeflate zlib stream."""
def catalog_schema(space_time: bool, multiband: bool) -> str:
    """The KeyValueRecord writer schema GeoTrellis 3.x stores, byte for byte."""
# GeoTIFF / COG writer. options keys: storage ('tiled'|'striped'), rows_per_strip, tile_cols, tile_rows,
# compression ('none'|'deflate'|'lzw'|'zstd'|'NoCompression'|'DeflateCompression'), compression_level,
# predictor (bool), interleave ('band'|'pixel'), color_space (int), color_map (list of 0xRRGGBBAA),
# head_tags (dict), band_tags (list of dicts), decimations (list of int), resample_method (str), cog (bool).
def write_geotiff(cells: bytes, cell_type: str, bands: int, rows: int, cols: int,
                  extent: tuple[float, float, float, float], crs: Optional[str],
                  options: Optional[dict] = None) -> bytes: ...
def write_geotiff_file(path: str, cells: bytes, cell_type: str, bands: int, rows: int, cols: int,
                       extent: tuple[float, float, float, float], crs: Optional[str],
                       options: Optional[dict] = None) -> None: ...
# geotiff.rs (reading)
def geotiff_info(uri: str, options: Optional[dict[str, str]] = None) -> dict:
    """Header facts of a GeoTIFF: ``width``, ``height``, ``bands``, ``cell_type`` (GeoTrellis name with
    NoData, e.g. ``"uint8ud255"``), ``no_data_value`` (float or None), ``extent`` ``(xmin, ymin, xmax,
    ymax)``, ``geotransform`` (GDAL order), ``crs`` (``"EPSG:<n>"``, a proj4 string or None),
    ``pixel_is_point``, ``tiled``, ``segment_cols``, ``segment_rows``, ``planar``, ``compression``
    (``none``/``deflate``/``lzw``/``packbits``/``zstd``/``jpeg``), ``predictor``, ``photometric``,
    ``color_map`` (0xRRGGBBAA ints or None), ``bigtiff``, ``overviews`` (list of ``(cols, rows)``),
    ``tags`` (GDAL metadata names) and ``band_tags`` (one dict per band). OSError if the file cannot be
    read, ValueError if it is not a readable GeoTIFF."""
def read_geotiff_windows(
    uri: str,
    windows: list[tuple[int, int, int, int]],
    options: Optional[dict[str, str]] = None,
    overview: int = 0,
) -> pa.RecordBatch:
    """Pixel windows ``(col_off, row_off, cols, rows)`` of image ``overview`` (0: full resolution, k: the
    k-th internal overview) as tile-contract rows (``cell_type``, ``bands``, ``rows``, ``cols``,
    ``cells``), one per window, in order. Each segment is fetched and decoded at most once per call.
    ValueError for a window outside the image or a corrupt file (the message names the file)."""
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
def key_index_file_name(index_json: str, space_time: bool, key: tuple[int, ...]) -> str:
    """The tile file name of ``key``: its index zero-padded to the width of ``key_index_file_width``."""
def key_index_file_width(index_json: str, space_time: bool) -> int:
    """Width of tile file names: decimal digits of the index of the bounds' max key (names are zero-padded
    to it)."""

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
                layout: tuple[float, float, float, float, int, int, int, int], method: str) -> pa.RecordBatch:
    """Per raster and layout key it reaches, the window of source cells the key reads."""
def warp_runs(batch: pa.RecordBatch, key_columns: list[str], src_crs: str, dst_crs: str,
              layout: tuple[float, float, float, float, int, int, int, int], method: str,
              last_run_complete: bool, error_threshold: float = 0.125) -> tuple[pa.RecordBatch, int]:
    """Runs of equal keys of warp_pieces rows mosaicked and warped into their key's tile."""
def pyramid_up(
    batch: pa.RecordBatch,
    src: tuple[float, float, float, float, int, int, int, int],
    dst: tuple[float, float, float, float, int, int, int, int],
    method: str,
    quadrants: bool,
) -> pa.RecordBatch:
    """One pyramid level up: every tile (keys in layout ``src``) downsampled to half size over its key
    extent with ``method`` (NearestNeighbor, Bilinear, Average, Mode, Median, Max, Min) and keyed in ``dst``.
    ``quadrants`` (``dst`` has half the tiles per axis over the same extent): half tiles with their pixel
    offsets ``x_off``, ``y_off`` for ``assemble_quadrants``; else full ``dst`` tiles for the "fill" merge."""
def assemble_quadrants(
    batch: pa.RecordBatch, tile_cols: int, tile_rows: int, last_run_complete: bool
) -> tuple[pa.RecordBatch, int]:
    """Assemble runs of equal keys of ``pyramid_up(..., quadrants=True)`` pieces into full tiles; returns the
    batch (tile contract) and the row where the held-back last run starts."""
def sample_points(
    batch: pa.RecordBatch,
    layout: tuple[float, float, float, float, int, int, int, int],
    cols: list[int],
    rows: list[int],
    xs: list[float],
    ys: list[float],
    method: str,
) -> pa.RecordBatch:
    """Values at points (their keys and coordinates) sampled in the tile of their key with ``method``
    (NearestNeighbor, Bilinear, CubicConvolution, CubicSpline): columns ``point``, optional ``instant``,
    ``values`` (list of float64, NaN for NoData)."""
