"""Catalog locations and the attribute store: where a catalog keeps its attribute JSON and tile files on
each backend (format reference §2), and the GeoTrellis JSON text of attributes."""

from __future__ import annotations

import decimal
import json
import math
import os
import re

from ... import _native
from ...errors import CorruptDataError, PathEscapeError

# Layer and attribute names become file and object names: keep them to GeoTrellis' slug characters (ASCII
# letters and digits, '_', '-', '.') so that nothing can escape the catalog root: no separator, no '..', no
# percent-encoding (nothing here decodes one), no Unicode look-alikes of '.' or '/', no NUL. Matched whole
# (``fullmatch``: ``$`` alone would accept a trailing newline).
_SLUG = re.compile(r"[A-Za-z0-9_.\-]+")
_S3_SCHEMES = ("s3", "s3a", "s3n")
# The longest file name most filesystems (ext4, xfs, APFS, NTFS) hold, in bytes; S3 keys may be 1024.
_NAME_MAX = 255


def check_name(what: str, name) -> str:
    if not isinstance(name, str) or not _SLUG.fullmatch(name) or name in (".", ".."):
        raise ValueError(f"{what} must be a non-empty string of letters, digits, '_', '-' and '.', got "
                         f"{_shown(name)}")
    if len(name) > _NAME_MAX:
        raise ValueError(f"{what} is {len(name)} characters long; at most {_NAME_MAX} fit in a file name")
    return name


def _shown(value) -> str:
    """``repr`` of a refused value, cut short (an overlong name must not flood the message)."""
    text = repr(value)
    return text if len(text) <= 80 else text[:60] + f"... ({len(value)} characters)"


def _has_control(text: str) -> bool:
    return any(ord(c) < 0x20 or ord(c) == 0x7F for c in text)


def _segments_escape(path: str) -> bool:
    """Whether a relative path or key has a '..' segment (or is absolute)."""
    return path.startswith("/") or ".." in path.split("/")


def check_zoom(zoom) -> int:
    zoom = 0 if zoom is None else zoom
    if isinstance(zoom, bool) or not isinstance(zoom, int) or zoom < 0:
        raise ValueError(f"a layer zoom must be a non-negative int, got {zoom!r}")
    return zoom


