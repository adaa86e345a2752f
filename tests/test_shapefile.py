"""``shapefile.get`` (GeoPySpark's RDD of Features) and ``shapefile.get_dataframe`` on shapefiles written
with pyogrio: GeoTools' Multi* promotion, attributes as Java-style strings, directory search, partitions."""

import os

import numpy as np
import pytest
import shapely
from shapely.geometry import LineString, MultiLineString, MultiPoint, MultiPolygon, Point, box

from geopyspark_rs.geotrellis import shapefile
from geopyspark_rs.geotrellis.data_model import Feature

pyogrio_raw = pytest.importorskip("pyogrio.raw")

POLYGONS = [box(0, 0, 1, 1), MultiPolygon([box(2, 2, 3, 3), box(4, 4, 5, 5)]), box(6, 6, 7.5, 7.5)]
LINES = [LineString([(0, 0), (1, 1)]), MultiLineString([[(0, 0), (1, 0)], [(2, 2), (3, 3)]])]
POINTS = [Point(1, 2), Point(3.5, -4)]


def write(path, geoms, geometry_type, fields=(), data=(), masks=None):
    pyogrio_raw.write(str(path), geometry=shapely.to_wkb(np.array(geoms, dtype=object)), field_data=list(data),
                      fields=list(fields), field_mask=masks, geometry_type=geometry_type, crs="EPSG:4326")
    return str(path)


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    root = tmp_path_factory.mktemp("shapefiles")
    d = {"root": root}
    d["polygons"] = write(
        root / "polygons.shp", POLYGONS, "Polygon", ["id", "value", "name", "day"],
        [np.array([5, 0, 7]), np.array([1.0, np.nan, 1.5e-5]), np.array(["a", None, "ç"], dtype=object),
         np.array(["2018-01-02", "NaT", "2020-03-04"], dtype="datetime64[D]")],
        [np.array([False, True, False]), None, None, None])
    (root / "sub").mkdir()
    d["lines"] = write(root / "sub" / "lines.shp", LINES, "LineString", ["n"], [np.array([1, 2])])
    d["points"] = write(root / "points.shp", POINTS, "Point", ["n"], [np.array([3, 4])])
    # A shapefile named in upper case (.SHP, .SHX, .DBF ...) in a nested directory.
    (root / "sub" / "deep").mkdir()
    upper = write(root / "sub" / "deep" / "mp.shp", [MultiPoint([(0, 0), (1, 1)])], "MultiPoint",
                  ["n"], [np.array([9])])
    for f in os.listdir(root / "sub" / "deep"):
        stem, ext = os.path.splitext(f)
        os.rename(root / "sub" / "deep" / f, root / "sub" / "deep" / (stem + ext.upper()))
    d["upper"] = upper[:-4] + ".SHP"
    (root / "notes.txt").write_text("not a shapefile")
    (root / "empty").mkdir()
    return d


def by_key(features, key="n"):
    return sorted(features, key=lambda f: f.properties[key])


def test_polygons_are_multipolygons_with_string_properties(spark, data):
    features = sorted(shapefile.get(data["polygons"]).collect(), key=lambda f: f.geometry.bounds)
    assert all(isinstance(f, Feature) for f in features)
    assert [f.geometry.geom_type for f in features] == ["MultiPolygon"] * 3
    for f, expected in zip(features, POLYGONS):
        assert f.geometry.equals(expected)
    assert [f.properties for f in features] == [
        {"id": "5", "value": "1.0", "name": "a", "day": "2018-01-02"},
        {"id": "", "value": "", "name": "", "day": ""},
        {"id": "7", "value": "1.5E-5", "name": "ç", "day": "2020-03-04"},
    ]
    assert all(isinstance(v, str) for f in features for v in f.properties.values())


def test_lines_are_multilinestrings_and_points_stay_points(spark, data):
    lines = by_key(shapefile.get(data["lines"]).collect())
    assert [f.geometry.geom_type for f in lines] == ["MultiLineString"] * 2
    assert all(f.geometry.equals(e) for f, e in zip(lines, LINES))
    assert [f.properties for f in lines] == [{"n": "1"}, {"n": "2"}]
    points = by_key(shapefile.get("file://" + data["points"]).collect())
    assert [f.geometry for f in points] == POINTS
    upper = shapefile.get(data["upper"]).collect()
    assert [f.geometry.geom_type for f in upper] == ["MultiPoint"]


def test_directory_is_searched_recursively_with_extensions(spark, data):
    features = shapefile.get(str(data["root"])).collect()
    kinds = sorted(f.geometry.geom_type for f in features)
    assert kinds == ["MultiLineString"] * 2 + ["MultiPoint"] + ["MultiPolygon"] * 3 + ["Point"] * 2
    only_lower = shapefile.get(str(data["root"]), extensions=[".shp"]).collect()
    assert len(only_lower) == len(features) - 1


def test_list_of_paths_and_num_partitions(spark, data):
    rdd = shapefile.get([data["lines"], data["points"]], num_partitions=3)
    assert rdd.getNumPartitions() == 3
    assert sorted(f.properties["n"] for f in rdd.collect()) == ["1", "2", "3", "4"]
    default = shapefile.get(data["points"])
    assert default.getNumPartitions() == spark.sparkContext.defaultParallelism


def test_missing_paths_and_empty_directories(spark, data):
    with pytest.raises(FileNotFoundError, match="nowhere.shp"):
        shapefile.get([data["points"], str(data["root"] / "nowhere.shp")])
    with pytest.raises(FileNotFoundError, match="empty"):
        shapefile.get(str(data["root"] / "empty"))
    with pytest.raises(NotImplementedError, match="s3://bucket/a.shp"):
        shapefile.get("s3://bucket/a.shp")
    with pytest.raises(ValueError):
        shapefile.get(data["points"], num_partitions=0)


def test_dataframe_round_trips_geometries(spark, data):
    df = shapefile.get_dataframe(str(data["root"]), num_partitions=2)
    assert df.rdd.getNumPartitions() == 2
    assert [(f.name, f.dataType.simpleString()) for f in df.schema.fields] == [
        ("geometry", "binary"), ("properties", "map<string,string>")]
    rows = df.collect()
    from_df = sorted((shapely.from_wkb(bytes(r.geometry)).wkt, sorted(r.properties.items())) for r in rows)
    features = shapefile.get(str(data["root"])).collect()
    from_rdd = sorted((f.geometry.wkt, sorted(f.properties.items())) for f in features)
    assert from_df == from_rdd and len(rows) == 8
