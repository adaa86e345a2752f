"""Java ``DateTimeFormatter`` patterns (GeoPySpark's ``time_format``) as ``strptime`` formats."""

from __future__ import annotations

import datetime
import re

# Letter runs of Java's pattern language and their strptime directives (the subset GeoTIFF tags use).
_DIRECTIVES = {
    "yyyy": "%Y", "uuuu": "%Y", "yy": "%y", "uu": "%y",
    "MMMM": "%B", "MMM": "%b", "MM": "%m", "M": "%m",
    "dd": "%d", "d": "%d", "DDD": "%j",
    "HH": "%H", "H": "%H", "hh": "%I", "h": "%I", "a": "%p",
    "mm": "%M", "m": "%M", "ss": "%S", "s": "%S",
    "SSSSSS": "%f", "SSS": "%f", "SS": "%f", "S": "%f",
    "EEEE": "%A", "EEE": "%a", "E": "%a",
    "XXX": "%z", "XX": "%z", "X": "%z", "xxx": "%z", "xx": "%z", "Z": "%z", "ZZ": "%z", "ZZZ": "%z",
    "VV": "%Z", "z": "%Z",
}
_TOKEN = re.compile(r"'([^']*)'|([A-Za-z])\2*|(.)")


def to_strptime(pattern: str) -> str:
    """The strptime format of a Java pattern such as ``yyyy:MM:dd HH:mm:ss``; ValueError for letters
    this reader does not know."""
    out = []
    for m in _TOKEN.finditer(pattern):
        quoted, letter, other = m.group(1), m.group(2), m.group(3)
        if other is not None:
            out.append(other.replace("%", "%%"))
        elif letter is not None:
            run = m.group(0)
            directive = _DIRECTIVES.get(run)
            if directive is None:
                raise ValueError(f"time_format {pattern!r}: the pattern letters {run!r} are not supported")
            out.append(directive)
        else:
            out.append(quoted.replace("%", "%%") if quoted else "'")
    return "".join(out)


def parse_instant_ms(value: str, pattern: str) -> int:
    """Epoch milliseconds of ``value`` read with the Java ``pattern``; times without a zone are UTC."""
    try:
        dt = datetime.datetime.strptime(value.strip(), to_strptime(pattern))
    except ValueError as e:
        raise ValueError(f"cannot read the time {value!r} with the format {pattern!r}: {e}") from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=datetime.timezone.utc)
    return int(round(dt.timestamp() * 1000))
