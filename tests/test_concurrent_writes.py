"""Concurrent writers of one layer (docs/reliability.md, "Concurrent writers"): two jobs writing the same new
layer at once (two threads on one SparkSession, or a Spark job and a Spark-free process) — exactly one wins,
the other gets FileExistsError, and the stored layer is exactly the winner's (byte for byte); a dead
writer's claim blocks until it goes stale, then the next writer takes over and leaves GeoTrellis' exact
files; a writer that lost its claim never commits; readers during ``update_layer`` see each tile old or new,
never torn."""

import signal
import subprocess
import sys
import textwrap
import threading
import time
import uuid
from pathlib import Path

import numpy as np
import pytest

import geopyspark_rs as gps
import geopyspark_rs.local as gl
from geopyspark_rs import _native
from geopyspark_rs.geotrellis.catalog import claim as claims

COLS, ROWS, SIZE = 4, 3, 64
ROOT = Path(__file__).resolve().parents[1]


def _tiles(value, seed=None):
    """{SpatialKey: Tile} of int16 tiles: all ``value``, or noise from ``seed`` (files of ~8 KB each)."""
    rng = None if seed is None else np.random.default_rng(seed)
    out = {}
    for c in range(COLS):
        for r in range(ROWS):
            cells = (np.full((1, SIZE, SIZE), value, np.int16) if rng is None
                     else rng.integers(-30000, 30000, (1, SIZE, SIZE)).astype(np.int16))
            out[gps.SpatialKey(c, r)] = gps.Tile(cells, "int16", None)
    return out


def _metadata():
    extent = gps.Extent(0.0, 0.0, float(COLS), float(ROWS))
    layout = gps.LayoutDefinition(extent, gps.TileLayout(COLS, ROWS, SIZE, SIZE))
    return gps.Metadata(gps.Bounds(gps.SpatialKey(0, 0), gps.SpatialKey(COLS - 1, ROWS - 1)), "EPSG:4326", "int16",
                        extent, layout)


def _layer(tiles, slow=0.0):
    """A TiledRasterLayer of ``tiles`` at zoom 3; ``slow`` seconds of sleep per tile on the executors."""
    layer = gps.TiledRasterLayer.from_numpy_tiles(gps.LayerType.SPATIAL, list(tiles.items()), _metadata(), zoom_level=3)
    if slow:
        layer = layer.map_cells(lambda cells, nd: (time.sleep(slow), cells)[1])
    return layer


def _tree(root: Path) -> dict:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _objects(uri, options) -> dict:
    """name under ``uri`` → bytes of every object (S3) or file."""
    prefix = uri.rstrip("/") + "/"
    return {p[len(prefix):]: _native.read_bytes(p, options) for p in _native.list_files(uri, options)}


@pytest.fixture(scope="module")
def references(spark, tmp_path_factory):
    """The file trees of the layer of all 1s and of all 2s, each written alone."""
    out = {}
    for value in (1, 2):
        root = tmp_path_factory.mktemp(f"ref{value}")
        gps.write(str(root), "race", _layer(_tiles(value)))
        out[value] = _tree(root)
    assert out[1].keys() == out[2].keys() and out[1] != out[2]
    assert not any(claims.CLAIM_PREFIX in name for name in out[1]), "no claim is left behind"
    return out


