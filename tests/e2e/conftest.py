"""End-to-end fixtures: the real app under uvicorn on a free 127.0.0.1 port over a temporary
embedded store (a copy of the bundled library seeded once per session), and Debian's chromium
driven by Playwright through its executable path (no browser is ever downloaded).

Every page gets a route handler that records and aborts any request outside the app's origin; the
``page`` fixture fails the test if there was one, so a CDN font or script can never slip in."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTEFACTS = Path(os.environ.get("ZHIBIAO_E2E_ARTEFACTS", Path(__file__).resolve().parent / "artefacts"))
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    reason = None
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        reason = "未安装 playwright（pip install -e \".[test]\"）"
    if CHROMIUM is None:
        reason = "未找到 chromium（apt-get install chromium fonts-wqy-microhei）"
    if reason and os.environ.get("ZHIBIAO_REQUIRE_E2E") == "1":
        reason = None  # fail loudly in CI instead of skipping
    for item in items:
        if "e2e" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)
            uses_browser = {"browser", "page", "guarded"} & set(getattr(item, "fixturenames", ()))
            if reason and uses_browser:
                item.add_marker(pytest.mark.skip(reason=reason))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def live_db(seeded_db: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A writable copy of the session's seeded store: the e2e flows add accounts and projects."""
    src = Path(seeded_db.removeprefix("sqlite:///"))
    dst = tmp_path_factory.mktemp("e2e") / "e2e.db"
    shutil.copy(src, dst)
    return f"sqlite:///{dst}"


@pytest.fixture(scope="session")
def base_url(live_db: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    """uvicorn serving the app on a free port; stopped at the end of the session."""
    port = _free_port()
    log = (tmp_path_factory.mktemp("e2e-log") / "server.log").open("w")
    env = {**os.environ, "ZHIBIAO_STORE": live_db, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "uvicorn", "api.app:create_app", "--factory",
                             "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
                            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(url + "/health", timeout=2) as r:
                if r.status == 200:
                    break
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"服务未能启动，见日志 {log.name}")
        time.sleep(0.2)
    # the search index is warmed in the background: wait for it so the first test is not the one to pay
    urllib.request.urlopen(url + "/suggest?q=a", timeout=60).read()
    yield url
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


class Guard:
    """Records every request leaving the app's origin and aborts it."""

    def __init__(self, origin: str):
        self.origin = origin
        self.outside: list[str] = []

    def __call__(self, route) -> None:
        url = route.request.url
        if url.startswith((self.origin + "/", "data:", "blob:", "about:")) or url == self.origin:
            route.continue_()
        else:
            self.outside.append(url)
            route.abort()


def new_page(browser, base_url: str, width: int = 1280, height: int = 900, **kw):
    """A fresh context (own storage) with the outside-origin guard installed; returns (page, guard)."""
    ctx = browser.new_context(viewport={"width": width, "height": height}, base_url=base_url, locale="zh-CN",
                              accept_downloads=True, **kw)
    guard = Guard(base_url)
    ctx.route("**/*", guard)
    page = ctx.new_page()
    # a script error fails the test too (reported with the outside requests)
    page.on("pageerror", lambda e: guard.outside.append(f"脚本错误：{e}"))
    page.set_default_timeout(15_000)
    return page, guard


@pytest.fixture
def page(browser, base_url: str):
    p, guard = new_page(browser, base_url)
    yield p
    p.context.close()
    assert not guard.outside, f"页面请求了应用以外的地址：{guard.outside}"


def shot(page, name: str, full_page: bool = True) -> Path:
    """Keep a screenshot as a test artefact (tests/e2e/artefacts/, ignored by git)."""
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTEFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


PASSWORD = "e2e-password-1"
#: the accounts the flows use: a budget unit (市教育局, 106), a reviewer and a maintainer
ACCOUNTS = {"edu": ("unit", "106"), "rev": ("reviewer", None), "mnt": ("maintainer", None)}


@pytest.fixture(scope="session")
def accounts(base_url: str, live_db: str) -> dict[str, str]:
    """The first admin is created with the CLI (`zhibiao user add admin --role admin`, password on
    stdin); the admin then creates the other accounts over HTTP, as a bureau would."""
    import json
    subprocess.run([sys.executable, "-m", "cli", "user", "add", "admin", "--role", "admin", "--store", live_db],
                   input=PASSWORD + "\n", text=True, cwd=ROOT, check=True, capture_output=True)

    def post(path: str, body: dict, token: str | None = None) -> dict:
        req = urllib.request.Request(base_url + path, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json",
                                              **({"Authorization": f"Bearer {token}"} if token else {})})
        with urllib.request.urlopen(req, timeout=30) as r:
            return json.loads(r.read())

    token = post("/auth/token", {"username": "admin", "password": PASSWORD})["access_token"]
    for name, (role, unit) in ACCOUNTS.items():
        post("/admin/users", {"username": name, "password": PASSWORD, "role": role, "unit": unit}, token)
    return {name: PASSWORD for name in [*ACCOUNTS, "admin"]}


def login(page, username: str, password: str = PASSWORD) -> None:
    """Log in through the login page, as a person would."""
    page.goto("/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    with page.expect_navigation():
        page.get_by_role("button", name="登录").click()
    page.wait_for_load_state("load")


def tab_to(page, selector: str, limit: int = 80) -> None:
    """Press Tab until the focused element matches ``selector`` (keyboard-only navigation)."""
    for _ in range(limit):
        if page.evaluate("s => document.activeElement && document.activeElement.matches(s)", selector):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"Tab 键 {limit} 次仍未到达 {selector}")
