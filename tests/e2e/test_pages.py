"""The pages in process (no browser, so these run everywhere in a second): every page answers in
Chinese, unknown things get a Chinese error page with the right status, and nothing in a page, the
stylesheet or the script points outside the app."""
from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from web import STATIC_DIR

PAGES = ["/", "/?q=xsmyd", "/?q=学生满意度&sector=教育", "/indicator/IND-205-139E3EAA2D", "/library",
         "/library?category=OUT-QTY", "/library?sector=教育&project_type=校舍维修改造", "/login", "/draft", "/review",
         "/monitoring", "/monitoring?year=2025"]
OUTSIDE = re.compile(r"""(?:src|href|action)\s*=\s*["']?(?:https?:)?//|url\(\s*["']?(?:https?:)?//|@import""", re.IGNORECASE)


@pytest.fixture(scope="module")
def client(seeded_db: str):
    with TestClient(create_app(seeded_db, seed=False)) as c:
        yield c


@pytest.mark.parametrize("path", PAGES)
def test_page_renders_in_chinese_with_local_assets_only(client, path):
    r = client.get(path)
    assert r.status_code == 200, r.text[:300]
    assert r.headers["content-type"].startswith("text/html")
    html = r.text
    assert '<html lang="zh-CN">' in html and "预算绩效指标库" in html
    assert not OUTSIDE.search(html), OUTSIDE.search(html)
    for asset in re.findall(r'(?:src|href)="(/static/[^"]+)"', html):
        assert client.get(asset).status_code == 200, asset


def test_search_groups_one_name_used_by_many_project_types(client):
    html = client.get("/?q=学生满意度").text
    first = html.split('<li class="hit">')[1].split("</li>")[0]
    assert "<em>学生满意度</em>" in first and first.count('class="chip"') >= 5


def test_errors_are_chinese_pages_with_their_status(client):
    r = client.get("/indicator/NO-SUCH-ID")
    assert r.status_code == 404 and "指标 NO-SUCH-ID 不存在" in r.text
    r = client.get("/?q=满意度&sector=火星")
    assert r.status_code == 400 and "未知的行业「火星」" in r.text
    r = client.get("/?q=zzzzqqqq")
    assert r.status_code == 200 and "没有找到" in r.text


def test_static_files_point_nowhere_else():
    for path in STATIC_DIR.iterdir():
        text = path.read_text(encoding="utf-8")
        # the SVG namespace is a name, not a request
        text = text.replace('"http://www.w3.org/2000/svg"', '""')
        assert not re.search(r"https?://|@import|//[a-z0-9.-]+\.[a-z]{2,}/", text, re.IGNORECASE), path.name


def test_library_tree_counts_match_the_store(client):
    stats = client.get("/stats").json()
    html = client.get("/library").text
    counts = [int(n) for n in re.findall(r'<li id="sec-\d+"><details[^>]*><summary>[^<]*<span class="n">(\d+)</span>', html)]
    assert len(counts) == stats["sectors"]
    listing = client.get("/indicators", params={"sector": "教育", "limit": 1}).json()
    assert listing["total"] in counts
