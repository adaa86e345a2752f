"""GeoTrellis catalogs: reading real GeoTrellis-written layers (2.x and 3.x), writing layers GeoTrellis
reads byte for byte, queries, the attribute store, and the same on a loopback S3 server.

The independent reference decoder is fastavro driven by the schema stored in each layer."""

import datetime
import io
import json
import uuid
import zlib

import numpy as np
import pytest
import shapely
from shapely.geometry import Point, Polygon, box

import geopyspark_rs as gps
from geopyspark_rs import _native

UTC = datetime.timezone.utc


def fastavro_pairs(path, schema):
    """(key dict, value dict) pairs of a tile file, decoded by fastavro (not our code)."""
    import fastavro

    raw = zlib.decompress(open(path, "rb").read())
    record = fastavro.schemaless_reader(io.BytesIO(raw), fastavro.parse_schema(schema))
    return [(p["_1"], p["_2"]) for p in record["pairs"]]


def fastavro_cells(tile: dict) -> np.ndarray:
    """The cells of a fastavro-decoded UShortArrayTile (the 2.x fixture's only tile class)."""
    cells = np.asarray(tile["cells"], dtype=np.int64) & 0xFFFF  # Java's signed shorts
    return cells.astype(np.uint16).reshape(tile["rows"], tile["cols"])


@pytest.fixture(scope="module")
def catalog_2x(shared_data):
    root = shared_data / "geotrellis-catalog-2x"
    attr = json.loads((root / "attributes" / "landsat__.__0__.__metadata.json").read_text())
    return root, attr[1]["schema"]


@pytest.fixture(scope="module")
def catalog_3x(shared_data):
    root = shared_data / "geotrellis-catalog-3x"
    return root, json.loads((root / "expected" / "manifest.json").read_text())


# --- GeoTrellis 2.x ---------------------------------------------------------------------------------

def test_2x_read_value_reads_all_559_tiles_as_fastavro_does(catalog_2x):
    root, schema = catalog_2x
    files = sorted((root / "landsat" / "0").iterdir())
    assert len(files) == 559
    zeros = 0
    for f in files:
        [(key, tile)] = fastavro_pairs(f, schema)
        got = gps.read_value(str(root), "landsat", 0, key["col"], key["row"])
        assert got is not None, f.name
        assert (got.cell_type, got.no_data_value, got.cells.dtype) == ("USHORT", None, np.uint16)
        assert got.cells.shape == (1, 256, 256)
        np.testing.assert_array_equal(got.cells[0], fastavro_cells(tile), err_msg=f.name)
        zeros += int(not got.cells.any())
    assert zeros == 135
    assert gps.read_value(str(root), "landsat", 0, 200, 200) is None


def test_2x_query_reads_the_547_tiles_inside_the_metadata_bounds(spark, catalog_2x):
    root, schema = catalog_2x
    layer = gps.query(str(root), "landsat", 0)
    assert layer.zoom_level == 0
    assert layer.layer_metadata.cell_type == "uint16raw"
    assert layer.layer_metadata.crs == "+proj=longlat +datum=WGS84 +no_defs "
    tiles = dict(layer.to_numpy_tiles())
    # GeoTrellis 3.x reads 547 of the 559: the 12 tiles at column 34 lie outside the bounds (0..33).
    assert len(tiles) == 547
    assert all(k.col <= 33 for k in tiles)
    for f in sorted((root / "landsat" / "0").iterdir())[::25]:
        [(key, tile)] = fastavro_pairs(f, schema)
        k = gps.SpatialKey(key["col"], key["row"])
        if k.col <= 33:
            np.testing.assert_array_equal(tiles[k].cells[0], fastavro_cells(tile))


