"""Spark sessions: the configuration GeoPySpark users build, and the session layers run on.

Layers use the active SparkSession (classic or Spark Connect). When there is none, an embedded
``local[*]`` session starts on first use, configured by :func:`geopyspark_conf`.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import threading
import warnings

from pyspark import SparkConf, SparkContext
from pyspark.sql import SparkSession

__all__ = ["geopyspark_conf", "get_spark_context"]

#: Rows per Arrow batch: 64 tiles of 256×256 float32 are 16 MB, where Arrow batches are fastest (DESIGN §4).
ARROW_RECORDS_PER_BATCH = 64
#: Rows per batch of Spark's in-memory cache: its default (10 000 rows) builds one buffer per column of a
#: batch, which for tiles means gigabytes in one array, more than a 2 GiB heap holds.
CACHE_ROWS_PER_BATCH = 256
#: The SQL settings sized for tiles, unless the user chose their own.
_TILE_SIZED = {
    "spark.sql.execution.arrow.maxRecordsPerBatch": ("10000", str(ARROW_RECORDS_PER_BATCH)),
    "spark.sql.inMemoryColumnarStorage.batchSize": ("10000", str(CACHE_ROWS_PER_BATCH)),
}

_lock = threading.Lock()


def _settings() -> dict[str, str]:
    return {
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.sql.execution.arrow.pyspark.enabled": "true",
        **{key: ours for key, (_, ours) in _TILE_SIZED.items()},
        # Workers must import the same environment as the driver (geopyspark_rs and its extension).
        "spark.pyspark.python": sys.executable,
        "spark.pyspark.driver.python": sys.executable,
        "spark.executorEnv.PYSPARK_PYTHON": sys.executable,
        # Executors talk to their Python workers over a Unix socket instead of loopback TCP, where about a
        # third of small tasks stalled ~40 ms (delayed ACKs) at the end of their stream.
        **({"spark.python.unix.domain.socket.enabled": "true"} if hasattr(socket, "AF_UNIX") else {}),
    }


def geopyspark_conf(master=None, appName=None, additional_jar_dirs=[]):  # noqa: B006 (GeoPySpark's signature)
    """A ``SparkConf`` with the settings geopyspark_rs layers run best with.

    Args:
        master: the Spark master URL, e.g. ``"local[*]"``; unset leaves Spark's default.
        appName: the application name (required, as in GeoPySpark).
        additional_jar_dirs: accepted for compatibility; geopyspark_rs needs no jars.

    Raises:
        ValueError: if ``appName`` is missing.
    """
    if not appName:
        raise ValueError("An appName must be provided")
    conf = SparkConf()
    if master:
        conf.setMaster(master)
    conf.setAppName(appName)
    for key, value in _settings().items():
        conf.set(key, value)
    return conf


def get_spark_context():
    """The active ``SparkContext``.

    Raises:
        RuntimeError: if no SparkContext has been started.
    """
    sc = SparkContext._active_spark_context
    if sc is None:
        raise RuntimeError("SparkContext must be initialized")
    return sc


def check_java() -> None:
    """Raise a clear error when no Java 17+ is available to start an embedded Spark."""
    java = os.path.join(os.environ["JAVA_HOME"], "bin", "java") if os.environ.get("JAVA_HOME") else shutil.which("java")
    if not java:
        raise RuntimeError(
            "geopyspark_rs needs Java 17 or newer to start an embedded Spark, and no `java` was found. "
            "Install a JDK (e.g. `apt install openjdk-17-jre-headless`) or set JAVA_HOME."
        )
    out = subprocess.run([java, "-version"], capture_output=True, text=True).stderr
    try:
        version = out.split('"')[1]
        major = int(version.split(".")[0] if not version.startswith("1.") else version.split(".")[1])
    except (IndexError, ValueError):
        return
    if major < 17:
        raise RuntimeError(f"geopyspark_rs needs Java 17 or newer for Spark 4; found Java {version} at {java}.")


def existing_session():
    """This thread's active SparkSession, else the process's default one (a thread other than the one that
    built the session has no active session, but runtime conf set on the default one must still apply);
    None when there is none. Never starts one."""
    session = SparkSession.getActiveSession()
    if session is None:
        session = getattr(SparkSession, "_instantiatedSession", None)
        sc = getattr(session, "_sc", None)
        if session is not None and (sc is None or sc._jsc is None):  # stopped
            session = None
    return session


def active_session() -> SparkSession:
    """The active SparkSession, or an embedded ``local[*]`` one started now."""
    session = existing_session()
    if session is not None:
        tune_for_tiles(session)
        return session
    with _lock:
        session = existing_session()
        if session is None:
            sc = SparkContext._active_spark_context
            if sc is not None:
                session = SparkSession(sc)
            else:
                check_java()
                os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
                builder = SparkSession.builder.master("local[*]").appName("geopyspark_rs")
                for key, value in _settings().items():
                    builder = builder.config(key, value)
                session = builder.getOrCreate()
                session.sparkContext.setLogLevel("ERROR")
    tune_for_tiles(session)
    return session


_tuned: set[int] = set()


def tune_for_tiles(session) -> None:
    """Size Arrow and cache batches for tiles unless the user chose a size (once per session; every layer
    calls it, whatever session built its DataFrame: Spark's 10 000-row batches would put a whole partition
    of tiles in one batch)."""
    if id(session) in _tuned:
        return
    _tuned.add(id(session))
    for key, (default, ours) in _TILE_SIZED.items():
        try:
            if session.conf.get(key, default) == default:
                session.conf.set(key, ours)
        except Exception as e:  # a read-only conf on some managed platforms: keep going with Spark's size
            warnings.warn(f"could not set {key}: {e}")


def is_connect(obj) -> bool:
    """Whether a DataFrame or SparkSession belongs to Spark Connect."""
    return type(obj).__module__.startswith("pyspark.sql.connect")


def default_parallelism(spark) -> int:
    """The tasks Spark runs at once (``defaultParallelism``; under Spark Connect, which has no
    SparkContext, ``spark.default.parallelism`` or 2)."""
    if is_connect(spark):
        return int(spark.conf.get("spark.default.parallelism", None) or 2)
    return spark.sparkContext.defaultParallelism
