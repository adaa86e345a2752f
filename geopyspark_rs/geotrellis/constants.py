"""Constants and enums of the GeoPySpark API (``geopyspark.geotrellis.constants``).

Every API that takes one of these enums also accepts the member's value (``"spatial"``,
``"NearestNeighbor"``, ``0`` for :class:`ColorSpace`), because it converts with ``Enum(x)``.
"""

from enum import Enum, IntEnum

__all__ = ['NO_DATA_INT', 'LayerType', 'IndexingMethod', 'ResampleMethod', 'TimeUnit',
           'Operation', 'Neighborhood', 'ClassificationStrategy', 'CellType', 'ColorRamp',
           'DEFAULT_MAX_TILE_SIZE', 'DEFAULT_PARTITION_BYTES', 'DEFAULT_CHUNK_SIZE',
           'DEFAULT_GEOTIFF_TIME_TAG', 'DEFAULT_GEOTIFF_TIME_FORMAT', 'DEFAULT_S3_CLIENT',
           'StorageMethod', 'ColorSpace', 'Compression', 'Unit', 'ReadMethod']

#: NoData of GeoTrellis' int32 cells (``Int.MinValue``).
NO_DATA_INT = -2147483648

#: Default width and height, in cells, of a tile.
DEFAULT_MAX_TILE_SIZE = 256

#: Default partition size in bytes. GeoPySpark's value is 1281 MiB (not 128 MiB); kept as is.
DEFAULT_PARTITION_BYTES = 1281 * 1024 * 1024

#: Default number of bytes read at once from a file or object store.
DEFAULT_CHUNK_SIZE = 65536

#: GeoTIFF tag that holds a raster's timestamp.
DEFAULT_GEOTIFF_TIME_TAG = "TIFFTAG_DATETIME"

#: Pattern of the timestamp in that tag, in Java ``DateTimeFormatter`` syntax.
DEFAULT_GEOTIFF_TIME_FORMAT = "yyyy:MM:dd HH:mm:ss"

#: Name of the default S3 client.
DEFAULT_S3_CLIENT = "default"

# GeoTrellis key classes by layer type; 2.x names live in geotrellis.spark/.vector, 3.x in geotrellis.layer.
_SPATIAL_KEY_NAMES = frozenset(["SpatialKey", "ProjectedExtent"])
_SPACETIME_KEY_NAMES = frozenset(["SpaceTimeKey", "TemporalProjectedExtent"])


class LayerType(Enum):
    """Whether the keys of a layer carry a time (``SPACETIME``) or not (``SPATIAL``)."""

    #: Keys are :class:`SpatialKey` (tiled) or :class:`ProjectedExtent` (untiled).
    SPATIAL = 'spatial'
    #: Keys are :class:`SpaceTimeKey` (tiled) or :class:`TemporalProjectedExtent` (untiled).
    SPACETIME = 'spacetime'

    @classmethod
    def _from_key_name(cls, name):
        """The layer type of a GeoTrellis key class name, short (``"SpatialKey"``) or fully qualified
        (``"geotrellis.spark.SpatialKey"``, ``"geotrellis.layer.SpatialKey"``)."""
        if isinstance(name, str):
            short = name.rsplit('.', 1)[-1]
            qualified_ok = '.' not in name or name.startswith('geotrellis.')
            if qualified_ok and short in _SPATIAL_KEY_NAMES:
                return cls.SPATIAL
            if qualified_ok and short in _SPACETIME_KEY_NAMES:
                return cls.SPACETIME
        raise ValueError("Unrecognized key class type: {!r}; expected SpatialKey, SpaceTimeKey, "
                         "ProjectedExtent or TemporalProjectedExtent".format(name))

    def _key_name(self, is_boundable):
        """The GeoTrellis key class of this layer type: a grid key when ``is_boundable`` (tiled layers),
        otherwise a projected extent (untiled layers)."""
        if self is LayerType.SPATIAL:
            return "SpatialKey" if is_boundable else "ProjectedExtent"
        return "SpaceTimeKey" if is_boundable else "TemporalProjectedExtent"


class IndexingMethod(Enum):
    """Space-filling curve used to index the keys of a layer written to a catalog."""

    #: Z-order curve; spatial and space-time keys.
    ZORDER = 'zorder'
    #: Hilbert curve; spatial and space-time keys. The resolution bits of x, y (and t) may sum to 62 at most.
    HILBERT = 'hilbert'
    #: Row-major order; spatial keys only. Fast, but with no locality.
    ROWMAJOR = 'rowmajor'


class ResampleMethod(Enum):
    """How cell values are computed when a raster is resampled."""

    NEAREST_NEIGHBOR = 'NearestNeighbor'
    BILINEAR = 'Bilinear'
    CUBIC_CONVOLUTION = 'CubicConvolution'
    CUBIC_SPLINE = 'CubicSpline'
    LANCZOS = 'Lanczos'
    AVERAGE = 'Average'
    MODE = 'Mode'
    MEDIAN = 'Median'
    MAX = 'Max'
    MIN = 'Min'


class TimeUnit(Enum):
    """Unit of the time dimension of space-time key indexes and partitioners."""

    MILLIS = 'millis'
    SECONDS = 'seconds'
    MINUTES = 'minutes'
    HOURS = 'hours'
    DAYS = 'days'
    WEEKS = 'weeks'
    MONTHS = 'months'
    YEARS = 'years'


