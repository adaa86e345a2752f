"""Histogram (GeoTrellis StreamingHistogram / FastMapHistogram semantics), without Spark."""

import numpy as np
import pytest

from geopyspark_rs.geotrellis.histogram import Histogram

# The tile of GeoPySpark's histogram tests: four rows of 1, 2, 3, 4.
ONE_TO_FOUR = np.repeat([1.0, 2.0, 3.0, 4.0], 4)


@pytest.fixture
def hist():
    return Histogram._from_values(ONE_TO_FOUR, int_histogram=False)


def test_min_max_mean(hist):
    assert hist.min() == 1.0
    assert hist.max() == 4.0
    assert hist.min_max() == (1.0, 4.0)
    assert hist.mean() == 2.5
    assert isinstance(hist.min(), float)


def test_median_is_geotrellis_median_not_mean(hist):
    # GeoTrellis interpolates the 0.5 quantile on the cdf; it is reached exactly at label 2.
    # (GeoPySpark returned the mean, 2.5.)
    assert hist.median() == 2.0
    values = np.array([1.0, 2.0, 3.0, 3.0, 4.0, 5.0, 6.0, 6.0, 6.0, 7.0, 8.0, 9.0, 9.0, 9.0, 9.0, 10.0,
                       11.0, 12.0, 12.0, 13.0, 14.0, 14.0, 15.0, 16.0, 17.0, 17.0, 18.0, 19.0])
    # value from GeoTrellis' StreamingHistogramSpec
    assert Histogram._from_values(values, False).median() == 8.75


def test_int_median_and_mean():
    h = Histogram._from_values(np.array([1.0, 2.0, 3.0, 4.0]), int_histogram=True)
    # IntHistogram.median: first value whose cumulative count exceeds half the total
    assert h.median() == 3
    assert isinstance(h.median(), int)
    assert h.mean() == 2.5


def test_mode():
    values = ONE_TO_FOUR.copy()
    values[8] = 1.0  # five 1s, three 3s
    assert Histogram._from_values(values, False).mode() == 1.0
    # equal counts: a streaming histogram answers the last bucket, an integer one the smallest value
    assert Histogram._from_values(ONE_TO_FOUR, False).mode() == 4.0
    assert Histogram._from_values(ONE_TO_FOUR, True).mode() == 1


def test_cdf_values_counts(hist):
    assert hist.cdf() == [(1.0, 0.25), (2.0, 0.5), (3.0, 0.75), (4.0, 1.0)]
    assert hist.values() == [1.0, 2.0, 3.0, 4.0]
    assert hist.item_count(3.0) == 4
    assert hist.item_count(3) == 4
    assert hist.bucket_count() == 4
    assert hist.bin_counts() == [(1.0, 4), (2.0, 4), (3.0, 4), (4.0, 4)]


def test_int_bin_counts():
    tile = np.array([[1, 1, 1, 1],
                     [3, 1, 1, 1],
                     [4, 3, 1, 1],
                     [5, 4, 3, 1]], dtype=np.int8)
    h = Histogram._from_values(tile, int_histogram=True)
    assert h.bin_counts() == [(1, 10), (3, 3), (4, 2), (5, 1)]
    assert h.values() == [1, 3, 4, 5]
    assert h.item_count(3) == 3
    assert h.item_count(3.5) == 0
    assert h.min_max() == (1, 5)


def test_quantile_breaks(hist):
    assert hist.quantile_breaks(4) == [1.0, 2.0, 3.0, 4.0]
    exact = Histogram._from_values(np.arange(1, 101), int_histogram=True)
    assert exact.quantile_breaks(4) == [25, 50, 75, 100]
    # MutableIntHistogram: a value that fills more than one bucket on its own counts as one ideal bucket
    skewed = Histogram._from_values(np.array([1, 2, 3] + [5] * 9), int_histogram=True)
    assert skewed.quantile_breaks(3) == [1, 3, 5]
    # GeoTrellis StreamingHistogramSpec: two values, breaks interpolate between them
    two = Histogram._from_values(np.array([1.0, 2.0]), False).quantile_breaks(100)
    assert two[0] == 1.0 and two[-1] == 2.0 and all(1.0 < b < 2.0 for b in two[1:-1])
    with pytest.raises(ValueError, match="num_breaks"):
        hist.quantile_breaks(0)
    with pytest.raises(ValueError, match="num_breaks"):
        hist.quantile_breaks(2.5)


def test_nodata_and_truncation():
    values = np.array([np.nan, 1.5, -1.5, np.nan, 2.0])
    d = Histogram._from_values(values, False)
    assert d.values() == [-1.5, 1.5, 2.0]
    i = Histogram._from_values(values, True)
    assert i.bin_counts() == [(-1, 1), (1, 1), (2, 1)]


