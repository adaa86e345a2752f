"""Zonal operations of a tiled layer: polygonal summaries, cell value counts, time series, masking, and
statistics of many zones at once.

Every summary is one pass over the layer (its pending steps included): each executor visits a tile once
for all the zones whose bounding box meets it and sends back only partial statistics per zone, band and
instant (``_native.Zones.partials``); partials combine exactly in any order (Welford/Chan), on the driver
for a few zones or through a keyed exchange on the zone for many (``zonal_statistics``).

Cell rules (``rasterize/cells.rs``): ``centre`` counts the cells whose centre a polygon contains (GeoPySpark's
summaries and ``RasterizerOptions()``), ``all_touched`` the cells sharing area with it, ``fraction`` weights
each cell by the covered fraction of its area (exactextract).
"""

from __future__ import annotations

import math

import numpy as np
import pyarrow as pa

from .. import _native
from ..session import default_parallelism
from . import vector
from .constants import LayerType

_PARTIAL_SCHEMA = ("zone long, band int, {instant}weight double, cells long, sum double, mean double, "
                   "m2 double, min double, max double{hist}")

_RULES = ("centre", "all_touched", "fraction")

# Up to this many zones (and no partition count asked for), zonal_statistics combines the partials on the
# driver instead of shuffling them: a zone has a few partials (one per tile it reaches and band).
DRIVER_COMBINE_ZONES = 100_000


def _schema(spacetime: bool, histogram: bool) -> str:
    return _PARTIAL_SCHEMA.format(instant="instant long, " if spacetime else "",
                                  hist=", hist_values array<double>, hist_weights array<double>" if histogram else "")


def _rule_of_options(options) -> str:
    """The cell rule of GeoPySpark's ``RasterizerOptions`` (None = its default: centres)."""
    from .data_model import RasterizerOptions

    if options is None:
        return "centre"
    if not isinstance(options, RasterizerOptions):
        raise TypeError(f"options must be a RasterizerOptions, got {type(options).__name__}")
    if options.sampleType not in ("PixelIsPoint", "PixelIsArea"):
        raise ValueError(f"RasterizerOptions.sampleType must be 'PixelIsPoint' or 'PixelIsArea', got {options.sampleType!r}")
    if options.sampleType == "PixelIsPoint":
        return "centre"
    return "all_touched" if options.includePartial else "contained"


def combine_partials(table: pa.Table, keys) -> pa.Table:
    """Partials (possibly several per key) → one per key, exactly, by the engine's combine kernel."""
    if table.num_rows == 0:
        return table
    batch = table.sort_by([(k, "ascending") for k in keys]).combine_chunks().to_batches()[0]
    out, _ = _native.combine_zonal_runs(batch, list(keys), True)
    return pa.Table.from_batches([out])


