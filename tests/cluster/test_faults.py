"""Executor faults on local-cluster[2,1,1024] and, from the dist suite, on a standalone cluster of two
Workers started from the wheel's PySpark (docs/reliability.md, "Executor faults").

A Python worker is SIGKILLed in the middle of a catalog write, an ``update_layer``, ``to_geotiff_rdd``,
``save_stitched`` and both sides of a shuffle (``tile_to_layout``), and an executor JVM in the middle of a
catalog write. Spark retries the lost tasks; every result is byte-identical to an undisturbed run (file trees
compared byte for byte: no temp file, no claim left). A fault on every attempt makes the call fail with
Spark's error and leaves no layer.

The faults come from the test alone, no hook in the library: a per-tile step (``map_cells``) that kills its
own worker process once (an exclusive-create marker file says it happened, so the retry succeeds), placed
before or after the shuffle of the pass it must interrupt. The write stage has no user step; there the step
of the map side *arms* its worker process: it wraps that process's ``_native.catalog_write_runs`` so that,
once the worker has written a run of tile files into the target directory, it leaves half a temp file beside
them (as a writer killed before its rename would) and kills itself. Python workers are reused, so the armed
process goes on to run write tasks.
"""

import os
import signal
import threading
import time
from pathlib import Path

import numpy as np
import pytest

import geopyspark_rs as gps

pytestmark = [pytest.mark.cluster, pytest.mark.filterwarnings("ignore:layer .* has no zoom_level")]

COLS, ROWS, TILE = 512, 256, 32  # 16 × 8 = 128 tiles of 32 × 32


# --- fault injection (functions built here are pickled by value to the executors) ---------------------

def _killer(marker, after=3, always=False):
    """A map_cells function that SIGKILLs its worker at its ``after``-th tile of a task, once (the first
    process to create ``marker``), or on every attempt with ``always``."""
    marker = str(marker)

    def step(cells, nd, seen=[0]):  # noqa: B006 - per task: the function is unpickled for each task
        seen[0] += 1
        if seen[0] == after:
            if always:
                os.kill(os.getpid(), signal.SIGKILL)
            try:
                fd = os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            except FileExistsError:
                return cells
            os.write(fd, f"{os.getpid()}\n".encode())
            os.close(fd)
            os.kill(os.getpid(), signal.SIGKILL)
        return cells

    return step


def _arm_writer(marker, directory, always=False):
    """A map_cells function (an identity) that arms its worker process: its next tile-file run written into
    ``directory`` leaves half a temp file there and kills the process, once (or every time with ``always``)."""
    marker, directory = str(marker), str(directory).rstrip("/")

    def step(cells, nd):
        from geopyspark_rs import _native

        real = getattr(_native.catalog_write_runs, "unarmed", _native.catalog_write_runs)

        def armed(batch, keys, target, *args):
            out = real(batch, keys, target, *args)
            if target.rstrip("/") == directory and out[0].column(0)[0].as_py() > 0:
                if not always:
                    try:
                        fd = os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
                    except FileExistsError:
                        return out
                    os.write(fd, f"{os.getpid()}\n".encode())
                    os.close(fd)
                with open(os.path.join(directory, f".{0:05d}.{os.getpid()}.0.tmp"), "wb") as f:
                    f.write(b"half of a tile file")  # as if killed between writing and renaming
                os.kill(os.getpid(), signal.SIGKILL)
            return out

        armed.unarmed = real
        _native.catalog_write_runs = armed
        return cells

    return step


def _tree(root: Path) -> dict:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(Path(root).rglob("*")) if p.is_file()}


def _tiles(layer) -> dict:
    return {(k.col, k.row): (t.cells.dtype.str, t.cells.shape, t.cells.tobytes()) for k, t in layer.to_numpy_tiles()}


def _raster(sc, seed=0):
    """A float32 RasterLayer of noise in four strips (four partitions)."""
    data = np.random.default_rng(seed).normal(0, 100, (1, ROWS, COLS)).astype(np.float32)
    w = COLS // 4
    recs = [(gps.ProjectedExtent(gps.Extent(i * w, 0, (i + 1) * w, ROWS), epsg=3857),
             gps.Tile(data[:, :, i * w:(i + 1) * w].copy(), "FLOAT", np.nan)) for i in range(4)]
    return gps.RasterLayer.from_numpy_rdd(gps.LayerType.SPATIAL, sc.parallelize(recs, 4))


