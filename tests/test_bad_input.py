"""The catalogue of bad input: every public function's invalid arguments, each run here against the real
code, and the table of them in docs/bad-input.md, which this test checks (regenerate it with
``GPS_WRITE_CATALOGUE=1 pytest tests/test_bad_input.py``).

A case is (area, function, what is wrong, the call, the exception class expected, words the message must
contain). The table shows the class actually raised (a subclass of the expected one) and the builtin
exceptions it also is."""

import asyncio
import datetime
import os
import re
from pathlib import Path

import numpy as np
import pytest
from shapely.geometry import LineString, Point, Polygon, box

import geopyspark_rs as gps
import geopyspark_rs.local as gl
from geopyspark_rs import errors

DOC = Path(__file__).resolve().parents[1] / "docs" / "bad-input.md"
BUILTINS = (FileNotFoundError, FileExistsError, PermissionError, NotImplementedError, IndexError, KeyError,
            TypeError, ValueError, OSError, RuntimeError)


@pytest.fixture(scope="module")
def env(spark, tmp_path_factory):
    """What the cases need: a small tiled layer, a catalog holding it, a GeoTIFF, a raster for local writes."""
    import rasterio
    from affine import Affine
    from rasterio.transform import from_origin

    root = tmp_path_factory.mktemp("bad-input")
    cells = np.arange(64 * 64, dtype=np.float32).reshape(1, 64, 64)
    raster = gps.RasterLayer.from_numpy_tiles(
        gps.LayerType.SPATIAL, [(gps.ProjectedExtent(gps.Extent(0.0, 0.0, 64.0, 64.0), epsg=3857),
                                 gps.Tile.from_numpy_array(cells, np.nan))])
    tiled = raster.tile_to_layout(gps.LocalLayout(32))
    tiled.zoom_level = 0
    catalog = str(root / "catalog")
    gps.write(catalog, "layer", tiled)
    tif = str(root / "small.tif")
    with rasterio.open(tif, "w", driver="GTiff", width=64, height=64, count=1, dtype="float32",
                       crs="EPSG:3857", transform=from_origin(0, 64, 1, 1)) as dst:
        dst.write(cells)
    # 50 000 × 50 000 cells in one window is 2.3 GiB: more than a Spark row holds. Sparse: no block is written.
    huge_tif = str(root / "huge.tif")
    with rasterio.open(huge_tif, "w", driver="GTiff", width=50_000, height=50_000, count=1, dtype="uint8",
                       crs="EPSG:3857", transform=from_origin(0, 50_000, 1, 1), tiled=True, blockxsize=1024,
                       blockysize=1024, compress="deflate", sparse_ok=True):
        pass
    not_tiff = root / "not.tif"
    not_tiff.write_bytes(b"this is not a TIFF file at all")
    local_raster = gl.Raster(cells, Affine(1, 0, 0, 0, -1, 64), 3857, np.nan)
    return dict(root=root, raster=raster, tiled=tiled, catalog=catalog, tif=tif, not_tiff=str(not_tiff),
                local_raster=local_raster, missing=str(root / "missing.tif"), huge_tif=huge_tif)


def _cog_read(path, window):
    from geopyspark_rs.cog import GeoTIFF

    async def go():
        tif = await GeoTIFF.open(path)
        return await tif.read(window=window)

    return asyncio.run(go())


def _cog_open(path):
    from geopyspark_rs.cog import GeoTIFF

    return asyncio.run(GeoTIFF.open(path))


