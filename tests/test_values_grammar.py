"""One value grammar (ontology/values.py): what a row's 指标值 is stored as, and that every value of
the bundled library reads back as itself, written bare or the way target tables write it."""
from __future__ import annotations

import json

import pytest

from ontology.values import parse_value, plain_number, plain_range, stored_value
from ontology.vocab import DATA_DIR

LIBRARY = DATA_DIR.parent / "library" / "library.json"


@pytest.mark.parametrize("value, unit, expected", [
    ("≥95%", "%", ("≥", "95")),
    ("95%以上", "%", ("≥", "95")),
    ("不低于95%", "%", ("≥", "95")),
    ("高于95%", "%", ("≥", "95")),
    ("90%-95%", "%", ("区间", "90-95")),
    ("95", "%", (None, "95")),
    ("10个", "个", (None, "10")),
    ("三十个", "个", (None, "30")),
    ("≤12月31日", "年月日", ("≤", "12月31日")),
    ("10月31日前", "年月日", ("≤", "10月31日")),
    # qualitative values are stored exactly as written, whatever words they start or end with
    ("达到预期", "", (None, "达到预期")),
    ("达到预期（本土脊灰野病毒病例0例）", "", (None, "达到预期（本土脊灰野病毒病例0例）")),
    ("二级馆以上", "", (None, "二级馆以上")),
    ("达到Ⅱ类", "", (None, "达到Ⅱ类")),
    ("达到《三级医院评审标准》要求", "", (None, "达到《三级医院评审标准》要求")),
    ("汛期前", "年月日", (None, "汛期前")),
    # a value in another unit than the row's is not silently converted: the field rules report it
    ("95%", "个", (None, "95%")),
])
def test_stored_form(value: str, unit: str, expected: tuple) -> None:
    assert stored_value(value, unit) == expected


def test_plain_readers_of_the_stored_form() -> None:
    assert plain_number("95") == 95 and plain_number("95%") == 95 and plain_number("-0.5") == -0.5
    assert plain_number("≥95") is None and plain_number("达到预期") is None and plain_number(None) is None
    assert plain_range("90-95") == (90, 95) and plain_range("90%-95%") == (90, 95)
    assert plain_range("95") is None


def _library_values() -> list[tuple[str, str, str, str]]:
    doc = json.loads(LIBRARY.read_text(encoding="utf-8"))
    out = []
    for n in doc["nodes"]:
        p = n.get("props") or {}
        if "Indicator" in (n.get("labels") or [n.get("label")]) and p.get("typical_value"):
            out.append((p["typical_value"], p.get("unit") or "", p.get("direction") or "", p.get("value_kind") or ""))
    return out


def test_every_library_value_is_a_fixpoint_written_bare_or_with_its_comparator() -> None:
    values = _library_values()
    assert len(values) > 5000
    wrong = []
    for tv, unit, direction, kind in values:
        d, v = stored_value(tv, unit)
        if v != tv or d not in (None, direction):
            wrong.append((tv, unit, d, v))
        if kind == "定量" and direction in ("≥", "≤"):
            shown = f"{direction}{tv}{unit if unit != '年月日' else ''}"   # as a target table writes it
            if stored_value(shown, unit) != (direction, tv):
                wrong.append((shown, unit, *stored_value(shown, unit)))
    assert wrong == []


def test_review_and_loader_read_the_same_number() -> None:
    pv = parse_value("不少于1.2万人次")
    assert pv.number == 1.2 and pv.unit == "万人次" and pv.comparator == "≥"
    assert stored_value("不少于12000人次", "人次") == ("≥", "12000")


def test_iso_date_is_one_day_not_a_period() -> None:
    p = parse_value("2026-01-05")
    assert (p.kind, p.date, p.period) == ("date", "2026-01-05", None)
    assert parse_value("2026-13-05").date is None        # no such month: not a date
