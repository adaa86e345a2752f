"""_native.resample_tile against GDAL (through rasterio) and against hand-computed cases. No Spark.

GDAL reference: ``rasterio.warp.reproject`` with the same CRS on both sides and one thread (GDAL's RasterIO
path, ``read(out_shape=...)``, gives the same numbers for the interpolating methods but does not offer
median/min/max). Grids are 396×396 so that 2 and 3 divide them: every destination cell then covers whole
source cells, and GeoTrellis' footprint rule (source cells whose centre lies in the destination cell) and
GDAL's (source cells the destination cell overlaps, weighted by overlap) select the same cells.

Tolerances, and why:
* NearestNeighbor, Mode, Max, Min: identical.
* Average: within one float32 rounding (GDAL accumulates differently).
* Median: identical for odd counts; for an even count GeoTrellis takes the mean of the two middle values
  while GDAL takes the lower one, so we check both rules against numpy instead.
* Bilinear, CubicConvolution: identical away from the edges when upsampling by 2 (same kernels at the same
  points). When downsampling GDAL widens the kernel by the scale factor (anti-aliasing) while GeoTrellis
  evaluates it at the destination centre as is: mean absolute difference < 1 % of the data range away
  from the edges (measured: ≤ 0.03 % on the smooth field, ≤ 0.98 % on the DEM at 1/3).
* CubicSpline is a different function in each (GeoTrellis: Akima's interpolating spline on 6×6; GDAL: a
  smoothing cubic B-spline): < 2 % (measured ≤ 1.35 %).
* Lanczos: GeoTrellis does not renormalise the 6×6 weights (a constant field sampled halfway between
  centres comes out ×0.9886) and GDAL does: < 1 % (measured ≤ 0.86 %).
Edges differ (GDAL renormalises over the cells inside the grid, GeoTrellis replicates edge cells), so the
interpolating methods are compared on the interior only.
"""

import numpy as np
import pytest

from geopyspark_rs import _native

rasterio = pytest.importorskip("rasterio")
from rasterio.enums import Resampling  # noqa: E402
from rasterio.transform import from_origin  # noqa: E402
from rasterio.warp import reproject  # noqa: E402