class Location:
    """A catalog root on one backend: the file backend (local paths, ``file://``) or S3."""

    def __init__(self, uri: str):
        if not isinstance(uri, str) or not uri.strip():
            raise ValueError(f"a catalog URI must be a non-empty string, got {uri!r}")
        uri = uri.strip()
        if _has_control(uri):
            raise ValueError(f"a catalog URI must not hold control characters (NUL, newline, ...), got {_shown(uri)}")
        scheme = uri.split("://", 1)[0].lower() if "://" in uri else ""
        self.uri = uri
        if scheme in ("", "file"):
            self.kind = "file"
            path = uri[len("file://"):] if scheme == "file" else uri
            # The root is where the URI points ('..' in it is the user's own choice of directory); names and
            # stored headers below it may not leave it (``confine``).
            self.root = path.rstrip("/") or "/"
        elif scheme in _S3_SCHEMES:
            self.kind = "s3"
            rest = uri.split("://", 1)[1]
            bucket, _, prefix = rest.partition("/")
            if not bucket:
                raise ValueError(f"{uri!r} names no bucket; expected s3://bucket/prefix")
            if ".." in prefix.split("/"):
                # S3 keys have no parent segments: 'a/../b' would be a literal key, not b.
                raise PathEscapeError(f"{uri!r}: an S3 catalog prefix must not hold '..' segments")
            self.scheme, self.bucket, self.prefix = scheme, bucket, prefix.strip("/")
            self.root = f"{scheme}://{bucket}" + (f"/{self.prefix}" if self.prefix else "")
        elif scheme == "hdfs":
            raise ValueError(f"{uri!r}: HDFS catalogs are not supported yet; use a local path, file:// or s3://")
        else:
            raise ValueError(f"{uri!r}: unsupported catalog URI scheme {scheme!r}; "
                             "expected a local path, file://, s3://, s3a:// or s3n://")

    def store_options(self, credentials=None) -> dict:
        from .. import s3

        return s3.store_options(self.root, credentials) if self.kind == "s3" else {}

    # Symlinks. A local catalog's root may itself be (or lie under) a symlink; below it, a directory or file
    # that resolves outside the root (a layer directory or attribute file symlinked to /elsewhere) is refused
    # for reading and writing alike. Links that stay inside the root are followed.
    def confine(self, path: str) -> str:
        """``path`` (under the root) unchanged if, with every symlink resolved, it stays in the root; else
        PathEscapeError. Object stores have no symlinks: their keys are checked as text where they enter."""
        if self.kind != "file":
            return path
        root = os.path.realpath(self.root)
        real = os.path.realpath(path)
        if real != root and not real.startswith(root.rstrip("/") + "/"):
            raise PathEscapeError(f"{path} resolves to {real}, outside the catalog root {root}; symlinks out of a "
                                  "catalog are not followed")
        return path

    def confine_file(self, path: str) -> str:
        """``confine`` for a file whose directory is already confined: only a symlink needs resolving (one
        ``lstat`` per file rather than a full resolution)."""
        if self.kind == "file" and os.path.islink(path):
            self.confine(path)
        return path

    def confine_tree(self, directory: str) -> None:
        """``confine`` every symlink under ``directory`` (a layer's tile directory before an update merges into
        its files): one ``scandir`` per directory, a resolution per symlink only."""
        if self.kind != "file":
            return
        try:
            entries = list(os.scandir(directory))
        except (FileNotFoundError, NotADirectoryError):
            return
        for entry in entries:
            if entry.is_symlink():
                self.confine(entry.path)
            elif entry.is_dir():
                self.confine_tree(entry.path)

    # Attribute objects (§2.2 file store: attributes/<name>__.__<zoom>__.__<attr>.json; §2.3 S3:
    # _attributes/<attr>__<name>__<zoom>.json).
    def attributes_dir(self) -> str:
        return self.confine(f"{self.root}/attributes" if self.kind == "file" else f"{self.root}/_attributes")

    def attribute_path(self, name: str, zoom: int, attribute: str) -> str:
        if self.kind == "file":
            file_name = f"{name}__.__{zoom}__.__{attribute}.json"
        else:
            file_name = f"{attribute}__{name}__{zoom}.json"
        if len(file_name.encode()) > _NAME_MAX:
            raise ValueError(f"the attribute file name of layer {_shown(name)}, attribute {_shown(attribute)} would "
                             f"be {len(file_name)} characters long; at most {_NAME_MAX} fit in a file name")
        return self.confine(f"{self.attributes_dir()}/{file_name}")

    def parse_attribute_file(self, file_name: str):
        """``(name, zoom, attribute)`` of an attribute file name, or None for other files."""
        if not file_name.endswith(".json"):
            return None
        stem = file_name[:-len(".json")]
        try:
            if self.kind == "file":
                name, zoom, attribute = stem.split("__.__")
            else:
                head, zoom = stem.rsplit("__", 1)
                attribute, name = head.split("__", 1)
            check_name("layer name", name), check_name("attribute name", attribute)
            return name, int(zoom), attribute
        except ValueError:
            return None  # not ours, or a name nothing could have written (never followed)

    def header(self, name: str, zoom: int, key_class: str, value_class: str) -> dict:
        """The layer header GeoTrellis 3.x writes for this backend (§2.1), keys in its order."""
        if self.kind == "file":
            return {"keyClass": key_class, "valueClass": value_class, "path": f"{name}/{zoom}",
                    "layerType": "AvroLayerType", "format": "file"}
        key = "/".join(p for p in (self.prefix, name, str(zoom)) if p)
        return {"keyClass": key_class, "valueClass": value_class, "bucket": self.bucket, "key": key,
                "layerType": "AvroLayerType", "format": "s3"}

    def tile_dir(self, header: dict) -> str:
        """The directory or object prefix holding a layer's tile files, from its stored header."""
        fmt = header.get("format", "file")
        if fmt == "file":
            path = header.get("path")
            if not isinstance(path, str) or _has_control(path):
                raise CorruptDataError(f"the layer header's path {_shown(path)} is not a relative directory")
            if _segments_escape(path):
                # Older GeoTrellis wrote absolute paths; never follow one (or a '..') out of the catalog.
                raise PathEscapeError(f"layer path {path!r} in the catalog's attributes leaves the catalog root "
                                      f"{self.root}")
            if not path.strip("/"):
                raise CorruptDataError("the layer header's path is empty")
            return self.confine(f"{self.root}/{path}")
        if fmt == "s3":
            if self.kind != "s3":
                raise PathEscapeError("an S3 layer header in a catalog that is not on S3")
            bucket, key = header.get("bucket"), header.get("key")
            if not isinstance(bucket, str) or not isinstance(key, str) or _has_control(key):
                raise CorruptDataError(f"the layer header's bucket and key ({_shown(bucket)}, {_shown(key)}) are "
                                       "not strings")
            key = key.strip("/")
            inside = not self.prefix or key.startswith(self.prefix + "/")
            if not key or bucket != self.bucket or not inside or ".." in key.split("/"):
                # GeoTrellis writes <prefix>/<name>/<zoom> in the catalog's bucket; a header naming another
                # bucket or key (a copied catalog whose headers were not rewritten, or a planted one) is refused.
                raise PathEscapeError(f"layer header s3://{bucket}/{key} lies outside the catalog root {self.root}")
            return f"{self.scheme}://{bucket}/{key}"
        raise ValueError(f"layers stored in {fmt!r} format are not supported (file and s3 are)")