@pytest.fixture(scope="module")
def cluster(spark):
    sc = spark.sparkContext
    assert sc.master.startswith(("local-cluster", "spark://")), "executors in their own JVMs"
    assert int(sc.getConf().get("spark.task.maxFailures", "4")) >= 2, "Spark must retry a failed task"
    return sc


@pytest.fixture(scope="module")
def tiled(cluster):
    layer = _raster(cluster).tile_to_layout(gps.LocalLayout(TILE)).cache()
    yield layer
    layer.unpersist()


@pytest.fixture(scope="module")
def reference(cluster, tiled, tmp_path_factory):
    """The undisturbed results: tiles, a written layer, an updated layer, GeoTIFFs, a stitched file."""
    root = tmp_path_factory.mktemp("reference")
    gps.write(str(root / "write"), "layer", tiled)
    gps.write(str(root / "update"), "layer", _raster(cluster, seed=1).tile_to_layout(gps.LocalLayout(TILE)))
    gps.update_layer(str(root / "update"), "layer", tiled)
    tiled.save_stitched(str(root / "stitched" / "all.tif"))
    return {
        "tiles": _tiles(tiled),
        "write": _tree(root / "write"),
        "update": _tree(root / "update"),
        "geotiffs": sorted(tiled.to_geotiff_rdd(compression=gps.Compression.DEFLATE_COMPRESSION).collect()),
        "stitched": _tree(root / "stitched"),
    }


def _killed(marker) -> int:
    """The pid that the fault killed (asserts that it happened, and that it was not this process)."""
    assert Path(marker).exists(), "the fault was never injected"
    pid = int(Path(marker).read_text())
    assert pid != os.getpid()
    return pid


# --- a killed Python worker ------------------------------------------------------------------------------

def test_shuffle_survives_a_worker_killed_on_its_map_side(cluster, reference, tmp_path):
    marker = tmp_path / "killed"
    layer = _raster(cluster).map_cells(_killer(marker, after=1)).tile_to_layout(gps.LocalLayout(TILE))
    assert _tiles(layer) == reference["tiles"]
    _killed(marker)


def test_shuffle_survives_a_worker_killed_on_its_reduce_side(cluster, reference, tmp_path):
    marker = tmp_path / "killed"
    layer = _raster(cluster).tile_to_layout(gps.LocalLayout(TILE)).map_cells(_killer(marker, after=20))
    assert _tiles(layer) == reference["tiles"]
    _killed(marker)


def test_catalog_write_survives_a_worker_killed_before_its_exchange(tiled, reference, tmp_path):
    marker = tmp_path / "killed"
    gps.write(str(tmp_path / "cat"), "layer", tiled.map_cells(_killer(marker, after=10)))
    assert _tree(tmp_path / "cat") == reference["write"]
    _killed(marker)


def test_catalog_write_survives_a_worker_killed_while_writing_tile_files(tiled, reference, tmp_path):
    marker, root = tmp_path / "killed", tmp_path / "cat"
    gps.write(str(root), "layer", tiled.map_cells(_arm_writer(marker, root / "layer" / "0")))
    _killed(marker)
    assert _tree(root) == reference["write"], "complete, identical, no temp file nor claim left"


def test_update_layer_survives_a_worker_killed_while_rewriting_tile_files(cluster, tiled, reference, tmp_path):
    marker, root = tmp_path / "killed", tmp_path / "cat"
    gps.write(str(root), "layer", _raster(cluster, seed=1).tile_to_layout(gps.LocalLayout(TILE)))
    gps.update_layer(str(root), "layer", tiled.map_cells(_arm_writer(marker, root / "layer" / "0")))
    _killed(marker)
    assert _tree(root) == reference["update"]


def test_to_geotiff_rdd_survives_a_killed_worker(tiled, reference, tmp_path):
    marker = tmp_path / "killed"
    got = tiled.map_cells(_killer(marker, after=5)).to_geotiff_rdd(compression=gps.Compression.DEFLATE_COMPRESSION)
    assert sorted(got.collect()) == reference["geotiffs"]
    _killed(marker)