class Zonal:
    """The zonal methods of ``TiledRasterLayer``."""

    # -- partial statistics ---------------------------------------------------------------------------

    def _zone_partials(self, ids, wkbs, rule: str, histogram: bool = False):
        """A DataFrame of partial statistics, one pass over the layer."""
        layout = self.layer_metadata.layout_definition
        ids = [int(i) for i in ids]

        def run(batches):
            zones = _native.Zones(ids, wkbs, layout)
            for batch in batches:
                out = zones.partials(batch, rule, histogram)
                if out.num_rows:
                    yield out

        return self._map_batches(run, _schema(self.layer_type == LayerType.SPACETIME, histogram))

    def _summary(self, geometry, rule="centre", histogram=False, what="geometry") -> pa.Table:
        """Combined statistics of one zone, per band (and instant)."""
        geoms = vector.to_geometries(geometry, what)
        vector.check_polygons(geoms, what)
        import shapely

        zone = shapely.union_all(geoms) if len(geoms) > 1 else geoms[0]
        df = self._zone_partials([0], vector.wkb_list([zone]), rule, histogram)
        keys = ["zone", "band"] + (["instant"] if self.layer_type == LayerType.SPACETIME else [])
        return combine_partials(df.toArrow(), keys)

    # -- GeoPySpark's polygonal summaries -----------------------------------------------------------

    def _polygonal(self, geometry, data_type, column, empty_int, empty_float):
        """GeoPySpark's polygonal summaries: one value per band, or ``[empty]`` when the polygon covers no
        cell of the layer (GeoTrellis' starting value, as there; also for a band whose covered cells are
        all NoData). ``int`` truncates each cell first (``tile.get``): a float layer is read as int32."""
        if data_type not in (int, float):
            raise TypeError(f"data_type must be int or float, got {data_type!r}")
        if self.layer_type != LayerType.SPATIAL:
            raise ValueError("polygonal summaries need a SPATIAL layer; use the *_series methods on SPACETIME layers")
        layer = self.convert_data_type("int32") if data_type is int and self.is_floating_point_layer else self
        rows = sorted(layer._summary(vector.to_geometry(geometry, "geometry")).to_pylist(), key=lambda r: r["band"])
        empty = empty_int if data_type is int else empty_float
        if not rows:
            return [empty]
        if column == "mean":
            return [r["sum"] / r["cells"] if r["cells"] else math.nan for r in rows]
        return [data_type(r[column]) if r["cells"] else empty for r in rows]

    def polygonal_min(self, geometry, data_type):
        """Per band, the minimum of the cells whose centre lies in ``geometry`` (a shapely Polygon or
        MultiPolygon, or its WKB), as ``data_type`` (``int`` or ``float``). Without such cells: GeoTrellis'
        starting value (``Int.MaxValue`` / ``Double.MaxValue``)."""
        return self._polygonal(geometry, data_type, "min", 2**31 - 1, float(np.finfo(np.float64).max))

    def polygonal_max(self, geometry, data_type):
        """Per band, the maximum of the cells whose centre lies in ``geometry``, as ``data_type``; without
        such cells ``Int.MinValue`` / ``Double.MinValue``."""
        return self._polygonal(geometry, data_type, "max", -2**31, float(-np.finfo(np.float64).max))

    def polygonal_sum(self, geometry, data_type):
        """Per band, the sum of the cells whose centre lies in ``geometry``, as ``data_type`` (0 when none)."""
        return self._polygonal(geometry, data_type, "sum", 0, 0.0)

    def polygonal_mean(self, geometry):
        """Per band, the mean of the cells whose centre lies in ``geometry`` (NaN when none), as floats."""
        return self._polygonal(geometry, float, "mean", math.nan, math.nan)


    def get_cell_value_counts(self, area_of_interest=None, target_band=0):
        """``{value: count}`` of the data cells of ``target_band`` (values truncated to int), over the cells
        whose centre lies in ``area_of_interest`` (a shapely geometry or an ``Extent``) or over the whole
        layer."""
        from shapely.geometry import box
        from shapely.geometry.base import BaseGeometry

        from .data_model import Extent

        if area_of_interest is None:
            area_of_interest = box(*self.layer_metadata.layout_definition.extent)
        elif isinstance(area_of_interest, Extent):
            area_of_interest = box(*area_of_interest)
        elif not isinstance(area_of_interest, BaseGeometry):
            raise ValueError(f"area_of_interest must be a shapely geometry or an Extent, got {type(area_of_interest).__name__}")
        if not isinstance(target_band, int) or target_band < 0:
            raise ValueError(f"target_band must be a band index, got {target_band!r}")
        table = self._summary(area_of_interest, histogram=True, what="area_of_interest")
        table = table.filter(pa.compute.equal(table.column("band"), target_band))
        if table.num_rows == 0:
            return {}
        values = np.asarray(table.column("hist_values").combine_chunks().flatten(), np.float64)
        weights = np.asarray(table.column("hist_weights").combine_chunks().flatten(), np.float64)
        ints, inverse = np.unique(np.trunc(values).astype(np.int64), return_inverse=True)
        counts = np.bincount(inverse, weights=weights)
        return {int(v): int(round(c)) for v, c in zip(ints, counts)}

    # -- time series --------------------------------------------------------------------------------

    def _series(self, geometries, reduce):
        if self.layer_type != LayerType.SPACETIME:
            raise ValueError("time series need a SPACETIME layer")
        table = self._summary(geometries, histogram=reduce == "histogram")
        table = table.filter(pa.compute.equal(table.column("band"), 0))
        from .tile_contract import instant_datetime

        out = []
        for row in table.sort_by("instant").to_pylist():
            when = instant_datetime(row["instant"])
            if reduce == "histogram":
                value = _histogram_of(row["hist_values"], row["hist_weights"], self.is_floating_point_layer)
            elif reduce == "sum":
                value = row["sum"]
            else:  # mean, min, max of an instant whose covered cells are all NoData: NaN, as GeoPySpark
                value = (row["sum"] / row["cells"] if reduce == "mean" else row[reduce]) if row["cells"] else math.nan
            out.append((when, value))
        return out

    def histogram_series(self, geometries):
        """``[(datetime, Histogram)]``: for each instant, the histogram of band 0's cells whose centre lies in
        ``geometries``, ascending in time."""
        return self._series(geometries, "histogram")

    def mean_series(self, geometries):
        """``[(datetime, mean)]`` of band 0 over ``geometries`` per instant."""
        return self._series(geometries, "mean")

    def max_series(self, geometries):
        """``[(datetime, max)]`` of band 0 over ``geometries`` per instant."""
        return self._series(geometries, "max")

    def min_series(self, geometries):
        """``[(datetime, min)]`` of band 0 over ``geometries`` per instant."""
        return self._series(geometries, "min")

    def sum_series(self, geometries):
        """``[(datetime, sum)]`` of band 0 over ``geometries`` per instant."""
        return self._series(geometries, "sum")

    def star_series(self, geometries, fn):
        """GeoPySpark's shared helper: ``fn`` names the series (``"mean"``, ``"max"``, ``"min"``, ``"sum"``,
        ``"histogram"``)."""
        name = str(fn).lower().replace("series", "").strip("_")
        if name not in ("mean", "max", "min", "sum", "histogram"):
            raise ValueError(f"unknown series {fn!r}; expected mean, max, min, sum or histogram")
        return self._series(geometries, name)

    # -- masking ------------------------------------------------------------------------------------

    def mask(self, geometries, partition_strategy=None, options=None):
        """Keep only the cells the geometries cover (every band; others become NoData) and the tiles they
        reach. ``geometries``: a shapely geometry, WKB, a list of them, or a PySpark RDD / DataFrame of
        them; ``options``: ``RasterizerOptions`` (default: cell centres)."""
        from .data_model import RasterizerOptions
        from .partition import check_partition_strategy

        check_partition_strategy(partition_strategy, self.layer_type)
        rule = _rule_of_options(options if options is not None else RasterizerOptions())
        geoms = _collect_geometries(geometries, "geometries")
        vector.check_valid(geoms, "geometries")
        mask = _MaskTiles(self.layer_metadata.layout_definition, vector.wkb_list(geoms), rule)
        # Masking drops tiles, which steps never do: it ends the pass's head rather than being a step.
        from .plan import Head, pass_function

        before = pass_function(self._head, self._steps)
        head = Head(lambda batches: (mask(batch) for batch in before(batches)))
        masked = self._derive(df=self._df, steps=(), head=head, partitions=self._partitions)
        masked._partition_strategy = self._partition_strategy
        return masked

    # -- many zones ---------------------------------------------------------------------------------

    def zonal_statistics(self, zones, id_column="id", geometry_column="geometry", rule="centre",
                         histogram=False, zones_crs=None, partitions=None):
        """Statistics of many zones in one pass: a Spark DataFrame with one row per zone and band (and
        instant on SPACETIME layers): ``zone``, ``band``, [``instant``], ``count`` (Σ weight), ``cells``,
        ``sum``, ``mean``, ``min``, ``max``, ``stddev`` (population, weighted), and with ``histogram`` the
        columns ``hist_values``/``hist_weights`` (the weight of each distinct value).

        ``zones``: a list of ``(id, geometry)`` pairs, a dict ``{id: geometry}``, a Spark or pandas
        DataFrame with ``id_column`` (or a ``properties`` map holding it, as ``gps.shapefile.get_dataframe``
        gives) and ``geometry_column`` (shapely geometries or WKB), or a path to a vector file (GeoParquet,
        GeoJSON, Shapefile, … through pyogrio). ``rule``: ``"centre"`` (GeoPySpark),
        ``"all_touched"`` or ``"fraction"`` (exact coverage fractions, exactextract). ``zones_crs``: the
        zones' CRS when it is not the layer's (a file's own CRS is used when it has one). Zones that miss
        the layer have no row."""
        if rule not in _RULES:
            raise ValueError(f"unknown rule {rule!r}; expected one of {', '.join(_RULES)}")
        ids, geoms, file_crs = _zone_table(zones, id_column, geometry_column)
        vector.check_polygons(geoms, "zones")
        source_crs = zones_crs if zones_crs is not None else file_crs
        if source_crs is not None:
            geoms = vector.reproject(geoms, source_crs, self.layer_metadata.crs)
        spacetime = self.layer_type == LayerType.SPACETIME
        keys = ["zone", "band"] + (["instant"] if spacetime else [])
        partials = self._zone_partials(ids, vector.wkb_list(geoms), rule, histogram)
        if len(ids) <= DRIVER_COMBINE_ZONES and partitions is None:
            # A few partials per zone: combined on the driver, which saves a shuffle stage (the statistics
            # are computed now; the DataFrame holds the results).
            combined = partials.sparkSession.createDataFrame(combine_partials(partials.toArrow(), keys))
        else:
            from .exchange import shuffle_by_key, stream_runs

            # Partials are small: the layer's partition count (Spark's default of 200 would cost a Python
            # worker round each for a few rows).
            n = partitions or self._partitions or default_parallelism(partials.sparkSession)
            df, _, _ = shuffle_by_key(partials, keys, self.layer_type, None, n)
            combined = df.mapInArrow(
                stream_runs(lambda batch, complete: _native.combine_zonal_runs(batch, keys, complete)),
                _schema(spacetime, histogram))
        from pyspark.sql import functions as F

        some = F.col("cells") > 0  # a zone whose covered cells are all NoData: count 0, no mean, min, max
        stats = [F.col("weight").alias("count"), "cells", "sum",
                 F.when(some, F.col("sum") / F.col("weight")).alias("mean"),
                 F.when(some, F.col("min")).alias("min"), F.when(some, F.col("max")).alias("max"),
                 F.when(some, F.sqrt(F.col("m2") / F.col("weight"))).alias("stddev")]
        if histogram:
            stats += ["hist_values", "hist_weights"]
        return combined.select(*keys, *stats)


