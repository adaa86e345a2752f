"""geopyspark_conf and get_spark_context."""

import sys

import pytest

import geopyspark_rs as gps


def test_geopyspark_conf():
    conf = gps.geopyspark_conf(master="local[3]", appName="x", additional_jar_dirs=["/nowhere"])
    assert conf.get("spark.master") == "local[3]"
    assert conf.get("spark.app.name") == "x"
    assert conf.get("spark.pyspark.python") == sys.executable
    assert conf.get("spark.sql.execution.arrow.maxRecordsPerBatch") == "64"
    # Spark's cache batches of 10 000 rows would be gigabytes of tiles in one buffer.
    assert conf.get("spark.sql.inMemoryColumnarStorage.batchSize") == "256"
    assert conf.get("spark.jars") is None
    assert conf.get("spark.python.unix.domain.socket.enabled") == "true"
    with pytest.raises(ValueError, match="appName"):
        gps.geopyspark_conf()


def test_a_layer_sizes_its_sessions_batches_for_tiles(spark, monkeypatch):
    """A session the user built (not from geopyspark_conf) has Spark's 10 000-row batches; the first layer made
    over it, from any DataFrame, sizes them for tiles, and leaves a size the user chose alone."""
    from geopyspark_rs import session
    from layers import metadata, ramp

    arrow, cache = "spark.sql.execution.arrow.maxRecordsPerBatch", "spark.sql.inMemoryColumnarStorage.batchSize"
    before = {key: spark.conf.get(key) for key in (arrow, cache)}
    try:
        for key in before:
            spark.conf.unset(key)
        spark.conf.set(cache, "32")  # the user's own choice
        monkeypatch.setattr(session, "_tuned", set())
        df = spark.createDataFrame(
            [(0, 0, "float64", 1, 4, 4, ramp((1, 4, 4)).astype("<f8").tobytes())],
            "col int, row int, cell_type string, bands int, rows int, cols int, cells binary")
        gps.TiledRasterLayer.from_dataframe(gps.LayerType.SPATIAL, df, metadata("float64"))
        assert (spark.conf.get(arrow), spark.conf.get(cache)) == ("64", "32")
    finally:
        for key, value in before.items():
            spark.conf.set(key, value)


def test_get_spark_context(spark):
    assert gps.get_spark_context() is spark.sparkContext


def test_namespace():
    import geopyspark_rs.geotrellis as gt
    from geopyspark_rs.geotrellis.constants import LayerType
    from geopyspark_rs.geotrellis.layer import TiledRasterLayer

    assert gt.LayerType is LayerType and gps.TiledRasterLayer is TiledRasterLayer
    for name in ["Tile", "Extent", "Metadata", "Histogram", "RasterLayer", "CellType", "NO_DATA_INT",
                 "geopyspark_conf", "union", "combine_bands", "Neighborhood"]:
        assert name in gps.__all__ and hasattr(gps, name), name


def test_get_spark_context_without_spark(spark, monkeypatch):
    from pyspark import SparkContext

    monkeypatch.setattr(SparkContext, "_active_spark_context", None)
    with pytest.raises(RuntimeError, match="SparkContext must be initialized"):
        gps.get_spark_context()


def test_other_threads_use_the_session_and_its_runtime_conf(spark):
    """A thread that did not build the session has no active one: ours falls back to the process's, so
    runtime conf (S3 keys set with spark.conf.set) applies there too, and no second session is made."""
    import threading

    from geopyspark_rs.geotrellis import s3
    from geopyspark_rs.session import active_session

    spark.conf.set("spark.hadoop.fs.s3a.access.key", "thread-key")
    spark.conf.set("spark.hadoop.fs.s3a.secret.key", "thread-secret")
    seen = {}

    def run():
        seen["session"] = active_session()
        seen["options"] = s3.store_options("s3://bucket/x")

    try:
        t = threading.Thread(target=run)
        t.start()
        t.join()
    finally:
        spark.conf.unset("spark.hadoop.fs.s3a.access.key")
        spark.conf.unset("spark.hadoop.fs.s3a.secret.key")
    assert seen["session"] is spark
    assert seen["options"]["aws_access_key_id"] == "thread-key"


def test_python_workers_talk_to_their_executor_over_a_unix_socket(spark):
    """geopyspark_conf's session: Spark starts its Python workers with Unix sockets, not loopback TCP."""
    import pyarrow as pa

    def probe(batches):
        import os

        for _ in batches:
            pass
        yield pa.RecordBatch.from_pydict({"uds": [os.environ.get("PYTHON_UNIX_DOMAIN_ENABLED", "unset")]})

    got = {r.uds for r in spark.range(0, 2, 1, 2).mapInArrow(probe, "uds string").collect()}
    assert {g.lower() for g in got} == {"true"}