def test_save_stitched_survives_a_killed_worker(tiled, reference, tmp_path):
    marker = tmp_path / "killed"
    tiled.map_cells(_killer(marker, after=5)).save_stitched(str(tmp_path / "stitched" / "all.tif"))
    assert _tree(tmp_path / "stitched") == reference["stitched"], "the file complete, no temp file beside it"
    _killed(marker)


def test_a_worker_killed_on_every_attempt_fails_the_write_and_leaves_no_layer(tiled, tmp_path):
    """Spark gives up after spark.task.maxFailures attempts: the write raises Spark's error naming the crash,
    and the catalog holds no layer: no metadata attribute, no claim, no file at all."""
    root = tmp_path / "cat"
    with pytest.raises(Exception, match=r"(?s)Python worker exited unexpectedly|crashed"):
        gps.write(str(root), "layer", tiled.map_cells(_killer(tmp_path / "unused", always=True)))
    assert not gps.AttributeStore(str(root)).contains("layer", 0)
    assert not any(p.is_file() for p in root.rglob("*")), sorted(map(str, root.rglob("*")))


def test_a_tile_file_failing_on_every_attempt_fails_the_write_and_removes_the_others(tiled, reference, tmp_path):
    """A tile file that cannot be written at all (a directory stands at its name): after Spark's attempts the
    write fails naming that file, and the tile files the other tasks wrote are removed with the claim."""
    root = tmp_path / "cat"
    names = sorted(n for n in reference["write"] if n.startswith("layer/0/"))
    blocked = root / names[len(names) // 2]
    blocked.mkdir(parents=True)
    with pytest.raises(Exception, match=blocked.name):
        gps.write(str(root), "layer", tiled)
    assert not gps.AttributeStore(str(root)).contains("layer", 0)
    assert not any(p.is_file() for p in root.rglob("*")), sorted(map(str, root.rglob("*")))
    blocked.rmdir()
    gps.write(str(root), "layer", tiled)  # ... and the layer can be written afterwards
    assert _tree(root) == reference["write"]


# --- a killed executor JVM ---------------------------------------------------------------------------------

def _executor_jvms(app_id: str) -> list[int]:
    """The pids of this application's executor JVMs (from /proc: started by local-cluster or by a Worker)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                argv = Path(f"/proc/{entry}/cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if any(a.endswith(b"CoarseGrainedExecutorBackend") for a in argv) and app_id.encode() in argv:
                found.append(int(entry))
    return sorted(found)


def test_catalog_write_survives_a_killed_executor(cluster, tiled, reference, tmp_path):
    """An executor JVM (with its Python workers and its shuffle files) is SIGKILLed once the write's first tile
    files appear: the master starts another executor, Spark recomputes the lost map outputs and writes the
    rest; the layer is complete and byte-identical."""
    root = tmp_path / "cat"
    directory = root / "layer" / "0"
    app_id = cluster.applicationId
    jvms = _executor_jvms(app_id)
    assert len(jvms) == 2, jvms
    killed = {}

    def watch():
        deadline = time.time() + 120
        while time.time() < deadline and not killed:
            if directory.is_dir() and sum(1 for n in os.listdir(directory) if n.isdigit()) > 0:
                killed["files"] = sum(1 for n in os.listdir(directory) if n.isdigit())
                os.kill(jvms[0], signal.SIGKILL)
                killed["pid"] = jvms[0]
                return
            time.sleep(0.002)

    watcher = threading.Thread(target=watch)
    watcher.start()
    gps.write(str(root), "layer", tiled)
    watcher.join()
    assert killed.get("pid") == jvms[0], "the executor was never killed"
    assert killed["files"] < len(reference["tiles"]), "killed mid-write"
    assert _tree(root) == reference["write"]
    deadline = time.time() + 60
    while len(_executor_jvms(app_id)) < 2 and time.time() < deadline:
        time.sleep(0.5)
    assert jvms[0] not in _executor_jvms(app_id) and len(_executor_jvms(app_id)) == 2, "the master replaced it"