def cases(e):
    """(area, function, what is wrong, call, expected class, message words) for the environment ``e``."""
    from geopyspark_rs.cog import Window

    square = box(0, 0, 10, 10)
    bowtie = Polygon([(0, 0), (10, 10), (10, 0), (0, 10)])
    t = e["tiled"]
    return [
        # --- data model
        ("data model", "Tile.dtype_to_cell_type", "a dtype with no cell type (complex)",
         lambda: gps.Tile.dtype_to_cell_type(np.complex64), TypeError, "not a supported data type"),
        ("data model", "crs_to_proj4", "an unknown EPSG code",
         lambda: gps.crs_to_proj4(999999), ValueError, "999999"),
        ("data model", "LayerType", "an unknown layer type",
         lambda: gps.LayerType("SPATIALL"), ValueError, "SPATIALL"),
        # --- GeoTIFF
        ("GeoTIFF", "geotiff.get", "a path that does not exist",
         lambda: gps.geotiff.get(gps.LayerType.SPATIAL, e["missing"]), FileNotFoundError, "missing.tif"),
        ("GeoTIFF", "geotiff.get", "a file that is not a TIFF",
         lambda: gps.geotiff.get(gps.LayerType.SPATIAL, e["not_tiff"]), errors.CorruptDataError, "not.tif"),
        ("GeoTIFF", "geotiff.get", "max_tile_size ≤ 0",
         lambda: gps.geotiff.get(gps.LayerType.SPATIAL, e["tif"], max_tile_size=0), ValueError, "max_tile_size"),
        ("GeoTIFF", "geotiff.get", "an unknown s3_client",
         lambda: gps.geotiff.get(gps.LayerType.SPATIAL, e["tif"], s3_client="mock"), ValueError, "s3_client"),
        ("GeoTIFF", "geotiff.get", "windows over 2 GiB (max_tile_size=None on a 50 000 × 50 000 image)",
         lambda: gps.geotiff.get(gps.LayerType.SPATIAL, e["huge_tif"], max_tile_size=None),
         errors.InvalidArgumentError, "2.33 GiB"),
        ("GeoTIFF", "RasterLayer.read", "a SPACETIME layer type",
         lambda: gps.RasterLayer.read(e["tif"], layer_type=gps.LayerType.SPACETIME), NotImplementedError,
         "SPACETIME"),
        ("GeoTIFF", "TiledRasterLayer.read", "a layout that is not a layout",
         lambda: gps.TiledRasterLayer.read(e["tif"], "256"), TypeError, "layout_type"),
        ("GeoTIFF", "rasterio.get", "a band outside the file",
         lambda: gps.rasterio.get(e["tif"], bands=[3]).collect(), IndexError, "band"),
        ("GeoTIFF", "save_stitched", "a SPACETIME layer",
         lambda: _spacetime(t).save_stitched(str(e["root"] / "x.tif")), ValueError, "Spatial"),
        # --- layers
        ("layers", "TiledRasterLayer.from_numpy_tiles", "keys of the wrong kind",
         lambda: gps.TiledRasterLayer.from_numpy_tiles(gps.LayerType.SPATIAL, [(gps.SpaceTimeKey(0, 0, datetime.datetime(2020, 1, 1)), gps.Tile.from_numpy_array(np.zeros((1, 4, 4), np.float32)))], t.layer_metadata),
         TypeError, "SpatialKey"),
        ("layers", "RasterLayer.from_numpy_tiles", "a Tile over 2 GiB",
         lambda: gps.RasterLayer.from_numpy_tiles(gps.LayerType.SPATIAL, [(gps.ProjectedExtent(gps.Extent(0.0, 0.0, 1.0, 1.0), epsg=3857), gps.Tile.from_numpy_array(np.broadcast_to(np.float32(0), (1, 30_000, 30_000))))]),
         errors.InvalidArgumentError, "3.35 GiB"),
        ("layers", "tile_to_layout", "a layout of the wrong type",
         lambda: e["raster"].tile_to_layout("256"), TypeError, "layout"),
        ("layers", "tile_to_layout", "tiles over 2 GiB (LocalLayout(30 000) of float32)",
         lambda: e["raster"].tile_to_layout(gps.LocalLayout(30_000)), errors.InvalidArgumentError, "3.35 GiB"),
        ("layers", "reproject", "a CRS that cannot be parsed",
         lambda: t.reproject("EPSG:notacode"), ValueError, "notacode"),
        ("layers", "convert_data_type", "an unknown cell type",
         lambda: t.convert_data_type("float16"), errors.CellTypeError, "float16"),
        ("layers", "bands", "a band that does not exist",
         lambda: t.bands(5).stitch(), ValueError, "band"),
        ("layers", "map algebra (+)", "a layer of another layout",
         lambda: t + t.tile_to_layout(gps.LocalLayout(16)), ValueError, "layout"),
        ("layers", "map algebra (+)", "a string",
         lambda: t + "1", TypeError, "str"),
        ("layers", "stitch", "a SPACETIME layer",
         lambda: _spacetime(t).stitch(), ValueError, "Spatial"),
        ("layers", "repartition", "a non-positive partition count",
         lambda: t.repartition(0), ValueError, "num_partitions"),
        ("layers", "get_quantile_breaks", "a non-positive count",
         lambda: t.get_quantile_breaks(0), ValueError, "num_breaks"),
        ("layers", "reclassify", "an unknown classification strategy",
         lambda: t.reclassify({1: 2}, int, classification_strategy="nearest"), ValueError, "nearest"),
        # --- focal and terrain
        ("focal", "focal", "an unknown operation",
         lambda: t.focal("MEDIANS", gps.Neighborhood.SQUARE, 1), ValueError, "MEDIANS"),
        ("focal", "focal", "a negative neighbourhood size",
         lambda: t.focal(gps.Operation.MEAN, gps.Neighborhood.SQUARE, -1), ValueError, "non-negative"),
        ("focal", "slope", "a z-factor that is neither a number nor a calculator",
         lambda: t.slope("1"), TypeError, "zfactor"),
        # --- catalogs
        ("catalogs", "write", "a layer name that leaves the catalog",
         lambda: gps.write(e["catalog"], "../escape", t), ValueError, "layer name"),
        ("catalogs", "write", "a layer that already exists",
         lambda: gps.write(e["catalog"], "layer", t), FileExistsError, "already exists"),
        ("catalogs", "write", "compression_level outside 0–12",
         lambda: gps.write(e["catalog"], "other", t, compression_level=13), ValueError, "compression_level"),
        ("catalogs", "write", "use_cogs=True",
         lambda: gps.write(e["catalog"], "other", t, use_cogs=True), NotImplementedError, "COG"),
        ("catalogs", "write", "ROWMAJOR for a SPACETIME layer",
         lambda: gps.write(e["catalog"], "other", _spacetime(t), index_strategy=gps.IndexingMethod.ROWMAJOR,
                           time_unit=gps.TimeUnit.DAYS), ValueError, "ROWMAJOR"),
        ("catalogs", "query", "a layer that does not exist",
         lambda: gps.query(e["catalog"], "nope", 0), errors.LayerNotFoundError, "nope"),
        ("catalogs", "query", "a negative zoom",
         lambda: gps.query(e["catalog"], "layer", -1), ValueError, "zoom"),
        ("catalogs", "query", "time_intervals on a SPATIAL layer",
         lambda: gps.query(e["catalog"], "layer", 0, time_intervals=[datetime.datetime(2020, 1, 1)]),
         ValueError, "SPATIAL"),
        ("catalogs", "query", "a query geometry that is not a geometry",
         lambda: gps.query(e["catalog"], "layer", 0, query_geom="POLYGON"), TypeError, "geometry"),
        ("catalogs", "read_value", "a column that is not an int",
         lambda: gps.read_value(e["catalog"], "layer", 0, 0.5, 0), TypeError, "col"),
        ("catalogs", "catalog URI", "an unsupported scheme",
         lambda: gps.query("ftp://host/catalog", "layer", 0), ValueError, "ftp"),
        ("catalogs", "AttributeStore.layer(...).read", "an attribute that does not exist",
         lambda: gps.AttributeStore(e["catalog"]).layer("layer", 0).read("nothing"), KeyError, "nothing"),
        ("catalogs", "update_layer", "a layer that does not exist",
         lambda: gps.update_layer(e["catalog"], "nope", t), ValueError, "nope"),
        # --- without Spark
        ("without Spark", "local.write", "something that is not a Layer or Raster",
         lambda: gl.write(e["catalog"], "l", np.zeros((4, 4))), TypeError, "Layer or Raster"),
        ("without Spark", "local.Raster", "a rotated transform",
         lambda: gl.Raster(np.zeros((4, 4)), (1, 0.5, 0, 0, -1, 0)), ValueError, "north-up"),
        ("without Spark", "local.read", "a key range selecting nothing",
         lambda: gl.read(e["catalog"], "layer", 0, key_range=(9, 9, 9, 9)), ValueError, "selects no tiles"),
        ("without Spark", "local.query", "a malformed key range",
         lambda: gl.query(e["catalog"], "layer", 0, key_range=(0, 0)), TypeError, "key_range"),
        ("without Spark", "cog.GeoTIFF.open", "a path that does not exist",
         lambda: _cog_open(e["missing"]), FileNotFoundError, "missing.tif"),
        ("without Spark", "cog.GeoTIFF.open", "a file that is not a TIFF",
         lambda: _cog_open(e["not_tiff"]), errors.CorruptDataError, "not.tif"),
        ("without Spark", "cog.GeoTIFF.read", "a window outside the image",
         lambda: _cog_read(e["tif"], Window(60, 0, 10, 10)), IndexError, "outside"),
        # --- zones, rasterization, distance
        ("zonal", "polygonal_mean", "a self-intersecting polygon",
         lambda: t.polygonal_mean(bowtie), ValueError, "invalid"),
        ("zonal", "polygonal_mean", "a line where polygons are needed",
         lambda: t.polygonal_mean(LineString([(0, 0), (5, 5)])), TypeError, "Polygon"),
        ("zonal", "zonal_statistics", "an unknown cell rule",
         lambda: t.zonal_statistics([(1, square)], rule="area"), ValueError, "rule"),
        ("zonal", "mask", "an unknown option",
         lambda: t.mask(square, options=gps.RasterizerOptions(sampleType="Everywhere")), ValueError, "Everywhere"),
        ("zonal", "rasterize", "no geometries",
         lambda: gps.rasterize([], 3857, 5, 1), ValueError, "no geometries"),
        ("zonal", "rasterize", "an unknown cell type",
         lambda: gps.rasterize([square], 3857, 5, 1, cell_type="float16"), ValueError, "float16"),
        ("zonal", "euclidean_distance", "a CRS that cannot be parsed",
         lambda: gps.euclidean_distance(Point(1, 1), "EPSG:nope", 5), ValueError, "nope"),
        ("zonal", "cost_distance", "a friction layer with negative cells",
         lambda: gps.cost_distance(t - 10_000, [Point(5, 5)], 100.0).stitch(), ValueError, "negative"),
        ("zonal", "shapefile.get", "a file that does not exist",
         lambda: gps.shapefile.get(str(e["root"] / "none.shp")), FileNotFoundError, "none.shp"),
        # --- rendering
        ("rendering", "ColorMap.build", "breaks that are not a known type",
         lambda: gps.ColorMap.build("not breaks", "viridis"), ValueError, "breaks"),
        ("rendering", "ColorMap.build", "an unknown ramp name",
         lambda: gps.ColorMap.build([1, 2, 3], "no-such-ramp"), ValueError, "no-such-ramp"),
        ("rendering", "TMS.build", "a source that is not a layer, pyramid or catalog",
         lambda: gps.TMS.build(42, display=gps.ColorMap.build([1, 2], "viridis")), ValueError, "source"),
    ]


