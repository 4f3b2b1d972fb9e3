"""``zhibiao loop …``: a generated year loaded by an admin, warnings and the report read by a
reviewer, a unit refused what it may not do; every subcommand has help."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from cli.main import build_parser, main
from engine.accounts import add_user
from graph import open_store

PW = "loop-password-1"


@pytest.fixture
def store_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'loop.db'}"
    with open_store(url) as store:
        add_user(store, "boss", PW, "admin", None, "test")
        add_user(store, "rev", PW, "reviewer", None, "test")
    monkeypatch.setenv("ZHIBIAO_PASSWORD", PW)
    monkeypatch.setenv("ZHIBIAO_SEED", "0")
    return url


def run(capsys: pytest.CaptureFixture, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_generate_report_and_refusals(store_url: str, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    code, out, err = run(capsys, "loop", "generate", "--scale", "test", "--user", "rev", "--store", store_url)
    assert code == 1 and "[forbidden]" in err               # a reviewer does not load data
    code, out, _ = run(capsys, "loop", "generate", "--scale", "test", "--user", "boss", "--store", store_url)
    assert code == 0
    declared = json.loads(out)["declared_totals"]
    code, out, _ = run(capsys, "loop", "report", "2025", "--user", "rev", "--store", store_url)
    rep = json.loads(out)
    assert code == 0 and rep["monitoring"]["amount"] == declared["monitored"]["amount"]
    assert rep["appraisal"]["cut"] == declared["appraised"]["cut"]
    xlsx = tmp_path / "r.xlsx"
    assert run(capsys, "loop", "report", "2025", "--xlsx", str(xlsx), "--user", "rev", "--store", store_url)[0] == 0
    assert xlsx.read_bytes()[:2] == b"PK"
    code, out, _ = run(capsys, "loop", "warnings", "--year", "2025", "--kind", "execution_deviation", "--user", "rev",
                       "--store", store_url)
    warnings = json.loads(out)
    assert code == 0 and warnings["total"] > 0 and {w["kind"] for w in warnings["items"]} == {"execution_deviation"}
    svg = tmp_path / "p.svg"
    assert run(capsys, "loop", "chart", "proposals", "2025", "--output", str(svg), "--user", "rev",
               "--store", store_url)[0] == 0
    assert svg.read_text(encoding="utf-8").startswith("<svg")
    # a unit account of a generated unit: its own warnings only, no proposals
    with open_store(store_url) as store:
        add_user(store, "unit1", PW, "unit", warnings["items"][0]["unit"], "test")
    code, out, _ = run(capsys, "loop", "warnings", "--user", "unit1", "--store", store_url)
    assert code == 0 and {w["unit"] for w in json.loads(out)["items"]} == {warnings["items"][0]["unit"]}
    code, _, err = run(capsys, "loop", "proposals", "2025", "--user", "unit1", "--store", store_url)
    assert code == 1 and "[forbidden]" in err
    code, _, err = run(capsys, "loop", "appraise", "PRJ-x", str(tmp_path / "missing.json"), "--user", "rev",
                       "--store", store_url)
    assert code == 1 and "[file_not_found]" in err
    code, _, err = run(capsys, "loop", "generate", "--scale", "test", "--user", "boss", "--store", store_url)
    assert code == 1 and "[year_exists]" in err             # the same year twice is refused, nothing duplicated


def test_every_loop_subcommand_has_help() -> None:
    ap = build_parser()
    loop = next(a for a in ap._subparsers._group_actions[0].choices.items() if a[0] == "loop")[1]
    subs = loop._subparsers._group_actions[0].choices
    assert len(subs) == 17
    for name, parser in subs.items():
        assert parser.description, name
