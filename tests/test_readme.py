"""The README's Python examples run and print what the README says."""

from __future__ import annotations

import doctest
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_readme_examples(monkeypatch):
    monkeypatch.chdir(ROOT)  # the examples use paths relative to the repository
    result = doctest.testfile(
        str(ROOT / "README.md"),
        module_relative=False,
        optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS,
    )
    assert result.attempted > 10
    assert result.failed == 0


def test_readme_hostile_input_table_is_generated_from_the_fuzz_cases():
    import fuzz_cases

    assert fuzz_cases.table() in (ROOT / "README.md").read_text()
