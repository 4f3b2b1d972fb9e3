"""Shared by the project tests: rows of a target table, an app over a fresh store with the mini
library, the bundled unit list and one admin, and small HTTP helpers."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from engine.accounts import add_user
from graph import GraphStore

# cheaper password hashing for the tests (production keeps argon2's defaults); set before any hash
os.environ.setdefault("ZHIBIAO_ARGON2_TIME_COST", "1")
os.environ.setdefault("ZHIBIAO_ARGON2_MEMORY_KIB", "8192")
ADMIN_PW = "admin-password-1"
ROWS = [
    {"level1": "产出指标", "level2": "数量指标", "name": "培训人次", "value": "≥1000", "unit": "人次", "basis": "计划标准"},
    {"level1": "产出指标", "level2": "质量指标", "name": "培训质量", "value": "进一步提高培训质量", "unit": "", "basis": "其他标准"},
    {"level1": "产出指标", "level2": "时效指标", "name": "培训完成时间", "value": "2025年12月31日前", "unit": "", "basis": "计划标准"},
    {"level1": "成本指标", "level2": "经济成本指标", "name": "人均培训成本", "value": "≤1500", "unit": "元/人", "basis": "计划标准"},
    {"level1": "效益指标", "level2": "社会效益指标", "name": "参训教师教学能力提升率", "value": "≥80%", "unit": "", "basis": "历史标准"},
    {"level1": "满意度指标", "level2": "服务对象满意度指标", "name": "参训教师满意度", "value": "≥90%", "unit": "", "basis": "历史标准"},
]
GOALS = {"period": "三年培训教师3000人次", "annual": "年内培训教师1000人次，培训合格率≥90%"}


@pytest.fixture
def work_app(fresh_store: GraphStore, mini_library: Path):
    """An app over a fresh store holding the mini library, the bundled unit list and one admin."""
    from api.app import create_app
    from loaders import load_file
    load_file(mini_library, fresh_store)
    app = create_app(store=fresh_store, seed=False)
    with TestClient(app) as client:
        add_user(fresh_store, "admin", ADMIN_PW, "admin", None, "cli")
        yield client, fresh_store


def login(client: TestClient, name: str, password: str) -> dict[str, str]:
    r = client.post("/auth/token", json={"username": name, "password": password})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["token_type"] == "bearer" and body["expires_in"] > 0
    return {"Authorization": f"Bearer {body['access_token']}"}


def accounts(client: TestClient) -> tuple[dict, dict, dict]:
    admin = login(client, "admin", ADMIN_PW)
    for body in ({"username": "edu", "password": "edu-password", "role": "unit", "unit": "106"},
                 {"username": "rev", "password": "rev-password", "role": "reviewer"}):
        r = client.post("/admin/users", json=body, headers=admin)
        assert r.status_code == 201, r.text
        assert "password_hash" not in r.json()
    return admin, login(client, "edu", "edu-password"), login(client, "rev", "rev-password")


def new_project(client: TestClient, unit: dict, **extra) -> dict:
    body = {"name": "中小学教师培训", "unit": "106", "year": 2025, "amount": 1500000, "sector": "教育", **extra}
    r = client.post("/projects", json=body, headers=unit)
    assert r.status_code == 201, r.text
    return r.json()
