"""GeoTIFFs out of layers: ``to_geotiff_rdd`` (one GeoTIFF per tile, encoded on the executors by the Rust
writer) and ``save_stitched`` (the mosaic of a tiled layer, optionally cropped and resampled)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from ... import _native
from .. import tile_contract as tc
from ..constants import ColorSpace, Compression, LayerType, ResampleMethod, StorageMethod
from ..data_model import Extent
from ..layout import key_extents

GEOTIFF_COLUMN = "geotiff"


def _color_map_entries(color_map) -> list[int]:
    """A palette as a list of 0xRRGGBBAA ints indexed by cell value: from a list, from a dict of
    {cell value: colour}, or from an object with such a ``colors`` mapping."""
    if isinstance(color_map, (list, tuple)):
        return [int(c) for c in color_map]
    mapping = getattr(color_map, "colors", color_map)
    if isinstance(mapping, dict):
        keys = [int(k) for k in mapping]
        if min(keys) < 0 or max(keys) > 65535:
            raise ValueError("a colour map for a GeoTIFF palette maps cell values 0..65535 to colours")
        entries = [0] * (max(keys) + 1)
        for k, v in mapping.items():
            entries[int(k)] = int(v)
        return entries
    raise TypeError(f"color_map must be a list of RGBA ints or a dict of cell value -> RGBA int, got {color_map!r}")


def geotiff_options(storage_method=StorageMethod.TILED, rows_per_strip=None, tile_dimensions=(256, 256),
                    resample_method=ResampleMethod.NEAREST_NEIGHBOR, decimations=(), compression=Compression.NO_COMPRESSION,
                    color_space=ColorSpace.BLACK_IS_ZERO, color_map=None, head_tags=None, band_tags=None,
                    cog=False) -> dict:
    """The writer's options from ``to_geotiff_rdd``'s arguments, checked on the driver. ``cog=True``
    writes Cloud Optimized GeoTIFFs (tiled, overviews, IFDs first and data ordered for range reads)."""
    storage = StorageMethod(storage_method)
    options = {
        "storage": "tiled" if storage == StorageMethod.TILED else "striped",
        "compression": Compression(compression).value,
        "color_space": int(ColorSpace(color_space)),
        "resample_method": ResampleMethod(resample_method).value,
        "decimations": [int(d) for d in decimations],
        "cog": bool(cog),
    }
    if any(d < 2 for d in options["decimations"]):
        raise ValueError(f"decimations must be ints of at least 2, got {list(decimations)}")
    if storage == StorageMethod.TILED:
        cols, rows = (int(v) for v in tile_dimensions)
        if cols <= 0 or rows <= 0 or cols % 16 or rows % 16:
            raise ValueError(f"tile_dimensions must be positive multiples of 16 (TIFF), got {tile_dimensions}")
        options["tile_cols"], options["tile_rows"] = cols, rows
    elif rows_per_strip is not None:
        if int(rows_per_strip) <= 0:
            raise ValueError(f"rows_per_strip must be positive, got {rows_per_strip}")
        options["rows_per_strip"] = int(rows_per_strip)
    if color_map is not None:
        options["color_map"] = _color_map_entries(color_map)
    if head_tags:
        options["head_tags"] = {str(k): str(v) for k, v in dict(head_tags).items()}
    if band_tags:
        options["band_tags"] = [{str(k): str(v) for k, v in dict(t).items()} for t in band_tags]
    return options


def encode_geotiffs(layer, tiled: bool, layer_type: LayerType, options: dict, metadata=None):
    """The layer's keys with one GeoTIFF per tile in a ``geotiff`` binary column, encoded in the layer's pass."""
    key_names = tc.key_columns(tiled, layer_type)
    crs_of_layer = metadata.crs if tiled else None
    layout = metadata.layout_definition if tiled else None
    key_fields = [f for f in tc.arrow_schema(tiled, layer_type) if f.name in key_names]
    out_schema = pa.schema(key_fields + [pa.field(GEOTIFF_COLUMN, pa.binary(), nullable=False)])

    def encode(batches):
        for batch in batches:
            if tiled:
                extents = key_extents(layout, batch.column("col"), batch.column("row"))
                crs = [crs_of_layer] * batch.num_rows
            else:
                extents = np.stack([batch.column(c).to_numpy() for c in ("xmin", "ymin", "xmax", "ymax")], axis=1)
                crs = batch.column("crs").to_pylist()
            cts, bands, rows, cols = (batch.column(c).to_pylist() for c in ("cell_type", "bands", "rows", "cols"))
            cells = batch.column("cells")
            tiffs = [
                _native.write_geotiff(cells[i].as_py(), cts[i], bands[i], rows[i], cols[i],
                                      tuple(extents[i]), crs[i], options)
                for i in range(batch.num_rows)
            ]
            yield pa.RecordBatch.from_arrays(
                [batch.column(n) for n in key_names] + [pa.array(tiffs, type=pa.binary())], schema=out_schema
            )

    from pyspark.sql.types import BinaryType, StructField, StructType

    spark_schema = StructType(
        [f for f in tc.schema(tiled, layer_type).fields if f.name in key_names]
        + [StructField(GEOTIFF_COLUMN, BinaryType(), False)]
    )
    return layer._map_batches(encode, spark_schema)


def crop_window(extent: Extent, rows: int, cols: int, crop: Extent):
    """The pixel window ``(col0, row0, cols, rows)`` of ``crop`` in a raster (GeoTrellis'
    gridBoundsFor, clamped), and that window's extent."""
    cw = (extent.xmax - extent.xmin) / cols
    ch = (extent.ymax - extent.ymin) / rows
    c0 = max(0, int(np.floor((crop.xmin - extent.xmin) / cw)))
    r0 = max(0, int(np.floor((extent.ymax - crop.ymax) / ch)))
    c1 = min(cols, int(np.ceil((crop.xmax - extent.xmin) / cw)))
    r1 = min(rows, int(np.ceil((extent.ymax - crop.ymin) / ch)))
    if c1 <= c0 or r1 <= r0:
        raise ValueError(f"crop_bounds {crop} do not intersect the layer's extent {extent}")
    window_extent = Extent(extent.xmin + c0 * cw, extent.ymax - r1 * ch, extent.xmin + c1 * cw, extent.ymax - r0 * ch)
    return (c0, r0, c1 - c0, r1 - r0), window_extent


