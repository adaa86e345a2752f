"""Layers: ``RasterLayer`` (untiled rasters keyed by extent) and ``TiledRasterLayer`` (tiles keyed by
SpatialKey/SpaceTimeKey in a layout). A layer is a Spark DataFrame in the tile contract plus the per-tile
steps recorded on it (run fused, in one pass, when the data is needed)."""

from __future__ import annotations

from pyspark import StorageLevel
from pyspark.sql import functions as F
from pyspark.sql.types import StructType

from ..session import active_session, is_connect, tune_for_tiles
from . import plan as _plan
from . import tile_contract as tc
from .cell_edits import CellEdits
from .constants import LayerType, ReadMethod, ResampleMethod
from .data_model import Bounds, Metadata, SpatialKey
from .executor_errors import raise_worker_errors
from .focal import Focal
from .geotiff.write import GeoTiffOutput
from .render import PngOutput
from .map_algebra import MapAlgebra
from .partition import check_partition_strategy, repartition as _repartition
from .retile import RasterRetiling, TiledRetiling
from .statistics import Statistics
from .zonal import Zonal

__all__ = ["RasterLayer", "TiledRasterLayer", "Pyramid"]


def dataframe_storage_level(level: StorageLevel, compress_serialized: bool = False) -> StorageLevel:
    """The level a layer's DataFrame is cached at for a GeoPySpark ``storageLevel``. PySpark's levels are
    all serialized (made for pickled Python objects); a DataFrame's cache is already compact columnar
    bytes, and keeping it serialized only adds a deserializing copy of every cached batch to every scan
    (a quarter of a one-way pass's time). Memory levels are kept deserialized, with the same disk and
    replication; off-heap levels must stay serialized, and so do all levels when the session compresses
    serialized blocks (``spark.rdd.compress``: the user traded scan speed for memory)."""
    if compress_serialized or not level.useMemory or level.useOffHeap or level.deserialized:
        return level
    return StorageLevel(level.useDisk, True, False, True, level.replication)


def with_cell_type(metadata, cell_type):
    """The metadata with another cell type."""
    m = metadata
    return Metadata(m.bounds, m.crs, cell_type, m.extent, m.layout_definition)


def tiled_from_exchange(layer_type, exchanged, metadata, zoom_level=None):
    """The TiledRasterLayer an exchange produces: its runs are reduced inside the new layer's pass."""
    out = TiledRasterLayer(layer_type, exchanged.df, metadata, zoom_level)
    out._head, out._partitions = exchanged.head, exchanged.partitions
    out._partition_strategy = exchanged.strategy
    return out


def _local_partitions(df):
    """The partition count of a DataFrame made from local data (free to ask on classic Spark)."""
    return None if is_connect(df) else df.rdd.getNumPartitions()


def _no_rdds_on_connect(spark, what: str, sibling: str) -> None:
    if is_connect(spark):
        raise RuntimeError(
            f"{what} works with PySpark RDDs, which do not exist on Spark Connect; use {sibling} instead."
        )


