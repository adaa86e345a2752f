"""get_min_max, histograms and quantile breaks over layers."""

import math

import numpy as np
import pytest

import geopyspark_rs as gps
from layers import ramp, tiled


@pytest.fixture(scope="module")
def layer(spark):
    a = ramp((1, 4, 4))
    a[0, 0, 0] = np.nan
    return tiled({(0, 0): a, (1, 0): a + 16, (0, 1): a + 32}, no_data=np.nan)


def test_min_max(layer):
    assert layer.get_min_max() == (1.0, 47.0)
    assert isinstance(layer.get_min_max()[0], float)


def test_min_max_of_all_nodata(spark):
    a = np.full((1, 2, 2), np.nan, np.float32)
    lo, hi = tiled({(0, 0): a}, no_data=np.nan).get_min_max()
    assert math.isnan(lo) and math.isnan(hi)


def test_histogram(layer):
    h = layer.get_histogram()
    assert isinstance(h, gps.Histogram)
    assert h.min_max() == (1.0, 47.0)
    values = np.setdiff1d(np.arange(1, 48), [16, 32])  # the first cell of every tile is NoData
    assert h.mean() == pytest.approx(values.mean())
    assert sum(c for _, c in h.bin_counts()) == values.size


def test_class_histogram_and_breaks(spark):
    a = np.array([[[1, 1, 2, 3]]], np.int32)
    layer = tiled({(0, 0): a, (1, 0): a + 1}, no_data=gps.NO_DATA_INT)
    h = layer.get_class_histogram()
    assert dict(h.bin_counts()) == {1: 2, 2: 3, 3: 2, 4: 1}
    assert h.item_count(2) == 3
    breaks = layer.get_quantile_breaks_exact_int(4)
    assert all(isinstance(b, int) for b in breaks)
    assert breaks[-1] == 4
    assert len(layer.get_quantile_breaks(2)) == 2


def test_multiband_histograms(spark):
    a = ramp((2, 2, 2))
    hs = tiled({(0, 0): a}).get_histogram()
    assert isinstance(hs, list) and len(hs) == 2
    assert hs[1].min_max() == (4.0, 7.0)
