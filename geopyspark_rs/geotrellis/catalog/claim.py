"""Write claims: one writer at a time per layer, on the file backend and on S3 (docs/reliability.md).

A job that writes or updates a layer first creates a *claim*, a small JSON object beside the layer's tile
files, ``<tile dir>/_write_claim.<generation>``, with an exclusive create (a hard link locally,
``If-None-Match: *`` on S3): of two racing writers exactly one creates it, the other gets
:class:`LayerBusyError` (a ``FileExistsError``) before writing anything. GeoTrellis never reads these names
(it reads tile files by their index number), and the claim is deleted when the write ends, so a finished
layer is byte-identical to what GeoTrellis writes.

A writer that dies (SIGKILL, lost machine) cannot delete its claim. Its owner refreshes the claim's
``heartbeat`` every ``HEARTBEAT_SECONDS`` from a background thread, so a claim whose heartbeat is older
than ``STALE_AFTER_SECONDS`` belongs to a dead writer: the next writer takes over by creating the next
generation (again exclusively, so two takers cannot both win), removes the dead writer's tile files, and
deletes every generation when it is done. Generations exist as a prefix ``1..n`` (release deletes the
highest first), so finding the current one takes a few reads, never a listing of the tile files.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
import uuid

from ... import _native
from ...errors import LayerBusyError

CLAIM_PREFIX = "_write_claim."
# A claim whose heartbeat is older than this belongs to a dead writer (hosts' clocks must agree to well within it).
STALE_AFTER_SECONDS = 120.0
HEARTBEAT_SECONDS = 15.0
_NOTE = "geopyspark_rs write claim: this layer is being written; deleted when the write ends"


def claim_name(generation: int) -> str:
    return f"{CLAIM_PREFIX}{generation}"


def is_claim(file_name: str) -> bool:
    return file_name.startswith(CLAIM_PREFIX)


class LayerClaim:
    """The claim of one writer on the layer whose tiles live in ``directory``.

    ``acquire`` (or ``with``) claims it or raises LayerBusyError; ``check`` raises if the claim was lost
    (taken over after this process stalled for longer than ``STALE_AFTER_SECONDS``); ``release`` stops the
    heartbeat and deletes the claim."""

    def __init__(self, directory: str, options: dict, layer: str, purpose: str = "write"):
        self.directory = directory.rstrip("/")
        self.options, self.layer, self.purpose = options, layer, purpose
        self.owner = uuid.uuid4().hex
        self.generation = None
        self.started = time.time()
        self._lost = None
        self._stop = threading.Event()
        self._thread = None

    def _path(self, generation: int) -> str:
        return f"{self.directory}/{claim_name(generation)}"

    def _document(self) -> bytes:
        return json.dumps({"owner": self.owner, "purpose": self.purpose, "host": socket.gethostname(),
                           "pid": os.getpid(), "started": self.started, "heartbeat": time.time(),
                           "note": _NOTE}).encode()

    def _read(self, generation: int):
        """The claim document of ``generation``: None when absent, ``{}`` when unreadable (being written by a
        store without atomic creates; treated as fresh)."""
        data = _native.read_bytes_if_exists(self._path(generation), self.options)
        if data is None:
            return None
        try:
            doc = json.loads(data)
            return doc if isinstance(doc, dict) else {}
        except ValueError:
            return {}

    @staticmethod
    def _age(doc: dict) -> float:
        heartbeat = doc.get("heartbeat")
        return time.time() - heartbeat if isinstance(heartbeat, (int, float)) else 0.0

    def _busy(self, generation: int, doc: dict) -> LayerBusyError:
        when = doc.get("started")
        since = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(when)) if isinstance(when, (int, float)) else "?"
        age = self._age(doc)
        return LayerBusyError(
            f"layer {self.layer!r} is being {'updated' if doc.get('purpose') == 'update' else 'written'} by "
            f"another job (claim {self._path(generation)}: host {doc.get('host', '?')}, pid {doc.get('pid', '?')}, "
            f"since {since}, last heartbeat {age:.0f} s ago). If that job is dead, its claim expires "
            f"{STALE_AFTER_SECONDS:.0f} s after its last heartbeat.")

    def acquire(self) -> "LayerClaim":
        for _ in range(64):
            generation, top = 1, None
            while True:
                doc = self._read(generation)
                if doc is None:
                    break
                top = (generation, doc)
                generation += 1
            if top is not None and self._age(top[1]) <= STALE_AFTER_SECONDS:
                raise self._busy(*top)
            # No claim, or only those of dead writers: the next generation, created exclusively. A create whose
            # answer was lost and that was retried reports "exists" for this writer's own claim: the owner
            # token tells.
            created = _native.write_new_bytes(self._path(generation), self._document(), self.options)
            if created or (self._read(generation) or {}).get("owner") == self.owner:
                self.generation = generation
                self._thread = threading.Thread(target=self._beat, name=f"gps-claim-{self.layer}", daemon=True)
                self._thread.start()
                return self
        raise LayerBusyError(f"layer {self.layer!r}: could not claim {self.directory} (too many racing writers)")

    def _still_ours(self) -> bool:
        doc = self._read(self.generation)
        return (doc is not None and doc.get("owner") == self.owner
                and self._read(self.generation + 1) is None)

    def _beat(self) -> None:
        while not self._stop.wait(HEARTBEAT_SECONDS):
            try:
                if not self._still_ours():
                    self._lost = "another writer took the layer over after this one's heartbeat stopped"
                    return
                _native.write_bytes(self._path(self.generation), self._document(), self.options)
            except OSError:
                continue  # a transient store failure: the next beat tries again

    def check(self) -> None:
        """Raise LayerBusyError if this writer no longer holds the claim."""
        if self.generation is None:
            raise LayerBusyError(f"layer {self.layer!r}: not claimed")
        if self._lost is None and not self._still_ours():
            self._lost = "its claim was taken over by another writer"
        if self._lost is not None:
            raise LayerBusyError(f"layer {self.layer!r}: this write lost its claim on {self.directory} "
                                 f"({self._lost}); nothing was committed")

    def release(self) -> None:
        """Stop the heartbeat and delete this claim, then the claims of dead writers it took over (highest
        first, so the generations left stay a prefix)."""
        if self.generation is None:
            return
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        generation, self.generation = self.generation, None
        if self._lost is not None:
            return  # the layer is someone else's now
        for g in range(generation, 0, -1):
            try:
                _native.delete_file(self._path(g), self.options)
            except OSError:
                pass  # left for the next writer, who sees a stale claim

    def __enter__(self):
        return self.acquire()

    def __exit__(self, *exc):
        self.release()
        return False


def layer_files(directory: str, options: dict) -> list[tuple[str, str]]:
    """``(path, name)`` of the files directly in a layer's directory (none when it does not exist)."""
    try:
        paths = _native.list_files(directory, options)
    except OSError:
        return []
    prefix = directory.rstrip("/") + "/"
    names = ((path, path[len(prefix):] if path.startswith(prefix) else "") for path in paths)
    return [(path, name) for path, name in names if name and "/" not in name]


def is_temp_tile(name: str) -> bool:
    """A tile file's temporary name (``.<index>.<pid>.<n>.tmp``); a claim's (``._write_claim.…``) is not."""
    return name.startswith(".") and name.endswith(".tmp") and name[1:].split(".")[0].isdigit()


def remove_temp_files(directory: str, options: dict) -> None:
    """Delete the temporary tile files that writers killed before their rename left in a layer's directory
    on the file backend. Call only while holding the layer's claim with no task of this job running: then
    every such file is a dead writer's (object stores have none: a put is atomic). The temporary file of a
    claim being created is another writer's, in flight: kept."""
    if "://" in directory and not directory.startswith("file://"):
        return
    for path, name in layer_files(directory, options):
        if is_temp_tile(name):
            try:
                _native.delete_file(path, options)
            except OSError:
                pass
