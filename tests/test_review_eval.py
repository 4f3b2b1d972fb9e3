"""The labelled-set evaluation runs and holds its thresholds (justified in review/evaluate.py)."""
from __future__ import annotations

from review.evaluate import THRESHOLDS, evaluate, failures, load_all


def test_labelled_set_size():
    tables = load_all()
    rows = sum(len(t["rows"]) for t in tables)
    sectors = {t["project"]["sector"] for t in tables}
    assert len(tables) >= 30 and rows >= 300 and len(sectors) >= 12
    flagged = sum(1 for t in tables for e in t["expected_rows"] if e)
    assert 0.2 * rows < flagged < 0.6 * rows, "good rows as well as weak ones"


def test_labelled_set_meets_thresholds():
    res = evaluate()
    assert not failures(res), failures(res)
    assert res["overall"]["precision"] >= THRESHOLDS["overall_precision"]
    assert res["overall"]["recall"] >= THRESHOLDS["overall_recall"]


def test_evaluate_script_exits_zero(capsys):
    from review.evaluate import main
    assert main([]) == 0
    out = capsys.readouterr().out
    assert "查准率" in out and "总体" in out
