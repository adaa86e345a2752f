"""The TMS tile server on loopback, over a catalog and over a pyramid: pixels, 204s, overzooming, errors,
headers, the web map (in headless Chromium when it is installed)."""

import io
import shutil
import socket
import time
import urllib.error
import urllib.request

import numpy as np
import pytest

import geopyspark_rs as gps
from geopyspark_rs.geotrellis.color import ColorMap, ramp_colors

Image = pytest.importorskip("PIL.Image")

WM = 20037508.342789244
T = 64  # tile size
MISSING = (3, 3)


def _tiles():
    tiles = {}
    for c in range(4):
        for r in range(4):
            if (c, r) != MISSING:
                tiles[(c, r)] = np.full((1, T, T), c + 4 * r, np.int32)
    tiles[(1, 1)] = np.broadcast_to(100 + np.arange(T, dtype=np.int32), (1, T, T)).copy()  # a gradient
    return tiles


@pytest.fixture(scope="module")
def layer(spark):
    tiles = _tiles()
    layout = gps.LayoutDefinition(gps.Extent(-WM, -WM, WM, WM), gps.TileLayout(4, 4, T, T))
    md = gps.Metadata(gps.Bounds(gps.SpatialKey(0, 0), gps.SpatialKey(3, 3)), "EPSG:3857", "int32",
                      gps.Extent(-WM, -WM, WM, WM), layout)
    recs = [(gps.SpatialKey(*k), gps.Tile(a, "INT", gps.NO_DATA_INT)) for k, a in tiles.items()]
    return gps.TiledRasterLayer.from_numpy_tiles(gps.LayerType.SPATIAL, recs, md, zoom_level=2)


@pytest.fixture(scope="module")
def cmap():
    return ColorMap.from_colors(list(range(200)), ramp_colors("Viridis"), fallback=0xFF00FFFF)


def colours(cmap, values):
    c = cmap.colors_of(np.asarray(values, dtype=np.float64)).astype(np.uint32)
    return np.stack([(c >> s) & 0xFF for s in (24, 16, 8, 0)], axis=-1).astype(np.uint8)


def get(url, headers=None):
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def png(body):
    return np.asarray(Image.open(io.BytesIO(body)).convert("RGBA"))


@pytest.fixture(scope="module")
def catalog(layer, tmp_path_factory):
    uri = str(tmp_path_factory.mktemp("tms") / "catalog")
    layer.pyramid().write(uri, "land")
    return uri


