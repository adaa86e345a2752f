"""Where the bytes come from and how reads are scheduled.

Reads started in the same event-loop turn are gathered into one batch per image, sorted by position and
cut into chunks. Each chunk is fetched with one ranged request call (the object store coalesces nearby
ranges; a segment two windows share is fetched and decoded once) and decoded in a worker thread of a pool,
in Rust with the GIL released, so the event loop never blocks. Chunks run concurrently: while one waits
for storage, another decodes.

A read cancelled while its chunk is in flight is dropped from the results; the chunk still completes for
the other reads in it.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from geopyspark_rs import _native
from geopyspark_rs.errors import CorruptDataError, NotFoundError, StorageError

if TYPE_CHECKING:
    from typing_extensions import Buffer

    from geopyspark_rs._native import CogBytes, CogSource

__all__ = ["Store", "Reader", "open_uri", "open_store"]

#: Bytes read at once when a header is parsed from a store (grown as needed).
HEADER_BYTES = 64 * 1024
#: Most rounds of fetching a header from a store before giving up (a header spread all over a file).
MAX_HEADER_ROUNDS = 64


class Store(Protocol):
    """What the reader needs of a store: obstore's ``S3Store``, ``GCSStore``, ``AzureStore``,
    ``HTTPStore``, ``LocalStore`` and ``MemoryStore`` have both methods."""

    async def head_async(self, path: str) -> Any:
        """The object's metadata: a mapping with its ``"size"`` in bytes."""
        ...

    async def get_ranges_async(
        self, path: str, *, starts: Sequence[int], ends: Sequence[int]
    ) -> Sequence[Buffer]:
        """The bytes ``starts[i]..ends[i]`` of the object at ``path``."""
        ...


_pools: dict[str, ThreadPoolExecutor] = {}
_pools_lock = threading.Lock()


def _pool(kind: str) -> ThreadPoolExecutor:
    """The process's decoding pool (a thread per core) or storage pool (threads that mostly wait)."""
    with _pools_lock:
        pool = _pools.get(kind)
        if pool is None:
            cores = os.cpu_count() or 1
            workers = cores if kind == "decode" else max(8, 4 * cores)
            pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"geopyspark_rs-cog-{kind}")
            _pools[kind] = pool
        return pool


def _is_local(uri: str) -> bool:
    return "://" not in uri.split("?", 1)[0] or uri.lower().startswith("file:")


async def open_uri(uri: str, options: Mapping[str, str] | None) -> Reader:
    """Opens a path or URI through the engine's storage (local files, s3://, gs://, az://, http(s)://)."""
    opts = {str(k): str(v) for k, v in (options or {}).items()}
    loop = asyncio.get_running_loop()
    src = await loop.run_in_executor(_pool("io"), _native.cog_open, uri, opts)
    return Reader(src, _UriFetcher(src, local=_is_local(uri)))


async def open_store(store: Store, path: str) -> Reader:
    """Opens ``path`` of an obstore store: its header is fetched through the store, in rounds."""
    name = f"{path} in {store!r}"
    try:
        meta = await store.head_async(path)
    except FileNotFoundError as e:
        raise NotFoundError(f"{name}: not found") from e
    size = int(meta["size"])
    fetcher = _StoreFetcher(store, path, name)
    starts: list[int] = []
    buffers: list[Any] = []
    want = (0, min(size, HEADER_BYTES))
    loop = asyncio.get_running_loop()
    for _ in range(MAX_HEADER_ROUNDS):
        if want[1] > want[0]:
            got = await fetcher.get([want])
            starts.append(want[0])
            buffers.append(got[0])
        result = await loop.run_in_executor(
            _pool("decode"), _native.cog_open_partial, name, size, starts, buffers
        )
        if not isinstance(result, tuple):
            return Reader(result, fetcher)
        start, end = result
        # Read ahead: headers that need more bytes usually need more still (offset tables, overviews).
        grown = max(end - start, 2 * (want[1] - want[0]))
        want = (start, min(size, start + grown))
        if want[1] <= want[0]:
            raise CorruptDataError(f"{name}: truncated file: the header needs bytes {start}..{end} of {size}")
    raise CorruptDataError(f"{name}: the header needs more than {MAX_HEADER_ROUNDS} rounds of reads")


