"""Flaky object stores: catalog writes and reads (gps.write/gps.query through Spark, and geopyspark_rs.local) and
GeoTIFF reads (gps.geotiff.get, geopyspark_rs.cog) through a fault-injecting proxy (tests/faulty_proxy.py) in
front of the loopback S3 server.

* Transient faults (dropped connections, 500/503 answers, bodies cut short, slow answers) are retried with
  backoff by the client (rust/engine/src/io/object.rs): every call succeeds and its result (objects written,
  tiles and cells read) equals an undisturbed run's.
* A persistent failure ends within a bounded time with an error naming the object: with the default policy a
  request stops being retried 20 s after its first attempt (each attempt bounded by the 30 s request timeout),
  so a call fails in under 60 s; the bound is configurable (store options ``retry_timeout``, ``timeout``, ...).

Each test prints the faults it injected and survived; ``FAULTS`` gathers them for the session summary.
"""

import asyncio
import time
import uuid
from collections import Counter

import numpy as np
import pytest

import geopyspark_rs as gps
import geopyspark_rs.local as gl
from geopyspark_rs import _native
from geopyspark_rs.errors import StorageError
from faulty_proxy import FaultyProxy, Rule

SPATIAL = gps.LayerType.SPATIAL
FAULTS: Counter = Counter()  # faults injected into calls that then succeeded, by action
PERSISTENT_BOUND_S = 60.0


def transient_rules(scale=1.0):
    """About one request in four meets a fault; with 10 retries a request fails only after 11 in a row."""
    return [
        Rule("drop", probability=0.06 * scale),
        Rule("status", status=503, probability=0.08 * scale),
        Rule("status", status=500, probability=0.04 * scale),
        Rule("truncate", methods={"GET"}, probability=0.06 * scale),
        Rule("delay", delay=0.3, probability=0.04 * scale),
    ]


@pytest.fixture(scope="module")
def proxy(s3_server):
    with FaultyProxy(s3_server.endpoint, seed=18) as p:
        yield p


@pytest.fixture
def clean(proxy):
    proxy.set_rules([])
    proxy.reset()
    yield proxy
    proxy.set_rules([])


def direct(server) -> dict:
    return server.options()


def via(server, proxy, **extra) -> dict:
    return {**server.options(), "aws_endpoint": proxy.endpoint, **{k: str(v) for k, v in extra.items()}}


def bucket(server, label) -> str:
    return server.create_bucket(f"{label}-{uuid.uuid4().hex[:10]}")


def local_layer(cols=5, rows=4, size=64, seed=0) -> gl.Layer:
    rng = np.random.default_rng(seed)
    tiles = {gps.SpatialKey(c, r): gps.Tile(rng.normal(0, 50, (2, size, size)).astype(np.float32), "float32", None)
             for c in range(cols) for r in range(rows)}
    extent = gps.Extent(0.0, 0.0, float(cols), float(rows))
    ld = gps.LayoutDefinition(extent, gps.TileLayout(cols, rows, size, size))
    md = gps.Metadata(gps.Bounds(gps.SpatialKey(0, 0), gps.SpatialKey(cols - 1, rows - 1)), "EPSG:4326", "float32",
                      extent, ld)
    return gl.Layer(SPATIAL, tiles, md, zoom_level=2)


def objects(prefix: str, opts: dict) -> dict:
    """key below ``prefix`` → bytes, read without the proxy."""
    return {u[len(prefix):]: _native.read_bytes(u, opts) for u in _native.list_files(prefix, opts)}


def same_tiles(got: dict, want: dict):
    assert got.keys() == want.keys()
    for k in want:
        np.testing.assert_array_equal(got[k].cells, want[k].cells, err_msg=str(k))


def survived(proxy, label):
    FAULTS.update(proxy.counts)
    print(f"{label}: {proxy.faults} faults injected and survived {dict(proxy.counts)} in {proxy.requests} requests")
    assert proxy.faults > 0, f"{label}: the proxy injected no fault (requests {proxy.requests})"


@pytest.fixture
def proxied_spark(spark, s3_server, proxy):
    """Spark conf pointing S3 at the proxy (as a user configures Hadoop's S3A); yields a setter for extra keys."""
    keys = {
        "spark.hadoop.fs.s3a.endpoint": proxy.endpoint,
        "spark.hadoop.fs.s3a.path.style.access": "true",
        "spark.hadoop.fs.s3a.access.key": s3_server.options()["aws_access_key_id"],
        "spark.hadoop.fs.s3a.secret.key": s3_server.options()["aws_secret_access_key"],
    }
    for k, v in keys.items():
        spark.conf.set(k, v)
    extra = []

    def set_conf(key, value):
        spark.conf.set(key, value)
        extra.append(key)

    yield set_conf
    for k in list(keys) + extra:
        spark.conf.unset(k)


# ------------------------------------------------------------------------------------------------ transient