class _MaskTiles:
    """The mask step: a picklable batch → batch function calling the engine."""

    def __init__(self, layout, wkbs, rule):
        self.layout, self.wkbs, self.rule = tuple(layout), wkbs, rule

    def __call__(self, batch):
        return _native.mask_tiles(batch, self.layout, self.wkbs, self.rule)


def _histogram_of(values, weights, floating):
    from .histogram import Histogram

    counts = np.rint(np.asarray(weights, np.float64)).astype(np.int64)  # centre-rule weights are 1
    return Histogram._from_values(np.repeat(np.asarray(values, np.float64), counts), not floating)


def _collect_geometries(geometries, what):
    """Shapely geometries from one geometry, WKB, a list, or a PySpark RDD/DataFrame of geometries."""
    from pyspark import RDD

    if isinstance(geometries, RDD):
        geometries = geometries.collect()
    elif hasattr(geometries, "select") and hasattr(geometries, "schema"):  # a Spark DataFrame (classic or Connect)
        geometries = [r[0] for r in geometries.select(geometries.columns[0]).collect()]
    return vector.to_geometries(geometries, what)


def _zone_table(zones, id_column, geometry_column):
    """``(ids, shapely geometries, CRS of a file or None)`` from any of the accepted zone inputs."""
    import os

    crs = None
    if isinstance(zones, (str, os.PathLike)):
        import pyogrio
        import shapely

        meta, _, wkb, fields = pyogrio.raw.read(os.fspath(zones))
        names = list(meta["fields"])
        ids = fields[names.index(id_column)] if id_column in names else np.arange(len(wkb))
        return [int(i) for i in ids], list(shapely.from_wkb(wkb)), meta.get("crs")
    if isinstance(zones, dict):
        pairs = list(zones.items())
    elif hasattr(zones, "select") and hasattr(zones, "schema"):  # a Spark DataFrame
        from pyspark.sql import functions as F

        # shapefile.get_dataframe's rows keep their attributes in a `properties` map
        ids = F.col(id_column) if id_column in zones.columns else F.col("properties")[id_column]
        pairs = [(r[0], r[1]) for r in zones.select(ids, geometry_column).collect()]
    elif hasattr(zones, "iloc"):  # pandas / geopandas
        pairs = list(zip(zones[id_column], zones[geometry_column]))
    elif isinstance(zones, (list, tuple)):
        pairs = list(zones)
    else:
        raise TypeError(f"zones must be (id, geometry) pairs, a dict, a DataFrame or a vector file path, "
                        f"got {type(zones).__name__}")
    try:
        ids = [int(i) for i, _ in pairs]
    except (TypeError, ValueError):
        raise TypeError("zone ids must be integers") from None
    geoms = [vector.to_geometry(g, "zone geometry") for _, g in pairs]
    return ids, geoms, crs
