//! The TMS tile server: `GET /tile/{z}/{x}/{y}.png` renders the tile of each source with a colour map or a
//! [`Renderer`] (the Python binding's callables), `GET /` serves a web map, `GET /handshake` a fixed text.
//! hyper on a tokio runtime of its own; reading and rendering run on tokio's blocking pool, so a slow
//! store or renderer never stalls the accept loop. Rendered tiles (and known-empty ones) are cached.

pub mod source;

use std::collections::{HashMap, VecDeque};
use std::convert::Infallible;
use std::hash::{Hash, Hasher};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use gps_engine::batch::TileRef;
use gps_engine::catalog::avro::Tile;
use gps_engine::render::colormap::ColorMap;
use gps_engine::render::png::PngOptions;
use gps_engine::{EngineError, Result};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{HeaderValue, ACCESS_CONTROL_ALLOW_ORIGIN, CACHE_CONTROL, CONTENT_TYPE, ETAG, IF_NONE_MATCH};
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
pub use source::{CatalogSource, Level, TileSource};
use tokio::sync::oneshot;

/// Turns the tiles of every source at one position (None where a source has none) into PNG bytes, or
/// None for "no tile" (answered 204). An error is answered 500 and logged.
pub trait Renderer: Send + Sync {
    fn render(&self, tiles: Vec<Option<Tile>>) -> std::result::Result<Option<Vec<u8>>, String>;
}

/// How tiles become pictures.
pub enum Display {
    /// Band 0 of the single source through a colour map.
    ColorMap(ColorMap),
    Renderer(Arc<dyn Renderer>),
}

/// Everything a server serves.
pub struct Config {
    pub sources: Vec<Arc<dyn TileSource>>,
    pub display: Display,
    pub allow_overzooming: bool,
    /// Fixed files by path (`/`, `/static/leaflet.js`, …): content type and bytes.
    pub files: HashMap<String, (String, Vec<u8>)>,
    pub handshake: Arc<Mutex<String>>,
    /// Rendered tiles kept in memory (entries).
    pub cache_entries: usize,
}

const LOG_LINES: usize = 1000;

struct State {
    config: Config,
    max_zoom: Option<u32>,
    cache: Mutex<Cache>,
    log: Mutex<VecDeque<String>>,
}

#[derive(Default)]
struct Cache {
    tiles: HashMap<(u32, i64, i64), Option<(Bytes, String)>>,
    order: VecDeque<(u32, i64, i64)>,
}

/// A running server; [`Server::unbind`] stops it.
pub struct Server {
    pub addr: SocketAddr,
    state: Arc<State>,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

/// What a tile request asks for.
#[derive(Debug, PartialEq, Eq)]
pub enum Route {
    Tile(u32, i64, i64),
    File(String),
    Handshake,
}

/// The highest zoom served; deeper requests are refused as malformed.
const MAX_REQUEST_ZOOM: u32 = 30;

/// The route of a request path, or why it is refused (public for the fuzz target).
pub fn parse_route(path: &str) -> std::result::Result<Route, String> {
    // Refuse anything that could name a parent directory, raw or percent-encoded.
    let lower = path.to_ascii_lowercase();
    if lower.contains("..") || lower.contains("%2e") || lower.contains("%2f") || lower.contains('\\') {
        return Err(format!("path {path:?} is not allowed"));
    }
    if path == "/handshake" {
        return Ok(Route::Handshake);
    }
    let Some(rest) = path.strip_prefix("/tile/") else {
        return Ok(Route::File(path.to_string()));
    };
    let rest = rest.strip_suffix(".png").unwrap_or(rest);
    let parts: Vec<&str> = rest.split('/').collect();
    let bad = || format!("expected /tile/{{z}}/{{x}}/{{y}}.png with non-negative integers, got {path:?}");
    let [z, x, y] = parts.as_slice() else {
        return Err(bad());
    };
    let digits = |s: &str| !s.is_empty() && s.len() <= 12 && s.bytes().all(|b| b.is_ascii_digit());
    if !(digits(z) && digits(x) && digits(y)) {
        return Err(bad());
    }
    let z: u32 = z.parse().map_err(|_| bad())?;
    if z > MAX_REQUEST_ZOOM {
        return Err(format!("zoom {z} is over {MAX_REQUEST_ZOOM}"));
    }
    let (x, y): (i64, i64) = (x.parse().map_err(|_| bad())?, y.parse().map_err(|_| bad())?);
    if x >= 1i64 << z || y >= 1i64 << z {
        return Err(format!("tile {x}/{y} is outside zoom {z}'s {n}×{n} tiles", n = 1i64 << z));
    }
    Ok(Route::Tile(z, x, y))
}

fn etag_of(bytes: &[u8]) -> String {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    bytes.hash(&mut h);
    format!("\"{:016x}-{}\"", h.finish(), bytes.len())
}

impl State {
    /// The tile of one source at `(z, x, y)`, taken from the deepest level when overzooming.
    fn fetch(&self, source: &dyn TileSource, z: u32, x: i64, y: i64) -> Result<Option<Tile>> {
        match self.max_zoom {
            Some(max) if z > max && self.config.allow_overzooming => {
                let dz = z - max;
                let mask = (1i64 << dz) - 1;
                match source.tile(max, x >> dz, y >> dz)? {
                    Some(t) => Ok(Some(source::overzoom(&t, dz, x & mask, y & mask)?)),
                    None => Ok(None),
                }
            }
            _ => source.tile(z, x, y),
        }
    }