def _race(*writers, session=None):
    """Run the writers at once (released together by a barrier): [(None or the exception)] in order.
    ``session``: made the thread's active SparkSession (its S3 keys are in the session's conf, which a new
    thread does not see through ``SparkSession.getActiveSession()``)."""
    barrier = threading.Barrier(len(writers))
    results = [None] * len(writers)

    def run(i, write):
        if session is not None:
            session._jvm.SparkSession.setActiveSession(session._jsparkSession)
        barrier.wait()
        try:
            write()
        except Exception as e:  # noqa: BLE001 - the test inspects it
            results[i] = e

    threads = [threading.Thread(target=run, args=(i, w)) for i, w in enumerate(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def _one_winner(results):
    errors = [r for r in results if r is not None]
    assert len(errors) == 1, f"exactly one writer must fail, got {results}"
    assert isinstance(errors[0], FileExistsError) and isinstance(errors[0], gps.errors.LayerExistsError), errors[0]
    return results.index(None)


# --- two writers of one new layer ------------------------------------------------------------------

def test_two_threads_on_one_session_exactly_one_wins(spark, references, tmp_path):
    winners = []
    for round_ in range(4):
        root = tmp_path / f"r{round_}"
        layers = {1: _layer(_tiles(1)), 2: _layer(_tiles(2))}
        results = _race(lambda: gps.write(str(root), "race", layers[1]), lambda: gps.write(str(root), "race", layers[2]))
        winner = _one_winner(results) + 1
        winners.append(winner)
        assert _tree(root) == references[winner], "the stored layer is exactly the winner's, no mixed tiles"


def test_many_spark_free_writers_race_and_one_wins_each_round(references, tmp_path):
    """Four threads of geopyspark_rs.local.write per round, 25 rounds: each round exactly one wins, and the
    layer is exactly the winner's (the losers' in-flight claim files are never mistaken for leftovers)."""
    for round_ in range(25):
        root = tmp_path / f"r{round_}"
        layers = [gl.Layer(gps.LayerType.SPATIAL, _tiles(1 + i % 2), _metadata(), 3) for i in range(4)]
        results = _race(*[(lambda l=l: gl.write(str(root), "race", l)) for l in layers])
        errors = [r for r in results if r is not None]
        assert len(errors) == 3 and all(isinstance(e, gps.errors.LayerExistsError) for e in errors), results
        assert _tree(root) == references[1 + results.index(None) % 2]


def test_a_writer_arriving_during_a_write_is_refused_before_writing_anything(spark, references, tmp_path):
    """The deterministic case: the second writer comes while the first one's tasks are writing."""
    root = str(tmp_path)
    first = threading.Thread(target=lambda: gps.write(root, "race", _layer(_tiles(1), slow=0.15)))
    first.start()
    claim = tmp_path / "race" / "3" / f"{claims.CLAIM_PREFIX}1"
    deadline = time.time() + 60
    while not claim.exists() and time.time() < deadline:
        time.sleep(0.02)
    assert claim.exists()
    with pytest.raises(gps.errors.LayerBusyError, match=r"being written by another job \(claim .*_write_claim\.1"):
        gps.write(root, "race", _layer(_tiles(2)))
    with pytest.raises(FileExistsError):
        gl.write(root, "race", gl.Layer(gps.LayerType.SPATIAL, _tiles(2), _metadata(), 3))
    first.join()
    assert _tree(tmp_path) == references[1]
    # and once the layer exists, the refusal is the ordinary one
    with pytest.raises(gps.errors.LayerExistsError, match="already exists"):
        gps.write(root, "race", _layer(_tiles(2)))


def test_two_threads_race_on_s3(spark, s3_conf, references):
    bucket = s3_conf.create_bucket("race-" + uuid.uuid4().hex[:10])
    options = s3_conf.options()
    file_tiles = {name: data for name, data in references[1].items() if name.startswith("race/")}
    for round_ in range(3):
        uri = f"s3://{bucket}/cat{round_}"
        layers = {1: _layer(_tiles(1)), 2: _layer(_tiles(2))}
        results = _race(lambda: gps.write(uri, "race", layers[1]), lambda: gps.write(uri, "race", layers[2]),
                        session=spark)
        winner = _one_winner(results) + 1
        stored = _objects(uri, options)
        tiles = {name: data for name, data in stored.items() if name.startswith("race/")}
        want = {name: data for name, data in references[winner].items() if name.startswith("race/")}
        assert tiles == want and tiles.keys() == file_tiles.keys()
        assert set(stored) - set(tiles) == {"_attributes/metadata__race__3.json"}


_LOCAL_WRITER = textwrap.dedent("""
    import sys, time
    import numpy as np
    sys.path.insert(0, {tests!r})
    import geopyspark_rs as gps, geopyspark_rs.local as gl
    from test_concurrent_writes import _tiles, _metadata
    root, go = sys.argv[1], sys.argv[2]
    layer = gl.Layer(gps.LayerType.SPATIAL, _tiles(2), _metadata(), 3)
    import os
    while not os.path.exists(go):
        time.sleep(0.001)
    try:
        gl.write(root, "race", layer)
        print("won")
    except FileExistsError as e:
        print("refused", type(e).__name__)
""")


def test_a_spark_job_and_a_spark_free_process_race(spark, references, tmp_path):
    """Two processes: this one's Spark job writes all 1s, a geopyspark_rs.local process all 2s."""
    outcomes = []
    for round_ in range(3):
        root = tmp_path / f"r{round_}"
        go = tmp_path / f"go{round_}"
        code = _LOCAL_WRITER.format(tests=str(ROOT / "tests"))
        proc = subprocess.Popen([sys.executable, "-c", code, str(root), str(go)], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, cwd=ROOT)
        time.sleep(2.0 if round_ == 0 else 1.0)  # let it import (it then polls for the go file)
        layer = _layer(_tiles(1))
        layer.count()  # the layer's tiles ready in Spark, so both writers start writing at once
        go.touch()
        try:
            gps.write(str(root), "race", layer)
            mine = None
        except FileExistsError as e:
            mine = e
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        theirs = out.split()
        assert (mine is None) != (theirs[0] == "won"), (mine, out)
        if mine is not None:
            assert isinstance(mine, gps.errors.LayerExistsError)
        else:
            assert theirs == ["refused", "LayerBusyError"] or theirs == ["refused", "LayerExistsError"], out
        winner = 1 if mine is None else 2
        outcomes.append(winner)
        assert _tree(root) == references[winner]


# --- crashes and stale claims ----------------------------------------------------------------------

_DYING_WRITER = textwrap.dedent("""
    import os, signal, sys
    import numpy as np
    sys.path.insert(0, {tests!r})
    import geopyspark_rs as gps, geopyspark_rs.local as gl
    from geopyspark_rs import _native
    from geopyspark_rs.geotrellis.catalog.write import NewLayer
    from geopyspark_rs.local.catalog import _with_sorted_index
    from test_concurrent_writes import _tiles, _metadata
    layer = gl.Layer(gps.LayerType.SPATIAL, _tiles(7), _metadata(), 3)
    target = NewLayer(sys.argv[1], "race", layer.layer_type, layer.layer_metadata, 3)
    batch = _with_sorted_index(layer._batch, target.index_json, False)
    half = batch.slice(0, batch.num_rows // 2)
    width = _native.key_index_file_width(target.index_json, False)
    _native.catalog_write_all(half, "index", target.directory, width, True, {{}}, None)
    # a rename that never happened
    open(os.path.join(target.directory, ".00001.4242.0.tmp"), "wb").write(b"half a file")
    os.kill(os.getpid(), signal.SIGKILL)  # dies mid-write: claim, half the tiles, a temp file, no metadata
""")


def test_a_dead_writers_claim_blocks_until_stale_then_the_next_writer_takes_over(spark, references, tmp_path,
                                                                                   monkeypatch):
    root = tmp_path / "cat"
    code = _DYING_WRITER.format(tests=str(ROOT / "tests"))
    proc = subprocess.run([sys.executable, "-c", code, str(root)], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    left = sorted(p.name for p in (root / "race" / "3").iterdir())
    assert f"{claims.CLAIM_PREFIX}1" in left and ".00001.4242.0.tmp" in left and len(left) == 2 + COLS * ROWS // 2
    assert not gps.AttributeStore(str(root)).contains("race", 3), "a dead writer leaves no layer"

    # Its heartbeat is fresh: the next writer is refused, naming the claim and how it expires.
    with pytest.raises(gps.errors.LayerBusyError, match="expires 120 s after its last heartbeat"):
        gps.write(str(root), "race", _layer(_tiles(1)))
    assert sorted(p.name for p in (root / "race" / "3").iterdir()) == left, "the refused writer touched nothing"

    # Once stale, it is taken over: generation 2, the dead writer's files removed, GeoTrellis' exact files.
    monkeypatch.setattr(claims, "STALE_AFTER_SECONDS", 0.5)
    time.sleep(0.6)
    gps.write(str(root), "race", _layer(_tiles(1)))
    assert _tree(root) == references[1]


def test_a_writer_that_lost_its_claim_does_not_commit(spark, references, tmp_path, monkeypatch):
    """A writer stalled past the stale limit loses the layer to the one that took over: it commits nothing."""
    from geopyspark_rs.geotrellis.catalog.write import NewLayer

    root = str(tmp_path)
    stalled = NewLayer(root, "race", gps.LayerType.SPATIAL, _metadata(), 3)
    monkeypatch.setattr(claims, "STALE_AFTER_SECONDS", -1.0)  # every heartbeat is too old now
    taker = NewLayer(root, "race", gps.LayerType.SPATIAL, _metadata(), 3)
    assert (stalled.claim.generation, taker.claim.generation) == (1, 2)
    with pytest.raises(gps.errors.LayerBusyError, match="lost its claim"):
        with stalled:
            stalled.commit()
    assert not gps.AttributeStore(root).contains("race", 3)
    assert (tmp_path / "race" / "3" / f"{claims.CLAIM_PREFIX}1").exists(), "a loser leaves the claims alone"
    taker.claim.release()  # (released by its write in real use)
    monkeypatch.setattr(claims, "STALE_AFTER_SECONDS", 120.0)
    assert not any((tmp_path / "race" / "3").iterdir()), "the owner's release removes every generation"
    gps.write(root, "race", _layer(_tiles(2)))
    assert _tree(tmp_path) == references[2]


def test_the_heartbeat_keeps_a_long_write_fresh(spark, tmp_path, monkeypatch):
    import json

    monkeypatch.setattr(claims, "HEARTBEAT_SECONDS", 0.2)
    claim = claims.LayerClaim(str(tmp_path), {}, "beat").acquire()
    path = tmp_path / f"{claims.CLAIM_PREFIX}1"
    first = json.loads(path.read_text())
    time.sleep(0.7)
    later = json.loads(path.read_text())
    assert later["owner"] == first["owner"] and later["heartbeat"] > first["heartbeat"]
    assert {"host", "pid", "started", "purpose", "note"} <= set(later)
    claim.release()
    assert not path.exists()


# --- readers during update_layer --------------------------------------------------------------------

def test_readers_during_update_layer_see_each_tile_old_or_new(spark, s3_conf, catalog_at):
    """Reader threads loop gps.read_value and local.read_value while update_layer replaces every tile three
    times: every tile read is exactly one version, and no reader ever goes back to an older one."""
    uri, options = catalog_at
    versions = [_tiles(0, seed=s) for s in range(4)]
    gps.write(uri, "upd", _layer(versions[0]))
    cells = {k: [v[k].cells for v in versions] for k in versions[0]}
    keys = list(cells)
    done = threading.Event()
    problems, reads = [], [0, 0]

    def reader(i):
        spark._jvm.SparkSession.setActiveSession(spark._jsparkSession)  # (see _race)
        seen = {}
        rng = np.random.default_rng(i)
        while not done.is_set():
            k = keys[rng.integers(len(keys))]
            try:
                if i % 2:
                    tile = gl.read_value(uri, "upd", 3, k.col, k.row, options=options)
                else:
                    tile = gps.read_value(uri, "upd", 3, k.col, k.row)
            except Exception as e:  # noqa: BLE001
                problems.append(f"{k}: {type(e).__name__}: {e}")
                continue
            match = [v for v, want in enumerate(cells[k]) if np.array_equal(tile.cells, want)]
            if len(match) != 1:
                problems.append(f"{k}: a tile that is no version of it")
            elif match[0] < seen.get(k, 0):
                problems.append(f"{k}: version {match[0]} after {seen[k]}")
            else:
                seen[k] = match[0]
            reads[i % 2] += 1

    threads = [threading.Thread(target=reader, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    try:
        for v in (1, 2, 3):
            gps.update_layer(uri, "upd", _layer(versions[v]))
    finally:
        done.set()
        for t in threads:
            t.join()
    assert not problems, problems[:5]
    assert min(reads) >= 10, reads
    for k, t in gps.query(uri, "upd", 3).to_numpy_tiles():
        np.testing.assert_array_equal(t.cells, cells[k][3])


def test_update_layer_is_one_writer_at_a_time(spark, tmp_path):
    root = str(tmp_path)
    gps.write(root, "upd", _layer(_tiles(1)))
    slow = threading.Thread(target=lambda: gps.update_layer(root, "upd", _layer(_tiles(2), slow=0.15)))
    slow.start()
    claim = tmp_path / "upd" / "3" / f"{claims.CLAIM_PREFIX}1"
    deadline = time.time() + 60
    while not claim.exists() and time.time() < deadline:
        time.sleep(0.02)
    with pytest.raises(gps.errors.LayerBusyError, match="being updated by another job"):
        gps.update_layer(root, "upd", _layer(_tiles(3)))
    slow.join()
    assert not claim.exists()
    for _, t in gps.query(root, "upd", 3).to_numpy_tiles():
        assert (t.cells == 2).all()
