"""GeoTIFF and its overviews: header facts and async window reads."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
from affine import Affine

from geopyspark_rs.cog._reader import Reader, Store, open_store, open_uri
from geopyspark_rs.cog._window import Window, WindowError

if TYPE_CHECKING:
    from pyproj import CRS

__all__ = ["GeoTIFF", "Overview", "RasterArray", "BoundingBox"]


class BoundingBox(NamedTuple):
    """An image's extent in its CRS, as rasterio's ``BoundingBox``."""

    left: float
    bottom: float
    right: float
    top: float


@dataclass(frozen=True, eq=False)
class RasterArray:
    """The cells of a window with their validity and georeferencing.

    Attributes:
        data: ``(bands, rows, cols)`` samples in the file's dtype (1-bit samples as uint8 0/1).
        mask: ``(bands, rows, cols)`` booleans, True where a cell is valid (GDAL's convention, the inverse of
            numpy's masked arrays), chosen as GDAL chooses a band's mask: the image's internal mask when it has
            one, else cells unequal to the NoData value (not NaN for a NaN NoData), else where the alpha band is
            not 0 (the alpha band itself is all valid), else all True.
        transform: the window's affine transform (its top-left corner at the window's origin).
        crs: the coordinate reference system, or None for a file without one.
        nodata: the NoData value, or None.
    """

    data: np.ndarray
    mask: np.ndarray
    transform: Affine
    crs: CRS | None
    nodata: float | None

    @property
    def count(self) -> int:
        """Number of bands."""
        return int(self.data.shape[0])

    @property
    def height(self) -> int:
        """Rows."""
        return int(self.data.shape[1])

    @property
    def width(self) -> int:
        """Columns."""
        return int(self.data.shape[2])

    @property
    def shape(self) -> tuple[int, int, int]:
        """``(bands, rows, cols)``."""
        return (self.count, self.height, self.width)

    def as_masked(self) -> np.ma.MaskedArray[Any, Any]:
        """The data as a numpy masked array (masked where :attr:`mask` is False), like rasterio's
        ``read(masked=True)``."""
        return np.ma.MaskedArray(self.data, mask=~self.mask)


def _dtype_mask(data: np.ndarray, nodata: float | None, internal: np.ndarray | None) -> np.ndarray:
    if internal is not None:
        return np.broadcast_to(internal.view(np.bool_), data.shape).copy()
    if nodata is None:
        return np.ones(data.shape, dtype=np.bool_)
    if np.isnan(nodata):
        return ~np.isnan(data) if data.dtype.kind == "f" else np.ones(data.shape, dtype=np.bool_)
    return np.asarray(data != data.dtype.type(nodata))


class _Image:
    """What a full-resolution image and an overview share: size, tiling, georeferencing and reads."""

    _reader: Reader
    _index: int

    def __init__(self, reader: Reader, index: int):
        self._reader = reader
        self._index = index
        self._image: dict[str, Any] = reader.info["images"][index]

    @property
    def width(self) -> int:
        """Columns."""
        return int(self._image["width"])

    @property
    def height(self) -> int:
        """Rows."""
        return int(self._image["height"])

    @property
    def shape(self) -> tuple[int, int]:
        """``(rows, cols)``, as rasterio's ``shape``."""
        return (self.height, self.width)

    @property
    def count(self) -> int:
        """Number of bands."""
        return int(self._image["bands"])

    @property
    def dtype(self) -> np.dtype[Any]:
        """The numpy dtype cells are read as (1-bit images read as uint8)."""
        return np.dtype(self._image["dtype"])

    @property
    def tile_width(self) -> int:
        """Columns of a tile (for a striped file, the image width)."""
        return int(self._image["tile_width"])

    @property
    def tile_height(self) -> int:
        """Rows of a tile (for a striped file, rows of a strip)."""
        return int(self._image["tile_height"])

    @property
    def is_tiled(self) -> bool:
        """Whether the image is stored in tiles (else in strips)."""
        return bool(self._image["tiled"])

    @property
    def compression(self) -> str:
        """The codec, as GDAL's ``COMPRESS`` option names it in lower case (``"deflate"``, ``"lzw"``,
        ``"zstd"``, ``"jpeg"``, ``"packbits"``, ``"none"``, ...)."""
        return str(self._image["compression"])

    @property
    def has_mask(self) -> bool:
        """Whether the image has an internal mask (GDAL's per-dataset mask)."""
        return bool(self._image["has_mask"])

    @property
    def nodata(self) -> float | None:
        """The NoData value (GDAL_NODATA), or None."""
        v = self._reader.info["no_data"]
        return None if v is None else float(v)

    @cached_property
    def crs(self) -> CRS | None:
        """The coordinate reference system as a ``pyproj.CRS``, or None for a file without one."""
        text = self._reader.info["crs"]
        if text is None:
            return None
        from pyproj import CRS  # imported on first use: pyproj is slow to import

        return CRS.from_user_input(text)

    @property
    def transform(self) -> Affine:
        """The affine transform from pixel (col, row) to CRS coordinates of the pixels' top-left corners."""
        g = self._reader.info["geotransform"]
        full = Affine.from_gdal(*g)
        if self._index == 0:
            return full
        base = self._reader.info["images"][0]
        # As GDAL: an overview covers the same extent with fewer, larger pixels.
        return full @ Affine.scale(base["width"] / self.width, base["height"] / self.height)

    @property
    def res(self) -> tuple[float, float]:
        """Pixel width and height in CRS units, as rasterio's ``res``."""
        t = self.transform
        return (float(np.hypot(t.a, t.d)), float(np.hypot(t.b, t.e)))

    @property
    def bounds(self) -> BoundingBox:
        """The image's extent ``(left, bottom, right, top)``."""
        t = self.transform
        xs = [t.c, t.c + self.width * t.a, t.c + self.height * t.b, t.c + self.width * t.a + self.height * t.b]
        ys = [t.f, t.f + self.width * t.d, t.f + self.height * t.e, t.f + self.width * t.d + self.height * t.e]
        return BoundingBox(min(xs), min(ys), max(xs), max(ys))

    def _check(self, window: Window | None, bands: Iterable[int] | int | None) -> tuple[Window, tuple[int, ...]]:
        if window is None:
            window = Window(0, 0, self.width, self.height)
        elif not isinstance(window, Window):
            raise TypeError(f"window must be a geopyspark_rs.cog.Window or None, got {type(window).__name__}")
        if window.col_off + window.width > self.width or window.row_off + window.height > self.height:
            raise WindowError(
                f"{self._reader.info['name']}: {window} lies outside the {self.width}x{self.height} image"
                + (f" of overview {self._index - 1}" if self._index else "")
            )
        if bands is None:
            picked: tuple[int, ...] = tuple(range(self.count))
        elif isinstance(bands, (int, np.integer)):
            picked = (int(bands),)
        else:
            picked = tuple(int(b) for b in bands)
        if not picked:
            raise WindowError("bands is empty; give band indexes from 0 or None for all bands")
        bad = [b for b in picked if not 0 <= b < self.count]
        if bad:
            raise WindowError(f"band(s) {bad} do not exist; the image has {self.count} band(s), numbered from 0")
        return window, picked

    async def read(self, window: Window | None = None, *, bands: Sequence[int] | int | None = None) -> RasterArray:
        """Reads a window of this image.

        Segments are fetched and decoded off the event loop; reads started together (``asyncio.gather``)
        share their requests and decoding.

        Args:
            window: the pixels to read; None (the default) reads the whole image.
            bands: band indexes from 0 (an int for one band, a sequence for several, in the order wanted);
                None (the default) reads all bands.

        Returns:
            A :class:`RasterArray` of ``(bands, rows, cols)`` cells with their validity mask.

        Raises:
            WindowError: a window or band outside the image (a ``ValueError`` and an ``IndexError``).
            FileNotFoundError: the file or object is gone.
            CorruptDataError: a corrupt or truncated segment (the message names the file and the segment).
            NotImplementedError: a codec or sample layout the reader does not support (named).
        """
        window, picked = self._check(window, bands)
        alpha = self._alpha_band
        if alpha is None or alpha in picked:
            data, mask = await self._read(window, picked, mask=self.has_mask)
            valid = _dtype_mask(data, self.nodata, mask)
            if alpha is not None:
                valid = data[picked.index(alpha)] != 0
                valid = np.broadcast_to(valid, data.shape).copy()
                valid[picked.index(alpha)] = True
        else:
            both, _ = await self._read(window, (*picked, alpha), mask=False)
            data = both[:-1]
            valid = np.broadcast_to(both[-1] != 0, data.shape).copy()
        return RasterArray(data, valid, self._window_transform(window), self.crs, self.nodata)

    @property
    def _alpha_band(self) -> int | None:
        """The band masking the others, as GDAL uses it: only without an internal mask and NoData."""
        alpha = self._reader.info["alpha_band"]
        if alpha is None or self.has_mask or self.nodata is not None:
            return None
        return int(alpha)

    async def read_mask(self, window: Window | None = None) -> np.ndarray:
        """Reads the validity of a window: ``(rows, cols)`` booleans, True where valid, from the internal
        mask, else from NoData in the first band, else from the alpha band (not 0), else all True (GDAL's
        mask of the first band).

        Raises:
            WindowError: a window outside the image.
        """
        window, _ = self._check(window, None)
        if self.has_mask:
            _, mask = await self._read(window, (0,), mask=True)
            assert mask is not None
            return mask
        if self._alpha_band is not None:
            alpha, _ = await self._read(window, (self._alpha_band,), mask=False)
            return np.asarray(alpha[0] != 0)
        if self.nodata is None:
            return np.ones((window.height, window.width), dtype=np.bool_)
        data, _ = await self._read(window, (0,), mask=False)
        return _dtype_mask(data, self.nodata, None)[0]

    def _window_transform(self, window: Window) -> Affine:
        return self.transform @ Affine.translation(window.col_off, window.row_off)

    async def _read(
        self, window: Window, bands: tuple[int, ...], *, mask: bool
    ) -> tuple[np.ndarray, np.ndarray | None]:
        w = (window.col_off, window.row_off, window.width, window.height)
        raw, raw_mask = await self._reader.read(self._index, w, bands, mask)
        data = raw.view(self.dtype.newbyteorder("<")).reshape(len(bands), window.height, window.width)
        if data.dtype.byteorder not in ("=", "|"):
            data = data.astype(self.dtype)
        m = None if raw_mask is None else raw_mask.view(np.bool_).reshape(window.height, window.width)
        return data, m