def java_double(v: float) -> str:
    """``Double.toString`` of Java, which circe uses for JSON numbers (``-2.0037508342789244E7``)."""
    v = float(v)
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "Infinity" if v > 0 else "-Infinity"
    if v == 0:
        return "-0.0" if math.copysign(1, v) < 0 else "0.0"
    if 1e-3 <= abs(v) < 1e7:
        text = repr(v)
        return text if "." in text else text + ".0"
    d = decimal.Decimal(repr(abs(v)))
    digits = "".join(map(str, d.as_tuple().digits)).rstrip("0") or "0"
    mantissa = digits[0] + "." + (digits[1:] or "0")
    return ("-" if v < 0 else "") + f"{mantissa}E{d.adjusted()}"


def to_json(value) -> str:
    """Compact JSON as circe prints it: insertion key order, Java's doubles, ``RawJson`` kept verbatim."""
    if isinstance(value, RawJson):
        return value.text
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return java_double(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(str(k), ensure_ascii=False)}:{to_json(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(to_json(v) for v in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} into a catalog attribute")


class RawJson:
    """JSON text written as is (the schema and key index, whose exact text matters)."""

    def __init__(self, text: str):
        self.text = text


def read_json(path: str, options: dict):
    """A stored attribute as ``[LayerId, value]``, or None when there is none; CorruptDataError (a ValueError)
    naming the file when it is not one."""
    data = _native.read_bytes_if_exists(path, options)
    if data is None:
        return None
    try:
        doc = json.loads(data)
    except ValueError as e:
        raise CorruptDataError(f"{path}: not a GeoTrellis attribute (invalid JSON: {e})") from None
    if not (isinstance(doc, list) and len(doc) == 2 and isinstance(doc[0], dict)):
        raise CorruptDataError(f"{path}: not a GeoTrellis attribute (expected [LayerId, value])")
    return doc


def write_json(path: str, name: str, zoom: int, value, options: dict) -> None:
    text = "[" + to_json({"name": name, "zoom": zoom}) + "," + to_json(value) + "]"
    _native.write_bytes(path, text.encode("utf-8"), options)


def list_attribute_files(location: Location, options: dict) -> list[str]:
    """Names of the files in the catalog's attribute directory (none when it does not exist)."""
    directory = location.attributes_dir()  # a PathEscapeError (an OSError too) must not pass for "none"
    try:
        paths = _native.list_files(directory, options)
    except FileNotFoundError:  # a failed listing (a store that is down) is an error, not "no attributes"
        return []
    return [p.rsplit("/", 1)[-1] for p in paths]