def test_merge_geopyspark_case(hist):
    ones = Histogram._from_values(np.ones(16), False)
    merged = hist.merge(ones)
    assert merged.values() == [1.0, 2.0, 3.0, 4.0]
    assert merged.mean() == 1.75
    # the operands are not changed
    assert hist.mean() == 2.5


@pytest.mark.parametrize("int_histogram", [False, True])
def test_merge_equals_histogram_of_concatenation(int_histogram):
    rng = np.random.default_rng(7)
    a = rng.integers(-20, 40, 5000).astype(np.float64)
    b = rng.integers(0, 60, 3000).astype(np.float64)
    b[::7] = np.nan
    merged = Histogram._from_values(a, int_histogram).merge(Histogram._from_values(b, int_histogram))
    whole = Histogram._from_values(np.concatenate([a, b]), int_histogram)
    assert merged.to_dict() == whole.to_dict()
    assert merged.bin_counts() == whole.bin_counts()
    data = np.concatenate([a, b[~np.isnan(b)]])
    distinct, counts = np.unique(data, return_counts=True)
    assert [v for v, _ in merged.bin_counts()] == distinct.tolist()
    assert [c for _, c in merged.bin_counts()] == counts.tolist()
    assert merged.mean() == pytest.approx(data.mean(), rel=1e-12)


def test_merge_kinds_refused(hist):
    with pytest.raises(ValueError, match="integer histogram"):
        hist.merge(Histogram._from_values(ONE_TO_FOUR, True))


def test_bucket_limit_keeps_count_and_exact_min_max():
    rng = np.random.default_rng(3)
    values = rng.normal(100.0, 15.0, 20000)
    h = Histogram._from_values(values, False)
    assert h.bucket_count() == 80
    assert sum(c for _, c in h.bin_counts()) == values.size
    assert h.min_max() == (values.min(), values.max())
    assert h.to_dict()["maxBucketCount"] == 80
    breaks = h.quantile_breaks(10)
    assert breaks == sorted(breaks) and breaks[-1] == values.max()
    assert abs(h.median() - np.median(values)) < 1.0
    small = Histogram._from_values(values, False, max_bucket_count=5)
    assert small.bucket_count() == 5


def test_dict_round_trip(hist):
    d = hist.to_dict()
    assert d == {"buckets": [[1.0, 4.0], [2.0, 4.0], [3.0, 4.0], [4.0, 4.0]],
                 "maxBucketCount": 80, "minimum": 1.0, "maximum": 4.0}
    rebuilt = Histogram.from_dict(d)
    assert rebuilt.min_max() == hist.min_max()
    assert rebuilt.to_dict() == d
    assert rebuilt.quantile_breaks(7) == hist.quantile_breaks(7)

    i = Histogram._from_values(np.array([3, 1, 1, -4]), True)
    assert i.to_dict() == [[-4, 1], [1, 2], [3, 1]]
    assert Histogram.from_dict(i.to_dict()).bin_counts() == i.bin_counts()


def test_from_dict_geotrellis_literals():
    # as GeoTrellis' circe/spray encoders write them
    d = Histogram.from_dict({"buckets": [[10.5, 3.0], [12.25, 1.0]], "maxBucketCount": 80,
                             "minimum": 10.0, "maximum": 13.0})
    assert d.bin_counts() == [(10.5, 3), (12.25, 1)]
    assert d.min_max() == (10.0, 13.0)
    assert d.mean() == pytest.approx((10.5 * 3 + 12.25) / 4)
    i = Histogram.from_dict([[7, 2], [0, 5]])
    assert i.bin_counts() == [(0, 5), (7, 2)]
    assert i.mode() == 0
    empty = Histogram.from_dict({"maxBucketCount": 80})
    assert empty.bucket_count() == 0
    assert empty.to_dict() == {"maxBucketCount": 80}
    with pytest.raises(ValueError, match="empty"):
        empty.min()
    with pytest.raises(ValueError, match="empty"):
        empty.median()


@pytest.mark.parametrize("bad", [
    {},
    {"maxBucketCount": 0},
    {"maxBucketCount": 80, "minimum": 1.0, "maximum": 2.0, "buckets": [[1.0]]},
    [[1.5, 2]],
    [[1, 2, 3]],
    "[[1, 2]]",
    3,
])
def test_from_dict_rejects_bad_input(bad):
    with pytest.raises(ValueError):
        Histogram.from_dict(bad)


def test_constructor_checks_type():
    with pytest.raises(TypeError):
        Histogram({"maxBucketCount": 80})