class Overview(_Image):
    """A reduced-resolution image of a GeoTIFF (``GeoTIFF.overviews[i]``), read like the GeoTIFF itself.
    NoData, CRS and tags are the GeoTIFF's; the transform covers the same extent with larger pixels."""

    def __init__(self, geotiff: GeoTIFF, index: int):
        super().__init__(geotiff._reader, index)
        self._geotiff = geotiff

    @property
    def geotiff(self) -> GeoTIFF:
        """The GeoTIFF this is an overview of."""
        return self._geotiff

    def __repr__(self) -> str:
        return f"<Overview {self._index - 1} of {self._reader.info['name']}: {self.width}x{self.height}>"


class GeoTIFF(_Image):
    """A GeoTIFF or Cloud-Optimized GeoTIFF opened for async reads. Create with :meth:`GeoTIFF.open`."""

    def __init__(self, reader: Reader):
        super().__init__(reader, 0)
        self._overviews = [Overview(self, k) for k in range(1, len(reader.info["images"]))]

    @classmethod
    async def open(
        cls,
        path: str,
        *,
        store: Store | None = None,
        options: Mapping[str, str] | None = None,
    ) -> GeoTIFF:
        """Opens a GeoTIFF and reads its header (all IFDs, overviews and masks).

        Args:
            path: with ``store``, the object's path in the store; without, a local path or a URI: ``file://``,
                ``s3://`` (also ``s3a://``), ``gs://``, ``az://``, ``http(s)://``.
            store: an obstore store (``S3Store``, ``GCSStore``, ``AzureStore``, ``HTTPStore``, ``LocalStore``,
                ``MemoryStore``), or any object with ``head_async`` and ``get_ranges_async`` as they have.
            options: for a URI, object store settings as object_store keys (``aws_endpoint``,
                ``aws_region``, ``aws_access_key_id``, ``aws_secret_access_key``, ``aws_allow_http``, ...),
                applied over the environment (``AWS_*``, ...). Not used with ``store``.

        Returns:
            The open GeoTIFF.

        Raises:
            FileNotFoundError: the file or object does not exist (the message names it).
            CorruptDataError: not a readable TIFF, or a truncated header (a ``ValueError``).
            NotImplementedError: a sample type the reader does not support.
            ValueError: a malformed URI or an unknown option.
        """
        if not isinstance(path, str):
            raise TypeError(f"path must be a str, got {type(path).__name__}")
        if store is not None:
            if options:
                raise ValueError("options apply to URIs; configure the store itself instead")
            if isinstance(store, str):
                raise TypeError("store must be an obstore store, not a str; pass the URI as path")
            reader = await open_store(store, path)
        else:
            reader = await open_uri(path, options)
        return cls(reader)

    @property
    def path(self) -> str:
        """The path or URI opened (with a store: the path and the store)."""
        return str(self._reader.info["name"])

    @property
    def overviews(self) -> list[Overview]:
        """Internal overviews, largest first."""
        return list(self._overviews)

    @property
    def tags(self) -> dict[str, str]:
        """Dataset metadata under GDAL's names (TIFF tags and GDAL_METADATA items of the default domain)."""
        return dict(self._reader.info["tags"])

    @property
    def colormap(self) -> dict[int, tuple[int, int, int, int]] | None:
        """The palette of a paletted image, as rasterio's ``colormap(1)``: index to RGBA; else None."""
        entries = self._reader.info["color_map"]
        if entries is None:
            return None
        return {i: ((c >> 24) & 255, (c >> 16) & 255, (c >> 8) & 255, c & 255) for i, c in enumerate(entries)}

    def __repr__(self) -> str:
        return (f"<GeoTIFF {self.path}: {self.width}x{self.height}, {self.count} band(s) of {self.dtype}, "
                f"{self.compression}, {len(self._overviews)} overview(s)>")


async def read_windows(image: GeoTIFF | Overview, windows: Iterable[Window], *,
                       bands: Sequence[int] | int | None = None) -> list[RasterArray]:
    """Reads many windows of one image concurrently (their requests and decoding shared).

    Equivalent to ``asyncio.gather(*(image.read(w, bands=bands) for w in windows))``.
    """
    return list(await asyncio.gather(*(image.read(w, bands=bands) for w in windows)))
