"""One indicator projection: /indicators, /indicators/{id} and the ``indicator`` of a /search hit
carry the same fields with the same values for the same indicator, documented in the OpenAPI schema."""
from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from engine.indicator_schema import IndicatorDetail, IndicatorOut
from engine.projection import FIELDS


@pytest.fixture
def client(mini_store):
    with TestClient(create_app(store=mini_store, seed=False)) as c:
        yield c


def test_detail_page_and_search_hit_carry_the_same_projection(client: TestClient) -> None:
    page = client.get("/indicators", params={"sector": "教育", "limit": 20}).json()
    assert page["items"]
    checked = 0
    for item in page["items"][:8]:
        assert tuple(item) == FIELDS
        IndicatorOut.model_validate(item)                    # the documented shape, no extra key
        detail = client.get(f"/indicators/{item['id']}").json()
        IndicatorDetail.model_validate(detail)
        assert {k: detail[k] for k in FIELDS} == item
        hits = client.get("/search", params={"q": item["name"], "limit": 50}).json()["hits"]
        found = [h["indicator"] for h in hits if h["indicator"]["id"] == item["id"]]
        found += [v for h in hits for v in h.get("variants") or () if v.get("id") == item["id"] and "indicator" in v]
        if found:
            assert found[0] == item
            checked += 1
    assert checked >= 5


def test_projection_is_in_the_openapi_schema(client: TestClient) -> None:
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    assert set(FIELDS) <= set(schemas["IndicatorOut"]["properties"])


DOC = {"project": {"name": "中小学教师培训", "sector": "教育", "amount": 1500000},
       "goals": {"period": "三年培训教师3000人次", "annual": "年内培训教师1000人次，培训合格率≥90%"},
       "rows": [{"level1": "产出指标", "level2": "数量指标", "name": "培训人次", "value": "≥1000", "unit": "人次"},
                {"level1": "产出指标", "level2": "质量指标", "name": "培训质量", "value": "进一步提高培训质量"},
                {"level1": "", "level2": "", "name": "师生满意度", "value": "≥90%"}]}


def test_review_rewrites_carry_the_same_projection(client: TestClient) -> None:
    flags = client.post("/targets/check", json=DOC).json()["flags"]
    rewrites = [f["rewrite"] for f in flags if f.get("rewrite") and f["rewrite"].get("id")]
    assert rewrites, flags
    for rw in rewrites:
        detail = client.get(f"/indicators/{rw['id']}").json()
        assert rw["indicator"] == {k: detail[k] for k in FIELDS}


def test_recommendation_items_carry_the_same_projection(client: TestClient) -> None:
    body = client.post("/recommend", json={"project": "普惠性幼儿园建设", "sector": "教育"}).json()
    items = [i for g in body["groups"] for i in g["indicators"]]
    assert items
    for it in items[:5]:
        detail = client.get(f"/indicators/{it['id']}").json()
        assert it["indicator"] == {k: detail[k] for k in FIELDS}


def test_search_hits_document_the_projection(client: TestClient) -> None:
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    assert "indicator" in schemas["SearchHit"]["properties"]
    assert schemas["SearchHit"]["properties"]["indicator"]["$ref"].endswith("/IndicatorOut")