def test_2x_query_by_polygon_returns_exactly_the_intersecting_tiles(spark, catalog_2x):
    root, _ = catalog_2x
    md = gps.read_layer_metadata(str(root), "landsat", 0)
    e, tl = md.layout_definition.extent, md.tile_layout
    w, h = (e.xmax - e.xmin) / tl.layoutCols, (e.ymax - e.ymin) / tl.layoutRows
    poly = Polygon([(139.2, 35.3), (140.6, 35.1), (141.0, 36.4), (139.9, 36.9), (139.4, 36.0)])
    present = {(k.col, k.row) for k in gps.query(str(root), "landsat", 0).collect_keys()}
    expected = set()
    for col, row in present:
        if True:
            b = box(e.xmin + col * w, e.ymax - (row + 1) * h, e.xmin + (col + 1) * w, e.ymax - row * h)
            if poly.intersects(b) and not poly.touches(b):
                expected.add((col, row))
    for geom in (poly, shapely.to_wkb(poly)):
        got = {(k.col, k.row) for k in gps.query(str(root), "landsat", 0, query_geom=geom).collect_keys()}
        assert got == expected
    assert 0 < len(expected) < 547

    # A point selects the one tile containing it; an Extent acts as its polygon.
    got = gps.query(str(root), "landsat", 0, query_geom=Point(e.xmin + 10.5 * w, e.ymax - 4.5 * h)).collect_keys()
    assert [(k.col, k.row) for k in got] == [(10, 4)]
    ext = gps.Extent(e.xmin + 2.5 * w, e.ymax - 3.5 * h, e.xmin + 4.5 * w, e.ymax - 1.5 * h)
    got = {(k.col, k.row) for k in gps.query(str(root), "landsat", 0, query_geom=ext).collect_keys()}
    assert got == {(c, r) for c in range(2, 5) for r in range(1, 4)} & present
    with pytest.raises(TypeError):
        gps.query(str(root), "landsat", 0, query_geom="POLYGON")


def test_query_proj_reprojects_the_geometry(spark, catalog_2x):
    root, _ = catalog_2x
    md = gps.read_layer_metadata(str(root), "landsat", 0)
    e, tl = md.layout_definition.extent, md.tile_layout
    w, h = (e.xmax - e.xmin) / tl.layoutCols, (e.ymax - e.ymin) / tl.layoutRows
    lon, lat = e.xmin + 10.5 * w, e.ymax - 4.5 * h
    from pyproj import Transformer

    x, y = Transformer.from_crs(4326, 3857, always_xy=True).transform(lon, lat)
    got = gps.query(str(root), "landsat", 0, query_geom=Point(x, y), query_proj=3857).collect_keys()
    assert [(k.col, k.row) for k in got] == [(10, 4)]


# --- GeoTrellis 3.x ---------------------------------------------------------------------------------

def _expected_tiles(root, layer):
    out = {}
    for z, zinfo in layer["zooms"].items():
        for key in zinfo["keys"]:
            name = "_".join(str(v) for v in key)
            out[tuple(key)] = np.load(root / "expected" / layer["name"] / z / f"{name}.npy")
    return out


def test_3x_layers_read_as_geotrellis_wrote_them(spark, catalog_3x):
    root, manifest = catalog_3x
    for layer in manifest["layers"]:
        expected = _expected_tiles(root, layer)
        spacetime = layer["key_type"] == "SpaceTimeKey"
        got = gps.query(str(root), layer["name"], 0)
        assert got.layer_type == (gps.LayerType.SPACETIME if spacetime else gps.LayerType.SPATIAL)
        assert got.layer_metadata.cell_type == layer["cell_type"]
        tiles = got.to_numpy_tiles()
        assert len(tiles) == len(expected), layer["name"]
        for key, tile in tiles:
            k = (key.col, key.row) + ((tc_ms(key.instant),) if spacetime else ())
            want = expected[k]
            cells = tile.cells if want.ndim == 3 else tile.cells[0]
            np.testing.assert_array_equal(cells, want, err_msg=f"{layer['name']} {k}")
        for k, want in list(expected.items())[:3]:
            zdt = datetime.datetime.fromtimestamp(k[2] / 1000, UTC) if spacetime else None
            tile = gps.read_value(str(root), layer["name"], 0, k[0], k[1], zdt=zdt)
            np.testing.assert_array_equal(tile.cells if want.ndim == 3 else tile.cells[0], want)


def tc_ms(dt):
    from geopyspark_rs.geotrellis.tile_contract import instant_ms

    return instant_ms(dt)


