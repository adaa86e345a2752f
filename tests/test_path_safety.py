"""Path safety: nothing that comes from outside (layer and attribute names, catalog URIs, the ``path``/``bucket``/
``key`` of a layer header someone else wrote, symlinks inside a local catalog) makes a catalog read, write or
delete outside its root, through the Spark API (gps.write/query/read_value/update_layer/AttributeStore) and the
Spark-free ``geopyspark_rs.local`` API. One test per attack family; each checks the exception and that the
filesystem outside the root is exactly as it was (and, for refused names, that nothing was created at all).

The policy (docs/reliability.md, "Path safety"): names are plain slugs (ASCII letters, digits, '_', '-', '.',
not '.' or '..', at most 255 characters), nothing is percent-decoded, a catalog URI may not hold control
characters (nor '..' segments in an S3 prefix), headers must point inside the catalog, and symlinks below a
local catalog's root are followed only while they resolve inside it.
"""

import asyncio
import json
import os
import shutil
import uuid
from pathlib import Path

import numpy as np
import pytest

import geopyspark_rs as gps
import geopyspark_rs.local as gl
from geopyspark_rs import _native
from geopyspark_rs.errors import CorruptDataError, PathEscapeError

SPATIAL = gps.LayerType.SPATIAL


# ------------------------------------------------------------------------------------------------ helpers

def _tiles(cols=2, rows=2, size=4, seed=0):
    rng = np.random.default_rng(seed)
    tiles = {gps.SpatialKey(c, r): gps.Tile(rng.integers(0, 200, (1, size, size)).astype(np.uint8), "uint8", 0)
             for c in range(cols) for r in range(rows)}
    extent = gps.Extent(0.0, 0.0, float(cols), float(rows))
    ld = gps.LayoutDefinition(extent, gps.TileLayout(cols, rows, size, size))
    md = gps.Metadata(gps.Bounds(gps.SpatialKey(0, 0), gps.SpatialKey(cols - 1, rows - 1)), "EPSG:4326", "uint8",
                      extent, ld)
    return tiles, md


def local_layer(seed=0) -> gl.Layer:
    tiles, md = _tiles(seed=seed)
    return gl.Layer(SPATIAL, tiles, md, zoom_level=0)


def spark_layer(seed=0):
    tiles, md = _tiles(seed=seed)
    return gps.TiledRasterLayer.from_numpy_tiles(SPATIAL, list(tiles.items()), md, zoom_level=0)


