"""A fault-injecting HTTP proxy on loopback, in front of the test S3 server (tests/s3server.py).

Clients are pointed at the proxy's endpoint instead of the server's; each request is matched against a list of
:class:`Rule` s, and the first rule that fires injects its fault instead of (or before) forwarding:

* ``drop``      close the connection without answering (a reset/refused request);
* ``truncate``  forward, then send the answer's headers and only half of its body before closing (a body cut
                short; answers without a body are dropped instead);
* ``status``    answer ``status`` (500, 503, ...) with an S3-style XML error, without forwarding;
* ``delay``     wait ``delay`` seconds, then forward (a slow server; the client may time out first).

A rule fires with ``probability`` (drawn from the proxy's seeded random generator, so a run is repeatable) and at
most ``times`` times (None: without limit). ``counts`` holds the faults injected per action, ``requests`` every
request seen. Everything is plain standard library: one thread per client connection, one upstream connection
per forwarded request.
"""

from __future__ import annotations

import http.client
import random
import re
import socket
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

_HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer", "upgrade"}


@dataclass
class Rule:
    """One kind of fault: ``action`` is ``drop``, ``truncate``, ``status`` or ``delay``.

    ``methods`` (e.g. ``{"GET"}``) and ``path`` (a regex searched in the request target, query included) select
    the requests it applies to; None matches all."""

    action: str
    methods: set | None = None
    path: str | None = None
    probability: float = 1.0
    times: int | None = None
    status: int = 503
    delay: float = 0.0
    fired: int = field(default=0, init=False)

    def __post_init__(self):
        if self.action not in ("drop", "truncate", "status", "delay"):
            raise ValueError(f"unknown fault action {self.action!r}")
        self._path = re.compile(self.path) if self.path else None

    def matches(self, method: str, target: str) -> bool:
        if self.times is not None and self.fired >= self.times:
            return False
        if self.methods is not None and method not in self.methods:
            return False
        return self._path is None or bool(self._path.search(target))


class FaultyProxy:
    """A running proxy to ``upstream`` (``http://host:port``). Use as a context manager, or ``start``/``stop``.

    Rules can be replaced while it runs (``set_rules``); ``reset`` clears the counters."""

    def __init__(self, upstream: str, rules=(), seed: int = 0):
        host, _, port = upstream.removeprefix("http://").rstrip("/").partition(":")
        self.upstream = (host, int(port or 80))
        self._lock = threading.Lock()
        self._rng = random.Random(seed)
        self.rules: list[Rule] = list(rules)
        self.counts: Counter = Counter()
        self.requests = 0
        self.log: list[tuple[str, str, str]] = []  # (method, target, fault or "ok")
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ---------------------------------------------------------------- control

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def faults(self) -> int:
        """Faults injected since the last ``reset``."""
        return sum(self.counts.values())

    def set_rules(self, rules) -> None:
        with self._lock:
            self.rules = list(rules)

    def reset(self) -> None:
        with self._lock:
            self.counts.clear()
            self.requests = 0
            self.log.clear()

    def start(self) -> FaultyProxy:
        proxy = self

        class Handler(_Handler):
            owner = proxy

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="faulty-proxy", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FaultyProxy:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # ---------------------------------------------------------------- decisions

    def _decide(self, method: str, target: str) -> Rule | None:
        with self._lock:
            self.requests += 1
            for rule in self.rules:
                if rule.matches(method, target) and self._rng.random() < rule.probability:
                    rule.fired += 1
                    self.counts[rule.action] += 1
                    self.log.append((method, target, rule.action))
                    return rule
            self.log.append((method, target, "ok"))
            return None

    def _sleep(self, seconds: float) -> None:
        self._stopping.wait(seconds)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the client expects
    owner: FaultyProxy

    def log_message(self, *args):  # quiet
        pass

    def _body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            out = bytearray()
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return bytes(out)
                out += self.rfile.read(size)
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _drop(self) -> None:
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def _forward(self, body: bytes):
        conn = http.client.HTTPConnection(*self.owner.upstream, timeout=60)
        try:
            headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
            if body or self.command in ("PUT", "POST"):
                headers["Content-Length"] = str(len(body))
            conn.request(self.command, self.path, body=body, headers=headers)
            response = conn.getresponse()
            data = response.read()
            return response.status, response.reason, response.getheaders(), data
        finally:
            conn.close()

    def _proxy(self) -> None:
        try:
            self._serve()
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (timed out) first
            self.close_connection = True

    def _serve(self) -> None:
        body = self._body()
        rule = self.owner._decide(self.command, self.path)
        action = rule.action if rule else None
        if action == "drop":
            return self._drop()
        if action == "status":
            message = (f"<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>ServiceUnavailable</Code>"
                       f"<Message>injected {rule.status}</Message></Error>").encode()
            self.send_response(rule.status)
            self.send_header("Content-Type", "application/xml")
            self.send_header("Content-Length", str(len(message)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(message)
            return
        if action == "delay":
            self.owner._sleep(rule.delay)
        try:
            status, reason, headers, data = self._forward(body)
        except (OSError, http.client.HTTPException):
            return self._drop()
        if action == "truncate" and (self.command == "HEAD" or not data):
            return self._drop()
        self.send_response(status, reason)
        for k, v in headers:
            if k.lower() in _HOP_BY_HOP or (k.lower() == "content-length" and self.command != "HEAD"):
                continue
            self.send_header(k, v)
        if self.command != "HEAD":
            self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command == "HEAD":
            return
        if action == "truncate":
            self.wfile.write(data[:len(data) // 2])
            self.wfile.flush()
            return self._drop()
        self.wfile.write(data)

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _proxy


if __name__ == "__main__":  # manual use: python tests/faulty_proxy.py http://127.0.0.1:PORT
    import sys

    with FaultyProxy(sys.argv[1], [Rule("status", probability=0.3)]) as p:
        print(p.endpoint, flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
