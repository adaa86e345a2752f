"""A read-only S3-protocol server on loopback that serves a directory's files (``ROOT/bucket/key``), for
benchmarks of ranged reads.

moto (``tests/s3server.py``, what the tests use) reads the whole object for every ranged GET, so on a large
object its figures count requests, not the readers' work. This server answers ``HEAD`` and ``GET`` with a
``Range`` of one span by ``sendfile`` from the file, over keep-alive HTTP/1.1, in a thread per connection:
what S3 clients (the engine's object_store, obstore, GDAL's ``/vsis3/``) send for object reads. It ignores
request signatures and serves nothing else (no listing, no writes): a benchmark fixture, never a test's.

    python bench/s3_file_server.py ROOT [--port 0]    # prints the port, serves until killed
"""

from __future__ import annotations

import argparse
import email.utils
import hashlib
import os
import re
import shutil
import subprocess
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from s3server import S3Server  # noqa: E402

_RANGE = re.compile(r"bytes=(\d*)-(\d*)$")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: clients reuse their connections
    root: Path

    def log_message(self, format, *args):  # a request log would cost more than the requests
        pass

    def _file(self) -> Path | None:
        rel = self.path.split("?", 1)[0].lstrip("/")
        path = (self.root / rel).resolve()
        if self.root not in path.parents or not path.is_file():
            self._reply(404, b"<Error><Code>NoSuchKey</Code></Error>", "application/xml")
            return None
        return path

    def _reply(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _headers(self, path: Path, size: int) -> None:
        stat = path.stat()
        tag = hashlib.md5(f"{path}:{stat.st_size}:{stat.st_mtime_ns}".encode()).hexdigest()
        self.send_header("ETag", f'"{tag}"')
        self.send_header("Last-Modified", email.utils.formatdate(stat.st_mtime, usegmt=True))
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(size))

    def do_HEAD(self):
        path = self._file()
        if path is not None:
            self.send_response(200)
            self._headers(path, path.stat().st_size)
            self.end_headers()

    def do_GET(self):
        path = self._file()
        if path is None:
            return
        total = path.stat().st_size
        start, end = 0, total - 1
        spec = self.headers.get("Range")
        match = _RANGE.match(spec.strip()) if spec else None
        if match and (match[1] or match[2]):
            if match[1]:
                start = int(match[1])
                end = min(int(match[2]), total - 1) if match[2] else total - 1
            else:  # a suffix: the last n bytes
                start = max(0, total - int(match[2]))
            if start >= total or start > end:
                self._reply(416, b"<Error><Code>InvalidRange</Code></Error>", "application/xml")
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{end}/{total}")
        else:  # no range, or one S3 ignores (several spans): the whole object, as S3 answers
            self.send_response(200)
        self._headers(path, end - start + 1)
        self.end_headers()
        with open(path, "rb") as f:
            self.connection.sendfile(f, start, end - start + 1)


def serve(root: Path, port: int = 0) -> None:
    handler = type("Handler", (_Handler,), {"root": root.resolve()})
    # A backlog of 5 (http.server's default) drops the SYNs of a reader's burst of new connections: each
    # retried after 1, 3, 7... s.
    server_class = type("Server", (ThreadingHTTPServer,), {"request_queue_size": 1024, "daemon_threads": True})
    server = server_class(("127.0.0.1", port), handler)
    print(server.server_address[1], flush=True)
    server.serve_forever()


class S3FileServer(S3Server):
    """This server in a subprocess (so it takes no GIL from the readers being measured), with the endpoint,
    store options and context management of the tests' moto server."""

    def __init__(self, root: Path):
        super().__init__()
        self.root = Path(root)

    def start(self, timeout: float = 60.0) -> S3FileServer:
        self.process = subprocess.Popen([sys.executable, __file__, str(self.root)], stdout=subprocess.PIPE,
                                        text=True)
        self.port = int(self.process.stdout.readline())
        return self

    def put(self, bucket: str, src: Path) -> str:
        """Makes ``src`` the object ``bucket/<its name>`` (a hard link, else a copy); returns the key."""
        dest = self.root / bucket / src.name
        dest.parent.mkdir(parents=True, exist_ok=True)
        if not dest.exists():
            try:
                os.link(src, dest)
            except OSError:
                shutil.copyfile(src, dest)
        return src.name


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("root")
    ap.add_argument("--port", type=int, default=0)
    args = ap.parse_args()
    serve(Path(args.root), args.port)