def check_tiles(base, cmap):
    tiles = _tiles()
    for (c, r) in [(0, 0), (2, 1), (1, 1), (0, 3)]:
        status, headers, body = get(f"{base}/tile/2/{c}/{r}.png")
        assert status == 200 and headers["Content-Type"] == "image/png"
        np.testing.assert_array_equal(png(body), colours(cmap, tiles[(c, r)][0]))
    status, _, body = get(f"{base}/tile/2/{MISSING[0]}/{MISSING[1]}.png")
    assert status == 204 and body == b""
    assert get(f"{base}/tile/0/0/0.png")[0] == 200
    # Overzooming: zoom 4 tile (5, 4) is the top-right quarter of the deepest tile (1, 1), enlarged 4×.
    status, _, body = get(f"{base}/tile/4/5/4.png")
    assert status == 200
    quarter = tiles[(1, 1)][0][: T // 4, T // 4: T // 2]
    np.testing.assert_array_equal(png(body), colours(cmap, np.repeat(np.repeat(quarter, 4, 0), 4, 1)))


def test_catalog_source(catalog, cmap):
    tms = gps.TMS.build((catalog, "land"), cmap)
    with pytest.raises(ValueError, match="not bound"):
        tms.url_pattern
    tms.bind("127.0.0.1")
    port = tms.port
    try:
        assert tms.url_pattern == f"http://127.0.0.1:{tms.port}/tile/{{z}}/{{x}}/{{y}}.png"
        check_tiles(f"http://127.0.0.1:{tms.port}", cmap)
        assert any(line.startswith("GET /tile/2/0/0.png 200") for line in tms.request_log())
    finally:
        tms.unbind()
    assert not tms.bound
    with pytest.raises(OSError):  # the port is released
        socket.create_connection(("127.0.0.1", port), 0.5)


def test_pyramid_source_needs_no_spark_job_per_request(layer, cmap, spark):
    tms = gps.TMS.build(layer.pyramid(), cmap).bind("127.0.0.1")
    try:
        tracker = spark.sparkContext.statusTracker()
        jobs = len(tracker.getJobIdsForGroup())
        check_tiles(f"http://127.0.0.1:{tms.port}", cmap)
        assert len(tracker.getJobIdsForGroup()) == jobs
    finally:
        tms.unbind()


def test_python_display_and_errors(catalog, cmap):
    calls = []

    def display(tile):
        calls.append(tile)
        v = tile.cells[0]
        if v[0, 0] == 4:
            raise RuntimeError("this tile is cursed")
        if v[0, 0] == 6:
            return np.zeros((3, 3), np.uint8)  # the wrong shape
        img = np.zeros(v.shape + (4,), np.uint8)
        img[..., 0] = v.astype(np.uint8)
        img[..., 3] = 255
        return img

    tms = gps.TMS.build((catalog, "land"), display).bind("127.0.0.1")
    base = f"http://127.0.0.1:{tms.port}"
    try:
        status, _, body = get(f"{base}/tile/2/2/0.png")  # value 2
        assert status == 200 and (png(body)[..., 0] == 2).all() and isinstance(calls[0], gps.Tile)
        status, _, body = get(f"{base}/tile/2/0/1.png")  # value 4: the function raises
        assert status == 500 and b"cursed" in body
        status, _, body = get(f"{base}/tile/2/2/1.png")  # value 6: not an image
        assert status == 500 and b"uint8 array" in body
        assert get(f"{base}/tile/2/2/2.png")[0] == 200  # still serving after the failures
        assert get(f"{base}/tile/2/{MISSING[0]}/{MISSING[1]}.png")[0] == 204
    finally:
        tms.unbind()


def test_several_sources(catalog, layer):
    seen = []

    def combine(tiles):
        seen.append(len(tiles))
        a, b = tiles
        img = np.zeros((T, T, 4), np.uint8)
        img[..., 0] = (a.cells[0] + b.cells[0]).astype(np.uint8)
        img[..., 3] = 255
        return img

    with pytest.raises(ValueError, match="ColorMap displays one source"):
        gps.TMS.build([(catalog, "land"), (catalog, "land")], ColorMap.from_break_map({1: 1}))
    tms = gps.TMS.build([(catalog, "land"), layer.pyramid()], combine).bind("127.0.0.1")
    try:
        status, _, body = get(f"http://127.0.0.1:{tms.port}/tile/2/3/0.png")
        assert status == 200 and (png(body)[..., 0] == 6).all() and seen == [2]
    finally:
        tms.unbind()


def test_http_details(catalog, cmap):
    tms = gps.TMS.build((catalog, "land"), cmap, allow_overzooming=False).bind("127.0.0.1")
    base = f"http://127.0.0.1:{tms.port}"
    try:
        status, headers, _ = get(f"{base}/tile/2/0/0.png")
        assert headers["Access-Control-Allow-Origin"] == "*" and "max-age" in headers["Cache-Control"]
        assert get(f"{base}/tile/2/0/0.png", {"If-None-Match": headers["ETag"]})[0] == 304
        assert get(f"{base}/tile/4/5/4.png")[0] == 204  # no overzooming
        for bad in ["/tile/a/0/0.png", "/tile/99/0/0.png", "/tile/2/4/0.png", "/tile/2/0.png",
                    "/tile/..%2F..%2Fetc/passwd", "/static/%2e%2e/%2e%2e/etc/passwd", "/tile/-1/0/0.png"]:
            status, _, body = get(base + bad)
            assert status == 400, bad
        assert get(f"{base}/no/such/file")[0] == 404
        status, _, page = get(f"{base}/")
        assert status == 200 and b"static/leaflet.js" in page and b'"maxNativeZoom": 2' in page
        assert get(f"{base}/static/leaflet.js")[2].startswith(b"/* @preserve\n * Leaflet")
        tms.set_handshake("hello")
        assert get(f"{base}/handshake")[2] == b"hello"
        with pytest.raises(OSError, match=str(tms.port)):
            gps.TMS.build((catalog, "land"), cmap).bind("127.0.0.1", tms.port)
    finally:
        tms.unbind()
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(f"{base}/", timeout=2)


def test_bad_sources(catalog, cmap):
    with pytest.raises(ValueError, match="no layer"):
        gps.TMS.build((catalog, "nope"), cmap)
    with pytest.raises(ValueError, match="TMS source"):
        gps.TMS.build(42, cmap)
    with pytest.raises(ValueError, match="display"):
        gps.TMS.build((catalog, "land"), 42)


def test_web_map_in_headless_chromium(catalog, cmap):
    driver_path = shutil.which("chromedriver")
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    webdriver = pytest.importorskip("selenium.webdriver")
    if not (driver_path and browser):
        pytest.skip("chromium and chromedriver are not installed")
    from selenium.webdriver.chrome.service import Service

    tms = gps.TMS.build((catalog, "land"), cmap).bind("127.0.0.1")
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=512,512"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    try:
        driver.get(f"http://127.0.0.1:{tms.port}/")
        deadline = time.time() + 20
        while time.time() < deadline:
            pending = driver.execute_script(
                "const t = Array.from(document.querySelectorAll('img.leaflet-tile'));"
                "return [t.length, t.filter(i => i.classList.contains('leaflet-tile-loaded')).length]")
            if pending[0] > 0 and pending[0] == pending[1]:
                break
            time.sleep(0.2)
        time.sleep(0.3)
        shot = np.asarray(Image.open(io.BytesIO(driver.get_screenshot_as_png())).convert("RGB"))
    finally:
        driver.quit()
        tms.unbind()
    served = {tuple(c[:3]) for c in colours(cmap, np.arange(16)).reshape(-1, 4)}
    found = {tuple(p) for p in shot.reshape(-1, 3)} & served
    assert len(found) >= 4, "the screenshot should show the tiles' colours"


def test_unbind_lets_requests_in_flight_finish(catalog):
    import threading

    started = threading.Event()

    def slow(tile):
        started.set()
        time.sleep(1.0)
        return np.full(tile.cells.shape[1:] + (4,), 255, np.uint8)

    tms = gps.TMS.build((catalog, "land"), slow).bind("127.0.0.1")
    url = f"http://127.0.0.1:{tms.port}/tile/2/0/0.png"
    result = {}
    t = threading.Thread(target=lambda: result.setdefault("r", get(url)))
    t.start()
    assert started.wait(10)
    tms.unbind()  # while the tile is being rendered
    t.join(10)
    assert result["r"][0] == 200 and png(result["r"][2]).shape == (T, T, 4)
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(url, timeout=2)


def test_catalog_on_s3(layer, cmap, s3_conf):
    """The server reads an S3 catalog itself (object_store in Rust), with the credentials of Spark's conf."""
    bucket = s3_conf.create_bucket("tms-" + str(int(time.time() * 1000)))
    uri = f"s3://{bucket}/catalog"
    gps.write(uri, "land", layer)
    tms = gps.TMS.build((uri, "land"), cmap).bind("127.0.0.1")
    try:
        base = f"http://127.0.0.1:{tms.port}"
        status, _, body = get(f"{base}/tile/2/2/1.png")
        assert status == 200
        np.testing.assert_array_equal(png(body), colours(cmap, _tiles()[(2, 1)][0]))
        assert get(f"{base}/tile/2/{MISSING[0]}/{MISSING[1]}.png")[0] == 204
    finally:
        tms.unbind()


def test_folium_map_points_at_the_server(catalog, cmap):
    folium = pytest.importorskip("folium")
    tms = gps.TMS.build((catalog, "land"), cmap).bind("127.0.0.1")
    try:
        m = tms.to_folium()
        assert isinstance(m, folium.Map)
        page = m.get_root().render()
        assert f"http://127.0.0.1:{tms.port}/tile/{{z}}/{{x}}/{{y}}.png" in page
        assert '"maxNativeZoom": 2' in page
    finally:
        tms.unbind()
