"""A real S3-protocol server on loopback for tests: moto's standalone server in a subprocess.

The Rust client speaks real HTTP to it (signing, ranges, listing pagination), so nothing in the client is
mocked. No environment variables are set: tests pass the endpoint and keys as store options.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ACCESS_KEY = "testing-access-key"
SECRET_KEY = "testing-secret-key"
REGION = "us-east-1"


def _moto_server() -> str:
    # The venv's script sits beside its python; fall back to PATH.
    beside = Path(sys.executable).with_name("moto_server")
    found = str(beside) if beside.exists() else shutil.which("moto_server")
    if not found:
        raise RuntimeError("moto_server is not installed (pip install 'moto[server]'; dev/setup does)")
    return found


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class S3Server:
    """A running moto server. Use as a context manager, or call :meth:`start` and :meth:`stop`."""

    def __init__(self):
        self.process: subprocess.Popen | None = None
        self.port: int | None = None
        self._log = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def options(self, bucket: str | None = None) -> dict[str, str]:
        """Store options (object_store keys) that reach this server; ``bucket`` is accepted for symmetry."""
        return {
            "aws_endpoint": self.endpoint,
            "aws_allow_http": "true",
            "aws_access_key_id": ACCESS_KEY,
            "aws_secret_access_key": SECRET_KEY,
            "aws_region": REGION,
        }

    def client(self):
        import boto3

        return boto3.client(
            "s3", endpoint_url=self.endpoint, aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY,
            region_name=REGION,
        )

    def create_bucket(self, bucket: str) -> str:
        """Creates ``bucket`` (if missing) and returns it."""
        client = self.client()
        try:
            client.create_bucket(Bucket=bucket)
        except client.exceptions.BucketAlreadyOwnedByYou:
            pass
        return bucket

    def start(self, timeout: float = 60.0) -> S3Server:
        last_error = None
        for _attempt in range(3):  # the free port can be taken between choosing and binding it
            self.port = _free_port()
            self._log = tempfile.TemporaryFile()
            self.process = subprocess.Popen(
                [_moto_server(), "-H", "127.0.0.1", "-p", str(self.port)],
                stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            )
            try:
                self._wait(timeout)
                return self
            except RuntimeError as e:
                last_error = e
                self.stop()
        raise RuntimeError(f"could not start moto_server: {last_error}")

    def _wait(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"moto_server exited with {self.process.returncode}: {self._output()}")
            try:
                with urllib.request.urlopen(self.endpoint + "/moto-api/", timeout=2):
                    return
            except urllib.error.HTTPError:
                return  # it answered
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"moto_server did not answer within {timeout} s: {self._output()}")

    def _output(self) -> str:
        if self._log is None:
            return ""
        self._log.seek(0)
        return self._log.read().decode(errors="replace")[-2000:]

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None
        if self._log is not None:
            self._log.close()
            self._log = None

    def __enter__(self) -> S3Server:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


if __name__ == "__main__":  # manual use: run a server until interrupted
    with S3Server() as server:
        print(server.endpoint, os.getpid(), flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