def test_3x_spacetime_query_by_time_intervals(spark, catalog_3x):
    root, manifest = catalog_3x
    layer = next(l for l in manifest["layers"] if l["key_type"] == "SpaceTimeKey")
    instants = sorted({k[2] for k in _expected_tiles(root, layer)})
    assert len(instants) == 3
    t = [datetime.datetime.fromtimestamp(ms / 1000, UTC) for ms in instants]
    intervals = [t[0], t[0] + datetime.timedelta(hours=1)]
    got = gps.query(str(root), layer["name"], 0, time_intervals=intervals)
    assert {tc_ms(k.instant) for k in got.collect_keys()} == {instants[0]}
    assert intervals == [t[0].isoformat(), (t[0] + datetime.timedelta(hours=1)).isoformat()]  # GeoPySpark mutates it
    got = gps.query(str(root), layer["name"], 0, time_intervals=[t[1], t[2]])
    assert {tc_ms(k.instant) for k in got.collect_keys()} == {instants[1], instants[2]}


def test_writing_a_geotrellis_layer_back_gives_identical_files(spark, catalog_3x, tmp_path):
    """GeoTrellis wrote multiband_uint8 with its FileLayerWriter; our writer writes the same bytes."""
    root, _ = catalog_3x
    layer = gps.query(str(root), "multiband_uint8", 0)
    gps.write(str(tmp_path), "multiband_uint8", layer)
    theirs = sorted((root / "multiband_uint8" / "0").iterdir())
    ours = sorted((tmp_path / "multiband_uint8" / "0").iterdir())
    assert [f.name for f in ours] == [f.name for f in theirs]
    for a, b in zip(ours, theirs):
        assert a.read_bytes() == b.read_bytes(), a.name
    name = "multiband_uint8__.__0__.__metadata.json"
    assert (tmp_path / "attributes" / name).read_text() == (root / "attributes" / name).read_text()



def test_fast_compression_writes_files_geotrellis_reads_and_the_default_stays_identical(spark, catalog_3x, tmp_path):
    """compression_level writes libdeflate zlib streams: other bytes than GeoTrellis' files, but each inflates
    (with Python's zlib, as Java's Inflater would) to exactly the Avro datum GeoTrellis wrote, so GeoTrellis,
    fastavro and gps.query read the same cells. The default still writes GeoTrellis' bytes."""
    root, _ = catalog_3x
    layer = gps.query(str(root), "multiband_uint8", 0)
    gps.write(str(tmp_path / "default"), "multiband_uint8", layer)
    theirs = sorted((root / "multiband_uint8" / "0").iterdir())
    schema = read_attribute(str(root), "multiband_uint8", 0, "metadata")["schema"]
    for level in (1, 6):
        cat = tmp_path / f"level{level}"
        gps.write(str(cat), "multiband_uint8", layer, compression_level=level)
        ours = sorted((cat / "multiband_uint8" / "0").iterdir())
        assert [f.name for f in ours] == [f.name for f in theirs]
        assert any(a.read_bytes() != b.read_bytes() for a, b in zip(ours, theirs))
        for a, b in zip(ours, theirs):
            assert zlib.decompress(a.read_bytes()) == zlib.decompress(b.read_bytes()), a.name
            assert fastavro_pairs(a, schema) == fastavro_pairs(b, schema)
        assert read_attribute(str(cat), "multiband_uint8", 0, "metadata") == \
            read_attribute(str(root), "multiband_uint8", 0, "metadata")
        back = dict(gps.query(str(cat), "multiband_uint8", 0).to_numpy_tiles())
        for k, t in layer.to_numpy_tiles():
            np.testing.assert_array_equal(back[k].cells, t.cells)
    for a, b in zip(sorted((tmp_path / "default" / "multiband_uint8" / "0").iterdir()), theirs):
        assert a.read_bytes() == b.read_bytes(), a.name


def test_compression_levels_round_trip_and_bad_levels_are_refused(spark, tmp_path):
    layer, tiles = _layer("float32", bands=2, size=64)
    sizes = {}
    for level in (0, 1, 12):
        gps.write(str(tmp_path), f"l{level}", layer, compression_level=level)
        _same_tiles(gps.query(str(tmp_path), f"l{level}", 3).to_numpy_tiles(), tiles)
        sizes[level] = sum(f.stat().st_size for f in (tmp_path / f"l{level}" / "3").iterdir())
    assert sizes[0] > sizes[1] >= sizes[12]
    for bad, err in ((13, ValueError), (-1, ValueError), ("1", TypeError), (True, TypeError), (1.0, TypeError)):
        with pytest.raises(err, match="compression_level"):
            gps.write(str(tmp_path), "bad", layer, compression_level=bad)
    assert not (tmp_path / "bad").exists()

# --- round trips, on the file backend and on S3 ------------------------------------------------------