def snapshot(top: Path, skip: Path | None = None) -> dict:
    """Every entry under ``top`` (not following links) except the ``skip`` subtree: path → file bytes, link
    target or 'dir'."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(top):
        d = Path(dirpath)
        if skip is not None and (d == skip or skip in d.parents):
            continue
        for name in dirnames + filenames:
            p = d / name
            if skip is not None and p == skip:
                continue
            if p.is_symlink():
                out[str(p)] = "link->" + os.readlink(p)
            elif p.is_dir():
                out[str(p)] = "dir"
            else:
                out[str(p)] = p.read_bytes()
    return out


@pytest.fixture
def cat(tmp_path):
    """``(root, outside)``: an empty catalog directory and a sibling directory with a sentinel file."""
    root, outside = tmp_path / "cat", tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    (outside / "sentinel").write_text("untouched")
    return root, outside


def _refused(calls, exc=ValueError):
    """Each ``(label, thunk)`` raises ``exc``; returns the messages."""
    messages = []
    for label, call in calls:
        with pytest.raises(exc) as info:
            call()
            pytest.fail(f"{label}: not refused")
        messages.append((label, str(info.value)))
    return messages


def _name_entry_points(root: str, name: str, spark_too: bool):
    store = gps.AttributeStore(root)
    calls = [
        ("local.write", lambda: gl.write(root, name, local_layer())),
        ("local.query", lambda: gl.query(root, name, 0)),
        ("local.read", lambda: gl.read(root, name, 0)),
        ("local.read_value", lambda: gl.read_value(root, name, 0, 0, 0)),
        ("read_layer_metadata", lambda: gps.read_layer_metadata(root, name, 0)),
        ("AttributeStore.layer.read", lambda: store.layer(name, 0).read("extra")),
        ("AttributeStore.layer.write", lambda: store.layer(name, 0).write("extra", 1)),
        ("AttributeStore.contains", lambda: store.contains(name, 0)),
        ("AttributeStore.delete", lambda: store.delete(name, 0)),
        ("attribute read", lambda: store.layer("good", 0).read(name)),
        ("attribute write", lambda: store.layer("good", 0).write(name, {"x": 1})),
        ("attribute delete", lambda: store.layer("good", 0).delete(name)),
    ]
    if spark_too:
        calls += [
            ("gps.write", lambda: gps.write(root, name, spark_layer())),
            ("gps.query", lambda: gps.query(root, name, 0)),
            ("gps.read_value", lambda: gps.read_value(root, name, 0, 0, 0)),
            ("gps.update_layer", lambda: gps.update_layer(root, name, spark_layer())),
        ]
    return calls


def _check_names_refused(spark_on, cat, names):
    root, outside = cat
    gl.write(str(root), "good", local_layer())
    before_root, before_all = snapshot(root), snapshot(root.parent)
    cases = 0
    for name in names:
        # Spark calls for a few names only (each gps.write builds a DataFrame); the checks run on the driver
        # before any job, in the same functions the local API calls.
        for label, message in _refused(_name_entry_points(str(root), name, spark_on)):
            assert "name" in message, (label, name, message)
            cases += 1
    assert snapshot(root) == before_root, "nothing created or changed inside the root"
    assert snapshot(root.parent) == before_all, "nothing created or changed outside the root"
    assert gl.query(str(root), "good", 0).keys() == local_layer().tiles.keys()
    return cases


# ------------------------------------------------------------------------------------------------ names

def test_dotdot_and_absolute_names_are_refused(spark, cat):
    names = ["..", ".", "../outside", "../../etc", "a/../../outside", "good/../..", "/tmp/abs", "/", "a/b",
             str(cat[1] / "evil"), "..\\..\\outside", ""]
    assert _check_names_refused(True, cat, names) == len(names) * 16


def test_percent_encoded_names_are_refused_and_never_decoded(spark, cat):
    names = ["%2e%2e%2f", "%2e%2e", "..%2f..%2foutside", "%2F", "%252e%252e%252f", "a%00b", "%2e%2e%5c"]
    assert _check_names_refused(True, cat, names) == len(names) * 16


def test_unicode_look_alikes_nul_newline_and_overlong_names_are_refused(spark, cat):
    names = [
        "\uff0e\uff0e\uff0foutside",  # fullwidth full stops and solidus
        "..\uff0f", "\u2215etc",  # division slash
        "\u2024\u2024",  # one-dot leaders
        "\u2e2e", "..\u2044x",  # fraction slash
        "a\x00b", "\x00", "x\r", "caf\u00e9", "\u0661\u0662",  # NUL, CR, non-ASCII letters and digits
        "good\n",  # a trailing newline, which a '$' match would accept
        "a" * 256, "b" * 10_000,
    ]
    assert _check_names_refused(False, cat, names) == len(names) * 12
    # A name of 255 characters fits a directory, but its attribute file name would not: refused, not truncated.
    root, _ = cat
    with pytest.raises(ValueError, match="at most 255"):
        gl.write(str(root), "n" * 240, local_layer())
    assert not any(p.name.startswith("nnnn") for p in root.rglob("*"))


def test_attribute_names_that_only_fit_when_short(cat):
    root, _ = cat
    gl.write(str(root), "good", local_layer())
    store = gps.AttributeStore(str(root))
    store.layer("good", 0).write("a" * 200, [1])
    assert store.layer("good", 0).read("a" * 200) == [1]
    with pytest.raises(ValueError, match="at most 255"):
        store.layer("good", 0).write("a" * 250, [1])


# ------------------------------------------------------------------------------------------------ catalog URIs

def test_catalog_uris_with_control_characters_or_s3_dotdot_are_refused(spark, cat):
    root, outside = cat
    before = snapshot(root.parent)
    bad = [f"{root}\x00/../outside", f"{root}/x\ny", f"file://{root}\x00", "s3://bucket/cat/../other",
           "s3a://bucket/../../x", "s3://bucket/a/b/.."]
    calls = []
    for uri in bad:
        calls += [("local.write", lambda u=uri: gl.write(u, "l", local_layer())),
                  ("local.query", lambda u=uri: gl.query(u, "l", 0, options={})),
                  ("AttributeStore", lambda u=uri: gps.AttributeStore(u).layers()),
                  ("gps.write", lambda u=uri: gps.write(u, "l", spark_layer()))]
    messages = _refused(calls)
    assert all(("control" in m or "'..'" in m) for _, m in messages), messages
    assert isinstance(pytest.raises(PathEscapeError, gps.AttributeStore, "s3://bucket/cat/../other").value,
                      PermissionError)
    assert snapshot(root.parent) == before


def test_percent_encoded_and_unicode_catalog_uris_stay_literal(cat):
    """Nothing percent-decodes or normalises a catalog URI: '%2e%2e%2f' and '．．／' are directory names."""
    root, outside = cat
    before_outside = snapshot(outside)
    for odd in ["%2e%2e%2foutside", "\uff0e\uff0e\uff0foutside", "..%2f..%2f"]:
        uri = f"file://{root}/{odd}"
        gl.write(uri, "l", local_layer())
        assert (root / odd / "attributes" / "l__.__0__.__metadata.json").is_file()
        assert gl.query(uri, "l", 0).keys() == local_layer().tiles.keys()
    assert snapshot(outside) == before_outside
    assert sorted(p.name for p in root.parent.iterdir()) == ["cat", "outside"]
    # '..' in a local root is the user's own choice of directory: it is resolved, and the layer lands there.
    (root / "sub").mkdir()
    gl.write(f"{root}/sub/..", "up", local_layer())
    assert (root / "up" / "0").is_dir()


# ------------------------------------------------------------------------------------------------ symlinks

def _move_out(root: Path, outside: Path, rel: str) -> Path:
    """Moves ``root/rel`` to ``outside/rel`` and leaves a symlink to it in its place."""
    src, dst = root / rel, outside / rel
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(str(src), str(dst))
    os.symlink(dst, src)
    return dst


def test_symlinked_layer_directories_are_not_followed_out(spark, cat):
    root, outside = cat
    r = str(root)
    gl.write(r, "victim", local_layer())
    gl.write(r, "good", local_layer(seed=1))
    _move_out(root, outside, "victim")  # the whole layer directory now lives outside, linked from inside
    # A new layer whose directory is a symlink out, holding a leftover-looking tile file: a write must neither
    # write there nor delete it (a write removes an interrupted write's leftovers first).
    (outside / "trap" / "0").mkdir(parents=True)
    (outside / "trap" / "0" / "1").write_bytes(b"precious")
    os.symlink(outside / "trap", root / "fresh")
    before = snapshot(outside)
    messages = _refused([
        ("local.query", lambda: gl.query(r, "victim", 0)),
        ("local.read_value", lambda: gl.read_value(r, "victim", 0, 0, 0)),
        ("gps.query", lambda: gps.query(r, "victim", 0)),
        ("gps.read_value", lambda: gps.read_value(r, "victim", 0, 1, 1)),
        ("gps.update_layer", lambda: gps.update_layer(r, "victim", spark_layer())),
        ("local.write", lambda: gl.write(r, "fresh", local_layer())),
        ("gps.write", lambda: gps.write(r, "fresh", spark_layer())),
    ], PathEscapeError)
    assert all("outside the catalog root" in m for _, m in messages), messages
    assert snapshot(outside) == before, "nothing written, replaced or deleted outside"
    assert not gps.AttributeStore(r).contains("fresh", 0)
    # Links that stay inside the root are followed, and the root itself may be a symlink.
    (root / "store").mkdir()
    shutil.move(str(root / "good"), str(root / "store" / "good"))
    os.symlink("store/good", root / "good")
    assert gl.query(r, "good", 0).keys() == local_layer().tiles.keys()
    os.symlink(root, root.parent / "alias")
    got = gl.query(str(root.parent / "alias"), "good", 0)
    k = gps.SpatialKey(1, 1)
    np.testing.assert_array_equal(got[k].cells, local_layer(seed=1).tiles[k].cells)


def test_symlinked_attribute_files_and_directories_are_not_followed_out(spark, cat):
    root, outside = cat
    r = str(root)
    gl.write(r, "good", local_layer())
    attrs = root / "attributes"
    # An attribute file linked to a JSON file outside (readable as an attribute if followed).
    (outside / "secret.json").write_text(json.dumps([{"name": "good", "zoom": 0}, {"secret": 42}]))
    os.symlink(outside / "secret.json", attrs / "good__.__0__.__extra.json")
    # A metadata attribute linked out: a whole layer "stolen" described by a file outside.
    shutil.copy(attrs / "good__.__0__.__metadata.json", outside / "meta.json")
    os.symlink(outside / "meta.json", attrs / "stolen__.__0__.__metadata.json")
    # A dangling link out: a write through it would create the file outside.
    os.symlink(outside / "created.json", attrs / "good__.__0__.__planted.json")
    store = gps.AttributeStore(r)
    before = snapshot(outside)
    _refused([
        ("attribute read", lambda: store.layer("good", 0).read("extra")),
        ("attribute write", lambda: store.layer("good", 0).write("extra", {"overwritten": True})),
        ("attribute write (dangling)", lambda: store.layer("good", 0).write("planted", 1)),
        ("attribute delete", lambda: store.layer("good", 0).delete("extra")),
        ("contains", lambda: store.contains("stolen", 0)),
        ("gps.query", lambda: gps.query(r, "stolen", 0)),
        ("local.query", lambda: gl.query(r, "stolen", 0)),
        ("local.write", lambda: gl.write(r, "stolen", local_layer())),
    ], PathEscapeError)
    assert snapshot(outside) == before
    assert not (outside / "created.json").exists()
    # The attributes directory itself linked out: every access refused, nothing created there.
    root2 = root.parent / "cat2"
    root2.mkdir()
    (outside / "attrs").mkdir()
    os.symlink(outside / "attrs", root2 / "attributes")
    _refused([
        ("local.write", lambda: gl.write(str(root2), "x", local_layer())),
        ("gps.write", lambda: gps.write(str(root2), "x", spark_layer())),
        ("layers", lambda: gps.AttributeStore(str(root2)).layers()),
        ("query", lambda: gl.query(str(root2), "x", 0)),
    ], PathEscapeError)
    assert list((outside / "attrs").iterdir()) == []
    assert not (root2 / "x").exists(), "no tile written before the refusal"


def test_symlinked_tile_files_are_not_read_or_merged(spark, cat):
    root, outside = cat
    r = str(root)
    gl.write(r, "other", local_layer(seed=7))
    gl.write(r, "good", local_layer())
    files = sorted((root / "good" / "0").iterdir())
    # One tile file replaced by a link to another layer's file outside (a valid tile file if followed).
    shutil.copytree(root / "other" / "0", outside / "other0")
    target = files[0]
    target.unlink()
    os.symlink(outside / "other0" / target.name, target)
    before = snapshot(outside)
    key = None
    index_json = json.dumps(gps.AttributeStore(r).layer("good", 0).read("metadata")["keyIndex"])
    for k in local_layer().tiles:
        name = _native.key_index_file_name(index_json, False, (k.col, k.row))
        if name == target.name:
            key = k
    assert key is not None
    _refused([
        ("local.query", lambda: gl.query(r, "good", 0)),
        ("gps.query", lambda: gps.query(r, "good", 0)),
        ("local.read_value", lambda: gl.read_value(r, "good", 0, key.col, key.row)),
        ("gps.read_value", lambda: gps.read_value(r, "good", 0, key.col, key.row)),
        ("gps.update_layer", lambda: gps.update_layer(r, "good", spark_layer(seed=3))),
    ], PathEscapeError)
    assert snapshot(outside) == before
    assert target.is_symlink(), "update_layer refused before writing"


# ------------------------------------------------------------------------------------------------ headers

def _plant(root: Path, name: str, header_changes: dict):
    """Writes a metadata attribute for layer ``name`` copied from layer 'good' with its header changed."""
    text = (root / "attributes" / "good__.__0__.__metadata.json").read_text()
    doc = json.loads(text)
    doc[0]["name"] = name
    doc[1]["header"].update(header_changes)
    (root / "attributes" / f"{name}__.__0__.__metadata.json").write_text(json.dumps(doc))


def test_file_headers_pointing_out_of_the_catalog_are_refused(spark, cat):
    root, outside = cat
    r = str(root)
    gl.write(r, "good", local_layer())
    # A real layer outside, so that following a header would succeed and read it.
    gl.write(str(outside), "victim", local_layer(seed=5))
    planted = {
        "up": "../outside/victim/0", "abs": str(outside / "victim" / "0"), "deep": "good/0/../../../outside/victim/0",
        "dotdot": "..", "rootabs": "/",
    }
    for name, path in planted.items():
        _plant(root, name, {"path": path})
    for name, path in {"num": 123, "none": None, "nul": "good\x000", "empty": ""}.items():
        _plant(root, name, {"path": path})
    before = snapshot(outside)
    calls = []
    for name in planted:
        calls += [(f"gps.query {name}", lambda n=name: gps.query(r, n, 0)),
                  (f"gps.read_value {name}", lambda n=name: gps.read_value(r, n, 0, 0, 0)),
                  (f"local.query {name}", lambda n=name: gl.query(r, n, 0)),
                  (f"update_layer {name}", lambda n=name: gps.update_layer(r, n, spark_layer()))]
    messages = _refused(calls, PathEscapeError)
    assert all("leaves the catalog root" in m for _, m in messages), messages
    _refused([(n, lambda n=n: gl.query(r, n, 0)) for n in ("num", "none", "nul", "empty")], CorruptDataError)
    assert snapshot(outside) == before
    # A percent-encoded path is a literal directory name inside the catalog: no tiles there, nothing read outside.
    _plant(root, "pct", {"path": "%2e%2e%2foutside%2fvictim/0"})
    assert gl.query(r, "pct", 0) == {}


def test_s3_headers_naming_other_buckets_or_keys_are_refused(spark, s3_conf):
    server = s3_conf
    opts = server.options()
    bucket = server.create_bucket("ps-" + uuid.uuid4().hex[:10])
    other = server.create_bucket("ps-other-" + uuid.uuid4().hex[:6])
    uri = f"s3://{bucket}/cat"
    gl.write(uri, "good", local_layer(), options=opts)
    gl.write(f"s3://{other}/cat", "victim", local_layer(seed=5), options=opts)
    gl.write(f"s3://{bucket}/elsewhere", "victim", local_layer(seed=5), options=opts)
    meta = json.loads(_native.read_bytes(f"{uri}/_attributes/metadata__good__0.json", opts))
    planted = {
        "otherbucket": {"bucket": other, "key": "cat/victim/0"},
        "outsideprefix": {"key": "elsewhere/victim/0"},
        "dotdot": {"key": "cat/../elsewhere/victim/0"},
        "absdotdot": {"key": "/cat/../../elsewhere/victim/0"},
        "prefixsibling": {"key": "catalog-other/victim/0"},
        "emptykey": {"key": ""},
    }
    for name, change in planted.items():
        doc = json.loads(json.dumps(meta))
        doc[0]["name"] = name
        doc[1]["header"].update(change)
        _native.write_bytes(f"{uri}/_attributes/metadata__{name}__0.json", json.dumps(doc).encode(), opts)
    keys_before = _native.list_files(f"s3://{bucket}", opts) + _native.list_files(f"s3://{other}", opts)
    calls = []
    for name in planted:
        calls += [(f"local.query {name}", lambda n=name: gl.query(uri, n, 0, options=opts)),
                  (f"local.read_value {name}", lambda n=name: gl.read_value(uri, n, 0, 0, 0, options=opts)),
                  (f"gps.query {name}", lambda n=name: gps.query(uri, n, 0)),
                  (f"gps.update_layer {name}", lambda n=name: gps.update_layer(uri, n, spark_layer()))]
    messages = _refused(calls, PathEscapeError)
    assert all("outside the catalog root" in m for _, m in messages), messages
    keys_after = _native.list_files(f"s3://{bucket}", opts) + _native.list_files(f"s3://{other}", opts)
    assert keys_after == keys_before
    assert gl.query(uri, "good", 0, options=opts).keys() == local_layer().tiles.keys()


# ------------------------------------------------------------------------------------------------ GeoTIFF paths

def test_geotiff_paths_with_nul_bytes_are_bad_arguments(spark, tmp_path):
    """The GeoTIFF readers have no catalog root (any path the user names is theirs to read), but a NUL byte,
    which would cut the path short at the OS boundary, is refused as a bad argument."""
    bad = str(tmp_path / "a.tif\x00/../../etc/passwd")
    for call in (lambda: gps.geotiff.get(SPATIAL, bad),
                 lambda: _native.read_bytes(bad),
                 lambda: asyncio.run(__import__("geopyspark_rs.cog", fromlist=["GeoTIFF"]).GeoTIFF.open(bad))):
        with pytest.raises(ValueError, match="NUL"):
            call()