class CachableLayer:
    """Caching and partition-level methods shared by every layer.

    A layer is ``_df`` plus what its pass will do to it (DESIGN §4): an optional ``_head`` that makes tiles
    from ``_df``'s rows (a read, or the reduce side of a shuffle) and the recorded ``_steps``. Everything
    that needs cells runs them inside its own single ``mapInArrow`` (``_map_batches``)."""

    def _set_df(self, df, steps=(), head=None, partitions=None):
        self._df = df
        self._steps = tuple(steps)
        self._head = head
        # The partition count when known without running anything (a planned read, a shuffle we sized).
        self._partitions = partitions

    @property
    def dataframe(self):
        """The layer as a Spark DataFrame in the tile contract (recorded steps applied)."""
        return _plan.execute(self._df, self._head, self._steps, self._schema())

    def _map_batches(self, consume, schema):
        """One pass: the layer's tiles (head and steps applied), batch by batch, through ``consume``
        (an iterator of tile batches → an iterator of batches of ``schema``)."""
        return _plan.execute(self._df, self._head, self._steps, schema, consume)

    def _rows(self):
        """A DataFrame with one row per tile and its key columns, computing no cells when it can."""
        if self._head is None or self._head.row_aligned:
            return self._df
        return _plan.execute(self._df, self._head, (), self._schema())

    def _headers(self):
        """``_rows`` without the cells: for counts, keys and grids. When the head must run (its rows are
        not the tiles'), the cells stay in the Python pass; only the other columns come back."""
        if self._head is None or self._head.row_aligned:
            return self._df
        fields = [f for f in self._schema().fields if f.name != "cells"]

        def drop_cells(batches):
            for batch in batches:
                yield batch.drop_columns(["cells"])

        return _plan.execute(self._df, self._head, (), StructType(fields), drop_cells)

    @property
    def pysc(self):
        """The SparkContext (None on Spark Connect, which has none)."""
        spark = self._df.sparkSession
        return None if is_connect(spark) else spark.sparkContext

    def wrapped_rdds(self):
        """The DataFrames behind this layer (GeoPySpark returned its JVM RDDs)."""
        return [self.dataframe]

    def cache(self):
        return self.persist()

    def persist(self, storageLevel=StorageLevel.MEMORY_ONLY):
        """Run the recorded steps once and keep the tiles in Spark's cache."""
        compress = self._df.sparkSession.conf.get("spark.rdd.compress", "false").strip().lower() == "true"
        df = self.dataframe.persist(dataframe_storage_level(storageLevel, compress))
        self._set_df(df, partitions=self._partitions)
        self.is_cached = True
        self._strips = {}  # width → (tiles, their border strips as an Arrow batch), kept by focal operations
        return self

    def unpersist(self):
        self._df.unpersist()
        self._strips = {}
        self.is_cached = False
        return self

    def getNumPartitions(self):
        if self._partitions is not None:
            return self._partitions
        df = self._df  # a pass keeps its input's partitions
        if not is_connect(df):
            return df.rdd.getNumPartitions()

        # Spark Connect has no RDD to ask: every partition, empty or not, emits one row.
        def one_row(batches):
            import pyarrow as pa

            for _ in batches:
                pass
            yield pa.RecordBatch.from_pydict({"one": pa.array([1], pa.int32())})

        return df.select(df.columns[0]).mapInArrow(one_row, "one int").count()

    # Steps never add or drop rows, so counting needs no steps (and no cells, under a row-aligned read).
    def count(self):
        return self._headers().count()

    def isEmpty(self):
        return self._headers().isEmpty()