@pytest.fixture(params=["file", "s3"])
def catalog(request, tmp_path):
    """A fresh catalog URI: a local directory, or a bucket on the loopback S3 server."""
    if request.param == "file":
        return str(tmp_path)
    server = request.getfixturevalue("s3_conf")
    bucket = server.create_bucket("cat-" + uuid.uuid4().hex[:12])
    return f"s3://{bucket}/catalogs/test"


def read_attribute(uri, name, zoom, attribute):
    store = gps.AttributeStore(uri)
    return json.loads(_native.read_bytes(store.location.attribute_path(name, zoom, attribute), store.options))[1]


CELL_TYPES = ["bool", "int8", "int8raw", "int8ud7", "uint8", "uint8raw", "uint8ud255", "int16", "int16raw",
              "int16ud-9999", "uint16", "uint16raw", "uint16ud65535", "int32", "int32raw", "int32ud-1",
              "float32", "float32raw", "float32ud-9999.0", "float64", "float64raw", "float64ud1.0E-5"]


def _layer(cell_type, bands, layer_type=gps.LayerType.SPATIAL, instants=(None,), size=4, cols=3, rows=2, seed=0):
    base, _, _ = _native.cell_type_info(cell_type)
    dtype = {"bool": np.uint8, "int8": np.int8, "uint8": np.uint8, "int16": np.int16, "uint16": np.uint16,
             "int32": np.int32, "float32": np.float32, "float64": np.float64}[base.replace("raw", "").split("ud")[0]]
    rng = np.random.default_rng(seed)
    tiles = []
    for t in instants:
        for c in range(cols):
            for r in range(rows):
                if np.dtype(dtype).kind == "f":
                    cells = rng.normal(0, 100, (bands, size, size)).astype(dtype)
                    cells[0, 0, 0] = np.nan
                elif base.startswith("bool"):
                    cells = rng.integers(0, 2, (bands, size, size)).astype(dtype)
                else:
                    info = np.iinfo(dtype)
                    cells = rng.integers(info.min, info.max, (bands, size, size), endpoint=True).astype(dtype)
                key = gps.SpatialKey(c, r) if t is None else gps.SpaceTimeKey(c, r, t)
                tiles.append((key, gps.Tile(cells, cell_type, None)))
    extent = gps.Extent(0.0, 0.0, float(cols), float(rows))
    ld = gps.LayoutDefinition(extent, gps.TileLayout(cols, rows, size, size))
    times = [t for t in instants if t is not None]
    lo = gps.SpatialKey(0, 0) if not times else gps.SpaceTimeKey(0, 0, min(times))
    hi = gps.SpatialKey(cols - 1, rows - 1) if not times else gps.SpaceTimeKey(cols - 1, rows - 1, max(times))
    md = gps.Metadata(gps.Bounds(lo, hi), "EPSG:4326", cell_type, extent, ld)
    return gps.TiledRasterLayer.from_numpy_tiles(layer_type, tiles, md, zoom_level=3), tiles


def _same_tiles(got, want):
    got = {k: t for k, t in got}
    assert set(got) == {k for k, _ in want}
    for k, t in want:
        np.testing.assert_array_equal(got[k].cells, t.cells, err_msg=str(k))


def test_round_trip_every_cell_type(spark, catalog):
    for i, ct in enumerate(CELL_TYPES):
        layer, tiles = _layer(ct, bands=1 + i % 3, seed=i)
        gps.write(catalog, f"ct{i}", layer)
        back = gps.query(catalog, f"ct{i}", 3)
        assert back.layer_metadata.cell_type == ct
        assert back.layer_metadata == layer.layer_metadata
        _same_tiles(back.to_numpy_tiles(), tiles)
        k, t = tiles[-1]
        np.testing.assert_array_equal(gps.read_value(catalog, f"ct{i}", 3, k.col, k.row).cells, t.cells)


@pytest.mark.parametrize("method", ["zorder", "hilbert", "rowmajor"])
def test_round_trip_spatial_index_methods(spark, catalog, method):
    layer, tiles = _layer("int16", bands=2, cols=5, rows=3)
    gps.write(catalog, "idx", layer, index_strategy=method)
    attr = read_attribute(catalog, "idx", 3, "metadata")
    assert attr["keyIndex"]["type"] == method
    assert attr["header"]["valueClass"] == "geotrellis.raster.MultibandTile"
    _same_tiles(gps.query(catalog, "idx", 3).to_numpy_tiles(), tiles)
    got = gps.query(catalog, "idx", 3, query_geom=gps.Extent(1.5, 0.5, 3.5, 1.5)).collect_keys()
    assert {(k.col, k.row) for k in got} == {(c, r) for c in (1, 2, 3) for r in (1, 2)}