    fn render(&self, z: u32, x: i64, y: i64) -> std::result::Result<Option<Vec<u8>>, String> {
        let mut tiles = Vec::with_capacity(self.config.sources.len());
        for s in &self.config.sources {
            tiles.push(self.fetch(s.as_ref(), z, x, y).map_err(|e| e.to_string())?);
        }
        if tiles.iter().all(Option::is_none) {
            return Ok(None);
        }
        match &self.config.display {
            Display::ColorMap(map) => {
                let Some(t) = &tiles[0] else { return Ok(None) };
                let name = t.cell_type.name();
                let tile = TileRef { cell_type: &name, bands: t.bands, rows: t.rows, cols: t.cols, cells: &t.cells };
                gps_engine::render::tile_png(&t.cell_type, &tile, Some(map), PngOptions::default())
                    .map(Some)
                    .map_err(|e| e.to_string())
            }
            Display::Renderer(r) => r.render(tiles),
        }
    }

    fn cached(&self, key: (u32, i64, i64)) -> Option<Option<(Bytes, String)>> {
        self.cache.lock().ok()?.tiles.get(&key).cloned()
    }

    fn remember(&self, key: (u32, i64, i64), value: Option<(Bytes, String)>) {
        let limit = self.config.cache_entries;
        if limit == 0 {
            return;
        }
        if let Ok(mut c) = self.cache.lock() {
            if c.tiles.insert(key, value).is_none() {
                c.order.push_back(key);
            }
            while c.order.len() > limit {
                if let Some(old) = c.order.pop_front() {
                    c.tiles.remove(&old);
                }
            }
        }
    }

    fn log(&self, line: String) {
        if let Ok(mut log) = self.log.lock() {
            if log.len() == LOG_LINES {
                log.pop_front();
            }
            log.push_back(line);
        }
    }
}

fn response(status: StatusCode, content_type: &str, body: Bytes) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(body));
    *r.status_mut() = status;
    let h = r.headers_mut();
    h.insert(ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    if let Ok(v) = HeaderValue::from_str(content_type) {
        h.insert(CONTENT_TYPE, v);
    }
    r
}

fn text(status: StatusCode, message: String) -> Response<Full<Bytes>> {
    response(status, "text/plain; charset=utf-8", Bytes::from(message))
}

async fn handle(state: Arc<State>, req: Request<Incoming>) -> Response<Full<Bytes>> {
    let started = Instant::now();
    let path = req.uri().path().to_string();
    let method = req.method().clone();
    let if_none_match = req.headers().get(IF_NONE_MATCH).and_then(|v| v.to_str().ok()).map(str::to_string);
    let resp = serve(&state, &method, &path, if_none_match).await;
    let size = hyper::body::Body::size_hint(resp.body()).exact().unwrap_or(0);
    state.log(format!(
        "{method} {path} {} {size} {:.2}ms",
        resp.status().as_u16(),
        started.elapsed().as_secs_f64() * 1e3
    ));
    resp
}

async fn serve(state: &Arc<State>, method: &Method, path: &str, if_none_match: Option<String>) -> Response<Full<Bytes>> {
    if method == Method::OPTIONS {
        let mut r = response(StatusCode::NO_CONTENT, "text/plain", Bytes::new());
        r.headers_mut().insert("access-control-allow-methods", HeaderValue::from_static("GET, OPTIONS"));
        return r;
    }
    if method != Method::GET && method != Method::HEAD {
        return text(StatusCode::METHOD_NOT_ALLOWED, format!("{method} is not served; use GET"));
    }
    let route = match parse_route(path) {
        Ok(r) => r,
        Err(msg) => return text(StatusCode::BAD_REQUEST, msg),
    };
    match route {
        Route::Handshake => {
            let body = state.config.handshake.lock().map(|h| h.clone()).unwrap_or_default();
            text(StatusCode::OK, body)
        }
        Route::File(p) => match state.config.files.get(&p) {
            Some((ct, bytes)) => response(StatusCode::OK, ct, Bytes::from(bytes.clone())),
            None => text(StatusCode::NOT_FOUND, format!("{p} not found")),
        },
        Route::Tile(z, x, y) => {
            let key = (z, x, y);
            let found = match state.cached(key) {
                Some(hit) => Ok(hit),
                None => {
                    let s = state.clone();
                    match tokio::task::spawn_blocking(move || s.render(z, x, y)).await {
                        Ok(Ok(png)) => {
                            let value = png.map(|p| {
                                let etag = etag_of(&p);
                                (Bytes::from(p), etag)
                            });
                            state.remember(key, value.clone());
                            Ok(value)
                        }
                        Ok(Err(msg)) => Err(msg),
                        Err(join) => Err(format!("the tile renderer failed: {join}")),
                    }
                }
            };
            match found {
                Ok(None) => response(StatusCode::NO_CONTENT, "image/png", Bytes::new()),
                Ok(Some((png, etag))) => {
                    let not_modified = if_none_match.as_deref() == Some(etag.as_str());
                    let mut r = if not_modified {
                        response(StatusCode::NOT_MODIFIED, "image/png", Bytes::new())
                    } else {
                        response(StatusCode::OK, "image/png", png)
                    };
                    let h = r.headers_mut();
                    h.insert(CACHE_CONTROL, HeaderValue::from_static("public, max-age=300"));
                    if let Ok(v) = HeaderValue::from_str(&etag) {
                        h.insert(ETAG, v);
                    }
                    r
                }
                Err(msg) => {
                    eprintln!("geopyspark_rs TMS: GET {path}: {msg}");
                    text(StatusCode::INTERNAL_SERVER_ERROR, msg)
                }
            }
        }
    }
}

