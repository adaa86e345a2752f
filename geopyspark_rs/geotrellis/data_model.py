"""The data types of the GeoPySpark API (``geopyspark.geotrellis``): tiles, extents, keys, layouts,
partition strategies and layer :class:`Metadata`.

All types except :class:`Metadata` are namedtuples (tuple equality and hashing, ``_asdict``,
``_replace``); field names and orders are GeoPySpark's, camelCase ones included.
"""

import datetime
import math
from collections import namedtuple

import numpy as np
from shapely.geometry import box

from geopyspark_rs import _native
from geopyspark_rs.geotrellis.constants import CellType, NO_DATA_INT

__all__ = ["Tile", "Extent", "ProjectedExtent", "TemporalProjectedExtent", "SpatialKey", "SpaceTimeKey",
           "Metadata", "TileLayout", "GlobalLayout", "LocalLayout", "LayoutDefinition", "Bounds",
           "RasterizerOptions", "HashPartitionStrategy", "SpatialPartitionStrategy",
           "SpaceTimePartitionStrategy", "Feature", "CellValue", "SourceInfo"]

_EPOCH = datetime.datetime(1970, 1, 1)
_ONE_MILLISECOND = datetime.timedelta(milliseconds=1)


def _convert_to_unix_time(date_time):
    """Milliseconds since 1970-01-01T00:00Z of ``date_time``.

    An aware datetime is converted to UTC first; a naive one is taken to be UTC already. Computed in
    integers (floored to the millisecond), so no float rounding creeps in.
    """
    if date_time.tzinfo is not None and date_time.utcoffset() is not None:
        date_time = date_time.astimezone(datetime.timezone.utc).replace(tzinfo=None)
    return (date_time - _EPOCH) // _ONE_MILLISECOND


def _from_unix_time(millis):
    """Naive UTC datetime of ``millis`` milliseconds since the epoch (inverse of ``_convert_to_unix_time``)."""
    return _EPOCH + datetime.timedelta(milliseconds=millis)


def _naive_utc_bounds(bounds):
    """``bounds`` with aware key instants as naive UTC, as GeoPySpark's metadata gives them back."""
    if bounds is None or not isinstance(bounds[0], SpaceTimeKey):
        return bounds
    lo, hi = (k._replace(instant=_from_unix_time(_convert_to_unix_time(k.instant)))
              if isinstance(k.instant, datetime.datetime) else k for k in bounds)
    return type(bounds)(lo, hi)


def crs_to_proj4(crs):
    """The proj4 string GeoTrellis uses for ``crs``: an EPSG code (``4326``, ``"4326"``, ``"EPSG:4326"``),
    a proj4 string, or WKT (WKT1 ``PROJCS[``/``GEOGCS[``, WKT2 ``PROJCRS[``/``GEOGCRS[``) that names its
    EPSG code at the top level (or is a bundled EPSG definition's WKT). The answer is laid out like
    GeoTrellis' ``CRS.toProj4String``, with a trailing space, e.g. ``'+proj=longlat +datum=WGS84 +no_defs '``.

    Raises:
        ValueError: if ``crs`` is neither, or the EPSG code is unknown.
    """
    return _native.crs_to_proj4(str(crs))


class Tile(namedtuple("Tile", "cells cell_type no_data_value")):
    """A raster's cells: ``cells`` is a numpy array of shape (bands, rows, cols), ``cell_type`` one of
    ``'BIT' 'BYTE' 'UBYTE' 'SHORT' 'USHORT' 'INT' 'FLOAT' 'DOUBLE'`` and ``no_data_value`` a number or
    ``None``."""

    __slots__ = []

    @staticmethod
    def dtype_to_cell_type(dtype):
        """The ``cell_type`` string that holds numpy ``dtype``.

        Raises:
            TypeError: for dtypes with no cell type (bool, complex, strings, ...).
        """
        name = np.dtype(dtype).name
        try:
            return _DTYPE_CELL_TYPES[name]
        except KeyError:
            raise TypeError("{} is not a supported data type; expected one of {}"
                            .format(name, ", ".join(_DTYPE_CELL_TYPES))) from None

    @classmethod
    def from_numpy_array(cls, numpy_array, no_data_value=None):
        """A ``Tile`` of ``numpy_array``, its ``cell_type`` derived from the array's dtype."""
        return cls(numpy_array, cls.dtype_to_cell_type(numpy_array.dtype), no_data_value)

    def to_png(self, color_map=None):
        """PNG bytes of band 0 through ``color_map`` (a :class:`~geopyspark_rs.geotrellis.color.ColorMap`;
        by default a ramp over the tile's range with NoData transparent), or of a 3- or 4-band tile as RGB(A)."""
        from .render import tile_png

        return tile_png(self, color_map)

    def _repr_png_(self):
        """Jupyter shows a Tile as its picture."""
        return self.to_png()


