"""The read-only HTTP API, in process, over the small library."""
from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from api.app import create_app


@pytest.fixture
def client(mini_store):
    with TestClient(create_app(store=mini_store, seed=False)) as c:
        yield c


def test_health_and_stats(client: TestClient) -> None:
    assert client.get("/health").json()["status"] == "ok"
    stats = client.get("/stats").json()
    assert stats["general_categories"] == 21 and stats["sectors"] == 1 and stats["library_version"] == 1
    assert {"industry_indicators", "project_types"} <= set(stats)


def test_category_tree(client: TestClient) -> None:
    tree = client.get("/categories").json()
    assert [g["name"] for g in tree][:4] == ["产出指标", "成本指标", "效益指标", "满意度指标"]
    assert sum(len(g["categories"]) for g in tree) == 21
    assert [c["name"] for c in tree[0]["categories"]] == ["数量指标", "质量指标", "时效指标"]


def test_sector_tree(client: TestClient) -> None:
    tree = client.get("/sectors").json()
    assert tree[0]["name"] == "教育"
    assert tree[0]["fields"][0]["project_types"][0]["name"] == "普惠性幼儿园建设"


def test_indicator_filters_and_pages(client: TestClient) -> None:
    all_ = client.get("/indicators", params={"sector": "教育", "limit": 5}).json()
    assert all_["total"] >= 20 and len(all_["items"]) == 5
    q = client.get("/indicators", params={"sector": "205", "project_type": "普惠性幼儿园建设", "category": "满意度"}).json()
    assert q["total"] >= 1 and all(i["category"]["code"] == "SAT-SVC" for i in q["items"])
    general = client.get("/indicators", params={"scope": "general", "category": "OUT-QTY"}).json()
    assert general["total"] >= 5
    page2 = client.get("/indicators", params={"sector": "教育", "limit": 5, "offset": 5}).json()
    assert {i["id"] for i in page2["items"]}.isdisjoint({i["id"] for i in all_["items"]})


def test_bad_parameters_name_the_choices(client: TestClient) -> None:
    r = client.get("/indicators", params={"sector": "宇宙航行"})
    assert r.status_code == 400 and r.json()["code"] == "unknown_sector" and "教育" in r.json()["choices"]
    r = client.get("/indicators", params={"limit": 0})
    assert r.status_code == 422 and r.json()["code"] == "bad_limit" and "limit" in r.json()["message"]


def test_indicator_detail_with_neighbours(client: TestClient) -> None:
    first = client.get("/indicators", params={"sector": "教育", "limit": 1}).json()["items"][0]
    d = client.get(f"/indicators/{first['id']}").json()
    assert d["name"] == first["name"] and d["sector"]["name"] == "教育"
    assert {n["edge"] for n in d["neighbours"]} >= {"IN_CATEGORY", "APPLIES_TO"}
    r = client.get("/indicators/NOPE-1")
    assert r.status_code == 404 and r.json()["code"] == "not_found"


def test_openapi_docs(client: TestClient) -> None:
    assert client.get("/docs").status_code == 200
    assert "/indicators" in client.get("/openapi.json").json()["paths"]