class _UriFetcher:
    """Bytes through the engine's storage. Local files are read inside the decoding call (positioned
    reads of the page cache cost less than a thread hop); objects in the storage pool."""

    def __init__(self, src: CogSource, local: bool):
        self.src = src
        self.local = local

    async def fetch(self, ranges: list[tuple[int, int]]) -> CogBytes | None:
        if self.local:
            return None
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(_pool("io"), _native.cog_fetch, self.src, ranges)


class _StoreFetcher:
    """Bytes through an obstore store (its own async runtime; nothing blocks here)."""

    def __init__(self, store: Store, path: str, name: str):
        self.store = store
        self.path = path
        self.name = name

    async def get(self, ranges: Sequence[tuple[int, int]]) -> Sequence[Any]:
        try:
            return await self.store.get_ranges_async(
                self.path, starts=[r[0] for r in ranges], ends=[r[1] for r in ranges]
            )
        except FileNotFoundError as e:
            raise NotFoundError(f"{self.name}: not found") from e
        except OSError as e:
            raise StorageError(f"{self.name}: {e}") from e

    async def fetch(self, ranges: list[tuple[int, int]]) -> CogBytes | None:
        wanted = sorted(set(ranges))
        if not wanted:
            return _native.cog_bytes([], [])
        buffers = await self.get(wanted)
        return _native.cog_bytes([r[0] for r in wanted], list(buffers))


@dataclass
class _Request:
    window: tuple[int, int, int, int]
    future: asyncio.Future[tuple[np.ndarray, np.ndarray | None]]


@dataclass
class _Batch:
    requests: list[_Request] = field(default_factory=list)


class Reader:
    """One open file: its header, and the batching of the reads of all its images."""

    def __init__(self, src: CogSource, fetcher: _UriFetcher | _StoreFetcher):
        self.src = src
        self.fetcher = fetcher
        self.info: dict[str, Any] = _native.cog_info(src)
        self._batches: dict[tuple[int, tuple[int, ...], bool], _Batch] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    async def read(
        self, image: int, window: tuple[int, int, int, int], bands: tuple[int, ...], mask: bool
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """The samples of ``window`` (a flat uint8 buffer of the image's dtype) and its internal mask (a flat
        0/1 uint8 buffer, or None), once the batch it joins has been read."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[tuple[np.ndarray, np.ndarray | None]] = loop.create_future()
        key = (image, bands, mask)
        batch = self._batches.get(key)
        if batch is None:
            batch = self._batches[key] = _Batch()
            loop.call_soon(self._flush, key)
        batch.requests.append(_Request(window, future))
        return await future

    def _flush(self, key: tuple[int, tuple[int, ...], bool]) -> None:
        batch = self._batches.pop(key)
        live = [r for r in batch.requests if not r.future.done()]
        if not live:
            return
        # Neighbours share segments and byte ranges: keep them in one chunk.
        live.sort(key=lambda r: (r.window[1], r.window[0]))
        chunks = min(len(live), 2 * (os.cpu_count() or 1))
        size = -(-len(live) // chunks)
        for i in range(0, len(live), size):
            task = asyncio.ensure_future(self._run(key, live[i : i + size]))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _run(self, key: tuple[int, tuple[int, ...], bool], requests: list[_Request]) -> None:
        live = [r for r in requests if not r.future.done()]
        if not live:
            return
        image, bands, mask = key
        windows = [r.window for r in live]
        try:
            ranges = _native.cog_ranges(self.src, image, windows, list(bands), mask)
            fetched = await self.fetcher.fetch(ranges)
            loop = asyncio.get_running_loop()
            results = await loop.run_in_executor(
                _pool("decode"), _native.cog_read, self.src, image, windows, list(bands), mask, fetched
            )
        except asyncio.CancelledError:
            for r in live:
                r.future.cancel()
            raise
        except Exception as e:
            if len(live) > 1:
                # Read one by one, so that a bad segment fails only the windows that touch it.
                await asyncio.gather(*(self._run(key, [r]) for r in live))
            elif not live[0].future.done():
                live[0].future.set_exception(e)
            return
        for r, result in zip(live, results):
            if not r.future.done():
                r.future.set_result(result)