def _spacetime(layer):
    t0 = datetime.datetime(2020, 1, 1)
    tiles = [(gps.SpaceTimeKey(k.col, k.row, t0), tile) for k, tile in layer.to_numpy_tiles()]
    md = layer.layer_metadata
    bounds = gps.Bounds(gps.SpaceTimeKey(md.bounds.minKey.col, md.bounds.minKey.row, t0),
                        gps.SpaceTimeKey(md.bounds.maxKey.col, md.bounds.maxKey.row, t0))
    md = gps.Metadata(bounds, md.crs, md.cell_type, md.extent, md.layout_definition)
    return gps.TiledRasterLayer.from_numpy_tiles(gps.LayerType.SPACETIME, tiles, md, 0)


def _also(cls) -> str:
    """The builtins ``cls`` also is, most specific only (FileNotFoundError, not also OSError)."""
    found = [b for b in BUILTINS if issubclass(cls, b) and cls is not b]
    return ", ".join(b.__name__ for b in found if not any(o is not b and issubclass(o, b) for o in found))


def test_every_case_raises_what_the_catalogue_says(env):
    rows, failures = [], []
    for area, function, wrong, call, expected, words in cases(env):
        try:
            call()
        except Exception as e:  # noqa: BLE001 (the point: what does each call raise?)
            if not isinstance(e, expected) or words.lower() not in str(e).lower():
                failures.append(f"{function} ({wrong}): {type(e).__name__}: {e}"[:400])
            cls = type(e)
            rows.append((area, function, wrong, cls.__name__, _also(cls)))
        else:
            failures.append(f"{function} ({wrong}): raised nothing")
    assert not failures, "\n".join(failures)
    table = render(rows)
    if os.environ.get("GPS_WRITE_CATALOGUE"):
        DOC.write_text(table)
    assert DOC.read_text() == table, "docs/bad-input.md is stale: GPS_WRITE_CATALOGUE=1 pytest tests/test_bad_input.py"


