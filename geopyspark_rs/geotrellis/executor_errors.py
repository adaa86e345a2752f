"""Errors raised on the executors, raised again on the driver as themselves.

An exception in a Python worker reaches the driver as Spark's ``PythonException``, whose message holds the
worker's traceback. The public methods of layers and pyramids re-raise the exception class named on the
traceback's last line — ours from ``gps.errors``, or a builtin — with its message, chained to Spark's, so
``except ValueError`` catches a bad band index found while the tiles are computed, as it would locally.
"""

from __future__ import annotations

import builtins
import functools
import re

from .. import errors

_LINE = re.compile(r"^([A-Za-z_][\w.]*(?:Error|Exception)): (.*)$", re.M)
_BUILTIN = {"ValueError", "TypeError", "IndexError", "KeyError", "FileNotFoundError", "FileExistsError",
            "PermissionError", "NotImplementedError", "OSError", "RuntimeError", "OverflowError",
            "ZeroDivisionError", "MemoryError"}


def worker_exception(e: BaseException) -> BaseException | None:
    """The exception a Python worker raised, rebuilt from Spark's ``PythonException`` (None when it is not
    one, or names a class we do not rebuild)."""
    from pyspark.errors import PythonException

    if not isinstance(e, PythonException):
        return None
    found = _LINE.findall(str(e))
    for name, message in reversed(found):
        if name.startswith("geopyspark_rs.errors."):
            cls = getattr(errors, name.rsplit(".", 1)[1], None)
        else:
            cls = getattr(builtins, name, None) if name in _BUILTIN else None
        if isinstance(cls, type) and issubclass(cls, BaseException):
            return cls(message.strip())
    return None


def raising_worker_errors(fn):
    """``fn`` re-raising what a Python worker raised during it (see the module)."""
    @functools.wraps(fn)
    def call(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except Exception as e:
            rebuilt = worker_exception(e)
            if rebuilt is None:
                raise
            raise rebuilt from e

    call.__raising_worker_errors__ = True
    return call


def raise_worker_errors(cls):
    """Class decorator: every public method of ``cls`` (its own and inherited) through
    :func:`raising_worker_errors`."""
    for name in dir(cls):
        if name.startswith("_"):
            continue
        raw = next(klass.__dict__[name] for klass in cls.__mro__ if name in klass.__dict__)
        if isinstance(raw, (staticmethod, classmethod)):
            wrapped = type(raw)(raising_worker_errors(raw.__func__))
        elif callable(raw) and not isinstance(raw, type) and not getattr(raw, "__raising_worker_errors__", False):
            wrapped = raising_worker_errors(raw)
        else:
            continue  # properties and other attributes
        setattr(cls, name, wrapped)
    return cls