_DTYPE_CELL_TYPES = {
    'int8': 'BYTE',
    'uint8': 'UBYTE',
    'int16': 'SHORT',
    'uint16': 'USHORT',
    'int32': 'INT',
    'uint32': 'FLOAT',
    'float16': 'FLOAT',
    'float32': 'FLOAT',
    'int64': 'DOUBLE',
    'uint64': 'DOUBLE',
    'float64': 'DOUBLE',
}


class Extent(namedtuple("Extent", "xmin ymin xmax ymax")):
    """An axis-aligned rectangle in a CRS's coordinates."""

    __slots__ = []

    @classmethod
    def from_polygon(cls, polygon):
        """The bounding box of a shapely geometry."""
        return cls(*polygon.bounds)

    @property
    def to_polygon(self):
        """This extent as a shapely box polygon (a property, as in GeoPySpark)."""
        return box(*self)


def _extent_dict(extent):
    return extent if isinstance(extent, dict) else extent._asdict()


class ProjectedExtent(namedtuple("ProjectedExtent", "extent epsg proj4")):
    """An :class:`Extent` and its CRS, given as an EPSG code or a proj4 string."""

    __slots__ = []

    def __new__(cls, extent, epsg=None, proj4=None):
        return super().__new__(cls, extent, epsg, proj4)

    def _asdict(self):
        return {'extent': _extent_dict(self.extent), 'epsg': self.epsg, 'proj4': self.proj4}


class TemporalProjectedExtent(namedtuple("TemporalProjectedExtent", "extent instant epsg proj4")):
    """An :class:`Extent`, a time (``datetime.datetime``) and a CRS (EPSG code or proj4 string)."""

    __slots__ = []

    def __new__(cls, extent, instant, epsg=None, proj4=None):
        return super().__new__(cls, extent, instant, epsg, proj4)

    def _asdict(self):
        return {'extent': _extent_dict(self.extent), 'instant': self.instant, 'epsg': self.epsg,
                'proj4': self.proj4}


class SpatialKey(namedtuple("SpatialKey", "col row")):
    """Position of a tile in a layout grid; ``col`` grows eastwards, ``row`` southwards (row 0 is the top)."""

    __slots__ = []


class SpaceTimeKey(namedtuple("SpaceTimeKey", "col row instant")):
    """A :class:`SpatialKey` position plus a time (``datetime.datetime``, naive UTC when decoded)."""

    __slots__ = []


class TileLayout(namedtuple("TileLayout", "layoutCols layoutRows tileCols tileRows")):
    """A grid of ``layoutCols`` x ``layoutRows`` tiles, each ``tileCols`` x ``tileRows`` cells."""

    __slots__ = []


class LayoutDefinition(namedtuple("LayoutDefinition", "extent tileLayout")):
    """A :class:`TileLayout` placed over an :class:`Extent`."""

    __slots__ = []


class Bounds(namedtuple("Bounds", "minKey maxKey")):
    """The smallest and largest keys of a layer (both :class:`SpatialKey` or both :class:`SpaceTimeKey`)."""

    __slots__ = []

    def _asdict(self):
        min_key = self.minKey._asdict()
        max_key = self.maxKey._asdict()
        if 'instant' in min_key:
            min_key['instant'] = _convert_to_unix_time(min_key['instant'])
        if 'instant' in max_key:
            max_key['instant'] = _convert_to_unix_time(max_key['instant'])
        return {'minKey': min_key, 'maxKey': max_key}


class GlobalLayout(namedtuple("GlobalLayout", "tile_size zoom threshold")):
    """Tile to the power-of-two pyramid over the CRS's world extent (GeoTrellis ``ZoomedLayoutScheme``).

    ``tile_size`` defaults to 256 and ``threshold`` (how far a cell size may be from a zoom level's and still
    snap to the coarser level, as a fraction of the step to the next level) to 0.1. ``zoom`` overrides the
    zoom level otherwise chosen from the cell size.
    """

    __slots__ = []

    def __new__(cls, tile_size=None, zoom=None, threshold=None):
        return super().__new__(cls, tile_size or 256, zoom, threshold or 0.1)