class _Layer(CachableLayer, CellEdits, Statistics, GeoTiffOutput, PngOutput):
    """What RasterLayer and TiledRasterLayer share."""

    _tiled = False

    def _init(self, layer_type, df, steps=(), partition_strategy=None):
        tune_for_tiles(df.sparkSession)
        self.layer_type = LayerType(layer_type)
        self.is_cached = False
        self._partition_strategy = partition_strategy
        self._set_df(df, steps)

    @property
    def _key_columns(self):
        return tc.key_columns(self._tiled, self.layer_type)

    def _schema(self):
        return tc.schema(self._tiled, self.layer_type)

    def _derive(self, df=None, steps=None, head=None, partitions=None, **changes):
        """A new layer of the same kind. A new ``df`` holds tiles (``self.dataframe`` transformed), or the
        rows ``head`` makes tiles of; it starts with no steps unless ``steps`` says otherwise."""
        new = object.__new__(type(self))
        new.__dict__.update(self.__dict__)
        new.is_cached = False
        if df is None:
            new._set_df(self._df, self._steps if steps is None else steps, self._head, self._partitions)
        else:
            new._set_df(df, () if steps is None else steps, head, partitions)
            new._partition_strategy = None
        for k, v in changes.items():
            setattr(new, k, v)
        return new

    def _where(self, condition):
        """The records matching a condition on the key columns. Steps are row-wise, so the filter runs
        before them (and before a row-aligned read) and only the kept tiles are computed; filtering keeps
        the partitioning."""
        if self._head is None or self._head.row_aligned:
            new = self._derive(df=self._df.where(condition), steps=self._steps, head=self._head,
                               partitions=self._partitions)
        else:  # the keys exist once the head has run (a shuffle's reduce side, a file read)
            new = self._derive(df=self._rows().where(condition), steps=self._steps, partitions=self._partitions)
        new._partition_strategy = self._partition_strategy
        return new

    def _cell_type(self):
        """The layer's cell type when the layer knows it (tiled layers), else None."""
        return None

    def _with_step(self, step):
        return self._derive(steps=self._steps + (step,))

    # --- conversion -------------------------------------------------------------------------------

    def to_numpy_rdd(self):
        """A PySpark RDD of ``(key, Tile)`` pairs (classic Spark only; see ``to_numpy_tiles``)."""
        df = self.dataframe
        _no_rdds_on_connect(df, "to_numpy_rdd", "to_numpy_tiles() or .dataframe")
        tiled, layer_type, names = self._tiled, self.layer_type, self._key_columns

        def decode(row):
            key = tc.decode_key({c: row[c] for c in names}, tiled, layer_type)
            return key, tc.decode_tile(*(row[c] for c in tc.TILE_COLUMNS))

        return df.rdd.map(decode)

    def to_numpy_tiles(self):
        """All ``(key, Tile)`` pairs collected to the driver (works on Spark Connect too)."""
        return tc.table_to_records(self.dataframe.toArrow(), self._tiled, self.layer_type)

    def collect_keys(self):
        rows = self._headers().select(*self._key_columns).collect()
        return [tc.decode_key(r.asDict(), self._tiled, self.layer_type) for r in rows]

    # --- partitions ---------------------------------------------------------------------------------

    def repartition(self, num_partitions=None):
        if num_partitions is None:
            return self
        if isinstance(num_partitions, bool) or not isinstance(num_partitions, int) or num_partitions <= 0:
            raise ValueError(f"num_partitions must be a positive int or None, got {num_partitions!r}")
        return self._derive(df=self.dataframe.repartition(int(num_partitions)), partitions=int(num_partitions))

    def partitionBy(self, partition_strategy=None):
        if partition_strategy is None:
            return self
        check_partition_strategy(partition_strategy, self.layer_type)
        current = partition_strategy.num_partitions or self.getNumPartitions()
        df, strategy = _repartition(self.dataframe, self._key_columns, self.layer_type, partition_strategy, current)
        new = self._derive(df=df, partitions=current)
        new._partition_strategy = strategy
        return new

    def get_partition_strategy(self):
        """The strategy the layer was last partitioned with, or None."""
        return self._partition_strategy

    # --- time ---------------------------------------------------------------------------------------

    def _require_spacetime(self, what, exc=ValueError):
        if self.layer_type != LayerType.SPACETIME:
            raise exc(f"{what} is only supported for SPACETIME layers, this layer is {self.layer_type}")

    def filter_by_times(self, time_intervals):
        """Keep records whose instant equals a given time or falls in ``[t0, t1]`` pairs of the list."""
        self._require_spacetime("filter_by_times", TypeError)
        if not isinstance(time_intervals, (list, tuple)) or not time_intervals:
            raise ValueError("time_intervals must be a non-empty list of datetimes")
        ms = [tc.instant_ms(t) for t in time_intervals]
        instant = F.col("instant")
        cond = None
        for i in range(0, len(ms), 2):
            part = instant.between(ms[i], ms[i + 1]) if i + 1 < len(ms) else instant == ms[i]
            cond = part if cond is None else cond | part
        return self._where(cond)

    def _to_spatial(self, target_time):
        """``(DataFrame without instants, steps, head)`` of the records at ``target_time`` (all when None);
        a row-aligned head passes the key columns it is given through."""
        self._require_spacetime("to_spatial_layer")
        layer = self if target_time is None else self._where(F.col("instant") == tc.instant_ms(target_time))
        if layer._head is None or layer._head.row_aligned:
            return layer._df.drop("instant"), layer._steps, layer._head
        return layer._rows().drop("instant"), layer._steps, None

    def merge(self, partition_strategy=None):
        """One record per key: later tiles fill the NoData cells of earlier ones."""
        check_partition_strategy(partition_strategy, self.layer_type)
        return self._combine_runs("fill", partition_strategy)

    def _combine_runs(self, op, partition_strategy=None):
        """The layer with the tiles of equal keys combined by ``op`` in Rust, after one keyed exchange."""
        from .exchange import combine, keyed_exchange

        ex = keyed_exchange(self, None, None, self._key_columns, combine(self._key_columns, op), partition_strategy)
        new = self._derive(df=ex.df, head=ex.head, partitions=ex.partitions)
        new._partition_strategy = ex.strategy
        return new