impl Server {
    /// Bind `host:port` (port 0: any free port) and serve on a background thread until [`Server::unbind`].
    ///
    /// # Errors
    /// [`EngineError::Io`] when the address cannot be bound (a port in use, an unknown host).
    pub fn bind(config: Config, host: &str, port: u16) -> Result<Server> {
        let mut zooms: Vec<u32> = config.sources.iter().flat_map(|s| s.zooms()).collect();
        zooms.sort_unstable();
        let state = Arc::new(State {
            max_zoom: zooms.last().copied(),
            config,
            cache: Mutex::new(Cache::default()),
            log: Mutex::new(VecDeque::new()),
        });
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("gps-tms")
            .enable_all()
            .build()
            .map_err(|e| EngineError::Internal(format!("cannot start the TMS runtime: {e}")))?;
        let where_ = format!("{host}:{port}");
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind((host, port)))
            .map_err(|e| EngineError::io(&where_, format!("cannot bind the tile server: {e}")))?;
        let addr = listener.local_addr().map_err(|e| EngineError::io(&where_, e))?;
        let (stop, mut stopped) = oneshot::channel::<()>();
        let serving = state.clone();
        let thread = std::thread::Builder::new()
            .name("gps-tms-accept".into())
            .spawn(move || {
                runtime.block_on(async move {
                    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
                    loop {
                        tokio::select! {
                            accepted = listener.accept() => {
                                let Ok((stream, _)) = accepted else { continue };
                                let s = serving.clone();
                                let service = service_fn(move |req| {
                                    let s = s.clone();
                                    async move { Ok::<_, Infallible>(handle(s, req).await) }
                                });
                                let conn = hyper::server::conn::http1::Builder::new()
                                    .serve_connection(TokioIo::new(stream), service);
                                let conn = graceful.watch(conn);
                                tokio::spawn(async move {
                                    let _ = conn.await;
                                });
                            }
                            _ = &mut stopped => break,
                        }
                    }
                    drop(listener);
                    // Requests in flight finish; idle keep-alive connections close.
                    let _ = tokio::time::timeout(Duration::from_secs(5), graceful.shutdown()).await;
                });
                runtime.shutdown_timeout(Duration::from_secs(1));
            })
            .map_err(|e| EngineError::Internal(format!("cannot start the TMS thread: {e}")))?;
        Ok(Server { addr, state, stop: Some(stop), thread: Some(thread) })
    }

    /// Stop accepting, let requests in flight finish (up to 5 s), and release the port.
    pub fn unbind(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }

    /// The last request lines (`METHOD path status bytes time`), oldest first.
    pub fn request_log(&self) -> Vec<String> {
        self.state.log.lock().map(|l| l.iter().cloned().collect()).unwrap_or_default()
    }

    /// The highest zoom of the sources.
    pub fn max_zoom(&self) -> Option<u32> {
        self.state.max_zoom
    }

    /// Forget rendered tiles (after the sources changed).
    pub fn clear_cache(&self) {
        if let Ok(mut c) = self.state.cache.lock() {
            *c = Cache::default();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.unbind();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes() {
        assert_eq!(parse_route("/tile/3/2/1.png"), Ok(Route::Tile(3, 2, 1)));
        assert_eq!(parse_route("/tile/0/0/0"), Ok(Route::Tile(0, 0, 0)));
        assert_eq!(parse_route("/"), Ok(Route::File("/".into())));
        assert_eq!(parse_route("/handshake"), Ok(Route::Handshake));
        for bad in [
            "/tile/3/8/0.png",
            "/tile/31/0/0.png",
            "/tile/-1/0/0.png",
            "/tile/a/0/0.png",
            "/tile/1/0.png",
            "/tile/1/0/0/0.png",
            "/tile/1/0/%2e%2e.png",
            "/static/../secret",
            "/static/%2E%2E/secret",
            "/tile/99999999999999999999/0/0",
        ] {
            assert!(parse_route(bad).is_err(), "{bad}");
        }
    }
}