def stitched_extent(layout, bounds) -> Extent:
    """The extent of the key bounds ``(min_col, min_row, max_col, max_row)`` in the layout."""
    c0, r0, c1, r1 = bounds
    (xmin, ymin, _, _), (_, _, xmax, ymax) = key_extents(layout, [c0, c1], [r1, r0])
    return Extent(float(xmin), float(ymin), float(xmax), float(ymax))


class GeoTiffOutput:
    """``to_geotiff_rdd`` for both layer classes and its DataFrame sibling."""

    def to_geotiff_dataframe(self, storage_method=StorageMethod.TILED, rows_per_strip=None, tile_dimensions=(256, 256),
                             resample_method=ResampleMethod.NEAREST_NEIGHBOR, decimations=[],  # noqa: B006
                             compression=Compression.NO_COMPRESSION, color_space=ColorSpace.BLACK_IS_ZERO,
                             color_map=None, head_tags=None, band_tags=None, cog=False):
        """The layer's keys and one GeoTIFF per tile (column ``geotiff``), as a DataFrame (works on Connect)."""
        options = geotiff_options(storage_method, rows_per_strip, tile_dimensions, resample_method, decimations,
                                  compression, color_space, color_map, head_tags, band_tags, cog)
        tiled = hasattr(self, "layer_metadata")
        return encode_geotiffs(self, tiled, self.layer_type, options, self.layer_metadata if tiled else None)

    def to_geotiff_rdd(self, storage_method=StorageMethod.TILED, rows_per_strip=None, tile_dimensions=(256, 256),
                       resample_method=ResampleMethod.NEAREST_NEIGHBOR, decimations=[],  # noqa: B006
                       compression=Compression.NO_COMPRESSION, color_space=ColorSpace.BLACK_IS_ZERO,
                       color_map=None, head_tags=None, band_tags=None, cog=False):
        """A PySpark RDD of ``(key, GeoTIFF bytes)``, one GeoTIFF per tile. Unlike GeoPySpark, STRIPED
        storage is honoured, tags are written when either head or band tags are given, and ``cog=True``
        writes Cloud Optimized GeoTIFFs."""
        from ..layer import _no_rdds_on_connect

        _no_rdds_on_connect(self._df.sparkSession, "to_geotiff_rdd", "to_geotiff_dataframe")
        df = self.to_geotiff_dataframe(storage_method, rows_per_strip, tile_dimensions, resample_method, decimations,
                                       compression, color_space, color_map, head_tags, band_tags, cog)
        tiled, layer_type = hasattr(self, "layer_metadata"), self.layer_type
        names = tc.key_columns(tiled, layer_type)
        return df.rdd.map(lambda r: (tc.decode_key({n: r[n] for n in names}, tiled, layer_type), bytes(r[GEOTIFF_COLUMN])))


def save_stitched(layer, path: str, crop_bounds=None, crop_dimensions=None, cog=False) -> None:
    """Stitch a SPATIAL tiled layer and write it as one GeoTIFF at ``path`` (a local path or object-store
    URI), optionally cropped to ``crop_bounds`` and resampled to ``crop_dimensions`` = (cols, rows);
    a Cloud Optimized GeoTIFF with ``cog=True``."""
    from .. import s3
    from ..stitch import stitch_raw

    if layer.layer_type != LayerType.SPATIAL:
        raise ValueError("Only TiledRasterLayers with a layer_type of Spatial can use save_stitched()")
    if crop_dimensions is not None and crop_bounds is None:
        raise Exception("crop_dimensions requires crop_bounds")
    ct, bands, rows, cols, cells, bounds = stitch_raw(layer.dataframe.toArrow())
    extent = stitched_extent(layer.layer_metadata.layout_definition, bounds)
    if crop_bounds is not None:
        crop = crop_bounds if isinstance(crop_bounds, Extent) else Extent(*crop_bounds)
        (c0, r0, wc, wr), extent = crop_window(extent, rows, cols, crop)
        _, bits, dtype = _native.cell_type_info(ct)
        arr = np.frombuffer(cells, dtype=np.dtype(dtype).newbyteorder("<")).reshape(bands, rows, cols)
        cells = np.ascontiguousarray(arr[:, r0:r0 + wr, c0:c0 + wc]).tobytes()
        rows, cols = wr, wc
        if crop_dimensions is not None:
            out_cols, out_rows = (int(v) for v in crop_dimensions)
            e = tuple(extent)
            cells = _native.resample_tile(cells, ct, bands, rows, cols, e, out_cols, out_rows, e, "NearestNeighbor")
            rows, cols = out_rows, out_cols
    tiff = _native.write_geotiff(cells, ct, bands, rows, cols, tuple(extent), layer.layer_metadata.crs,
                                 {"cog": True, "compression": "deflate"} if cog else {"storage": "striped"})
    _native.write_bytes(path, tiff, s3.store_options(path, None, layer._df.sparkSession))
