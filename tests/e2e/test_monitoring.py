"""监控与评价 in a real browser over a generated year of the performance loop (the test scale of
loop/generate.py, loaded as `zhibiao loop generate` does): the bureau's warnings by unit, the execution
curve and achievement drawn as inline SVG, evaluation scores and next year's proposals; a unit sees
only its own warnings."""
from __future__ import annotations

import json
import urllib.request

import pytest

from .conftest import PASSWORD, login, new_page, shot

YEAR = 2025


@pytest.fixture(scope="session")
def loop_year(accounts, live_db, base_url) -> dict:
    from graph import open_store
    from loop.generate import generate_year
    from loop.load import load_year
    year = generate_year("test", YEAR, 2025)
    with open_store(live_db) as store:
        load_year(store, year, actor="e2e")
    return year.totals


def _get(base_url: str, path: str, user: str) -> dict:
    def call(req):
        with urllib.request.urlopen(req, timeout=30) as r:
            return json.loads(r.read())
    tok = call(urllib.request.Request(base_url + "/auth/token", method="POST", headers={"Content-Type": "application/json"},
                                      data=json.dumps({"username": user, "password": PASSWORD}).encode()))["access_token"]
    return call(urllib.request.Request(base_url + path, headers={"Authorization": f"Bearer {tok}"}))


def test_bureau_sees_warnings_charts_scores_and_proposals(browser, base_url, loop_year):
    page, guard = new_page(browser, base_url)
    login(page, "rev")
    page.goto(f"/monitoring?year={YEAR}")
    warnings = _get(base_url, f"/warnings?year={YEAR}&limit=200", "rev")
    page.locator("#warning-table tbody tr").first.wait_for()
    assert page.locator("#warning-table tbody tr").count() == warnings["total"] > 0
    assert page.locator("#proposal-table tbody tr").count() == loop_year["projects"]
    first = warnings["items"][0]
    page.get_by_label("项目", exact=True).select_option(first["project"])
    page.locator("svg[aria-label^='资金执行曲线'] polyline").nth(1).wait_for()
    page.locator("#project-monitor .score").wait_for()
    assert page.locator("svg[aria-label='核心目标完成率'] rect").count() >= 1
    shot(page, "monitoring-bureau")
    page.context.close()
    assert not guard.outside


def test_unit_sees_only_its_own_warnings(browser, base_url, loop_year):
    warnings = _get(base_url, f"/warnings?year={YEAR}&limit=200", "rev")["items"]
    unit = warnings[0]["unit"]
    req = urllib.request.Request(base_url + "/auth/token", method="POST", headers={"Content-Type": "application/json"},
                                 data=json.dumps({"username": "admin", "password": PASSWORD}).encode())
    with urllib.request.urlopen(req, timeout=30) as r:
        tok = json.loads(r.read())["access_token"]
    req = urllib.request.Request(base_url + "/admin/users", method="POST",
                                 headers={"Content-Type": "application/json", "Authorization": f"Bearer {tok}"},
                                 data=json.dumps({"username": "loopunit", "password": PASSWORD, "role": "unit",
                                                  "unit": unit}).encode())
    urllib.request.urlopen(req, timeout=30).read()
    page, guard = new_page(browser, base_url, width=375, height=812, is_mobile=True)
    login(page, "loopunit")
    page.goto(f"/monitoring?year={YEAR}")
    page.locator("#warning-table tbody tr").first.wait_for()
    own = [w for w in warnings if w["unit"] == unit]
    assert page.locator("#warning-table tbody tr").count() == len(own)
    assert page.locator("#proposal-table").count() == 0  # proposals are the bureau's
    widths = page.evaluate("() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    shot(page, "phone-monitoring-unit")
    page.context.close()
    assert not guard.outside
    assert widths[0] <= widths[1], widths
