"""One settings table: every environment variable the code reads is documented, with its default,
in graph/settings.yaml (or, for input limits, limits/limits.yaml), and read through one function."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from graph.settings import all_settings, setting

ROOT = Path(__file__).resolve().parent.parent
NAME = re.compile(r"\b(?:ZHIBIAO|NEO4J)_[A-Z0-9_]*[A-Z0-9]\b")
SOURCES = ("api", "cli", "engine", "graph", "limits", "loaders", "loop", "ontology", "review", "search", "web",
           "bench", "tests", "scripts", ".ci")


def test_every_variable_the_code_names_is_documented() -> None:
    documented = {s["name"] for s in all_settings()}
    named: dict[str, str] = {}
    for top in SOURCES:
        for path in (ROOT / top).rglob("*"):
            if path.is_file() and path.suffix in (".py", ".sh", "") and "artefacts" not in path.parts:
                try:
                    text = path.read_text(encoding="utf-8")
                except UnicodeDecodeError:
                    continue
                for m in NAME.finditer(text):
                    named.setdefault(m.group(0), str(path.relative_to(ROOT)))
    missing = {n: where for n, where in named.items() if n not in documented}
    assert missing == {}


def test_values_come_from_the_environment_when_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ZHIBIAO_PORT", raising=False)
    assert setting("ZHIBIAO_PORT") == 8000
    monkeypatch.setenv("ZHIBIAO_PORT", "9001")
    assert setting("ZHIBIAO_PORT") == 9001
    monkeypatch.setenv("ZHIBIAO_SEED", "0")
    assert setting("ZHIBIAO_SEED") is False
    with pytest.raises(KeyError):
        setting("ZHIBIAO_" + "NOT_A_SETTING")