@pytest.mark.parametrize("method,unit,resolution", [("zorder", gps.TimeUnit.DAYS, None),
                                                     ("zorder", gps.TimeUnit.HOURS, 6), ("hilbert", None, 4)])
def test_round_trip_spacetime(spark, catalog, method, unit, resolution):
    times = [datetime.datetime(2020, 1, d) for d in (1, 2, 5)]  # naive UTC, as layers return them
    layer, tiles = _layer("float32", bands=1, layer_type=gps.LayerType.SPACETIME, instants=times)
    gps.write(catalog, "st", layer, index_strategy=method, time_unit=unit, time_resolution=resolution)
    back = gps.query(catalog, "st", 3)
    assert back.layer_type == gps.LayerType.SPACETIME
    _same_tiles(back.to_numpy_tiles(), tiles)
    tile = gps.read_value(catalog, "st", 3, 1, 1, zdt=times[2])
    np.testing.assert_array_equal(tile.cells, dict(tiles)[gps.SpaceTimeKey(1, 1, times[2])].cells)
    assert gps.read_value(catalog, "st", 3, 1, 1, zdt=datetime.datetime(2020, 1, 3)) is None


def test_write_refuses_existing_layers_and_bad_arguments(spark, catalog):
    layer, _ = _layer("uint8", bands=1)
    gps.write(catalog, "a", layer)
    with pytest.raises(ValueError, match="already exists"):
        gps.write(catalog, "a", layer)
    with pytest.raises(ValueError):
        gps.write(catalog, "../escape", layer)
    with pytest.raises(ValueError, match="ROWMAJOR"):
        st, _ = _layer("uint8", 1, gps.LayerType.SPACETIME, instants=[datetime.datetime(2020, 1, 1)])
        gps.write(catalog, "b", st, index_strategy=gps.IndexingMethod.ROWMAJOR)
    with pytest.raises(ValueError, match="time_unit"):
        gps.write(catalog, "b", st)
    with pytest.raises(ValueError, match="unsupported catalog URI"):
        gps.write("ftp://host/cat", "b", layer)
    with pytest.raises(ValueError, match="does not exist"):
        gps.query(catalog, "missing", 0)
    with pytest.raises(ValueError, match="does not exist"):
        gps.read_value(catalog, "a", 7, 0, 0)


def test_an_interrupted_write_leaves_no_layer(spark, tmp_path):
    layer, _ = _layer("uint8", bands=1)
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "3").write_text("a file where the layer's directory must go")
    with pytest.raises(Exception):
        gps.write(str(tmp_path), "broken", layer)
    assert not gps.AttributeStore(str(tmp_path)).contains("broken", 3)
    assert not (tmp_path / "attributes" / "broken__.__3__.__metadata.json").exists()

    # Tile files of an interrupted write are not inherited by the next write of the layer.
    gps.write(str(tmp_path), "again", layer)
    (tmp_path / "attributes" / "again__.__3__.__metadata.json").unlink()  # as if the write had stopped
    fewer = gps.TiledRasterLayer(layer.layer_type, layer.dataframe.where("col = 0"), layer.layer_metadata, 3)
    gps.write(str(tmp_path), "again", fewer)
    assert {k.col for k in gps.query(str(tmp_path), "again", 3).collect_keys()} == {0}


def test_update_layer_merges_tiles_and_metadata(spark, catalog):
    layer, tiles = _layer("int32", bands=1, cols=4, rows=2, seed=1)
    part = gps.TiledRasterLayer(layer.layer_type, layer.dataframe.where("col < 2"), layer.layer_metadata, 3)
    gps.write(catalog, "u", part)
    assert len(gps.query(catalog, "u", 3).collect_keys()) == 4
    newer, new_tiles = _layer("int32", bands=1, cols=4, rows=2, seed=2)
    update = gps.TiledRasterLayer(newer.layer_type, newer.dataframe.where("col >= 1"), newer.layer_metadata, 3)
    gps.update_layer(catalog, "u", update)
    got = dict(gps.query(catalog, "u", 3).to_numpy_tiles())
    assert len(got) == 8
    old, new = dict(tiles), dict(new_tiles)
    for k, t in got.items():
        np.testing.assert_array_equal(t.cells, (old if k.col == 0 else new)[k].cells)
    with pytest.raises(ValueError, match="does not exist"):
        gps.update_layer(catalog, "nope", update)


