"""HTTP search, autocomplete, recommendation and similar indicators; the CLI commands with the
same JSON; and the labelled-set evaluation thresholds (search/evaluate.py)."""
from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from api.app import create_app

REQUIRED = {"数量", "质量", "时效", "成本", "效益", "满意度"}


@pytest.fixture
def client(seeded_store):
    app = create_app(store=seeded_store, seed=False)
    if not any(getattr(r, "path", None) == "/search" for r in app.routes):  # until app.py includes it
        from api.routes import search
        app.include_router(search.router)
    with TestClient(app) as c:
        yield c


def test_search_endpoint_shape_and_pinyin(client: TestClient) -> None:
    r = client.get("/search", params={"q": "xsmyd"})
    assert r.status_code == 200
    body = r.json()
    assert {"total", "hits", "facets"} <= set(body)
    hit = body["hits"][0]
    assert {"id", "name", "category", "sector", "unit", "score", "highlight", "why"} <= set(hit)
    assert hit["name"] == "学生满意度" and hit["unit"] == "%"
    r = client.get("/search", params={"q": "满意度", "sector": "教育", "category": "满意度", "limit": 3, "offset": 3})
    assert r.status_code == 200 and len(r.json()["hits"]) == 3


@pytest.mark.parametrize("params,code", [({"q": ""}, "empty_query"), ({"q": "满意度", "limit": 0}, "bad_limit"),
                                         ({"q": "满意度", "limit": 1000}, "bad_limit"),
                                         ({"q": "满意度", "sector": "宇宙"}, "unknown_sector"),
                                         ({"q": "满意度", "project_type": "造飞船"}, "unknown_projecttype"),
                                         ({"q": "满意度", "value_kind": "半定量"}, "unknown_value_kind")])
def test_search_bad_parameters_are_4xx_with_choices(client: TestClient, params: dict, code: str) -> None:
    r = client.get("/search", params=params)
    assert 400 <= r.status_code < 500
    body = r.json()
    assert body["code"] == code and body["message"]
    if code.startswith("unknown_"):
        assert "可选" in body["message"] and body["choices"]


def test_suggest_endpoint(client: TestClient) -> None:
    r = client.get("/suggest", params={"q": "xues"})
    assert r.status_code == 200
    assert any(s["text"].startswith("学生") for s in r.json()["suggestions"])
    assert client.get("/suggest", params={"q": ""}).status_code == 400


def test_recommend_school_repair_in_education_covers_all_kinds(client: TestClient) -> None:
    r = client.post("/recommend", json={"project": "校舍维修改造", "description": "维修改造5所学校的教学用房",
                                        "sector": "教育", "amount": 2000000})
    assert r.status_code == 200
    body = r.json()
    assert body["project_types"][0]["name"] == "校舍维修改造"
    kinds = {i["kind"] for g in body["groups"] for i in g["indicators"]}
    assert kinds >= REQUIRED
    g = body["groups"][0]
    assert {"level1", "level2", "indicators"} <= set(g)
    ind = g["indicators"][0]
    assert {"unit", "value_kind", "direction", "suggested_value", "basis", "reason", "score"} <= set(ind)
    assert client.post("/recommend", json={"project": ""}).status_code == 400
    assert client.post("/recommend", json={"project": "校舍", "sector": "宇宙"}).json()["code"] == "unknown_sector"
    assert client.post("/recommend", json={"description": "无名称"}).status_code == 422


def test_similar_endpoint(client: TestClient) -> None:
    hid = client.get("/search", params={"q": "按期完工率"}).json()["hits"][0]["id"]
    r = client.get(f"/indicators/{hid}/similar")
    assert r.status_code == 200 and r.json()["similar"]
    assert client.get("/indicators/IND-NOPE/similar").status_code == 404


def _cli(argv: list[str]) -> int:
    """`zhibiao …` once cli/main.py registers the commands; the standalone entry until then."""
    from cli import main as cli_main
    parser = cli_main.build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    if "search" in sub.choices:
        return cli_main.main(argv)
    from cli import search
    return search.main(argv)


def test_cli_search_xsmyd_json(seeded_db: str, capsys: pytest.CaptureFixture) -> None:
    assert _cli(["search", "xsmyd", "--json", "--store", seeded_db]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["hits"][0]["name"] == "学生满意度"
    assert all("满意度" in h["name"] for h in out["hits"][:5])
    assert _cli(["search", "满意度", "--sector", "宇宙", "--store", seeded_db]) == 1
    assert "可选" in capsys.readouterr().err


def test_cli_recommend_json_matches_api(seeded_db: str, client: TestClient, capsys: pytest.CaptureFixture) -> None:
    assert _cli(["recommend", "--project", "校舍维修改造", "--sector", "教育", "--json", "--store", seeded_db]) == 0
    out = json.loads(capsys.readouterr().out)
    api = client.post("/recommend", json={"project": "校舍维修改造", "sector": "教育"}).json()
    assert out == api
    assert _cli(["recommend", "--project", "校舍维修改造", "--store", seeded_db]) == 0
    assert "覆盖种类" in capsys.readouterr().out


def test_labelled_set_meets_thresholds(seeded_store) -> None:
    from search.engine import build_index
    from search.evaluate import THRESHOLDS, evaluate, load_projects, load_queries
    assert len(load_queries()) >= 150 and len(load_projects()) >= 40
    res = evaluate(build_index(seeded_store))
    assert res["recommend"]["summary"]["sectors"] >= 12
    assert not res["failures"], res["failures"]
    assert set(res["figures"]) == set(THRESHOLDS)


def test_warm_builds_the_index_in_the_background(seeded_store) -> None:
    from api.routes.search import warm
    app = create_app(store=seeded_store, seed=False)
    with TestClient(app):
        warm(app).join(120)
        from engine.snapshot import snapshot_of
        from search.engine import INDEX_KEY
        snap = snapshot_of(seeded_store)     # the index is a part of the current library snapshot
        assert INDEX_KEY in snap._derived and "search_suggester" in snap._derived
        assert app.state.search_service.index() is snap._derived[INDEX_KEY]
