"""The distributable wheel, installed into a fresh venv (not the development one): a smoke job there on
local Spark, then the same job with spark-submit on a standalone cluster of two workers on loopback, its
environment shipped with --archives; both give the same tiles. On the same cluster, the executor-fault tests
(tests/cluster/test_faults.py) run with the venv's own pytest.

Runs when GPS_TEST_SUITE=dist (dev/test runs dev/wheel first). The wheel comes from $WHEEL_DIR or dist/.
"""

import glob
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.dist

ROOT = Path(__file__).resolve().parents[2]
JOB = ROOT / "examples" / "cluster_job.py"


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def wheel():
    found = sorted(glob.glob(str(Path(os.environ.get("WHEEL_DIR", ROOT / "dist")) / "geopyspark_rs-*.whl")))
    if not found:
        pytest.fail("no wheel: run dev/wheel first (dev/test does)")
    return found[-1]


@pytest.fixture(scope="module")
def env(wheel, tmp_path_factory):
    """A fresh venv with the wheel, its dependencies and its test extra (pytest) from the package index (or
    pip's cache)."""
    path = tmp_path_factory.mktemp("fresh") / "env"
    subprocess.run([sys.executable, "-m", "venv", str(path)], check=True)
    py = path / "bin" / "python"
    subprocess.run([str(py), "-m", "pip", "install", "-q", f"{wheel}[connect,test]"], check=True)
    return path


def _job(python, out, extra_env=None, argv=None):
    env = dict(os.environ, PYSPARK_PYTHON=str(python), PYSPARK_DRIVER_PYTHON=str(python), **(extra_env or {}))
    env.pop("PYTHONPATH", None)
    cmd = argv or [str(python), str(JOB), str(out)]
    done = subprocess.run(cmd, cwd=out.parent, env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-4000:]
    report = json.loads([line for line in done.stdout.splitlines() if line.startswith("{")][-1])
    return report, dict(np.load(out / "result.npz"))


def test_wheel_imports_from_the_fresh_venv(env, tmp_path):
    py = env / "bin" / "python"
    code = "import geopyspark_rs as gps, geopyspark_rs._native as n; print(gps.__file__); print(n.__file__)"
    out = subprocess.run([str(py), "-c", code], cwd=tmp_path, capture_output=True, text=True, check=True).stdout
    assert all(str(env) in line for line in out.split()), out


@pytest.fixture(scope="module")
def local_result(env, tmp_path_factory):
    return _job(env / "bin" / "python", tmp_path_factory.mktemp("local") / "out")


def test_smoke_job_on_local_spark(local_result):
    report, tiles = local_result
    assert report["master"].startswith("local") and report["tiles"] == len(tiles) > 0
    assert report["levels"][0] == 0 and report["levels"][-1] == report["zoom"]


@pytest.fixture(scope="module")
def standalone(env, tmp_path_factory):
    """A standalone master with two Workers of one core each on loopback, started from the wheel's PySpark;
    yields (master URL, SPARK_HOME) and is torn down whatever happens."""
    py = env / "bin" / "python"
    spark_home = subprocess.run([str(py), "-c", "import pyspark, os; print(os.path.dirname(pyspark.__file__))"],
                                capture_output=True, text=True, check=True).stdout.strip()
    spark_class = os.path.join(spark_home, "bin", "spark-class")
    port, ui = _free_port(), _free_port()
    master_url = f"spark://127.0.0.1:{port}"
    base = tmp_path_factory.mktemp("standalone")
    logs = base / "logs"
    logs.mkdir()
    base_env = dict(os.environ, SPARK_HOME=spark_home, SPARK_LOCAL_IP="127.0.0.1")
    procs = []
    try:
        procs.append(subprocess.Popen(
            [spark_class, "org.apache.spark.deploy.master.Master", "--host", "127.0.0.1", "--port", str(port),
             "--webui-port", str(ui)], env=base_env, stdout=open(logs / "master.log", "w"), stderr=subprocess.STDOUT))
        for i in range(2):
            work = base / f"worker{i}"
            work.mkdir()
            procs.append(subprocess.Popen(
                [spark_class, "org.apache.spark.deploy.worker.Worker", "--host", "127.0.0.1", "--cores", "1",
                 "--memory", "1g", "--work-dir", str(work), "--webui-port", str(_free_port()), master_url],
                env=base_env, stdout=open(logs / f"worker{i}.log", "w"), stderr=subprocess.STDOUT))
        deadline = time.time() + 90
        while time.time() < deadline:
            registered = (logs / "master.log").read_text().count("Registering worker")
            if registered >= 2:
                break
            time.sleep(0.5)
        else:
            pytest.fail("the workers did not register:\n" + (logs / "master.log").read_text()[-3000:])
        yield master_url, spark_home
    finally:
        for p in procs:
            p.kill()
        for p in procs:
            p.wait(30)


