"""One local SparkSession per test session (starting Spark takes seconds).

Spark Connect (tests/connect) and local-cluster (tests/cluster) suites need their own Spark in their own
process: they run only when GPS_TEST_SUITE names them (see dev/test). GPS_TEST_MASTER replaces the cluster
suite's local-cluster with a running cluster's master (the dist suite runs tests/cluster/test_faults.py on its
standalone cluster so)."""

import os
import sys
from pathlib import Path

import pytest

SUITE = os.environ.get("GPS_TEST_SUITE", "local")
SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def pytest_ignore_collect(collection_path, config):
    parts = Path(collection_path).parts
    for suite in ("connect", "cluster", "dist"):
        if suite in parts and "tests" in parts and SUITE != suite:
            return True
    if SUITE != "local" and Path(collection_path).is_file() and not any(s in parts for s in ("connect", "cluster", "dist")):
        return True
    return None


@pytest.fixture(scope="session")
def spark():
    os.environ["PYSPARK_PYTHON"] = sys.executable
    from pyspark.sql import SparkSession

    import geopyspark_rs as gps

    if SUITE == "connect":
        session = SparkSession.builder.remote("local[2]").getOrCreate()
    else:
        cluster = os.environ.get("GPS_TEST_MASTER", "local-cluster[2,1,1024]")
        master = cluster if SUITE == "cluster" else "local[2]"
        conf = gps.geopyspark_conf(master=master, appName=f"geopyspark_rs-tests-{SUITE}")
        conf.set("spark.driver.memory", "2g").set("spark.sql.shuffle.partitions", "4")
        session = SparkSession.builder.config(conf=conf).getOrCreate()
    yield session
    session.stop()


@pytest.fixture(scope="session")
def shared_data():
    if not SHARED_DATA.is_dir():
        pytest.skip("../shared/data is not present")
    return SHARED_DATA


@pytest.fixture(scope="session")
def s3_server():
    """A loopback S3 server (moto) for the session: ``.endpoint``, ``.options(bucket)``, ``.create_bucket(name)``."""
    from s3server import S3Server  # tests/ is on sys.path (rootdir conftest, no package)

    with S3Server() as server:
        yield server


@pytest.fixture
def s3_conf(spark, s3_server):
    """Spark conf pointing s3a/s3 at the loopback server (as a user would configure Hadoop's S3A)."""
    keys = {
        "spark.hadoop.fs.s3a.endpoint": s3_server.endpoint,
        "spark.hadoop.fs.s3a.path.style.access": "true",
        "spark.hadoop.fs.s3a.access.key": s3_server.options()["aws_access_key_id"],
        "spark.hadoop.fs.s3a.secret.key": s3_server.options()["aws_secret_access_key"],
    }
    for k, v in keys.items():
        spark.conf.set(k, v)
    yield s3_server
    for k in keys:
        spark.conf.unset(k)


@pytest.fixture(params=["file", "s3"])
def catalog_at(request, tmp_path):
    """``(uri, options)`` of a fresh catalog on each backend: a local directory (options None), or a new
    bucket on the loopback S3 server with the object-store options that reach it."""
    if request.param == "file":
        return str(tmp_path), None
    import uuid

    server = request.getfixturevalue("s3_server")
    bucket = server.create_bucket("cat-" + uuid.uuid4().hex[:12])
    return f"s3://{bucket}/cat", server.options()