@raise_worker_errors
class RasterLayer(_Layer, RasterRetiling):
    """Untiled rasters keyed by ``ProjectedExtent``/``TemporalProjectedExtent``."""

    def __init__(self, layer_type, dataframe, steps=()):
        self._init(layer_type, dataframe, steps)

    @classmethod
    def read(cls, paths, layer_type=LayerType.SPATIAL, target_crs=None, num_partitions=None,
             resample_method=ResampleMethod.NEAREST_NEIGHBOR, read_method=ReadMethod.GEOTRELLIS):
        """One raster per GeoTIFF in ``paths`` (str or list), optionally reprojected to ``target_crs``."""
        from .geotiff.sources import read_raster_layer

        return read_raster_layer(paths, layer_type, target_crs, num_partitions, resample_method, read_method)

    @classmethod
    def from_numpy_rdd(cls, layer_type, numpy_rdd):
        """From a PySpark RDD of ``(ProjectedExtent | TemporalProjectedExtent, Tile)``."""
        layer_type = LayerType(layer_type)
        spark = active_session()
        _no_rdds_on_connect(spark, "from_numpy_rdd", "RasterLayer.from_numpy_tiles")
        rows = numpy_rdd.map(lambda kv: tc.encode_key(kv[0], False, layer_type) + tc.encode_tile(kv[1]))
        out = cls(layer_type, spark.createDataFrame(rows, tc.schema(False, layer_type)))
        out._partitions = numpy_rdd.getNumPartitions()
        return out

    @classmethod
    def from_numpy_tiles(cls, layer_type, tiles):
        """From a local list of ``(ProjectedExtent | TemporalProjectedExtent, Tile)`` (works on Connect)."""
        layer_type = LayerType(layer_type)
        table = tc.records_to_table(tiles, False, layer_type)
        out = cls(layer_type, active_session().createDataFrame(table))
        out._partitions = _local_partitions(out._df)
        return out

    @classmethod
    def from_dataframe(cls, layer_type, dataframe):
        """Wrap a DataFrame that follows the tile contract."""
        layer_type = LayerType(layer_type)
        return cls(layer_type, tc.check_dataframe(dataframe, False, layer_type))

    def to_spatial_layer(self, target_time=None):
        df, steps, head = self._to_spatial(target_time)
        out = RasterLayer(LayerType.SPATIAL, df, steps)
        out._head, out._partitions = head, self._partitions
        return out

    def __str__(self):
        return f"RasterLayer(layer_type={self.layer_type})"

    __repr__ = __str__


