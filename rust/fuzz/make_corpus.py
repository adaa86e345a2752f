#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets into rust/fuzz/corpus/<target>/.

Seeds come from ../shared/data (small GeoTIFFs, GeoTrellis tile files and attribute JSON, skipped when the
folder is absent) and are derived here: small GeoTIFFs in every codec, predictor, sample type, layout and
byte order this rasterio's GDAL writes; their segments for geotiff_decode; GeoTrellis Avro records of every
tile type; WKB of every geometry type; plans, colour maps, key indexes and histograms as the Python layer
writes them. Every seed is at most MAX_SEED bytes, so the committed corpus stays small (well under 5 MB).

Run with the project's venv (rasterio, shapely, tifffile, numpy):
    .venv/bin/python rust/fuzz/make_corpus.py
"""

import hashlib
import json
import os
import shutil
import struct
import sys
import tempfile
import zlib
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
DATA = ROOT.parent / "shared" / "data"
CORPUS = HERE / "corpus"
MAX_SEED = 64 * 1024

TARGETS = ["geotiff", "geotiff_decode", "avro_tile", "key_index_json", "plan_json", "wkb", "colormap",
           "attribute_json", "tms_path", "metadata_json"]


def put(target, data, name=None):
    if isinstance(data, str):
        data = data.encode()
    if len(data) > MAX_SEED:
        return False
    name = name or hashlib.sha1(data).hexdigest()[:16]
    (CORPUS / target / name).write_bytes(data)
    return True


# --- GeoTIFF ----------------------------------------------------------------------------------------------

def gdal_tiffs(tmp):
    """Small GeoTIFFs as GDAL writes them: (name, path). Cases GDAL refuses are skipped."""
    import rasterio
    from rasterio.transform import from_origin

    rng = np.random.default_rng(7)
    out = []

    def write(name, arr, overviews=(), **opts):
        path = tmp / f"{name}.tif"
        bands, h, w = arr.shape
        prof = dict(driver="GTiff", width=w, height=h, count=bands, dtype=arr.dtype, crs="EPSG:4326",
                    transform=from_origin(10.0, 50.0, 0.01, 0.01))
        prof.update(opts)
        try:
            with rasterio.open(path, "w", **prof) as dst:
                dst.write(arr)
                if overviews:
                    dst.build_overviews(list(overviews))
        except Exception as e:  # a codec or option this GDAL lacks
            print(f"  skip {name}: {e}", file=sys.stderr)
            return
        out.append((name, path))

    def img(dtype, bands=1, h=16, w=16):
        if np.dtype(dtype).kind == "f":
            return (rng.standard_normal((bands, h, w)) * 100).astype(dtype)
        info = np.iinfo(dtype)
        return rng.integers(max(info.min, -1000), min(info.max, 1000), (bands, h, w), endpoint=True).astype(dtype)

    tiled = dict(tiled=True, blockxsize=16, blockysize=16)
    striped = dict(tiled=False, blockysize=5)
    for dtype in ["uint8", "int8", "uint16", "int16", "uint32", "int32", "float32", "float64"]:
        for codec in ["none", "lzw", "deflate", "packbits", "zstd", "lzma"]:
            for lay_name, lay in [("t", tiled), ("s", striped)]:
                write(f"{codec}_{dtype}_{lay_name}", img(dtype, h=20, w=18), compress=codec, **lay)
        write(f"pred2_{dtype}", img(dtype, bands=2), compress="deflate", predictor=2, **tiled)
    for dtype in ["float32", "float64"]:
        write(f"pred3_{dtype}", img(dtype, bands=2), compress="lzw", predictor=3, **tiled)
    write("planar_lzw", img("uint16", bands=3), compress="lzw", interleave="band", **tiled)
    write("bigendian", img("int16", bands=2), compress="deflate", predictor=2, endianness="big", **tiled)
    write("bigendian_f32", img("float32"), endianness="big", **striped)
    write("bigtiff", img("uint8"), compress="deflate", bigtiff="yes", **tiled)
    write("nodata", img("float32"), nodata=-9999.0, **tiled)
    write("nodata_nan", img("float64"), nodata=np.nan, compress="zstd", **tiled)
    write("overviews", img("uint8", h=64, w=64), overviews=(2, 4), compress="deflate", **tiled)
    write("overviews_striped", img("int16", h=40, w=40), overviews=(2,), compress="lzw", **striped)
    bits = (rng.integers(0, 2, (1, 16, 16))).astype("uint8")
    write("nbits1", bits, nbits=1, **tiled)
    write("nbits1_striped", bits, nbits=1, compress="packbits", **striped)
    rgb = img("uint8", bands=3)
    write("jpeg_rgb", rgb, compress="jpeg", **tiled)
    write("jpeg_ycbcr", rgb, compress="jpeg", photometric="ycbcr", **tiled)
    write("jpeg_gray", img("uint8"), compress="jpeg", tiled=False, blockysize=8)
    write("webp_rgb", rgb, compress="webp", **tiled)
    write("webp_rgba", img("uint8", bands=4), compress="webp", webp_lossless=True, **tiled)
    for codec in ["lerc", "lerc_deflate", "lerc_zstd"]:
        write(f"{codec}_f32", img("float32"), compress=codec, max_z_error=0, **tiled)
        write(f"{codec}_u16", img("uint16", bands=2), compress=codec, max_z_error=0, interleave="pixel", **tiled)
    write("jpeg2000", img("uint16"), compress="jpeg2000", **tiled)  # rarely available; skipped if not
    write("palette", img("uint8"), photometric="palette", **tiled)
    # An internal mask (GDAL_TIFF_INTERNAL_MASK) and an alpha band.
    try:
        import rasterio
        path = tmp / "mask.tif"
        arr = img("uint8", h=32, w=32)
        with rasterio.Env(GDAL_TIFF_INTERNAL_MASK=True):
            with rasterio.open(path, "w", driver="GTiff", width=32, height=32, count=1, dtype="uint8",
                               crs="EPSG:3857", transform=from_origin(0, 0, 1, 1), compress="deflate",
                               **tiled) as dst:
                dst.write(arr)
                m = np.zeros((32, 32), "uint8")
                m[4:20, 6:30] = 255
                dst.write_mask(m)
                dst.build_overviews([2])
        out.append(("mask", path))
    except Exception as e:
        print(f"  skip mask: {e}", file=sys.stderr)
    write("alpha", img("uint8", bands=4), photometric="rgb", alpha="unassociated", **tiled)
    write("utm_pixel_is_point", img("uint8"), crs="EPSG:32618", **striped)
    return out


def geotiff_seeds(tmp):
    files = gdal_tiffs(tmp)
    for name, path in files:
        put("geotiff", path.read_bytes(), name)
    if DATA.is_dir():
        for p in sorted((DATA / "geotiff").rglob("*.tif*")) + sorted((DATA / "geotrellis-cog-layer").rglob("*.tiff")):
            b = p.read_bytes()
            if len(b) <= MAX_SEED:
                put("geotiff", b, "shared_" + p.stem)
            else:
                # The header of a big file (its IFDs usually come first): the reader must fail cleanly on
                # segments past the end.
                put("geotiff", b[:16384], "shared_head_" + p.stem)
    return files


KINDS = {  # (bits, sample format) -> index in geotiff_decode's KINDS
    (1, 1): 0, (8, 1): 1, (8, 2): 2, (16, 1): 3, (16, 2): 4, (32, 1): 5, (32, 2): 6, (64, 1): 7, (64, 2): 8,
    (32, 3): 9, (64, 3): 10,
}
COMPRESSIONS = [1, 5, 8, 32946, 32773, 50000, 7, 34925, 50001, 34712, 34887]
PREDICTORS = [1, 2, 3]
PHOTOMETRICS = [1, 2, 6, 0]


def decode_seeds(files):
    """geotiff_decode inputs: the layout header the target reads, then one real segment of each file."""
    import tifffile

    n = 0
    for name, path in files:
        with tifffile.TiffFile(path) as t:
            page = t.pages[0]
            comp = int(page.compression)
            if comp not in COMPRESSIONS or not page.dataoffsets:
                continue
            fmt = {1: 1, 2: 2, 3: 3}.get(int(page.sampleformat), 1)
            kind = KINDS.get((page.bitspersample, fmt))
            if kind is None:
                continue
            planar = int(page.planarconfig) == 2
            samples = page.samplesperpixel
            cols = page.tilewidth if page.is_tiled else page.imagewidth
            seg_rows = page.tilelength if page.is_tiled else page.rowsperstrip
            if cols > 256 or seg_rows > 256 or samples > 4:
                continue
            rows = min(seg_rows, page.imagelength)
            seg = t.filehandle
            seg.seek(page.dataoffsets[0])
            data = seg.read(page.databytecounts[0])
            pred = int(page.tags["Predictor"].value) if "Predictor" in page.tags else 1
            photo = int(page.photometric)
            lerc_add = 0
            if "LercParameters" in page.tags:
                lerc_add = int(page.tags["LercParameters"].value[1])
            tables = page.jpegtables or b""
            header = bytes([
                COMPRESSIONS.index(comp), kind, PREDICTORS.index(pred) if pred in PREDICTORS else 0,
                0 if t.byteorder == "<" else 1, samples - 1, 1 if planar else 0,
                PHOTOMETRICS.index(photo) if photo in PHOTOMETRICS else 0, cols - 1, seg_rows - 1,
                rows - 1, lerc_add,
            ]) + struct.pack("<H", len(tables) if comp == 7 else 0)
            if put("geotiff_decode", header + (tables if comp == 7 else b"") + data, name):
                n += 1
    return n


# --- GeoTrellis Avro tiles --------------------------------------------------------------------------------

def zz(v):
    """Avro zigzag varint."""
    v = (v << 1) ^ (v >> 63)
    out = bytearray()
    while True:
        b = v & 0x7F
        v >>= 7
        if v:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def array(items):
    return (zz(len(items)) + b"".join(items) + zz(0)) if items else zz(0)


# Branch indexes of the GeoTrellis 3.x tile union (schema.rs TILE_RECORDS, then PaddedTile = 16).
BRANCH = {name: i for i, name in enumerate([
    "ByteArrayTile", "FloatArrayTile", "DoubleArrayTile", "ShortArrayTile", "IntArrayTile", "BitArrayTile",
    "UByteArrayTile", "UShortArrayTile", "ByteConstantTile", "FloatConstantTile", "DoubleConstantTile",
    "ShortConstantTile", "IntConstantTile", "BitConstantTile", "UByteConstantTile", "UShortConstantTile",
    "PaddedTile"])}


def tile_record(name, cols=3, rows=2, nd=None):
    """The fields of one tile record (after its union branch)."""
    n = cols * rows
    head = zz(cols) + zz(rows)
    int_nd = (zz(1) if nd is None else zz(0) + zz(nd))  # ["int","null"]
    if name in ("ByteArrayTile", "UByteArrayTile"):
        return head + zz(n) + bytes(range(n)) + int_nd
    if name == "BitArrayTile":
        return head + zz((n + 7) // 8) + bytes([0b10110] * ((n + 7) // 8))
    if name in ("ShortArrayTile", "IntArrayTile", "UShortArrayTile"):
        return head + array([zz(i * 7 - 3) for i in range(n)]) + int_nd
    if name == "FloatArrayTile":
        return head + array([struct.pack("<f", i / 3) for i in range(n)]) + zz(0) + b"\x01"
    if name == "DoubleArrayTile":
        return head + array([struct.pack("<d", i / 7) for i in range(n)]) + zz(1) + struct.pack("<d", -9999.0)
    if name in ("ByteConstantTile", "ShortConstantTile", "IntConstantTile", "UByteConstantTile",
                "UShortConstantTile"):
        return head + zz(5) + int_nd
    if name == "FloatConstantTile":
        return head + struct.pack("<f", 1.5) + zz(1) + struct.pack("<f", -1.0)
    if name == "DoubleConstantTile":
        return head + struct.pack("<d", 2.5) + zz(0) + b"\x00"
    if name == "BitConstantTile":
        return head + b"\x01"
    raise ValueError(name)


def tile_value(name, **kw):
    return zz(BRANCH[name]) + tile_record(name, **kw)


def padded(inner="UShortArrayTile"):
    return zz(BRANCH["PaddedTile"]) + zz(BRANCH[inner]) + tile_record(inner) + zz(1) + zz(2) + zz(5) + zz(4)


def datum(pairs, space_time=False):
    items = []
    for i, value in enumerate(pairs):
        key = zz(i) + zz(i * 2) + (zz(1_500_000_000_000 + i) if space_time else b"")
        items.append(key + value)
    return array(items)


def avro_seeds():
    n = 0

    def both(sel, raw):
        nonlocal n
        n += put("avro_tile", bytes([sel | 8]) + raw)
        n += put("avro_tile", bytes([sel]) + zlib.compress(raw, 6))

    singles = [tile_value(name) for name in BRANCH if name != "PaddedTile"] + [padded(), padded("BitArrayTile")]
    for v in singles:
        both(0, datum([v]))  # spatial, single band
        both(2, datum([v], space_time=True))
    both(0, datum(singles))
    # ArrayMultibandTile: a record of one field `bands`, an array of tile values (schema sel 1 and 3).
    for names in [["UByteArrayTile", "UByteArrayTile", "UByteArrayTile"], ["ShortArrayTile", "FloatArrayTile"],
                  ["DoubleConstantTile", "IntArrayTile"]]:
        mb = array([tile_value(x) for x in names])
        both(1, datum([mb]))
        both(3, datum([mb, mb], space_time=True))
    both(1, datum([array([padded()])]))
    # Real tile files of ../shared/data: 2.x (sel 4, the landsat schema) and 3.x layers.
    if DATA.is_dir():
        layers = [("geotrellis-catalog-2x/landsat/0", 4), ("geotrellis-catalog-3x/uint16/0", 0),
                  ("geotrellis-catalog-3x/float32_nan/0", 0), ("geotrellis-catalog-3x/multiband_uint8/0", 1),
                  ("geotrellis-catalog-3x/spacetime_zorder_days/0", 2)]
        for rel, sel in layers:
            files = sorted((DATA / rel).iterdir(), key=lambda p: p.stat().st_size)
            # The smallest few and every distinct size up to 20 KB (all-zero tiles are ~100 bytes each).
            seen = set()
            for p in files:
                size = p.stat().st_size
                if size > 20000 or size // 64 in seen:
                    continue
                seen.add(size // 64)
                b = p.read_bytes()
                n += put("avro_tile", bytes([sel]) + b)
                n += put("avro_tile", bytes([sel | 8]) + zlib.decompress(b))
                if len(seen) >= 6:
                    break
    return n


# --- JSON and WKB inputs ----------------------------------------------------------------------------------

def key_index_seeds():
    b = lambda c0, r0, c1, r1, t=None: {"minKey": dict(col=c0, row=r0, **({"instant": t[0]} if t else {})),
                                         "maxKey": dict(col=c1, row=r1, **({"instant": t[1]} if t else {}))}
    seeds = [
        {"type": "zorder", "properties": {"keyBounds": b(0, 0, 33, 27)}},
        {"type": "zorder", "properties": {"keyBounds": b(-5, 0, 100, 200, (0, 86_400_000 * 30)),
                                          "temporalResolution": 86_400_000}},
        {"type": "hilbert", "properties": {"keyBounds": b(0, 0, 1023, 511), "xResolution": 10, "yResolution": 9}},
        {"type": "hilbert", "properties": {"keyBounds": b(3, 4, 30, 40, (1_500_000_000_000, 1_600_000_000_000)),
                                           "xResolution": 5, "yResolution": 6, "temporalResolution": 8}},
        {"type": "rowmajor", "properties": {"keyBounds": b(0, 0, 9, 9)}},
        {"type": "rowmajor", "properties": {"keyBounds": b(-2147483648, 0, 2147483647, 3)}},
    ]
    n = sum(put("key_index_json", json.dumps(s, separators=(",", ":"))) for s in seeds)
    for meta in attribute_files():
        doc = json.loads(meta.read_text())
        if isinstance(doc, list) and len(doc) == 2 and "keyIndex" in doc[1]:
            n += put("key_index_json", json.dumps(doc[1]["keyIndex"], separators=(",", ":")))
    return n


def attribute_files():
    if not DATA.is_dir():
        return []
    return sorted(DATA.rglob("attributes/*.json"))


def attribute_seeds():
    n = 0
    for meta in attribute_files():
        doc = json.loads(meta.read_text())
        if isinstance(doc, list) and len(doc) == 2 and "schema" in doc[1]:
            n += put("attribute_json", json.dumps(doc[1]["schema"], separators=(",", ":")))
    schema = ROOT / "rust/engine/src/catalog/avro/testdata/schema_spatial_singleband.json"
    n += put("attribute_json", schema.read_text())
    hist = [
        [[1, 10], [2, 5], [7, 1], [-3, 2]],  # integer histogram: [value, count] pairs
        {"maxBucketCount": 80, "buckets": [[0.5, 3], [1.25, 7], [9.0, 1]], "minimum": 0.5, "maximum": 9.0},
        {"maxBucketCount": 80, "buckets": [], "minimum": 0, "maximum": 0},
    ]
    n += sum(put("attribute_json", json.dumps(h)) for h in hist)
    for ct in ["int8", "uint8raw", "uint16ud7", "float32ud-9999.0", "float64", "bool", "int32ud-2147483648",
               "bitraw", "float32ud-nan"]:
        n += put("attribute_json", ct)
    return n


def plan_seeds():
    plans = [
        [{"op": "scalar", "fn": "add", "value": 1.5}],
        [{"op": "scalar", "fn": "sub", "value": 2, "reverse": True}, {"op": "unary", "fn": "abs"}],
        [{"op": "combine", "fn": {"fold": "add"}, "inputs": 2}, {"op": "convert", "cell_type": "float32"}],
        [{"op": "combine", "fn": "mean", "inputs": 3}, {"op": "unary", "fn": "neg"}],
        [{"op": "combine", "fn": "concat_bands", "inputs": 2}, {"op": "bands", "indices": [3, 0]}],
        [{"op": "interpret", "no_data": -9999}, {"op": "convert", "cell_type": "int16ud-1"}],
        [{"op": "bands", "indices": [1, 0, 1]}],
        [{"op": "reclassify", "strategy": "LessThanOrEqualTo", "breaks": [0, 10, 100], "values": [1, 2, 3],
          "int_keys": False, "replace_nodata_with": None, "fallback": 0, "strict": False}],
        [{"op": "reclassify", "strategy": "Exact", "breaks": [1, 2], "values": ["NaN", "Infinity"],
          "int_keys": True, "strict": True}],
        [{"op": "normalize", "old_min": 0, "old_max": 255, "new_min": 0, "new_max": 1}],
        [{"op": "scalar", "fn": "pow", "value": "NaN"}, {"op": "scalar", "fn": "gt", "value": 3},
         {"op": "scalar", "fn": "div", "value": 0}, {"op": "convert", "cell_type": "uint8"}],
    ]
    n = sum(put("plan_json", json.dumps(p)) for p in plans)
    # The step vocabulary above follows rust/engine/src/plan/mod.rs (what geopyspark_rs/ sends).
    return n


def colormap_seeds():
    maps = [
        dict(breaks=[0, 10, 20], colors=[0xFF0000FF, 0x00FF00FF, 0x0000FFFF], integer=True, no_data_color=0,
             fallback=0x00000000, strategy="LessThanOrEqualTo"),
        dict(breaks=[-1.5, 0.25, 3e9], colors=[1, 2, 3], integer=False, no_data_color=0xFFFFFFFF,
             fallback=7, strategy="GreaterThan", strict=True),
        dict(breaks=[1, 2], colors=[4, 5], integer=True, no_data_color=0, fallback=0, strategy="Exact"),
        dict(breaks=[], colors=[], integer=False, no_data_color=0, fallback=0, strategy="LessThan"),
        dict(breaks=[0.5], colors=[0x11223344], integer=False, no_data_color=0, fallback=0,
             strategy="GreaterThanOrEqualTo"),
    ]
    return sum(put("colormap", json.dumps(m)) for m in maps)


def wkb_seeds():
    import shapely
    from shapely import wkt

    geoms = [
        "POINT (1 2)", "POINT Z (1 2 3)", "LINESTRING (0 0, 10 10, 20 5)",
        "POLYGON ((0 0, 10 0, 10 10, 0 10, 0 0), (2 2, 4 2, 4 4, 2 2))",
        "MULTIPOINT ((1 1), (5 5))", "MULTILINESTRING ((0 0, 1 1), (2 2, 30 31))",
        "MULTIPOLYGON (((0 0, 5 0, 5 5, 0 0)), ((10 10, 20 10, 20 20, 10 10)))",
        "GEOMETRYCOLLECTION (POINT (3 3), LINESTRING (0 0, 31 31), POLYGON ((1 1, 9 1, 9 9, 1 1)))",
        "POLYGON EMPTY", "LINESTRING M (0 0 1, 5 5 2)", "POLYGON ZM ((0 0 1 2, 8 0 1 2, 8 8 1 2, 0 0 1 2))",
    ]
    n = 0
    for g in geoms:
        geom = wkt.loads(g)
        for endian in ("little", "big"):
            n += put("wkb", shapely.to_wkb(geom, byte_order=1 if endian == "little" else 0,
                                           output_dimension=4, flavor="iso"))
            n += put("wkb", shapely.to_wkb(geom, byte_order=1 if endian == "little" else 0, include_srid=False))
        n += put("wkb", shapely.to_wkb(shapely.set_srid(geom, 4326), include_srid=True))  # EWKB
    return n


def metadata_seeds():
    """Every layer's metadata attribute file of ../shared/data, as it is (the Python target's input)."""
    return sum(put("metadata_json", f.read_bytes(), f"{f.parent.parent.name}-{f.name}")
               for f in attribute_files() if f.name.endswith("__metadata.json"))


def tms_seeds():
    paths = ["/", "/handshake", "/static/leaflet.js", "/tile/0/0/0.png", "/tile/3/7/5.png", "/tile/30/1073741823/0",
             "/tile/12/4095/4095.png", "/tile/31/0/0.png", "/tile/3/8/0.png", "/static/../secret",
             "/static/%2E%2E/secret", "/tile/1/0/0/0.png", "/tile//0/0.png", "/tile/99999999999999999999/0/0"]
    return sum(put("tms_path", p.encode()) for p in paths)


def main():
    if CORPUS.exists():
        shutil.rmtree(CORPUS)
    for t in TARGETS:
        (CORPUS / t).mkdir(parents=True)
    with tempfile.TemporaryDirectory() as d:
        files = geotiff_seeds(Path(d))
        counts = {"geotiff_decode": decode_seeds(files)}
    avro_seeds()
    key_index_seeds()
    attribute_seeds()
    plan_seeds()
    colormap_seeds()
    wkb_seeds()
    tms_seeds()
    metadata_seeds()
    total = 0
    for t in TARGETS:
        files = list((CORPUS / t).iterdir())
        size = sum(f.stat().st_size for f in files)
        total += size
        print(f"{t:16} {len(files):4} seeds {size / 1024:8.1f} KiB")
    print(f"{'total':16}      {total / 1024:8.1f} KiB")
    del counts


if __name__ == "__main__":
    main()
