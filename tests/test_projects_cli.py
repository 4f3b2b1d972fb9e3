"""The CLI equivalents: the first admin from stdin, units load with located errors (nothing
written), and a project driven through the workflow by real accounts."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from cli.main import main
from projects_support import GOALS, ROWS


def run(capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch, argv: list[str], stdin: str = "",
        password: str | None = None) -> tuple[int, str, str]:
    import io
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    if password is None:
        monkeypatch.delenv("ZHIBIAO_PASSWORD", raising=False)
    else:
        monkeypatch.setenv("ZHIBIAO_PASSWORD", password)
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_users_units_and_a_project_from_the_cli(tmp_path: Path, mini_library: Path, capsys, monkeypatch) -> None:
    store = ["--store", f"sqlite:///{tmp_path / 'cli.db'}"]
    assert main(["load", str(mini_library), *store]) == 0
    capsys.readouterr()
    code, _, err = run(capsys, monkeypatch, ["user", "add", "boss", "--role", "admin", *store], "boss-password\n")
    assert code == 0 and "boss" in err
    code, _, err = run(capsys, monkeypatch, ["user", "add", "boss", "--role", "admin", *store], "other-password\n")
    assert code == 1 and "username_taken" in err
    code, _, err = run(capsys, monkeypatch, ["user", "add", "edu", "--role", "unit", *store], "edu-password\n")
    assert code == 1 and "unit_required" in err
    assert run(capsys, monkeypatch, ["user", "add", "edu", "--role", "unit", "--unit", "106", *store],
               "edu-password\n")[0] == 0
    assert run(capsys, monkeypatch, ["user", "add", "rev", "--role", "reviewer", *store], "rev-password\n")[0] == 0

    bad = tmp_path / "units.csv"
    bad.write_text("单位编码,单位名称,主管部门,行业\n106,市教育局,市教育局,教育\n106,重复,x,教育\n107,市科技局,x,火星\n",
                   encoding="utf-8")
    code, _, err = run(capsys, monkeypatch, ["units", "load", str(bad), *store])
    assert code == 1 and "第3行" in err and "duplicate_unit" in err and "第4行" in err and "unknown_sector" in err
    code, out, _ = run(capsys, monkeypatch, ["units", "list", "--json", *store])
    assert len(json.loads(out)) >= 130  # the bad file changed nothing

    code, out, _ = run(capsys, monkeypatch, ["project", "create", "--user", "edu", "--name", "教师培训", "--unit", "106",
                                             "--year", "2025", "--amount", "100000", *store], password="edu-password")
    assert code == 0
    pid = json.loads(out)["id"]
    table = tmp_path / "t.json"
    table.write_text(json.dumps({"goals": GOALS, "rows": ROWS}, ensure_ascii=False), encoding="utf-8")
    code, out, _ = run(capsys, monkeypatch, ["project", "put", pid, str(table), "--revision", "0", "--user", "edu", *store],
                       password="edu-password")
    assert code == 0 and json.loads(out)["revision"] == 1
    assert run(capsys, monkeypatch, ["project", "submit", pid, "--user", "edu", *store], password="edu-password")[0] == 0
    code, _, err = run(capsys, monkeypatch, ["project", "approve", pid, "--user", "edu", *store], password="edu-password")
    assert code == 1 and "forbidden" in err
    code, _, err = run(capsys, monkeypatch, ["project", "approve", pid, "--user", "rev", *store], password="wrong-pass")
    assert code == 1 and "bad_credentials" in err
    code, out, _ = run(capsys, monkeypatch, ["project", "return", pid, "--comment", "请修改", "--row-comment", "1:不可衡量",
                                             "--user", "rev", *store], password="rev-password")
    assert code == 0 and json.loads(out)["status"] == "returned"
    xlsx = tmp_path / "out.xlsx"
    assert run(capsys, monkeypatch, ["project", "export", pid, "--output", str(xlsx), "--user", "edu", *store],
               password="edu-password")[0] == 0
    code, out, _ = run(capsys, monkeypatch, ["project", "put", pid, str(xlsx), "--revision", "1", "--user", "edu", *store],
                       password="edu-password")
    assert code == 0 and json.loads(out)["source"] == "xlsx"
    code, out, _ = run(capsys, monkeypatch, ["project", "diff", pid, "1", "2", "--user", "rev", *store],
                       password="rev-password")
    assert code == 0 and json.loads(out)["summary"]["same"] == len(ROWS)
    code, out, _ = run(capsys, monkeypatch, ["project", "history", pid, "--user", "edu", *store], password="edu-password")
    assert [e["action"] for e in json.loads(out)["events"]] == ["create", "submit", "return"]