@raise_worker_errors
class TiledRasterLayer(_Layer, TiledRetiling, MapAlgebra, Focal, Zonal):
    """Tiles keyed by ``SpatialKey``/``SpaceTimeKey`` in a layout, with ``layer_metadata`` and ``zoom_level``."""

    _tiled = True

    def __init__(self, layer_type, dataframe, layer_metadata, zoom_level=None, steps=()):
        if isinstance(layer_metadata, dict):
            layer_metadata = Metadata.from_dict(layer_metadata)
        if not isinstance(layer_metadata, Metadata):
            raise TypeError(f"layer_metadata must be a Metadata or its dict, got {type(layer_metadata).__name__}")
        self.layer_metadata = layer_metadata
        self.zoom_level = zoom_level
        self._init(layer_type, dataframe, steps)

    @property
    def is_floating_point_layer(self):
        return self.layer_metadata.cell_type.startswith("float")

    def _cell_type(self):
        return self.layer_metadata.cell_type

    def _with_step(self, step):
        if isinstance(step, _plan.PythonStep):
            return self._derive(steps=self._steps + (step,))
        cell_type = _plan.output_cell_type([step], [self.layer_metadata.cell_type])
        return self._derive(steps=self._steps + (step,), layer_metadata=with_cell_type(self.layer_metadata, cell_type))

    @classmethod
    def read(cls, paths, layout_type, layer_type=LayerType.SPATIAL, target_crs=None, num_partitions=None,
             resample_method=ResampleMethod.NEAREST_NEIGHBOR, partition_strategy=None,
             read_method=ReadMethod.GEOTRELLIS):
        """GeoTIFFs in ``paths`` (str, list of str, SourceInfo or list of SourceInfo assembling bands of
        several files) tiled to ``layout_type`` (GlobalLayout or LocalLayout)."""
        from .geotiff.sources import read_tiled_layer

        return read_tiled_layer(paths, layout_type, layer_type, target_crs, num_partitions, resample_method,
                                partition_strategy, read_method)

    @classmethod
    def from_numpy_rdd(cls, layer_type, numpy_rdd, metadata, zoom_level=None):
        """From a PySpark RDD of ``(SpatialKey | SpaceTimeKey, Tile)`` and the layer's Metadata."""
        layer_type = LayerType(layer_type)
        spark = active_session()
        _no_rdds_on_connect(spark, "from_numpy_rdd", "TiledRasterLayer.from_numpy_tiles")
        rows = numpy_rdd.map(lambda kv: tc.encode_key(kv[0], True, layer_type) + tc.encode_tile(kv[1]))
        df = spark.createDataFrame(rows, tc.schema(True, layer_type))
        out = cls(layer_type, df, metadata, zoom_level or None)
        out._partitions = numpy_rdd.getNumPartitions()
        return out

    @classmethod
    def from_numpy_tiles(cls, layer_type, tiles, metadata, zoom_level=None):
        """From a local list of ``(SpatialKey | SpaceTimeKey, Tile)`` (works on Spark Connect)."""
        layer_type = LayerType(layer_type)
        table = tc.records_to_table(tiles, True, layer_type)
        out = cls(layer_type, active_session().createDataFrame(table), metadata, zoom_level or None)
        out._partitions = _local_partitions(out._df)
        return out

    @classmethod
    def from_dataframe(cls, layer_type, dataframe, metadata, zoom_level=None):
        """Wrap a DataFrame that follows the tile contract."""
        layer_type = LayerType(layer_type)
        return cls(layer_type, tc.check_dataframe(dataframe, True, layer_type), metadata, zoom_level or None)

    def to_spatial_layer(self, target_time=None):
        m = self.layer_metadata
        b = m.bounds
        bounds = Bounds(SpatialKey(b.minKey.col, b.minKey.row), SpatialKey(b.maxKey.col, b.maxKey.row))
        metadata = Metadata(bounds, m.crs, m.cell_type, m.extent, m.layout_definition)
        df, steps, head = self._to_spatial(target_time)
        out = TiledRasterLayer(LayerType.SPATIAL, df, metadata, self.zoom_level, steps)
        out._head, out._partitions = head, self._partitions
        return out

    def lookup(self, col, row):
        """The tiles at ``SpatialKey(col, row)``."""
        if self.layer_type != LayerType.SPATIAL:
            raise ValueError("Only TiledRasterLayers with a layer_type of Spatial can use lookup()")
        b = self.layer_metadata.bounds
        if not (b.minKey.col <= col <= b.maxKey.col and b.minKey.row <= row <= b.maxKey.row):
            raise IndexError(
                f"col {col} and row {row} are outside the layer's bounds {tuple(b.minKey)}..{tuple(b.maxKey)}"
            )
        found = self._where((F.col("col") == int(col)) & (F.col("row") == int(row)))
        return [tile for _, tile in found.to_numpy_tiles()]

    def stitch(self):
        """Mosaic the whole layer into one Tile (SPATIAL layers). Ours: the Tile also knows its ``extent``
        and ``crs``, and converts with ``to_raster()`` (for rasterio) and ``to_xarray()``."""
        from .stitch import stitch

        if self.layer_type != LayerType.SPATIAL:
            raise ValueError("Only TiledRasterLayers with a layer_type of Spatial can use stitch()")
        # One pass: the tiles come to the driver.
        return stitch(self.dataframe.toArrow(), self.layer_metadata)

    def save_stitched(self, path, crop_bounds=None, crop_dimensions=None, cog=False):
        """Stitch the layer (SPATIAL only) and write it as one GeoTIFF at ``path``, optionally cropped to
        the ``crop_bounds`` Extent and resampled to ``crop_dimensions`` = (cols, rows); ours: ``cog=True``
        writes a Cloud Optimized GeoTIFF."""
        from .geotiff.write import save_stitched

        save_stitched(self, path, crop_bounds, crop_dimensions, cog)

    def pyramid(self, resample_method=ResampleMethod.NEAREST_NEIGHBOR, partition_strategy=None):
        """A Pyramid of this layer from its zoom (or its LocalLayoutScheme zoom) down to 0, each level
        half the resolution of the one below (see ``pyramiding``)."""
        from .pyramiding import pyramid

        return pyramid(self, resample_method, partition_strategy)

    def get_point_values(self, points, resample_method=None):
        """The values at shapely Points (list or ``{label: Point}``; see ``point_values``)."""
        from .point_values import get_point_values

        return get_point_values(self, points, resample_method)

    def aggregate_by_cell(self, operation):
        """Combine the tiles of duplicate keys cell by cell: SUM, MIN and MAX give NoData where any tile
        has NoData (GeoTrellis local ops); MEAN, VARIANCE and STANDARD_DEVIATION skip NoData, and the
        variance is the sample variance (one value → NoData)."""
        from .constants import Operation

        allowed = {
            Operation.SUM: "sum", Operation.MEAN: "mean", Operation.MIN: "min", Operation.MAX: "max",
            Operation.VARIANCE: "variance", Operation.STANDARD_DEVIATION: "standard_deviation",
        }
        try:
            op = allowed[Operation(operation)]
        except (ValueError, KeyError):
            raise ValueError(
                f"aggregate_by_cell does not support {operation!r}; use one of "
                + ", ".join(o.name for o in allowed)
            ) from None
        # As in GeoTrellis, every aggregate keeps the layer's cell type (an int16 mean stays int16).
        return self._combine_runs(op)

    def __str__(self):
        return (
            f"TiledRasterLayer(layer_type={self.layer_type}, zoom_level={self.zoom_level}, "
            f"is_floating_point_layer={self.is_floating_point_layer})"
        )

    __repr__ = __str__

    def _repr_html_(self):
        """Jupyter: the metadata as a table, with a thumbnail when the layer is small."""
        from .display import layer_html

        return layer_html(self)

    def __hash__(self):
        return id(self)


from .pyramid import Pyramid  # noqa: E402  (GeoPySpark's layer module holds Pyramid too)