def test_pyramid_write_writes_every_level(spark, catalog):
    levels = {}
    for z in (1, 2):
        layer, _ = _layer("uint16", bands=1, cols=z, rows=z)
        levels[z] = gps.TiledRasterLayer(layer.layer_type, layer.dataframe, layer.layer_metadata, z)
    pyramid = gps.Pyramid(levels)
    assert pyramid.max_zoom == 2
    pyramid.write(catalog, "pyr")
    store = gps.AttributeStore(catalog)
    assert {(a.layer_name, a.layer_zoom) for a in store.layers()} == {("pyr", 1), ("pyr", 2)}
    assert len(gps.query(catalog, "pyr", 2).collect_keys()) == 4


def test_attribute_store(spark, tmp_path, catalog_2x):
    root, _ = catalog_2x
    store = gps.AttributeStore(str(root))
    assert store.contains("landsat", 0) and not store.contains("landsat", 1)
    assert [(a.layer_name, a.layer_zoom) for a in store.layers()] == [("landsat", 0)]
    md = store.layer("landsat", 0).layer_metadata()
    assert md.tile_layout == gps.TileLayout(34, 28, 256, 256)
    assert md.bounds == gps.Bounds(gps.SpatialKey(0, 0), gps.SpatialKey(33, 27))
    assert gps.AttributeStore.cached(str(root)) is gps.AttributeStore.cached(str(root))
    assert gps.AttributeStore.build(store) is store
    with pytest.raises(ValueError):
        gps.AttributeStore.build(42)
    with pytest.raises(ValueError):
        gps.AttributeStore("hdfs://namenode/catalog")

    layer, _ = _layer("float32", bands=1)
    gps.write(str(tmp_path), "h", layer)
    attrs = gps.AttributeStore(str(tmp_path)).layer("h", 3)
    hist = layer.get_histogram()
    attrs.write("histogram", hist.to_dict())
    assert gps.Histogram.from_dict(attrs.read("histogram")).mean() == pytest.approx(hist.mean())
    attrs["note"] = {"a": [1, 2]}
    assert attrs["note"] == {"a": [1, 2]}
    assert (tmp_path / "attributes" / "h__.__3__.__note.json").read_text() == '[{"name":"h","zoom":3},{"a":[1,2]}]'
    del attrs["note"]
    with pytest.raises(KeyError):
        attrs.read("note")
    with pytest.raises(ValueError):
        attrs.write("../x", 1)


def test_corrupt_tile_file_names_the_file(spark, tmp_path):
    layer, _ = _layer("uint8", bands=1)
    gps.write(str(tmp_path), "c", layer)
    victim = sorted((tmp_path / "c" / "3").iterdir())[0]
    victim.write_bytes(victim.read_bytes()[:20])
    with pytest.raises(Exception, match=victim.name):
        gps.query(str(tmp_path), "c", 3).to_numpy_tiles()


def test_format_geotrellis_data_source(spark, catalog_2x):
    root, _ = catalog_2x
    df = spark.read.format("geotrellis").option("layer", "landsat").option("zoom", 0).load(str(root))
    assert df.columns == ["col", "row", "cell_type", "bands", "rows", "cols", "cells"]
    assert df.count() == 547


# --- S3 ---------------------------------------------------------------------------------------------

