"""Cheap reads (results per library version, bounded store round trips per page), exports a
Chinese Excel opens cleanly, offline docs, CORS off unless configured."""
from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from engine.export import export_bytes, export_text
from engine.library import Library
from graph import GraphStore
from loaders import load_file

HEADER = "二级指标,三级指标,计量单位,指标值,指标解释,计算公式,行业,项目类型,指标值设定依据\n"
ROW = "质量指标,幼儿园食堂食品安全检查合格率,%,≥98%,食堂食品安全检查合格的园所占比,合格园所数/检查园所数×100%,教育,普惠性幼儿园建设,行业标准\n"


def _count_calls(store: GraphStore, monkeypatch: pytest.MonkeyPatch) -> Counter:
    calls: Counter = Counter()
    for name in ("version", "list", "count", "get", "get_many", "iter_label", "snapshot", "neighbours"):
        original = getattr(store, name)

        def wrapped(*a, _name=name, _orig=original, **k):
            calls[_name] += 1
            return _orig(*a, **k)
        monkeypatch.setattr(store, name, wrapped)
    return calls


def test_a_page_makes_a_bounded_number_of_store_calls(mini_store: GraphStore, monkeypatch) -> None:
    lib = Library(mini_store)
    lib.vocab()
    calls = _count_calls(mini_store, monkeypatch)
    page = lib.list_indicators(limit=200, status=None)
    assert len(page["items"]) > 50
    assert sum(calls.values()) <= 6, calls      # not one version() per indicator


def test_stats_and_listings_are_computed_once_per_version(tmp_path: Path, mini_store: GraphStore,
                                                          monkeypatch) -> None:
    lib = Library(mini_store)
    first = (lib.stats(), lib.list_indicators(sector="教育", limit=20), lib.category_tree(), lib.sector_tree())
    calls = _count_calls(mini_store, monkeypatch)
    again = (lib.stats(), lib.list_indicators(sector="教育", limit=20), lib.category_tree(), lib.sector_tree())
    assert again == first
    assert set(calls) == {"version"}, calls     # served from memory: one version read each
    monkeypatch.undo()
    p = tmp_path / "one.csv"
    p.write_text(HEADER + ROW, encoding="utf-8")
    load_file(p, mini_store)                    # the version moves: results are computed again
    after = lib.stats()
    assert after["library_version"] == first[0]["library_version"] + 1
    assert after["industry_indicators"] == first[0]["industry_indicators"] + 1
    assert lib.list_indicators(sector="教育", limit=20)["total"] == first[1]["total"] + 1


def test_csv_export_has_a_bom_and_xlsx_export_reloads(tmp_path: Path, mini_store: GraphStore) -> None:
    text = export_text(mini_store, "csv")
    assert text.startswith("\ufeff指标编码,")
    data = export_bytes(mini_store, "xlsx")
    assert data[:2] == b"PK"
    path = tmp_path / "library.xlsx"
    path.write_bytes(data)
    report = load_file(path, mini_store, dry_run=True)
    n = sum(1 for line in text.splitlines()[1:] if line)
    assert not report.errors and report.counts["unchanged"] >= n and report.counts["created"] == 0


def test_docs_and_redoc_are_offline(mini_store: GraphStore) -> None:
    with TestClient(create_app(store=mini_store, seed=False)) as c:
        for page in ("/docs", "/redoc"):
            html = c.get(page).text
            external = [u for u in re.findall(r'(?:src|href)="([^"]+)"', html) if u.startswith(("http:", "https:", "//"))]
            assert not external, (page, external)
            for asset in re.findall(r'(?:src|href)="(/docs-assets/[^"]+)"', html):
                assert c.get(asset).status_code == 200
            assert "fonts.googleapis" not in html


def test_cors_is_off_by_default_and_follows_the_origin_list(mini_store: GraphStore, monkeypatch) -> None:
    with TestClient(create_app(store=mini_store, seed=False)) as c:
        r = c.get("/health", headers={"Origin": "https://front.example"})
        assert "access-control-allow-origin" not in r.headers
    monkeypatch.setenv("ZHIBIAO_CORS_ORIGINS", "https://front.example, https://other.example")
    with TestClient(create_app(store=mini_store, seed=False)) as c:
        r = c.get("/health", headers={"Origin": "https://front.example"})
        assert r.headers["access-control-allow-origin"] == "https://front.example"
        r = c.options("/indicators", headers={"Origin": "https://front.example", "Access-Control-Request-Method": "GET"})
        assert r.status_code == 200
        r = c.get("/health", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in r.headers