def test_standalone_cluster_matches_local(env, standalone, local_result, tmp_path):
    """spark-submit to the standalone cluster, the venv packed with venv-pack and shipped with --archives."""
    venv_pack = shutil.which("venv-pack") or str(Path(sys.executable).with_name("venv-pack"))
    if not Path(venv_pack).exists():
        pytest.fail("venv-pack is not installed (dev/setup installs it)")
    archive = tmp_path / "env.tar.gz"
    subprocess.run([venv_pack, "-p", str(env), "-o", str(archive), "-q"], check=True)
    py = env / "bin" / "python"
    master_url, spark_home = standalone
    out = tmp_path / "out"
    submit = [os.path.join(spark_home, "bin", "spark-submit"), "--master", master_url,
              "--archives", f"{archive}#environment",
              "--conf", "spark.pyspark.python=./environment/bin/python",
              "--conf", f"spark.pyspark.driver.python={py}",
              "--conf", "spark.executor.memory=900m", "--conf", "spark.sql.shuffle.partitions=4",
              str(JOB), str(out)]
    report, tiles = _job(py, out, {"SPARK_HOME": spark_home}, submit)
    assert report["master"] == master_url
    workers = {d.split("/worker")[1].split("/")[0] for d in report["executor_dirs"] if "/worker" in d}
    assert workers == {"0", "1"}, report["executor_dirs"]  # tasks ran on both workers
    local_report, local_tiles = local_result
    assert report["min_max"] == local_report["min_max"] and report["levels"] == local_report["levels"]
    assert tiles.keys() == local_tiles.keys()
    for k in tiles:
        np.testing.assert_array_equal(tiles[k], local_tiles[k], err_msg=k)


def test_executor_faults_on_the_standalone_cluster(env, standalone, tmp_path):
    """tests/cluster/test_faults.py (Python workers and an executor JVM SIGKILLed mid-write, mid-update,
    mid-GeoTIFF and mid-shuffle) with the wheel's venv as driver and executors on the standalone cluster."""
    master_url, spark_home = standalone
    env_vars = dict(os.environ, GPS_TEST_SUITE="cluster", GPS_TEST_MASTER=master_url, SPARK_HOME=spark_home)
    env_vars.pop("PYTHONPATH", None)
    env_vars.pop("PYSPARK_PYTHON", None)
    # The venv's pytest script, run outside the source tree: the package comes from the wheel.
    done = subprocess.run([str(env / "bin" / "pytest"), "-q", "-p", "no:cacheprovider", "--basetemp",
                           str(tmp_path / "t"), str(ROOT / "tests" / "cluster" / "test_faults.py")],
                          cwd=tmp_path, env=env_vars, capture_output=True, text=True, timeout=1500)
    summary = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""
    assert done.returncode == 0 and " passed" in summary and "skipped" not in summary, done.stdout[-6000:]


def test_spark_connect_job_matches_local(env, local_result, tmp_path):
    """The same job through Spark Connect (a local Connect server started by the wheel's PySpark)."""
    report, tiles = _job(env / "bin" / "python", tmp_path / "out", {"SPARK_REMOTE": "local[2]"})
    local_report, local_tiles = local_result
    assert report["min_max"] == local_report["min_max"] and tiles.keys() == local_tiles.keys()
    for k in tiles:
        np.testing.assert_array_equal(tiles[k], local_tiles[k], err_msg=k)


def test_sdist_without_rust_says_so(env):
    sdists = sorted(glob.glob(str(Path(os.environ.get("WHEEL_DIR", ROOT / "dist")) / "geopyspark_rs-*.tar.gz")))
    if not sdists:
        pytest.fail("no sdist: run dev/wheel first (dev/test does)")
    path = ":".join(p for p in os.environ["PATH"].split(":") if ".cargo" not in p and "rustup" not in p)
    done = subprocess.run([str(env / "bin" / "pip"), "install", "--no-deps", "--no-cache-dir", sdists[-1]],
                          env=dict(os.environ, PATH=path, MATURIN_NO_INSTALL_RUST="1"), capture_output=True,
                          text=True, timeout=600)
    assert done.returncode != 0
    assert "Cargo, the Rust package manager, is not installed" in done.stdout + done.stderr
