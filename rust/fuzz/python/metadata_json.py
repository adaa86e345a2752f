"""Fuzz target (atheris, coverage-guided like libFuzzer) for a layer's ``metadata`` attribute, the one piece of
catalog JSON parsed in Python rather than in the engine: the input is written as the attribute file of layer
``layer`` at zoom 0 of a file catalog, which ``geopyspark_rs.local.query`` then opens and queries (header,
TileLayerMetadata, key index and schema, COG layers' zoom ranges, the query plan and the listing of the tile
directory; ``read_layer_metadata`` is the first of these steps).

Bad metadata may raise the exceptions a user is told to expect: a ``ValueError`` (CorruptDataError,
LayerNotFoundError, InvalidArgumentError, ...), ``FileNotFoundError`` or ``NotImplementedError``, or any
geopyspark_rs error. Anything else (KeyError, TypeError, AttributeError, IndexError, OverflowError, ...)
escapes and is a finding. Run by dev/fuzz as target ``metadata_json``::

    .venv/bin/python rust/fuzz/python/metadata_json.py rust/fuzz/corpus/metadata_json -runs=100000
"""

import os
import sys
import tempfile

import atheris

with atheris.instrument_imports(include=["geopyspark_rs"]):
    import geopyspark_rs.local as gl
    from geopyspark_rs.errors import GeoPySparkError

ROOT = tempfile.mkdtemp(prefix="gps-fuzz-catalog-")
ATTRIBUTE = os.path.join(ROOT, "attributes", "layer__.__0__.__metadata.json")
os.makedirs(os.path.dirname(ATTRIBUTE))
EXPECTED = (ValueError, FileNotFoundError, NotImplementedError, GeoPySparkError)


def one_input(data: bytes) -> None:
    with open(ATTRIBUTE, "wb") as f:
        f.write(data)
    try:
        gl.query(ROOT, "layer", 0, threads=1)
    except EXPECTED:
        pass
    except RecursionError:
        pass  # json nesting deeper than Python's stack: json.loads' own limit, a clear error


if __name__ == "__main__":
    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()