def test_s3_catalog_round_trip_layout_and_queries(spark, s3_conf):
    bucket = s3_conf.create_bucket("catalog")
    uri = f"s3://{bucket}/cats/one"
    layer, tiles = _layer("uint16ud65535", bands=2, cols=4, rows=3)
    gps.write(uri, "s3layer", layer, index_strategy="hilbert")
    opts = s3_conf.options()
    keys = sorted(_native.list_files(f"s3://{bucket}/cats", opts))
    assert f"s3://{bucket}/cats/one/_attributes/metadata__s3layer__3.json" in keys
    assert any(k.startswith(f"s3://{bucket}/cats/one/s3layer/3/") for k in keys)
    attr = json.loads(_native.read_bytes(f"s3://{bucket}/cats/one/_attributes/metadata__s3layer__3.json", opts))
    assert attr[1]["header"] == {"keyClass": "geotrellis.layer.SpatialKey",
                                 "valueClass": "geotrellis.raster.MultibandTile", "bucket": bucket,
                                 "key": "cats/one/s3layer/3", "layerType": "AvroLayerType", "format": "s3"}
    _same_tiles(gps.query(uri, "s3layer", 3).to_numpy_tiles(), tiles)
    got = gps.query(uri, "s3layer", 3, query_geom=box(0.5, 0.5, 1.5, 2.5)).collect_keys()
    assert {(k.col, k.row) for k in got} == {(c, r) for c in (0, 1) for r in (0, 1, 2)}
    k, t = tiles[5]
    np.testing.assert_array_equal(gps.read_value(uri, "s3layer", 3, k.col, k.row).cells, t.cells)
    store = gps.AttributeStore(uri)
    assert store.contains("s3layer", 3)
    store.layer("s3layer", 3).write("extra", [1, 2, 3])
    assert store.layer("s3layer", 3).read("extra") == [1, 2, 3]
    assert [(a.layer_name, a.layer_zoom) for a in store.layers()] == [("s3layer", 3)]
    with pytest.raises(ValueError, match="already exists"):
        gps.write(uri, "s3layer", layer)


def test_s3_reads_the_real_2x_catalog(spark, s3_conf, catalog_2x):
    root, schema = catalog_2x
    bucket = s3_conf.create_bucket("landsat")
    opts = s3_conf.options()
    # The S3 layout of the same layer: _attributes/metadata__landsat__0.json and a header with bucket/key.
    attr = json.loads((root / "attributes" / "landsat__.__0__.__metadata.json").read_text())
    attr[1]["header"] = {"keyClass": "geotrellis.spark.SpatialKey", "valueClass": "geotrellis.raster.Tile",
                         "bucket": bucket, "key": "cat/landsat/0", "layerType": "AvroLayerType", "format": "s3"}
    _native.write_bytes(f"s3://{bucket}/cat/_attributes/metadata__landsat__0.json", json.dumps(attr).encode(), opts)
    files = sorted((root / "landsat" / "0").iterdir())[:40]
    for f in files:
        _native.write_bytes(f"s3://{bucket}/cat/landsat/0/{f.name}", f.read_bytes(), opts)
    tiles = dict(gps.query(f"s3://{bucket}/cat", "landsat", 0).to_numpy_tiles())
    for f in files:
        [(key, tile)] = fastavro_pairs(f, schema)
        got = gps.read_value(f"s3://{bucket}/cat", "landsat", 0, key["col"], key["row"])
        np.testing.assert_array_equal(got.cells[0], fastavro_cells(tile))
        if key["col"] <= 33:
            np.testing.assert_array_equal(tiles[gps.SpatialKey(key["col"], key["row"])].cells[0], fastavro_cells(tile))


# --- GeoTrellis COG layers --------------------------------------------------------------------------

def _rasterio_window(path, overview, col_off, row_off, size=256):
    import rasterio
    from rasterio.windows import Window

    kwargs = {} if overview == 0 else {"overview_level": overview - 1}
    with rasterio.open(path, **kwargs) as src:
        return src.read(window=Window(col_off, row_off, size, size))