def render(rows) -> str:
    out = ["# Bad input and the exceptions it gets", "",
           "Each row is a call with one thing wrong, run by `tests/test_bad_input.py`, which also checks that this",
           "table is what the code raises today (regenerate it with `GPS_WRITE_CATALOGUE=1 pytest",
           "tests/test_bad_input.py`). Every class is in `gps.errors` or is a builtin; ours derive from",
           "`GeoPySparkError` and from the builtin a GeoPySpark user catches (the last column). Messages name",
           "what was wrong: the file, the argument, the value.", ""]
    area = None
    for a, function, wrong, cls, also in rows:
        if a != area:
            out += ["", f"## {a[0].upper() + a[1:]}", "", "| Function | Invalid input | Raises | Also a |",
                    "|---|---|---|---|"]
            area = a
        out.append(f"| `{function}` | {wrong} | `{cls}` | {also or '—'} |")
    return "\n".join(out).replace("\n\n\n", "\n\n") + "\n"


def test_the_catalogue_lists_each_area_once():
    text = DOC.read_text()
    heads = re.findall(r"^## (.+)$", text, re.M)
    assert len(heads) == len(set(heads)) >= 8


def test_an_error_in_a_worker_during_a_write_is_raised_as_itself(env):
    """Found on the executors while the tiles are computed, raised on the driver as its own class."""
    with pytest.raises(errors.InvalidArgumentError, match="band index 5"):
        gps.write(env["catalog"], "bad_band", env["tiled"].bands(5))
    assert not gps.AttributeStore(env["catalog"]).contains("bad_band", 0)
