"""Source rows in planned partitions (``source.py``): Spark's own hash decides where a row lands."""

import pyarrow as pa
from pyspark.sql import functions as F

from geopyspark_rs.geotrellis.source import partition_values, source_frame, spark_hash_int


def test_hash_matches_spark(spark):
    values = list(range(-50, 50)) + [2**31 - 1, -(2**31), 123456789]
    df = spark.createDataFrame(pa.table({"v": pa.array(values, pa.int32())}))
    got = [r[0] for r in df.select(F.hash("v")).collect()]
    assert got == [spark_hash_int(v) for v in values]


def test_rows_land_in_their_planned_partition_in_order(spark):
    parts = [0, 0, 0, 1, 2, 2, 4, 4, 4, 4]  # partition 3 planned empty
    table = pa.table({"seq": pa.array(range(len(parts)), pa.int64())})
    df = source_frame(spark, table, parts, 5)
    assert df.rdd.getNumPartitions() == 5
    placed = df.withColumn("p", F.spark_partition_id()).collect()
    assert [(r.seq, r.p) for r in placed] == list(enumerate(parts))


def test_partition_values_cover_every_partition():
    for n in (1, 2, 7, 64, 1000):
        values = partition_values(n)
        assert [spark_hash_int(v) % n for v in values] == list(range(n))