def test_cog_layer_metadata_values_and_queries(spark, shared_data):
    root = shared_data / "geotrellis-cog-layer"
    md = gps.read_layer_metadata(str(root), "stitch-layer", 5)
    assert md.cell_type == "int16ud-9999"
    assert md.tile_layout == gps.TileLayout(32, 32, 256, 256)
    assert md.layout_definition.extent.xmin == -20037508.342789244
    # Zoom 5 lies in the range 3_6: file of the zoom-3 ancestor, overview 6 - 5 = 1.
    keys = [k for k in gps.query(str(root), "stitch-layer", 5).collect_keys()]
    assert keys and all(md.bounds.minKey.col <= k.col <= md.bounds.maxKey.col for k in keys)
    checked = 0
    for k in keys[:6]:
        base = (k.col >> 2, k.row >> 2)
        index = _native.key_index_to_index(
            json.dumps({"type": "zorder", "properties": {"keyBounds": {"minKey": {"col": 5, "row": 2},
                                                                       "maxKey": {"col": 7, "row": 3}}}}),
            False, np.array([base[0]], np.int32), np.array([base[1]], np.int32))[0]
        path = root / "stitch-layer" / "3_6" / f"{index}.tiff"
        want = _rasterio_window(str(path), 1, (k.col - base[0] * 4) * 256, (k.row - base[1] * 4) * 256)
        got = gps.read_value(str(root), "stitch-layer", 5, k.col, k.row)
        np.testing.assert_array_equal(got.cells, want)
        checked += 1
    assert checked
    tiles = dict(gps.query(str(root), "stitch-layer", 5).to_numpy_tiles())
    np.testing.assert_array_equal(tiles[keys[0]].cells, gps.read_value(str(root), "stitch-layer", 5,
                                                                        keys[0].col, keys[0].row).cells)
    # The multiband layer misses some of its original files: absent tiles are None, queries skip them.
    assert gps.read_value(str(root), "multiband-cog-layer", 11, 184 * 8, 118 * 8) is None  # 8_11/28520.tiff
    mb = gps.query(str(root), "multiband-cog-layer", 0).to_numpy_tiles()
    assert len(mb) == 1 and mb[0][1].cells.shape == (3, 256, 256)
    np.testing.assert_array_equal(mb[0][1].cells, _rasterio_window(str(root / "multiband-cog-layer" / "0_0" / "0.tiff"), 0, 0, 0))
    with pytest.raises(ValueError, match="no zoom 12"):
        gps.read_layer_metadata(str(root), "stitch-layer", 12)


def test_update_of_a_singleband_geotrellis_layer_keeps_its_schema(spark, catalog_3x, tmp_path):
    """GeoTrellis wrote float32_nan as a singleband (Tile) layer: an update writes singleband records that
    its stored 3.x schema decodes (checked with fastavro)."""
    import shutil

    root, _ = catalog_3x
    shutil.copytree(root / "attributes", tmp_path / "attributes")
    shutil.copytree(root / "float32_nan", tmp_path / "float32_nan")
    layer = gps.query(str(tmp_path), "float32_nan", 0)
    changed = gps.TiledRasterLayer(layer.layer_type, layer.dataframe.where("col = 1 and row = 1"),
                                   layer.layer_metadata, 0) + 1
    before = dict(layer.to_numpy_tiles())
    gps.update_layer(str(tmp_path), "float32_nan", changed)
    after = dict(gps.query(str(tmp_path), "float32_nan", 0).to_numpy_tiles())
    assert after.keys() == before.keys()
    for k, t in after.items():
        np.testing.assert_array_equal(t.cells, before[k].cells + 1 if (k.col, k.row) == (1, 1) else before[k].cells)
    schema = json.loads((tmp_path / "attributes" / "float32_nan__.__0__.__metadata.json").read_text())[1]["schema"]
    for f in (tmp_path / "float32_nan" / "0").iterdir():
        [(key, value)] = fastavro_pairs(f, schema)
        assert "bands" not in value  # still a single Tile, not an ArrayMultibandTile


def test_keys_sharing_an_index_share_one_file_across_arrow_batches(spark, tmp_path):
    """Z-order by day puts the three instants of one day and place in one KeyValueRecord; with one row per
    Arrow batch the runs of equal index span batches."""
    times = [datetime.datetime(2020, 1, 1, h) for h in (0, 6, 12)]
    layer, tiles = _layer("int16", bands=1, layer_type=gps.LayerType.SPACETIME, instants=times)
    spark.conf.set("spark.sql.execution.arrow.maxRecordsPerBatch", "1")
    try:
        gps.write(str(tmp_path), "same_day", layer, time_unit=gps.TimeUnit.DAYS)
    finally:
        spark.conf.unset("spark.sql.execution.arrow.maxRecordsPerBatch")
    files = sorted((tmp_path / "same_day" / "3").iterdir())
    assert len(files) == 6  # 3 × 2 places, one file each
    schema = read_attribute(str(tmp_path), "same_day", 3, "metadata")["schema"]
    for f in files:
        pairs = fastavro_pairs(f, schema)
        assert sorted(p[0]["instant"] for p in pairs) == [tc_ms(t) for t in times]
    _same_tiles(gps.query(str(tmp_path), "same_day", 3).to_numpy_tiles(), tiles)
