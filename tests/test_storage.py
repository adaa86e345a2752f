"""Storage: local listing and globs, S3 against a loopback S3 server (moto), and the s3 module."""

import threading
import uuid
from unittest import mock

import pytest

from geopyspark_rs import _native
from geopyspark_rs.geotrellis import s3

# ---------------------------------------------------------------- local files


@pytest.fixture
def tree(tmp_path):
    for rel in ["a.tif", "b/1.tif", "b/2.tif", "b/c/3.tif", "b/c/3.png"]:
        _native.write_bytes(str(tmp_path / rel), rel.encode())
    return tmp_path


def test_local_listing_of_files_directories_and_globs(tree):
    root = str(tree)
    everything = ["a.tif", "b/1.tif", "b/2.tif", "b/c/3.png", "b/c/3.tif"]
    assert _native.list_files(root) == [f"{root}/{r}" for r in everything]
    assert _native.list_files(f"{root}/a.tif") == [f"{root}/a.tif"]
    assert _native.list_files(f"{root}/b/*.tif") == [f"{root}/b/1.tif", f"{root}/b/2.tif"]
    assert _native.list_files(f"{root}/**/*.tif") == [f"{root}/{r}" for r in everything if r.endswith(".tif")]
    assert _native.list_files(f"{root}/b/[1].tif") == [f"{root}/b/1.tif"]
    assert _native.list_files(f"{root}/b/?.tif") == [f"{root}/b/1.tif", f"{root}/b/2.tif"]
    assert _native.list_files(f"{root}/missing") == []
    assert _native.list_files(f"{root}/missing/*.tif") == []


def test_file_uris_stay_file_uris(tree):
    root = str(tree)
    assert _native.list_files(f"file://{root}/b/c") == [f"file://{root}/b/c/3.png", f"file://{root}/b/c/3.tif"]
    assert _native.read_bytes(f"file://{root}/b/c/3.tif") == b"b/c/3.tif"
    assert _native.file_size(f"file://{root}/b/c/3.tif") == 9


def test_local_reads_writes_and_errors(tmp_path):
    path = str(tmp_path / "new" / "dir" / "f.bin")
    _native.write_bytes(path, bytes(range(100)))
    assert _native.read_bytes(path, start=10, end=13) == bytes([10, 11, 12])
    assert _native.read_bytes(path, start=95) == bytes(range(95, 100))
    _native.write_bytes(path, b"over")
    assert _native.read_bytes(path) == b"over"
    assert sorted(p.name for p in (tmp_path / "new" / "dir").iterdir()) == ["f.bin"], "no temp files left"
    missing = str(tmp_path / "nope.tif")
    with pytest.raises(OSError, match=f"{missing}.*not found"):
        _native.read_bytes(missing)
    with pytest.raises(OSError, match="not found"):
        _native.file_size(missing)
    with pytest.raises(OSError, match="past|shorter|bytes"):
        _native.read_bytes(path, start=2, end=10)
    with pytest.raises(ValueError, match="ftp://x/y"):
        _native.read_bytes("ftp://x/y")
    with pytest.raises(ValueError, match="HDFS"):
        _native.list_files("hdfs://namenode/data")


# ---------------------------------------------------------------- S3 on a loopback server


@pytest.fixture
def bucket(s3_server):
    return s3_server.create_bucket(f"b-{uuid.uuid4().hex[:12]}")


def test_s3_write_list_prefix_and_glob(s3_server, bucket):
    opts = s3_server.options(bucket)
    keys = ["tiles/2020/a.tif", "tiles/2020/b.tif", "tiles/2021/a.tif", "tiles/2021/x.png", "tilesx/c.tif"]
    for k in keys:
        _native.write_bytes(f"s3://{bucket}/{k}", k.encode(), opts)
    assert _native.list_files(f"s3://{bucket}/tiles", opts) == [f"s3://{bucket}/{k}" for k in keys[:4]]
    assert _native.list_files(f"s3://{bucket}/tiles/", opts) == [f"s3://{bucket}/{k}" for k in keys[:4]]
    assert _native.list_files(f"s3://{bucket}", opts) == [f"s3://{bucket}/{k}" for k in keys]
    assert _native.list_files(f"s3://{bucket}/tiles/*/a.tif", opts) == [
        f"s3://{bucket}/tiles/2020/a.tif", f"s3://{bucket}/tiles/2021/a.tif"]
    assert _native.list_files(f"s3a://{bucket}/**/*.tif", opts) == [
        f"s3a://{bucket}/{k}" for k in keys if k.endswith(".tif")]
    assert _native.list_files(f"s3n://{bucket}/tiles/2021/x.png", opts) == [f"s3n://{bucket}/tiles/2021/x.png"]
    assert _native.list_files(f"s3://{bucket}/nothing", opts) == []


