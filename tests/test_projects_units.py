"""The budget-unit list: the bundled reconstruction, a real list from XLSX with located errors
(all or nothing), and a reload that keeps units with projects (inactive) and their OWNS edges."""
from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook

from engine.accounts import Principal
from engine.library import Library
from engine.projects import Projects
from engine.units import ensure_units, list_units, load_units
from graph import GraphStore


def _xlsx(path: Path, rows: list[tuple]) -> Path:
    wb = Workbook()
    ws = wb.active
    ws.append(("某市市直预算单位名录",))
    ws.append(("单位编码", "单位名称", "主管部门", "所属行业"))
    for r in rows:
        ws.append(r)
    wb.save(path)
    return path


def test_units_from_xlsx_all_or_nothing(sqlite_store: GraphStore, tmp_path: Path) -> None:
    ensure_units(sqlite_store)
    assert list_units(sqlite_store, 0, 1000)["total"] >= 130
    bad = _xlsx(tmp_path / "bad.xlsx", [("106", "市教育局", "市教育局", "教育"), ("", "无编码", "x", "教育"),
                                         ("900", "市新单位", "x", "205;卫生健康;月球")])
    report = load_units(sqlite_store, bad, "mnt")
    errs = {(e["code"], e["row"], e["column"]) for e in report["errors"]}
    assert ("bad_unit_code", 4, "A（单位编码）") in errs and ("unknown_sector", 5, "D（所属行业）") in errs
    assert sqlite_store.get("UNIT-900") is None  # nothing written


def test_reload_keeps_units_with_projects_and_their_edges(sqlite_store: GraphStore, tmp_path: Path,
                                                          mini_library: Path) -> None:
    from loaders import load_file
    load_file(mini_library, sqlite_store)
    ensure_units(sqlite_store)
    pid = Projects(Library(sqlite_store)).create(Principal("edu", "unit", "106"), "教师培训", "106", 2025, 1000)["id"]
    good = _xlsx(tmp_path / "real.xlsx", [("106", "市教育局（更名）", "市教育局", "205"), ("900", "市新单位", "市政府", "201")])
    report = load_units(sqlite_store, good, "mnt", dry_run=True)
    assert not report["errors"] and sqlite_store.get("UNIT-900") is None  # dry run writes nothing
    report = load_units(sqlite_store, good, "mnt")
    assert report["counts"]["created"] == 1 and report["counts"]["updated"] == 1
    assert report["counts"]["deactivated"] >= 130
    unit = sqlite_store.get("UNIT-106")
    assert unit.props["name"] == "市教育局（更名）" and ("OWNS", pid) in unit.edges
    assert sqlite_store.get("UNIT-110").props["active"] is False
    audit = sqlite_store.list("AuditEntry", {"action": "units.load"}).items
    assert audit[-1].props["actor"] == "mnt"
