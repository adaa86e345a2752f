"""``spark.read.format("geotiff")``: a Spark Python data source giving the tile DataFrame of a
RasterLayer. Planning (listing, headers, windows) runs on the driver; each partition reads its units.

Options (all optional but the path): ``layerType`` (``spatial``/``spacetime``), ``crs``, ``maxTileSize``
(``none`` for whole files), ``numPartitions``, ``partitionBytes``, ``timeTag``, ``timeFormat``,
``delimiter``, and object-store settings as object_store keys (``aws_access_key_id``, ``aws_endpoint``,
...). Several paths: ``load([p1, p2])`` or a JSON list in the ``paths`` option."""

from __future__ import annotations

import json
import os

from pyspark.sql.datasource import DataSource, DataSourceReader, InputPartition

from .. import tile_contract as tc
from ..constants import (DEFAULT_GEOTIFF_TIME_FORMAT, DEFAULT_GEOTIFF_TIME_TAG, DEFAULT_MAX_TILE_SIZE,
                         DEFAULT_PARTITION_BYTES, LayerType)
from ..python_worker import freeze_worker_heap
from .plan import ReadUnit, partition_count, plan_read, split_partitions
from .read import read_units

# The option geotiff.get uses to hand over a plan it already made (so headers are read once).
PLAN_OPTION = "geopyspark_rs.plan"
_STORE_PREFIXES = ("aws_", "google_", "azure_", "client_")


class _Units(InputPartition):
    def __init__(self, units: list[dict]):
        self.units = units


class GeoTiffDataSource(DataSource):
    @classmethod
    def name(cls):
        return "geotiff"

    def _layer_type(self) -> LayerType:
        return LayerType(self.options.get("layerType", "spatial").lower())

    def schema(self):
        return tc.schema(False, self._layer_type())

    def reader(self, schema):
        return _GeoTiffReader(dict(self.options), self._layer_type())


def store_options_from(options: dict) -> dict:
    return {k.lower(): v for k, v in options.items() if k.lower().startswith(_STORE_PREFIXES)}


def _paths(options: dict):
    if "paths" in options:
        return json.loads(options["paths"])
    if "path" in options:
        return options["path"]
    raise ValueError("format('geotiff') needs a path: load(path) or the 'paths' option")


class _GeoTiffReader(DataSourceReader):
    def __init__(self, options: dict, layer_type: LayerType):
        self.options = {k.lower(): v for k, v in options.items()}
        self.layer_type = layer_type

    def partitions(self):
        o = self.options
        if PLAN_OPTION.lower() in o:
            plan = json.loads(o[PLAN_OPTION.lower()])
            return [_Units(p) for p in plan] or [_Units([])]
        store = store_options_from(o)
        max_tile = o.get("maxtilesize", str(DEFAULT_MAX_TILE_SIZE))
        units = plan_read(
            _paths(o), self.layer_type, crs=o.get("crs"),
            max_tile_size=None if max_tile.lower() == "none" else int(max_tile),
            time_tag=o.get("timetag", DEFAULT_GEOTIFF_TIME_TAG),
            time_format=o.get("timeformat", DEFAULT_GEOTIFF_TIME_FORMAT),
            delimiter=o.get("delimiter"), store_options=lambda uri: store,
        )
        n = partition_count(units, o.get("numpartitions"), int(o.get("partitionbytes", DEFAULT_PARTITION_BYTES)),
                            os.cpu_count() or 1)
        return [_Units([u.to_dict() for u in part]) for part in split_partitions(units, n)] or [_Units([])]

    def read(self, partition):
        freeze_worker_heap()
        store = store_options_from(self.options)
        units = [ReadUnit.from_dict(u) for u in partition.units]
        return read_units(units, self.layer_type, lambda uri: store)
