"""The guides in docs/guides run: each page's Python blocks in order, in one namespace, on the test session."""

import re
from pathlib import Path

import pytest

GUIDES = sorted((Path(__file__).resolve().parents[1] / "docs" / "guides").glob("*.md"))


@pytest.mark.parametrize("page", GUIDES, ids=[p.stem for p in GUIDES])
def test_guide_runs(spark, page, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    blocks = re.findall(r"```python\n(.*?)```", page.read_text(), re.S)
    assert blocks, f"{page.name} has no Python blocks"
    namespace = {"__name__": f"guide_{page.stem}"}
    for i, block in enumerate(blocks):
        try:
            exec(compile(block, f"{page.name}[{i}]", "exec"), namespace)
        except Exception as e:
            raise AssertionError(f"{page.name}, block {i}: {type(e).__name__}: {e}\n{block}") from e