def test_local_catalog_write_and_query_survive_transient_faults(s3_server, clean):
    proxy = clean
    b = bucket(s3_server, "flaky-local")
    layer = local_layer()
    gl.write(f"s3://{b}/calm", "l", layer, options=direct(s3_server))
    proxy.set_rules(transient_rules())
    gl.write(f"s3://{b}/rough", "l", layer, options=via(s3_server, proxy))
    got = gl.query(f"s3://{b}/rough", "l", 2, options=via(s3_server, proxy))
    value = gl.read_value(f"s3://{b}/rough", "l", 2, 3, 1, options=via(s3_server, proxy))
    proxy.set_rules([])
    survived(proxy, "local write+query")
    calm, rough = objects(f"s3://{b}/calm/", direct(s3_server)), objects(f"s3://{b}/rough/", direct(s3_server))
    assert rough.keys() == calm.keys() and len(calm) == 21  # 20 tile files and the metadata attribute
    for k in calm:
        if k.startswith("l/"):
            assert rough[k] == calm[k], k
    same_tiles(got, layer.tiles)
    np.testing.assert_array_equal(value.cells, layer.tiles[gps.SpatialKey(3, 1)].cells)


def test_spark_write_and_query_survive_transient_faults(s3_server, clean, proxied_spark):
    proxy = clean
    b = bucket(s3_server, "flaky-spark")
    layer = local_layer(seed=1)
    tiled = gps.TiledRasterLayer.from_numpy_tiles(SPATIAL, list(layer.tiles.items()), layer.layer_metadata,
                                                  zoom_level=2)
    gl.write(f"s3://{b}/calm", "l", layer, options=direct(s3_server))
    proxy.set_rules(transient_rules())
    gps.write(f"s3://{b}/rough", "l", tiled)
    got = dict(gps.query(f"s3://{b}/rough", "l", 2).to_numpy_tiles())
    proxy.set_rules([])
    survived(proxy, "gps.write+gps.query")
    calm, rough = objects(f"s3://{b}/calm/", direct(s3_server)), objects(f"s3://{b}/rough/", direct(s3_server))
    assert rough.keys() == calm.keys()
    assert all(rough[k] == calm[k] for k in calm if k.startswith("l/")), "tile files byte-identical"
    same_tiles(got, layer.tiles)


@pytest.fixture(scope="module")
def tiff_on_s3(s3_server, shared_data):
    b = s3_server.create_bucket(f"flaky-tiff-{uuid.uuid4().hex[:8]}")
    uri = f"s3://{b}/tiled_compressed.tif"
    _native.write_bytes(uri, (shared_data / "geotiff" / "tiled_compressed.tif").read_bytes(), s3_server.options())
    return uri


def _raster_tiles(layer):
    return sorted((tuple(round(v, 6) for v in k.extent), t.cells.tobytes()) for k, t in layer.to_numpy_tiles())


def test_geotiff_get_survives_transient_faults(s3_server, clean, proxied_spark, tiff_on_s3, spark):
    proxy = clean
    calm = _raster_tiles(gps.geotiff.get(SPATIAL, tiff_on_s3, max_tile_size=128))
    proxy.reset()
    proxy.set_rules(transient_rules(1.5))
    rough = _raster_tiles(gps.geotiff.get(SPATIAL, tiff_on_s3, max_tile_size=128))
    proxy.set_rules([])
    survived(proxy, "gps.geotiff.get")
    assert len(rough) == len(calm) > 10 and rough == calm


def test_async_cog_reader_survives_transient_faults(s3_server, clean, tiff_on_s3):
    from geopyspark_rs.cog import GeoTIFF, Window

    proxy = clean

    async def read(opts):
        tif = await GeoTIFF.open(tiff_on_s3, options=opts)
        whole = await tif.read()
        parts = await asyncio.gather(*(tif.read(window=Window(x, y, 100, 100)) for x, y in [(0, 0), (150, 40), (
            300, 200)]))
        return [whole.data] + [p.data for p in parts]

    calm = asyncio.run(read(direct(s3_server)))
    proxy.set_rules(transient_rules(1.5))
    rough = asyncio.run(read(via(s3_server, proxy)))
    proxy.set_rules([])
    survived(proxy, "geopyspark_rs.cog")
    for a, b in zip(calm, rough):
        np.testing.assert_array_equal(a, b)


# ------------------------------------------------------------------------------------------------ persistent

def test_persistent_503_ends_within_the_default_bound_naming_the_object(s3_server, clean):
    proxy = clean
    b = bucket(s3_server, "flaky-down")
    gl.write(f"s3://{b}/cat", "l", local_layer(cols=2, rows=2, size=16), options=direct(s3_server))
    proxy.set_rules([Rule("status", status=503)])
    t0 = time.monotonic()
    with pytest.raises(StorageError) as info:
        gl.query(f"s3://{b}/cat", "l", 2, options=via(s3_server, proxy))
    elapsed = time.monotonic() - t0
    print(f"persistent 503 (default policy): failed after {elapsed:.1f} s, {proxy.requests} requests: {info.value}")
    assert elapsed < PERSISTENT_BOUND_S
    assert f"s3://{b}/cat/_attributes/metadata__l__2.json" in str(info.value) and "503" in str(info.value)
    assert 2 <= proxy.requests <= 11, "the first attempt and up to 10 retries"


