"""The store interface says what every backend offers: ``wipe`` is part of it, and native
full-text search is behind the ``has_fulltext`` capability flag (a store without it refuses clearly)."""
from __future__ import annotations

import pytest

from graph import open_store
from graph.errors import ZhibiaoError
from graph.store import GraphStore


def test_wipe_is_in_the_interface() -> None:
    assert "wipe" in GraphStore.__abstractmethods__


def test_fulltext_is_behind_the_capability_flag() -> None:
    store = open_store("sqlite:///:memory:")
    try:
        assert store.has_fulltext is False
        with pytest.raises(ZhibiaoError) as e:
            store.fulltext("满意度")
        assert e.value.code == "fulltext_unsupported" and "全文索引" in e.value.message
    finally:
        store.close()


def test_store_url_schemes_are_a_registry() -> None:
    import graph
    from graph import SCHEMES, register_scheme
    assert {"sqlite", "neo4j", "bolt"} <= set(SCHEMES)
    opened: list[str] = []

    def opener(url: str) -> GraphStore:
        opened.append(url)
        return open_store("sqlite:///:memory:")
    register_scheme("memtest", opener)
    try:
        open_store("memtest://x").close()
        assert opened == ["memtest://x"]
    finally:
        graph.SCHEMES.pop("memtest")
    with pytest.raises(ZhibiaoError) as e:
        open_store("ftp://x")
    assert e.value.code == "bad_store_url"


def test_loader_formats_are_a_registry(tmp_path) -> None:
    from loaders import readers
    assert set(readers.FORMATS) == {"csv", "xlsx", "json", "ttl", "jsonld"}
    path = tmp_path / "rows.tabs"
    path.write_text("x", encoding="utf-8")
    readers.register_format("tabs", readers.Format((".tabs",), "table", readers.read_csv))
    try:
        assert readers.detect_format(path) == "tabs"
    finally:
        readers.FORMATS.pop("tabs")