def test_s3_range_reads_size_and_overwrite(s3_server, bucket):
    opts = s3_server.options(bucket)
    uri = f"s3://{bucket}/data.bin"
    data = bytes(i % 251 for i in range(200_000))
    _native.write_bytes(uri, data, opts)
    assert _native.file_size(uri, opts) == len(data)
    assert _native.read_bytes(uri, opts) == data
    for start, end in [(0, 1), (1000, 1010), (150_000, 200_000), (199_999, 200_000), (5, 5)]:
        assert _native.read_bytes(uri, opts, start, end) == data[start:end]
    assert _native.read_bytes(uri, opts, start=123_456) == data[123_456:]
    with pytest.raises(OSError, match=uri):
        _native.read_bytes(uri, opts, 199_990, 200_010)
    _native.write_bytes(uri, b"short", opts)
    assert _native.read_bytes(uri, opts) == b"short"
    assert _native.file_size(uri, opts) == 5


def test_s3_missing_objects_name_the_uri(s3_server, bucket):
    opts = s3_server.options(bucket)
    uri = f"s3://{bucket}/no/such.tif"
    with pytest.raises(OSError, match=f"{uri}: not found"):
        _native.read_bytes(uri, opts)
    with pytest.raises(OSError, match=f"{uri}: not found"):
        _native.file_size(uri, opts)
    with pytest.raises(OSError, match=f"{uri}: not found"):
        _native.read_bytes(uri, opts, 0, 10)
    with pytest.raises(ValueError, match="s3:///x"):
        _native.read_bytes("s3:///x", opts)
    with pytest.raises(ValueError, match="unknown store option"):
        _native.read_bytes(uri, {**opts, "aws_acess_key": "typo"})