class Operation(Enum):
    """Focal (neighbourhood) operations."""

    SUM = 'Sum'
    MEAN = 'Mean'
    MODE = 'Mode'
    MEDIAN = 'Median'
    MAX = 'Max'
    MIN = 'Min'
    ASPECT = 'Aspect'
    VARIANCE = 'Variance'
    STANDARD_DEVIATION = 'StandardDeviation'


class Neighborhood(Enum):
    """Shapes of focal neighbourhoods (the classes live in ``geopyspark_rs.geotrellis.neighborhood``)."""

    ANNULUS = 'Annulus'
    NESW = 'Nesw'
    SQUARE = 'Square'
    WEDGE = 'Wedge'
    CIRCLE = 'Circle'


class ClassificationStrategy(Enum):
    """How a colour map assigns a value to its breaks."""

    GREATER_THAN = 'GreaterThan'
    GREATER_THAN_OR_EQUAL_TO = 'GreaterThanOrEqualTo'
    LESS_THAN = 'LessThan'
    LESS_THAN_OR_EQUAL_TO = 'LessThanOrEqualTo'
    EXACT = 'Exact'


class CellType(Enum):
    """GeoTrellis cell type names. ``raw`` types have no NoData; the others use the type's constant NoData.

    A user-defined NoData type is a string such as ``'int16ud-1'`` or ``'float32ud-9999.0'``
    (see :meth:`create_user_defined_celltype`); such strings are accepted wherever a cell type is.
    """

    BOOLRAW = 'boolraw'
    INT8RAW = 'int8raw'
    UINT8RAW = 'uint8raw'
    INT16RAW = 'int16raw'
    UINT16RAW = 'uint16raw'
    INT32RAW = 'int32raw'
    FLOAT32RAW = 'float32raw'
    FLOAT64RAW = 'float64raw'
    BOOL = 'bool'
    INT8 = 'int8'
    UINT8 = 'uint8'
    INT16 = 'int16'
    UINT16 = 'uint16'
    INT32 = 'int32'
    FLOAT32 = 'float32'
    FLOAT64 = 'float64'

    @staticmethod
    def create_user_defined_celltype(cell_type, no_data_value):
        """The name of ``cell_type`` (a member or its value) with the user-defined NoData ``no_data_value``,
        e.g. ``('int16', -1) -> 'int16ud-1'``, ``(CellType.FLOAT32, -10.0) -> 'float32ud-10.0'``.

        Raises:
            ValueError: for ``bool`` and ``raw`` types, which cannot carry a NoData value, or for a name
                that is not a member's value.
        """
        name = CellType(cell_type).value
        if 'bool' in name:
            raise ValueError("Cannot add a user defined NoData value to {!r}: bool cells have no NoData"
                             .format(name))
        if 'raw' in name:
            raise ValueError("Cannot add a user defined NoData value to the raw type {!r}; use {!r}"
                             .format(name, name[:-len('raw')]))
        return "{}ud{}".format(name, no_data_value)


class ColorRamp(Enum):
    """Names of GeoTrellis' built-in colour ramps. The first member is spelled ``Hot``, as in GeoPySpark."""

    Hot = 'Hot'
    COOLWARM = 'CoolWarm'
    MAGMA = 'Magma'
    INFERNO = 'Inferno'
    PLASMA = 'Plasma'
    VIRIDIS = 'Viridis'
    BLUE_TO_ORANGE = 'BlueToOrange'
    LIGHT_YELLOW_TO_ORANGE = 'LightYellowToOrange'
    BLUE_TO_RED = 'BlueToRed'
    GREEN_TO_RED_ORANGE = 'GreenToRedOrange'
    LIGHT_TO_DARK_SUNSET = 'LightToDarkSunset'
    LIGHT_TO_DARK_GREEN = 'LightToDarkGreen'
    HEATMAP_YELLOW_TO_RED = 'HeatmapYellowToRed'
    HEATMAP_BLUE_TO_YELLOW_TO_RED_SPECTRUM = 'HeatmapBlueToYellowToRedSpectrum'
    HEATMAP_DARK_RED_TO_YELLOW_WHITE = 'HeatmapDarkRedToYellowWhite'
    HEATMAP_LIGHT_PURPLE_TO_DARK_PURPLE_TO_WHITE = 'HeatmapLightPurpleToDarkPurpleToWhite'
    CLASSIFICATION_BOLD_LAND_USE = 'ClassificationBoldLandUse'
    CLASSIFICATION_MUTED_TERRAIN = 'ClassificationMutedTerrain'


class StorageMethod(Enum):
    """Layout of the image data inside a written GeoTIFF."""

    STRIPED = 'Striped'
    TILED = 'Tiled'


class ColorSpace(IntEnum):
    """TIFF ``PhotometricInterpretation`` values."""

    WHITE_IS_ZERO = 0
    BLACK_IS_ZERO = 1
    RGB = 2
    PALETTE = 3
    TRANSPARENCY_MASK = 4
    CMYK = 5
    Y_CB_CR = 6
    CIE_LAB = 8
    ICC_LAB = 9
    ITU_LAB = 10
    CFA = 32803
    LINEAR_RAW = 34892
    LOG_L = 32844
    LOG_LUV = 32845


class Compression(Enum):
    """Compression of written GeoTIFFs."""

    NO_COMPRESSION = 'NoCompression'
    DEFLATE_COMPRESSION = 'DeflateCompression'


class Unit(Enum):
    """Unit of elevation values (for slope and hillshade z-factors)."""

    METERS = 'Meters'
    FEET = 'Feet'


class ReadMethod(Enum):
    """Which reader decodes GeoTIFFs."""

    GEOTRELLIS = 'GeoTrellis'
    GDAL = 'GDAL'
