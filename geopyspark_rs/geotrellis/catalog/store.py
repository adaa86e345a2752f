"""Catalog locations and the attribute store: where a catalog keeps its attribute JSON and tile files on
each backend (format reference §2), and the GeoTrellis JSON text of attributes."""

from __future__ import annotations

import decimal
import json
import math
import re

from ... import _native
from ...errors import CorruptDataError

# Layer and attribute names become file and object names: keep them to GeoTrellis' slug characters so
# that nothing can escape the catalog root.
_SLUG = re.compile(r"^[A-Za-z0-9_.\-]+$")
_S3_SCHEMES = ("s3", "s3a", "s3n")


def check_name(what: str, name) -> str:
    if not isinstance(name, str) or not _SLUG.match(name) or name in (".", ".."):
        raise ValueError(f"{what} must be a non-empty string of letters, digits, '_', '-' and '.', got {name!r}")
    return name


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
        scheme = uri.split("://", 1)[0].lower() if "://" in uri else ""
        self.uri = uri
        if scheme in ("", "file"):
            self.kind = "file"
            path = uri[len("file://"):] if scheme == "file" else uri
            self.root = path.rstrip("/") or "/"
        elif scheme in _S3_SCHEMES:
            self.kind = "s3"
            rest = uri.split("://", 1)[1]
            bucket, _, prefix = rest.partition("/")
            if not bucket:
                raise ValueError(f"{uri!r} names no bucket; expected s3://bucket/prefix")
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

    # Attribute objects (§2.2 file store: attributes/<name>__.__<zoom>__.__<attr>.json; §2.3 S3:
    # _attributes/<attr>__<name>__<zoom>.json).
    def attributes_dir(self) -> str:
        return f"{self.root}/attributes" if self.kind == "file" else f"{self.root}/_attributes"

    def attribute_path(self, name: str, zoom: int, attribute: str) -> str:
        if self.kind == "file":
            return f"{self.attributes_dir()}/{name}__.__{zoom}__.__{attribute}.json"
        return f"{self.attributes_dir()}/{attribute}__{name}__{zoom}.json"

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
            return name, int(zoom), attribute
        except ValueError:
            return None

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
            path = header["path"]
            if path.startswith("/") or ".." in path.split("/"):
                # Older GeoTrellis wrote absolute paths; never follow one out of the catalog.
                raise ValueError(f"layer path {path!r} in the catalog's attributes leaves the catalog root")
            return f"{self.root}/{path}"
        if fmt == "s3":
            if self.kind != "s3":
                raise ValueError("an S3 layer header in a catalog that is not on S3")
            return f"{self.scheme}://{header['bucket']}/{header['key'].strip('/')}"
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
    try:
        paths = _native.list_files(location.attributes_dir(), options)
    except OSError:
        return []
    return [p.rsplit("/", 1)[-1] for p in paths]