def test_s3_concurrent_reads_from_threads(s3_server, bucket):
    opts = s3_server.options(bucket)
    blobs = {f"s3://{bucket}/t/{i}.bin": bytes([i]) * (1000 + i) for i in range(8)}
    for uri, data in blobs.items():
        _native.write_bytes(uri, data, opts)
    errors, results = [], {}

    def read(uri):
        try:
            for _ in range(5):
                got = _native.read_bytes(uri, opts, 10, 500)
                assert got == blobs[uri][10:500]
            results[uri] = _native.read_bytes(uri, opts)
        except Exception as e:  # collected: an assertion in a thread would not fail the test
            errors.append(e)

    threads = [threading.Thread(target=read, args=(u,)) for u in blobs for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    assert results == blobs


# ---------------------------------------------------------------- the s3 module


def test_is_s3_uri():
    assert s3.is_s3_uri("s3n://something")
    assert s3.is_s3_uri("s3a://something_else")
    assert s3.is_s3_uri("s3://yet_another_thing")
    assert not s3.is_s3_uri("https://something_i_want")
    assert not s3.is_s3_uri("/local/s3://x")


class FakeConf:
    """A SparkContext whose ``_conf`` is a dict, as GeoPySpark's own test fakes it."""

    def __init__(self, values):
        self.values = values
        self._conf = self

    def get(self, key):
        return self.values.get(key, "")

    def set(self, key, value):
        self.values[key] = value


@pytest.mark.parametrize("scheme", ["s3", "s3a", "s3n"])
def test_set_s3_credentials_sets_and_restores(scheme):
    access, secret = f"spark.hadoop.fs.{scheme}.access.key", f"spark.hadoop.fs.{scheme}.secret.key"
    fake = FakeConf({s3.S3A_IMPL_PATH: "impl", access: "access", secret: "secret"})
    with mock.patch("geopyspark_rs.geotrellis.s3.get_spark_context", return_value=fake), \
            mock.patch("geopyspark_rs.geotrellis.s3._active_session", return_value=None):
        with s3.set_s3_credentials(s3.Credentials("new_access", "new_secret"), scheme):
            assert fake.get(access) == "new_access" and fake.get(secret) == "new_secret"
            assert fake.get(s3.S3A_IMPL_PATH) == (s3.S3A_FS_CONSTANT if scheme == "s3a" else "impl")
        assert (fake.get(access), fake.get(secret), fake.get(s3.S3A_IMPL_PATH)) == ("access", "secret", "impl")
        with s3.set_s3_credentials(None, scheme):
            assert fake.get(access) == "access"


def test_set_s3_credentials_refuses_other_schemes():
    with pytest.raises(RuntimeError, match="s3z"):
        with s3.set_s3_credentials(s3.Credentials("a", "b"), "s3z"):
            pass


def test_store_options_from_credentials_and_without_spark():
    with mock.patch("geopyspark_rs.geotrellis.s3._active_session", return_value=None), \
            mock.patch("geopyspark_rs.geotrellis.s3.get_spark_context", side_effect=RuntimeError("no spark")):
        assert s3.store_options("/tmp/x.tif") == {}
        assert s3.store_options("file:///tmp/x.tif") == {}
        assert s3.store_options("s3://b/k") == {}
        assert s3.store_options("s3://b/k", s3.Credentials("A", "S")) == {
            "aws_access_key_id": "A", "aws_secret_access_key": "S"}
        with pytest.raises(RuntimeError):
            s3.store_options("gs://b/k", s3.Credentials("A", "S"))


def test_store_options_from_spark_conf(spark, s3_server, bucket):
    keys = {
        "spark.hadoop.fs.s3a.access.key": "testing-access-key",
        "spark.hadoop.fs.s3a.secret.key": "testing-secret-key",
        "spark.hadoop.fs.s3a.endpoint": s3_server.endpoint,
        "spark.hadoop.fs.s3a.path.style.access": "true",
    }
    for k, v in keys.items():
        spark.conf.set(k, v)
    try:
        opts = s3.store_options(f"s3a://{bucket}/x", session=spark)
        assert opts == {
            "aws_access_key_id": "testing-access-key", "aws_secret_access_key": "testing-secret-key",
            "aws_endpoint": s3_server.endpoint, "aws_allow_http": "true", "aws_virtual_hosted_style_request": "false",
        }
        # s3a's keys serve s3:// too; explicit credentials win.
        assert s3.store_options(f"s3://{bucket}/x")["aws_access_key_id"] == "testing-access-key"
        assert s3.store_options(f"s3://{bucket}/x", s3.Credentials("A", "S"))["aws_access_key_id"] == "A"
        # The options reach the server (region from the engine's default).
        _native.write_bytes(f"s3a://{bucket}/x", b"conf", opts)
        assert _native.read_bytes(f"s3a://{bucket}/x", s3.store_options(f"s3a://{bucket}/x")) == b"conf"
    finally:
        for k in keys:
            spark.conf.unset(k)


def test_set_s3_credentials_is_seen_by_store_options(spark):
    key = "spark.hadoop.fs.s3n.access.key"
    assert not spark.conf.get(key, None)
    with s3.set_s3_credentials(s3.Credentials("ctx-access", "ctx-secret"), "s3n"):
        assert spark.conf.get(key) == "ctx-access"
        opts = s3.store_options("s3n://b/k")
        assert (opts["aws_access_key_id"], opts["aws_secret_access_key"]) == ("ctx-access", "ctx-secret")
    assert not spark.conf.get(key, None)
    assert not spark.sparkContext._conf.get(key)


def _read_in_child(uri, opts, queue):
    queue.put(_native.read_bytes(uri, opts))


def test_s3_reads_in_a_forked_child(s3_server, bucket):
    # Spark's Python daemon forks its workers: a child must not reuse the parent's runtime thread.
    import multiprocessing

    opts = s3_server.options(bucket)
    uri = f"s3://{bucket}/fork.bin"
    _native.write_bytes(uri, b"forked", opts)
    assert _native.read_bytes(uri, opts) == b"forked"  # the parent's runtime and client exist now
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    child = ctx.Process(target=_read_in_child, args=(uri, opts, queue))
    child.start()
    try:
        assert queue.get(timeout=60) == b"forked"
    finally:
        child.join(30)
        if child.is_alive():
            child.kill()
    assert child.exitcode == 0


@pytest.fixture
def http_dir(tmp_path):
    import functools
    import http.server

    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    handler.log_message = lambda *a: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield tmp_path, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_http_reads_sizes_and_lists(http_dir):
    root, base = http_dir
    (root / "a.bin").write_bytes(b"hello over http")
    assert _native.file_size(f"{base}/a.bin") == 15
    assert _native.read_bytes(f"{base}/a.bin") == b"hello over http"
    assert _native.list_files(f"{base}/a.bin") == [f"{base}/a.bin"]
    assert _native.list_files(f"{base}/missing.bin") == []  # plain HTTP has no listing
    with pytest.raises(OSError, match=f"{base}/missing.bin: not found"):
        _native.read_bytes(f"{base}/missing.bin")


def test_optional_reads_exists_and_delete(s3_server, bucket, tmp_path):
    """read_bytes_if_exists: None for what is missing, the bytes otherwise; other errors still raise."""
    opts = s3_server.options(bucket)
    for uri, o in ((str(tmp_path / "a" / "f.bin"), {}), (f"s3://{bucket}/opt/f.bin", opts)):
        assert _native.read_bytes_if_exists(uri, o) is None
        assert not _native.file_exists(uri, o)
        _native.write_bytes(uri, b"payload", o)
        assert _native.read_bytes_if_exists(uri, o) == b"payload"
        assert _native.file_exists(uri, o)
        _native.delete_file(uri, o)
        _native.delete_file(uri, o)  # deleting what is gone is not an error
        assert _native.read_bytes_if_exists(uri, o) is None
    with pytest.raises(ValueError, match="unknown store option"):
        _native.read_bytes_if_exists(f"s3://{bucket}/opt/f.bin", {**opts, "aws_acess_key": "typo"})