class LocalLayout(namedtuple("LocalLayout", "tile_cols tile_rows")):
    """Tile over the layer's own extent at its native resolution (GeoTrellis ``FloatingLayoutScheme``).

    Takes ``(tile_size=None, tile_cols=None, tile_rows=None)`` and stores only ``tile_cols`` and
    ``tile_rows``: each is its own argument, else ``tile_size``, else 256.
    """

    __slots__ = []

    def __new__(cls, tile_size=None, tile_cols=None, tile_rows=None):
        return super().__new__(cls, tile_cols or tile_size or 256, tile_rows or tile_size or 256)


class RasterizerOptions(namedtuple("RasterizerOption", "includePartial sampleType")):
    """Options of geometry rasterization: whether partially covered cells count, and the sample type
    (``'PixelIsPoint'`` or ``'PixelIsArea'``)."""

    __slots__ = []

    def __new__(cls, includePartial=True, sampleType='PixelIsPoint'):
        return super().__new__(cls, includePartial, sampleType)


class HashPartitionStrategy(namedtuple("HashPartitionStrategy", "num_partitions")):
    """Partition by a hash of the key, into ``num_partitions`` partitions (``None``: decided by the operation)."""

    __slots__ = []

    def __new__(cls, num_partitions=None):
        return super().__new__(cls, num_partitions)


class SpatialPartitionStrategy(namedtuple("SpatialPartitionStrategy", "num_partitions bits")):
    """Partition by the Z-order index of the key shifted right by ``bits``, so that neighbouring tiles
    share a partition."""

    __slots__ = []

    def __new__(cls, num_partitions=None, bits=8):
        return super().__new__(cls, num_partitions, bits)


class SpaceTimePartitionStrategy(namedtuple("SpaceTimePartitionStrategy",
                                            "time_unit num_partitions bits time_resolution")):
    """Like :class:`SpatialPartitionStrategy`, with time in the Z-order index, measured in ``time_unit``
    (a :class:`~geopyspark_rs.geotrellis.constants.TimeUnit`) grouped by ``time_resolution`` units.
    For space-time layers only."""

    __slots__ = []

    def __new__(cls, time_unit, num_partitions=None, bits=8, time_resolution=None):
        return super().__new__(cls, time_unit, num_partitions, bits, time_resolution)


class SourceInfo(namedtuple("SourceInfo", "source source_to_target_band")):
    """A raster source path and the mapping ``{source band: target band}`` of the bands it contributes."""

    __slots__ = []


class Feature(namedtuple("Feature", "geometry properties")):
    """A shapely geometry and its properties (a :class:`CellValue`, or a ``dict`` of attributes)."""

    __slots__ = []


class CellValue(namedtuple("CellValue", "value zindex")):
    """The value burnt into the cells a geometry covers, and its z-index (the higher z-index wins)."""

    __slots__ = []


# Constant NoData of the GeoTrellis cell types that have one (format reference §4).
_CONSTANT_NO_DATA = {
    'int8': -128,
    'uint8': 0,
    'int16': -32768,
    'uint16': 0,
    'int32': NO_DATA_INT,
    'float32': math.nan,
    'float64': math.nan,
}


def _no_data_value(cell_type):
    """NoData of a GeoTrellis cell type name: ``None`` for bool and raw types, the number after ``ud`` for
    user-defined types (``float`` for float types, else ``int``), the type's constant NoData otherwise.

    Raises:
        TypeError: if ``cell_type`` is not a string.
        ValueError: if it is not a GeoTrellis cell type name.
    """
    if not isinstance(cell_type, str):
        raise TypeError("cell_type must be a CellType or a cell type name, not {!r}".format(cell_type))
    if cell_type in ('bool', 'boolraw'):
        return None
    base, ud, value = cell_type.partition('ud')
    if base in _CONSTANT_NO_DATA:
        if ud:
            try:
                return float(value) if base.startswith('float') else int(value)
            except ValueError:
                pass
        else:
            return _CONSTANT_NO_DATA[base]
    elif base.endswith('raw') and base[:-len('raw')] in _CONSTANT_NO_DATA and not ud:
        return None
    raise ValueError("{!r} is not a GeoTrellis cell type name; expected bool, one of {} with an optional "
                     "'raw' suffix, or a user-defined NoData type such as 'int16ud-9999' or "
                     "'float32ud-9999.0'".format(cell_type, ", ".join(_CONSTANT_NO_DATA)))


