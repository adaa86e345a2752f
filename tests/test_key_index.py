"""GeoTrellis key indexes through the native bindings (geotrellis_format.md §3)."""

import numpy as np
import pytest

from geopyspark_rs import _native

ZORDER = '{"type":"zorder","properties":{"keyBounds":{"minKey":{"col":0,"row":0},"maxKey":{"col":33,"row":27}}}}'
ZORDER_ST = (
    '{"type":"zorder","properties":{"keyBounds":{"minKey":{"col":0,"row":0,"instant":1420070400000},'
    '"maxKey":{"col":9,"row":9,"instant":1451520000000}},"temporalResolution":86400000}}'
)
HILBERT = (
    '{"type":"hilbert","properties":{"keyBounds":{"minKey":{"col":177,"row":409},'
    '"maxKey":{"col":178,"row":410}},"xResolution":1,"yResolution":1}}'
)
HILBERT_ST = (
    '{"type":"hilbert","properties":{"keyBounds":{"minKey":{"col":0,"row":0,"instant":1420070400000},'
    '"maxKey":{"col":9,"row":9,"instant":1451520000000}},"xResolution":4,"yResolution":4,"temporalResolution":8}}'
)
ROWMAJOR = '{"type":"rowmajor","properties":{"keyBounds":{"minKey":{"col":0,"row":0},"maxKey":{"col":99,"row":49}}}}'


@pytest.mark.parametrize(
    ("method", "min_key", "max_key", "temporal", "expected"),
    [
        ("zorder", (0, 0), (33, 27), None, ZORDER),
        ("zorder", (0, 0, 1420070400000), (9, 9, 1451520000000), 86400000, ZORDER_ST),
        ("hilbert", (177, 409), (178, 410), None, HILBERT),
        ("hilbert", (0, 0, 1420070400000), (9, 9, 1451520000000), 8, HILBERT_ST),
        ("rowmajor", (0, 0), (99, 49), None, ROWMAJOR),
    ],
)
def test_create_writes_geotrellis_json(method, min_key, max_key, temporal, expected):
    assert _native.key_index_create(method, min_key, max_key, temporal) == expected


@pytest.mark.parametrize(
    ("index_json", "keys", "expected"),
    [
        (ZORDER, [(0, 0), (1, 0), (0, 1), (3, 3), (10, 4), (33, 27), (3, 5)], [0, 1, 2, 15, 100, 1675, 39]),
        (HILBERT, [(177, 409), (177, 410), (178, 410), (178, 409)], [0, 1, 2, 3]),
        (ROWMAJOR, [(0, 0), (5, 3), (99, 49)], [0, 305, 4999]),
    ],
)
def test_to_index_spatial(index_json, keys, expected):
    cols = np.array([k[0] for k in keys], dtype=np.int32)
    rows = np.array([k[1] for k in keys], dtype=np.int32)
    out = _native.key_index_to_index(index_json, False, cols, rows, None)
    assert out.dtype == np.int64
    assert out.tolist() == expected


def test_to_index_space_time():
    cols = np.array([10], dtype=np.int32)
    rows = np.array([4], dtype=np.int32)
    instants = np.array([1448496000000], dtype=np.int64)
    assert _native.key_index_to_index(ZORDER_ST, True, cols, rows, instants).tolist() == [17592254352268]


def test_to_index_large_z2():
    top = np.array([2**31 - 1], dtype=np.int32)
    assert _native.key_index_to_index(ZORDER, False, top, top).tolist() == [4611686018427387903]


@pytest.mark.parametrize(
    ("index_json", "min_key", "max_key", "expected"),
    [
        (ZORDER, (0, 0), (2, 1), [(0, 4), (6, 6)]),
        (ZORDER, (1, 1), (3, 2), [(3, 3), (6, 7), (9, 9), (12, 13)]),
        (_native.key_index_create("hilbert", (0, 0), (3, 3), None), (1, 0), (3, 2), [(1, 2), (7, 8), (11, 15)]),
        (ROWMAJOR, (2, 1), (4, 3), [(102, 104), (202, 204), (302, 304)]),
    ],
)
def test_ranges(index_json, min_key, max_key, expected):
    assert _native.key_index_ranges(index_json, False, min_key, max_key) == expected


@pytest.mark.parametrize(
    ("index_json", "space_time", "width"),
    [
        (ZORDER, False, 4),
        (_native.key_index_create("zorder", (0, 0), (2**31 - 1, 2**31 - 1), None), False, 19),
        (HILBERT, False, 1),
        (ROWMAJOR, False, 4),
    ],
)
def test_file_width(index_json, space_time, width):
    assert _native.key_index_file_width(index_json, space_time) == width


@pytest.mark.parametrize(
    ("method", "min_key", "max_key", "temporal"),
    [
        ("peano", (0, 0), (9, 9), None),
        ("rowmajor", (0, 0, 0), (9, 9, 10), None),
        ("zorder", (0, 0, 0), (9, 9, 10), None),
        ("hilbert", (0, 0), (2**31 - 1, 2**31 - 1), None),
        ("zorder", (0,), (9, 9), None),
    ],
)
def test_create_errors(method, min_key, max_key, temporal):
    with pytest.raises(ValueError):
        _native.key_index_create(method, min_key, max_key, temporal)


def test_hilbert_key_outside_bounds():
    cols = np.array([180], dtype=np.int32)
    rows = np.array([409], dtype=np.int32)
    with pytest.raises(ValueError, match="outside"):
        _native.key_index_to_index(HILBERT, False, cols, rows)


@pytest.mark.parametrize("index_json", ["not json", '{"type":"zorder"}', '{"type":"peano","properties":{}}'])
def test_bad_json(index_json):
    with pytest.raises(ValueError):
        _native.key_index_file_width(index_json, False)


def test_length_and_instant_mismatch():
    one = np.array([1], dtype=np.int32)
    two = np.array([1, 2], dtype=np.int32)
    with pytest.raises(ValueError):
        _native.key_index_to_index(ZORDER, False, one, two)
    with pytest.raises(ValueError):
        _native.key_index_to_index(ZORDER_ST, True, one, one)
