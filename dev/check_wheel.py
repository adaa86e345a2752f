"""Inspect a built wheel as auditwheel would: its tags (abi3, the manylinux baseline), the glibc symbol
versions its extension needs, that it holds no other shared library, and its metadata.

    .venv/bin/python dev/check_wheel.py dist/geopyspark_rs-*.whl [--native]
"""

import re
import sys
import zipfile

BASELINE = (2, 17)  # manylinux2014


def check(path, native=False):
    problems = []
    with zipfile.ZipFile(path) as z:
        names = z.namelist()
        info = next(n for n in names if n.endswith(".dist-info/WHEEL"))
        tags = [line.split(": ", 1)[1] for line in z.read(info).decode().splitlines() if line.startswith("Tag: ")]
        meta = z.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
        libs = [n for n in names if re.search(r"\.so(\.|$)", n)]
        glibc = set()
        for lib in libs:
            # Versioned symbol names (GLIBC_2.17, ...) are stored as strings in the ELF's version sections.
            glibc |= {tuple(int(x) for x in m.decode().split(".")) for m in re.findall(rb"GLIBC_(\d+(?:\.\d+)+)", z.read(lib))}
    if not tags or not all("-abi3-" in t for t in tags):
        problems.append(f"tags {tags}: expected abi3")
    if not native and not all(re.search(r"manylinux_2_17_x86_64|manylinux2014_x86_64", t) for t in tags):
        problems.append(f"tags {tags}: expected manylinux2014 (manylinux_2_17)")
    if libs != ["geopyspark_rs/_native.abi3.so"]:
        problems.append(f"shared libraries {libs}: expected only geopyspark_rs/_native.abi3.so (no vendored libs)")
    newest = max(glibc) if glibc else None
    if not native and newest and newest > BASELINE:
        problems.append(f"the extension needs GLIBC_{'.'.join(map(str, newest))}, above manylinux2014's 2.17")
    for field in ("Version: ", "License-Expression: Apache-2.0", "Classifier: ", "Project-URL: ", "Requires-Dist: pyspark"):
        if field not in meta:
            problems.append(f"METADATA lacks {field!r}")
    print(f"{path}: tags {tags}; newest glibc symbol {'.'.join(map(str, newest)) if newest else 'none'}; "
          f"{len(names)} files")
    return problems


if __name__ == "__main__":
    native = "--native" in sys.argv
    problems = [p for path in sys.argv[1:] if not path.startswith("--") for p in check(path, native)]
    for p in problems:
        print("error:", p, file=sys.stderr)
    sys.exit(1 if problems else 0)