def _key_from_dict(key):
    if 'instant' in key:
        return SpaceTimeKey(key['col'], key['row'], _from_unix_time(key['instant']))
    return SpatialKey(key['col'], key['row'])


def _extent_from_dict(extent):
    return Extent(extent['xmin'], extent['ymin'], extent['xmax'], extent['ymax'])


class Metadata(object):
    """Metadata of a layer (GeoTrellis ``TileLayerMetadata``).

    Args:
        bounds (Bounds): smallest and largest key of the layer (``None`` for an empty layer).
        crs (str or int): EPSG code or proj4 string; stored as GeoTrellis' proj4 string. ``None`` is kept.
        cell_type (str or CellType): stored as the cell type name, e.g. ``'float32ud-1.0'``.
        extent (Extent): extent of the data.
        layout_definition (LayoutDefinition): the layout grid.

    Attributes ``bounds``, ``crs``, ``cell_type``, ``extent``, ``layout_definition``, ``tile_layout``
    (``layout_definition.tileLayout``) and ``no_data_value`` (derived from ``cell_type``).
    """

    def __init__(self, bounds, crs, cell_type, extent, layout_definition):
        self.bounds = _naive_utc_bounds(bounds)
        self.crs = None if crs is None else crs_to_proj4(crs)
        self.cell_type = cell_type.value if isinstance(cell_type, CellType) else cell_type
        self.extent = extent
        self.tile_layout = layout_definition.tileLayout
        self.layout_definition = layout_definition
        self.no_data_value = _no_data_value(self.cell_type)

    @classmethod
    def from_dict(cls, metadata_dict):
        """Metadata from the GeoTrellis JSON object (``metadata`` of a layer's attributes), parsed into
        Python: keys ``cellType``, ``layoutDefinition``, ``extent``, ``crs`` and ``bounds``; key instants
        are epoch milliseconds and become naive UTC datetimes. Empty bounds (``{}``) become ``None``."""
        bounds_dict = metadata_dict['bounds']
        if bounds_dict:
            bounds = Bounds(_key_from_dict(bounds_dict['minKey']), _key_from_dict(bounds_dict['maxKey']))
        else:
            bounds = None
        layout = metadata_dict['layoutDefinition']
        tile_layout = layout['tileLayout']
        layout_definition = LayoutDefinition(
            _extent_from_dict(layout['extent']),
            TileLayout(tile_layout['layoutCols'], tile_layout['layoutRows'],
                       tile_layout['tileCols'], tile_layout['tileRows']))
        return cls(bounds, metadata_dict['crs'], metadata_dict['cellType'],
                   _extent_from_dict(metadata_dict['extent']), layout_definition)

    def to_dict(self):
        """The GeoTrellis JSON object of this metadata, keys in GeoTrellis 3.x order, instants as epoch ms."""
        return {
            'cellType': self.cell_type,
            'layoutDefinition': {
                'extent': self.layout_definition.extent._asdict(),
                'tileLayout': self.tile_layout._asdict(),
            },
            'extent': self.extent._asdict(),
            'crs': self.crs,
            'bounds': {} if self.bounds is None else self.bounds._asdict(),
        }

    def _fields(self):
        return (self.bounds, self.crs, self.cell_type, self.extent, self.layout_definition)

    def __eq__(self, other):
        if not isinstance(other, Metadata):
            return NotImplemented
        return self._fields() == other._fields()

    def __hash__(self):
        return hash(self._fields())

    def __repr__(self):
        return ("Metadata(bounds={!r}, crs={!r}, cell_type={!r}, extent={!r}, layout_definition={!r})"
                .format(*self._fields()))

    def __str__(self):
        return ("Metadata(bounds={}, crs={!r}, cell_type={}, no_data_value={}, extent={}, tile_layout={}, "
                "layout_definition={})").format(self.bounds, self.crs, self.cell_type, self.no_data_value,
                                                self.extent, self.tile_layout, self.layout_definition)
