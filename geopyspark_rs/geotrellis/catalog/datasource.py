"""``spark.read.format("geotrellis")``: a Spark Python data source giving the tile DataFrame of a stored
GeoTrellis layer (Avro or COG). The driver reads the layer's attributes and picks the files; each
partition decodes its files.

    spark.read.format("geotrellis").option("layer", "landsat").option("zoom", 0).load("/data/catalog")

Options: ``layer`` (required), ``zoom`` (default 0), ``numPartitions``, and object-store settings as
object_store keys (``aws_access_key_id``, ``aws_endpoint``, ...). ``gps.query`` hands over its own plan."""

from __future__ import annotations

import json

from pyspark.sql.datasource import DataSource, DataSourceReader, InputPartition

from .. import tile_contract as tc
from ..constants import LayerType
from ..python_worker import freeze_worker_heap

PLAN_OPTION = "geopyspark_rs.catalogPlan"
_STORE_PREFIXES = ("aws_", "google_", "azure_", "client_")


class _Files(InputPartition):
    def __init__(self, paths: list):
        self.paths = paths


def _store_options(options: dict) -> dict:
    return {k: v for k, v in options.items() if k.startswith(_STORE_PREFIXES)}


class GeoTrellisDataSource(DataSource):
    @classmethod
    def name(cls):
        return "geotrellis"

    def _options(self) -> dict:
        return {k.lower(): v for k, v in self.options.items()}

    def _layer(self):
        """The stored layer the options name, read once (schema() and reader() both need it)."""
        if getattr(self, "_stored", None) is None:
            self._stored = self._open_layer()
        return self._stored

    def _open_layer(self):
        from .attributes import AttributeStore
        from .layers import StoredLayer

        o = self._options()
        if "path" not in o:
            raise ValueError("format('geotrellis') needs the catalog URI: load(uri)")
        if "layer" not in o:
            raise ValueError("format('geotrellis') needs the layer name: option('layer', name)")
        store = AttributeStore(o["path"])
        store._options = _store_options(o) or None
        return StoredLayer.open(store, o["layer"], int(o.get("zoom", 0)))

    def schema(self):
        o = self._options()
        layer_type = LayerType(o["layertype"]) if "layertype" in o else self._layer().layer_type
        return tc.schema(True, layer_type)

    def reader(self, schema):
        o = self._options()
        if PLAN_OPTION.lower() in o:
            plan = json.loads(o[PLAN_OPTION.lower()])
        else:
            from .read import make_plan, _key_box

            layer = self._layer()
            n = o.get("numpartitions")
            if layer.layer_format == "COGLayerType":
                from .cog import cog_plan

                plan = cog_plan(layer, _key_box(layer, None, False, None), None, False, int(n) if n else None)
            else:
                plan = make_plan(layer, _key_box(layer, None, False, None), None, False, None,
                                 int(n) if n else None)
        return _GeoTrellisReader(plan, _store_options(o))


class _GeoTrellisReader(DataSourceReader):
    def __init__(self, plan: dict, store_options: dict):
        self.plan = plan
        self.store_options = store_options

    def partitions(self):
        return [_Files(p) for p in self.plan["parts"]]

    def read(self, partition):
        freeze_worker_heap()
        if self.plan.get("cog"):
            from .cog import read_cog_part

            return read_cog_part(partition.paths, self.plan, self.store_options)
        from .read import read_part

        return read_part(partition.paths, self.plan, self.store_options)
