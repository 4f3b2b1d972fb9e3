"""POST /targets/check and /targets/check/xlsx, and `zhibiao check`, give the same answer; bad
uploads get a 4xx with a code and a Chinese message; large uploads are refused."""
from __future__ import annotations

import argparse
import io
import json
import re

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from review.labelled.make_sample_xlsx import write as write_sample

DOC = {"project": {"name": "中小学教师培训", "sector": "教育", "amount": 1500000},
       "goals": {"period": "三年培训教师3000人次", "annual": "年内培训教师1000人次，培训合格率≥90%"},
       "rows": [{"level1": "产出指标", "level2": "数量指标", "name": "培训人次", "value": "≥1000", "unit": "人次"},
                {"level1": "产出指标", "level2": "质量指标", "name": "培训质量", "value": "进一步提高培训质量"},
                {"level1": "", "level2": "", "name": "师生满意度", "value": "≥90%"}]}
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture(scope="module")
def review_store(mini_library, tmp_path_factory):
    """The small library, loaded once for this module (the API only reads it)."""
    from graph import open_store
    from loaders import load_file
    store = open_store(f"sqlite:///{tmp_path_factory.mktemp('review') / 'store.db'}")
    load_file(mini_library, store)
    yield store
    store.close()


@pytest.fixture
def client(review_store):
    app = create_app(store=review_store, seed=False)
    if not any(getattr(r, "path", "") == "/targets/check" for r in app.router.routes):
        from api.routes import targets
        app.include_router(targets.router)
    with TestClient(app) as c:
        yield c


@pytest.fixture(scope="module")
def sample_xlsx(tmp_path_factory) -> bytes:
    path = tmp_path_factory.mktemp("xlsx") / "申报表.xlsx"
    write_sample(path)
    return path.read_bytes()


def _chinese(text: str) -> bool:
    return bool(re.search(r"[\u4e00-\u9fa5]", text))


def test_check_json(client):
    r = client.post("/targets/check", json=DOC)
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) >= {"score", "verdict", "flags", "rows"}
    assert body["verdict"] == "revise" and 0 <= body["score"] <= 100
    assert len(body["rows"]) == 3 and body["rows"][2]["category_predicted"] == "服务对象满意度指标"
    vague = [f for f in body["flags"] if f["code"] == "vague_value"]
    assert vague and vague[0]["row"] == 1 and "合格率" in vague[0]["suggestion"]
    assert {"row", "code", "severity", "message", "suggestion"} <= set(vague[0])


def test_check_json_bad_document(client):
    r = client.post("/targets/check", json={"rows": "不是列表"})
    assert r.status_code == 422 and r.json()["code"] == "no_rows" and _chinese(r.json()["message"])


def test_check_xlsx_end_to_end(client, sample_xlsx):
    r = client.post("/targets/check/xlsx", files={"file": ("申报表.xlsx", sample_xlsx, XLSX_MIME)})
    assert r.status_code == 200, r.text
    body = r.json()
    assert len(body["rows"]) == 11
    assert body["rows"][2]["number"] == 100 and body["rows"][2]["unit"] == "%"   # a 100% formatted cell
    codes = {(f["row"], f["code"]) for f in body["flags"]}
    # merged 一级/二级 cells are read: 师生满意度 is filed under 社会效益 → wrong_category
    assert (7, "wrong_category") in codes and (3, "vague_value") in codes
    # the amount comes from 项目资金（万元）: 900万元 > 800万元
    assert (6, "cost_over_amount") in codes


def test_cli_and_api_give_identical_results(client, review_store, sample_xlsx, tmp_path, capsys):
    from cli.check import cmd_check
    path = tmp_path / "申报表.xlsx"
    path.write_bytes(sample_xlsx)
    api = client.post("/targets/check/xlsx", files={"file": (path.name, sample_xlsx, XLSX_MIME)}).json()
    args = argparse.Namespace(file=str(path), json=True, store=review_store.url, no_seed=True)
    rc = cmd_check(args)
    cli = json.loads(capsys.readouterr().out)
    assert cli == api and rc == 1
    jpath = tmp_path / "doc.json"
    jpath.write_text(json.dumps(DOC, ensure_ascii=False), encoding="utf-8")
    cmd_check(argparse.Namespace(file=str(jpath), json=True, store=review_store.url, no_seed=True))
    assert json.loads(capsys.readouterr().out) == client.post("/targets/check", json=DOC).json()


def test_cli_human_output_is_chinese(review_store, tmp_path, capsys):
    from cli.check import cmd_check
    jpath = tmp_path / "doc.json"
    jpath.write_text(json.dumps(DOC, ensure_ascii=False), encoding="utf-8")
    cmd_check(argparse.Namespace(file=str(jpath), json=False, store=review_store.url, no_seed=True))
    out = capsys.readouterr().out
    assert "结论：需修改" in out and "第 2 行「培训质量」" in out and "建议：" in out


def test_cli_bad_file(review_store, tmp_path, capsys):
    from cli.check import cmd_check
    bad = tmp_path / "bad.json"
    bad.write_text("{不是 JSON", encoding="utf-8")
    assert cmd_check(argparse.Namespace(file=str(bad), json=False, store=review_store.url, no_seed=True)) == 1
    assert "[bad_json]" in capsys.readouterr().err


def test_register_declares_the_command():
    from cli.check import cmd_check, register
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers()

    def add(name, help_text, func, store=True):
        p = sub.add_parser(name, help=help_text)
        p.set_defaults(func=func)
        p.add_argument("--store")
        return p
    register(sub, add)
    args = ap.parse_args(["check", "x.xlsx", "--json", "--store", "sqlite:///x.db"])
    assert args.func is cmd_check and args.file == "x.xlsx" and args.json


@pytest.mark.parametrize("name,data,status,code", [
    ("申报表.xls", b"\xd0\xcf\x11\xe0old excel", 415, "unsupported_type"),
    ("申报表.xlsx", b"", 400, "empty_file"),
    ("申报表.xlsx", b"this is not a zip", 400, "not_xlsx"),
    ("申报表.xlsx", b"PK\x03\x04broken zip", 400, "not_xlsx"),
])
def test_malformed_uploads(client, name, data, status, code):
    r = client.post("/targets/check/xlsx", files={"file": (name, data, XLSX_MIME)})
    assert r.status_code == status and r.json()["code"] == code and _chinese(r.json()["message"])


def test_xlsx_without_header_row(client):
    from openpyxl import Workbook
    wb = Workbook()
    wb.active["A1"] = "这不是目标表"
    buf = io.BytesIO()
    wb.save(buf)
    r = client.post("/targets/check/xlsx", files={"file": ("x.xlsx", buf.getvalue(), XLSX_MIME)})
    assert r.status_code == 422 and r.json()["code"] == "no_header" and "表头" in r.json()["message"]


def test_upload_over_the_limit_is_refused(client, monkeypatch, sample_xlsx):
    monkeypatch.setenv("ZHIBIAO_MAX_CHECK_MB", "0.001")   # ~1 KB
    r = client.post("/targets/check/xlsx", files={"file": ("申报表.xlsx", sample_xlsx, XLSX_MIME)})
    assert r.status_code == 413 and r.json()["code"] == "too_large" and "上限" in r.json()["message"]
