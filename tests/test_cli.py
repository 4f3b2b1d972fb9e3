"""The zhibiao command: a thin layer over the library; every command documented and helpful."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from cli.main import build_parser, main

ROOT = Path(__file__).resolve().parents[1]


def test_every_command_has_help_and_is_in_readme() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    sub = next(a for a in build_parser()._actions if a.dest == "command")
    for name, parser in sub.choices.items():
        assert parser.description, name
        assert f"zhibiao {name}" in readme, f"README does not document zhibiao {name}"


def test_stats_show_export_load_on_a_store(tmp_path: Path, mini_library: Path, capsys: pytest.CaptureFixture) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    assert main(["load", str(mini_library), "--store", url, "--no-seed"]) == 0
    capsys.readouterr()
    assert main(["stats", "--json", "--store", url]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert stats["general_categories"] == 21 and stats["library_version"] == 1
    assert main(["export", "--format", "csv", "--output", str(tmp_path / "x.csv"), "--store", url]) == 0
    first_id = (tmp_path / "x.csv").read_text(encoding="utf-8").splitlines()[1].split(",")[0]
    assert main(["show", first_id, "--store", url]) == 0
    assert first_id in capsys.readouterr().out
    assert main(["show", "NOPE", "--store", url]) == 1
    assert main(["load", str(tmp_path / "x.csv"), "--dry-run", "--store", url]) == 0
    out = capsys.readouterr()
    assert "校验通过" in out.out and re.search(r"库版本 1 → 1", out.out)
    assert main(["history", "--json", "--store", url]) == 0
    assert len(json.loads(capsys.readouterr().out)) == 1


def test_no_seed_keeps_store_empty(tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch) -> None:
    monkeypatch.setenv("ZHIBIAO_SEED", "0")
    assert main(["stats", "--json", "--store", f"sqlite:///{tmp_path / 'e.db'}"]) == 0
    assert json.loads(capsys.readouterr().out)["industry_indicators"] == 0


def test_bad_store_url_is_a_clear_error(capsys: pytest.CaptureFixture) -> None:
    assert main(["stats", "--store", "ftp://x"]) == 3
    assert "bad_store_url" in capsys.readouterr().err


def test_failed_load_exits_nonzero_with_located_errors(tmp_path: Path, mini_library: Path, capsys) -> None:
    url = f"sqlite:///{tmp_path / 'f.db'}"
    main(["load", str(mini_library), "--store", url, "--no-seed"])
    bad = tmp_path / "bad.csv"
    bad.write_text("二级指标,三级指标,计量单位,指标解释\n数量指标,某指标,公斤米,解释文字\n", encoding="utf-8")
    assert main(["load", str(bad), "--store", url]) == 1
    err = capsys.readouterr().err
    assert "bad.csv 第2行" in err and "未写入任何内容" in err