N = 396
GDAL = {
    "NearestNeighbor": Resampling.nearest,
    "Bilinear": Resampling.bilinear,
    "CubicConvolution": Resampling.cubic,
    "CubicSpline": Resampling.cubic_spline,
    "Lanczos": Resampling.lanczos,
    "Average": Resampling.average,
    "Mode": Resampling.mode,
    "Median": Resampling.med,
    "Max": Resampling.max,
    "Min": Resampling.min,
}
SIZES = {"down2": N // 2, "down3": N // 3, "up2": N * 2}
INTERIOR_MAE = {"Bilinear": 0.01, "CubicConvolution": 0.01, "CubicSpline": 0.02, "Lanczos": 0.01}


def ours(a, method, size, cell_type="float32"):
    rows, cols = a.shape
    extent = (0.0, 0.0, float(cols), float(rows))
    out = _native.resample_tile(a.astype(np.float32).tobytes(), cell_type, 1, rows, cols, extent,
                                size, size, extent, method)
    return np.frombuffer(out, np.float32).reshape(size, size)


def gdal(a, method, size):
    rows, cols = a.shape
    dst = np.full((size, size), np.nan, np.float32)
    reproject(a.astype(np.float32), dst, src_transform=from_origin(0, rows, 1, 1), src_crs="EPSG:3857",
              dst_transform=from_origin(0, rows, cols / size, rows / size), dst_crs="EPSG:3857",
              resampling=GDAL[method], src_nodata=np.nan, dst_nodata=np.nan, num_threads=1)
    return dst


def smooth_field():
    yy, xx = np.mgrid[0:N, 0:N]
    return (np.sin(xx / 37.0) * np.cos(yy / 23.0) * 100 + xx * 0.3).astype(np.float32)


@pytest.fixture(scope="module")
def elevation(shared_data):
    path = shared_data / "geotiff" / "elevation.tif"
    if not path.exists():
        pytest.skip(f"{path} is not present")
    with rasterio.open(path) as ds:
        return ds.read(1)[:N, :N].astype(np.float32)


def middle_pair(a, k):
    """The two middle values of every k×k window (k even)."""
    n = a.shape[0] // k
    w = np.sort(a.reshape(n, k, n, k).transpose(0, 2, 1, 3).reshape(n, n, k * k), axis=-1)
    return w[..., k * k // 2 - 1], w[..., k * k // 2]


def check_against_gdal(a, method, label):
    size = SIZES[label]
    o, g = ours(a, method, size), gdal(a, method, size)
    assert not np.isnan(o).any()
    if method in ("NearestNeighbor", "Mode", "Max", "Min") or (method == "Median" and label != "down2"):
        np.testing.assert_array_equal(o, g)
    elif method == "Average":
        np.testing.assert_allclose(o, g, rtol=1e-6, atol=1e-6 * float(np.abs(a).max()))
    elif method == "Median":
        lower, upper = middle_pair(a, 2)
        np.testing.assert_array_equal(o, ((lower.astype(np.float64) + upper) / 2).astype(np.float32))
        np.testing.assert_array_equal(g, lower)
    else:
        k = 8 if label == "up2" else 4
        inner = (slice(k, -k), slice(k, -k))
        diff = np.abs(o.astype(np.float64) - g)[inner]
        data_range = float(a.max() - a.min())
        assert diff.mean() < INTERIOR_MAE[method] * data_range, (method, label, diff.mean() / data_range)
        if label == "up2" and method in ("Bilinear", "CubicConvolution"):
            np.testing.assert_allclose(o[inner], g[inner], rtol=1e-6, atol=1e-4)


@pytest.mark.parametrize("label", list(SIZES))
@pytest.mark.parametrize("method", list(GDAL))
def test_smooth_field_against_gdal(method, label):
    check_against_gdal(smooth_field(), method, label)


@pytest.mark.parametrize("label", list(SIZES))
@pytest.mark.parametrize("method", list(GDAL))
def test_elevation_against_gdal(elevation, method, label):
    check_against_gdal(elevation, method, label)


@pytest.mark.parametrize("label", list(SIZES))
@pytest.mark.parametrize("method", ["NearestNeighbor", "Average", "Mode", "Max", "Min", "Median"])
def test_nodata_against_gdal(elevation, method, label):
    """NoData (NaN) holes: aggregate methods skip them like GDAL; all-NoData windows stay NoData."""
    a = elevation.copy()
    a[np.random.default_rng(1).random(a.shape) < 0.3] = np.nan
    a[:40, :40] = np.nan
    size = SIZES[label]
    o, g = ours(a, method, size), gdal(a, method, size)
    np.testing.assert_array_equal(np.isnan(o), np.isnan(g))
    assert np.isnan(o).any() and not np.isnan(o).all()
    if method == "Average":
        np.testing.assert_allclose(o, g, rtol=1e-6)
    elif method == "Median":
        # Odd and even counts mix here; GDAL's even rule differs (see the module docstring).
        lo, hi = ours(a, "Min", size), ours(a, "Max", size)
        data = ~np.isnan(o)
        assert (lo[data] <= o[data]).all() and (o[data] <= hi[data]).all()
    else:
        np.testing.assert_array_equal(o, g)


def test_identity_for_interpolating_methods(elevation):
    extent = (-8381389.716714849, 4845920.459048369, -8343195.516714849, 4887235.159048369)
    cells = elevation.tobytes()
    for method in ["NearestNeighbor", "Bilinear", "CubicConvolution", "CubicSpline", "Lanczos"]:
        out = _native.resample_tile(cells, "float32", 1, N, N, extent, N, N, extent, method)
        assert out == cells, method


def test_integer_types_and_bands():
    # uint16 with NoData 0: two bands, averaged 2×2 → 1×1, truncated toward zero like GeoTrellis.
    a = np.array([[[1, 2], [2, 2]], [[0, 5], [6, 6]]], np.uint16)
    e = (0.0, 0.0, 2.0, 2.0)
    out = np.frombuffer(_native.resample_tile(a.tobytes(), "uint16", 2, 2, 2, e, 1, 1, e, "Average"), np.uint16)
    assert out.tolist() == [1, 5]
    # int16: bilinear rounds half up: (-1 + 0) / 2 = -0.5 → 0.
    b = np.array([[-1, 0]], np.int16)
    out = np.frombuffer(_native.resample_tile(b.tobytes(), "int16", 1, 1, 2, e, 1, 1, e, "Bilinear"), np.int16)
    assert out.tolist() == [0]
    # Cells whose centre is outside the source are NoData: -9999 for int16ud-9999.
    c = np.full((2, 2), 7, np.int16)
    out = _native.resample_tile(c.tobytes(), "int16ud-9999", 1, 2, 2, e, 4, 1, (-2.0, 1.0, 2.0, 2.0), "Bilinear")
    assert np.frombuffer(out, np.int16).tolist() == [-9999, -9999, 7, 7]


def test_bad_arguments():
    cells = np.zeros(4, np.float32).tobytes()
    e = (0.0, 0.0, 2.0, 2.0)
    with pytest.raises(ValueError, match="unknown resample method 'bicubic'|unknown resample method \"bicubic\""):
        _native.resample_tile(cells, "float32", 1, 2, 2, e, 1, 1, e, "bicubic")
    with pytest.raises(ValueError, match="NearestNeighbor, Bilinear, CubicConvolution"):
        _native.resample_tile(cells, "float32", 1, 2, 2, e, 1, 1, e, "nearest")
    with pytest.raises(ValueError, match="unknown cell type"):
        _native.resample_tile(cells, "float16", 1, 2, 2, e, 1, 1, e, "Max")
    with pytest.raises(ValueError, match="take 32 bytes, got 16"):
        _native.resample_tile(cells, "float32", 2, 2, 2, e, 1, 1, e, "Max")
    with pytest.raises(ValueError, match="destination grid"):
        _native.resample_tile(cells, "float32", 1, 2, 2, e, 0, 1, e, "Max")
    with pytest.raises(ValueError, match="empty or not finite"):
        _native.resample_tile(cells, "float32", 1, 2, 2, (0.0, 0.0, float("nan"), 1.0), 1, 1, e, "Max")
