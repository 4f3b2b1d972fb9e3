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


def test_bad_store_url_is_a_usage_error(capsys: pytest.CaptureFixture) -> None:
    assert main(["stats", "--store", "ftp://x"]) == 2
    assert "bad_store_url" in capsys.readouterr().err


def test_unreachable_store_exits_3(capsys: pytest.CaptureFixture) -> None:
    import socket
    with socket.socket() as s:        # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    assert main(["stats", "--store", f"bolt://127.0.0.1:{port}"]) == 3
    assert "store_unavailable" in capsys.readouterr().err


def test_version_and_usage_exit_codes(capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0 and capsys.readouterr().out.startswith("zhibiao ")
    with pytest.raises(SystemExit) as info:
        main(["load"])                 # missing argument
    assert info.value.code == 2
    assert main([]) == 2


def test_dry_run_writes_nothing_anywhere(tmp_path: Path, mini_library: Path, capsys, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    missing = tmp_path / "nowhere.db"
    assert main(["load", str(mini_library), "--dry-run", "--store", f"sqlite:///{missing}"]) == 0
    assert not missing.exists() and not (tmp_path / "zhibiao.db").exists()
    assert "不创建" in capsys.readouterr().err
    # an existing empty store is not seeded by a dry run either
    empty = tmp_path / "empty.db"
    assert main(["stats", "--no-seed", "--store", f"sqlite:///{empty}"]) == 0
    assert main(["load", str(mini_library), "--dry-run", "--store", f"sqlite:///{empty}"]) == 0
    from graph import open_store
    with open_store(f"sqlite:///{empty}") as s:
        assert s.version() == 0 and not s.history()


def test_writing_commands_name_their_store_and_refuse_an_implicit_one(tmp_path: Path, mini_library: Path,
                                                                      capsys, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ZHIBIAO_STORE", f"sqlite:///{tmp_path / 'typo.db'}")
    assert main(["load", str(mini_library), "--no-seed"]) == 1
    assert "store_missing" in capsys.readouterr().err and not (tmp_path / "typo.db").exists()
    monkeypatch.delenv("ZHIBIAO_STORE")
    url = f"sqlite:///{tmp_path / 'named.db'}"
    assert main(["load", str(mini_library), "--no-seed", "--store", url]) == 0
    out = capsys.readouterr()
    assert f"新建存储：{tmp_path / 'named.db'}" in out.err and str(tmp_path / "named.db") in out.out


def test_migrate_refuses_missing_or_empty_source_and_unconfirmed_replace(tmp_path: Path, mini_library: Path,
                                                                         capsys) -> None:
    from graph import open_store
    target = f"sqlite:///{tmp_path / 'target.db'}"
    assert main(["load", str(mini_library), "--no-seed", "--store", target]) == 0
    with open_store(target) as t:
        before = (t.version(), len(t.snapshot()[1]), len(t.history()))
    capsys.readouterr()
    missing = tmp_path / "no-such.db"
    for args in (["--from", f"sqlite:///{missing}", "--to", target],
                 ["--from", f"sqlite:///{missing}", "--to", target, "--replace", "--yes"]):
        assert main(["migrate", *args]) == 1
        assert "source_missing" in capsys.readouterr().err and not missing.exists()
    empty = tmp_path / "empty.db"
    open_store(f"sqlite:///{empty}").close()
    assert main(["migrate", "--from", f"sqlite:///{empty}", "--to", target, "--replace", "--yes"]) == 1
    assert "source_empty" in capsys.readouterr().err
    source = f"sqlite:///{tmp_path / 'source.db'}"
    assert main(["load", str(mini_library), "--no-seed", "--store", source]) == 0
    assert main(["migrate", "--from", source, "--to", target]) == 1
    assert "target_not_empty" in capsys.readouterr().err
    assert main(["migrate", "--from", source, "--to", target, "--replace"]) == 1
    err = capsys.readouterr().err
    assert "将清空" in err and "Indicator" in err and "--yes" in err
    with open_store(target) as t:
        assert (t.version(), len(t.snapshot()[1]), len(t.history())) == before
    assert main(["migrate", "--from", source, "--to", target, "--replace", "--yes"]) == 0


def test_closed_pipe_ends_quietly(tmp_path: Path, mini_library: Path) -> None:
    import subprocess
    import sys
    url = f"sqlite:///{tmp_path / 'pipe.db'}"
    assert main(["load", str(mini_library), "--no-seed", "--store", url]) == 0
    proc = subprocess.run(f"{sys.executable} -m cli export --format csv --output - --store {url} | head -n 1",
                          shell=True, capture_output=True, text=True, cwd=ROOT)
    assert proc.stdout.startswith("\ufeff指标编码") or proc.stdout.startswith("指标编码")
    assert "Traceback" not in proc.stderr and "BrokenPipe" not in proc.stderr


def test_failed_load_exits_nonzero_with_located_errors(tmp_path: Path, mini_library: Path, capsys) -> None:
    url = f"sqlite:///{tmp_path / 'f.db'}"
    main(["load", str(mini_library), "--store", url, "--no-seed"])
    bad = tmp_path / "bad.csv"
    bad.write_text("二级指标,三级指标,计量单位,指标解释\n数量指标,某指标,公斤米,解释文字\n", encoding="utf-8")
    assert main(["load", str(bad), "--store", url]) == 1
    err = capsys.readouterr().err
    assert "bad.csv 第2行" in err and "未写入任何内容" in err