def test_persistent_failures_end_within_a_configured_bound(s3_server, clean):
    proxy = clean
    b = bucket(s3_server, "flaky-slow")
    layer = local_layer(cols=2, rows=2, size=16)
    gl.write(f"s3://{b}/cat", "l", layer, options=direct(s3_server))
    short = {"retry_timeout": "2s", "timeout": "1s", "retry_max_backoff": "500ms"}
    cases = [
        ("slow answers to tile reads", [Rule("delay", delay=30, path=r"/cat/l/2/")],
         lambda: gl.query(f"s3://{b}/cat", "l", 2, options=via(s3_server, proxy, **short)), f"s3://{b}/cat/l/2/"),
        ("dropped connections on write", [Rule("drop", methods={"PUT"})],
         lambda: gl.write(f"s3://{b}/new", "l", layer, options=via(s3_server, proxy, **short)), f"s3://{b}/new/l/2/"),
        ("bodies always cut short", [Rule("truncate", methods={"GET"}, path=r"/cat/l/2/")],
         lambda: gl.read_value(f"s3://{b}/cat", "l", 2, 0, 0, options=via(s3_server, proxy, **short)),
         f"s3://{b}/cat/l/2/"),
    ]
    for label, rules, call, names in cases:
        proxy.reset()
        proxy.set_rules(rules)
        t0 = time.monotonic()
        with pytest.raises(StorageError) as info:
            call()
        elapsed = time.monotonic() - t0
        print(f"{label}: failed after {elapsed:.1f} s ({dict(proxy.counts)}): {str(info.value)[:200]}")
        assert elapsed < 2 + 1 + 0.5 + 2.5, label  # retry_timeout + timeout + max backoff, and slack
        assert names in str(info.value), (label, str(info.value))
    proxy.set_rules([])
    # The layer that failed to write never became a layer.
    assert _native.list_files(f"s3://{b}/new/_attributes", direct(s3_server)) == []


def test_spark_persistent_failure_names_the_object_within_the_configured_bound(s3_server, clean, proxied_spark):
    proxy = clean
    b = bucket(s3_server, "flaky-spark-down")
    layer = local_layer(cols=2, rows=2, size=16)
    gl.write(f"s3://{b}/cat", "l", layer, options=direct(s3_server))
    proxied_spark("spark.geopyspark_rs.store.retry_timeout", "2s")
    proxied_spark("spark.geopyspark_rs.store.retry_max_backoff", "500ms")
    q = gps.query(f"s3://{b}/cat", "l", 2)  # planning on the driver: attribute and listing pass
    proxy.set_rules([Rule("status", status=500, path=r"/cat/l/2/")])
    t0 = time.monotonic()
    with pytest.raises(StorageError) as info:  # raised in a task, re-raised on the driver as itself
        q.to_numpy_tiles()
    elapsed = time.monotonic() - t0
    print(f"gps.query with tile reads failing: {elapsed:.1f} s, {dict(proxy.counts)}")
    assert elapsed < 15
    assert f"s3://{b}/cat/l/2/" in str(info.value) and "500" in str(info.value)


def test_listings_cut_short_are_retried_not_read_as_empty(s3_server, clean):
    """object_store retries a listing that fails but not one whose answer is cut short; the engine retries
    that whole listing, and a listing that keeps failing is an error, never an empty layer."""
    proxy = clean
    b = bucket(s3_server, "flaky-list")
    layer = local_layer(cols=3, rows=2, size=16)
    gl.write(f"s3://{b}/cat", "l", layer, options=direct(s3_server))
    proxy.set_rules([Rule("truncate", methods={"GET"}, path=r"list-type", times=3)])
    same_tiles(gl.query(f"s3://{b}/cat", "l", 2, options=via(s3_server, proxy)), layer.tiles)
    assert proxy.counts["truncate"] == 3
    survived(proxy, "listing cut short")
    proxy.reset()
    proxy.set_rules([Rule("truncate", methods={"GET"}, path=r"list-type")])
    with pytest.raises(StorageError, match=f"s3://{b}/cat/l/2"):
        gl.query(f"s3://{b}/cat", "l", 2, options=via(s3_server, proxy, retry_timeout="1s"))
    with pytest.raises(StorageError, match=f"s3://{b}/cat/_attributes"):
        _layers_via(f"s3://{b}/cat", via(s3_server, proxy, retry_timeout="1s"))


def _layers_via(uri, opts):
    store = gps.AttributeStore(uri)
    store._options = opts
    return store.layers()


@pytest.fixture(scope="module", autouse=True)
def fault_report(request):
    """After the module: the count of faults injected into calls that succeeded (for docs/reliability.md)."""
    yield
    with request.config.pluginmanager.getplugin("capturemanager").global_and_fixture_disabled():
        print(f"\nflaky store: {sum(FAULTS.values())} faults injected and survived: {dict(FAULTS)}")
