"""What our passes do once in each of Spark's Python worker processes.

PySpark's daemon runs a full ``gc.collect()`` after every task of a reused worker, before that worker takes
its next task. With pyspark, pyarrow, numpy and this package imported a worker tracks ~75 000 objects, and
scanning them cost 20–60 ms per task on the development machine: most of a Python task's fixed cost
(``docs/benchmarks.md``, *Per-task cost*). Freezing the heap when the worker's first pass of ours starts
(``gc.freeze``: objects alive then, the imported modules above all, are never scanned again) leaves the
collections only what later tasks allocate. What the first task holds at that moment and later drops in a
reference cycle is never collected: a one-off, bounded by one task's closure.
"""

from __future__ import annotations

import gc

_frozen = False


def freeze_worker_heap() -> None:
    """Freeze this process's heap for the garbage collector, once (see the module)."""
    global _frozen
    if not _frozen:
        gc.freeze()
        _frozen = True
