"""The work flows in a real browser, as the people who use them: a budget unit drafts a target
table from the recommendations to a downloaded 申报表 that re-imports to the same rows and submits
it; a reviewer returns a row and the unit sees the comment; a maintainer's rejected load shows the
located error and changes nothing; the draft page by keyboard alone."""
from __future__ import annotations

import json
import urllib.request

import pytest

from .conftest import PASSWORD, login, new_page, shot, tab_to

STATE: dict[str, str] = {}
PROJECT = "义务教育薄弱学校校舍维修改造"


def api_get(base_url: str, path: str, token: str | None = None):
    req = urllib.request.Request(base_url + path, headers={"Authorization": f"Bearer {token}"} if token else {})
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read())


def token_of(page) -> str:
    return page.evaluate("JSON.parse(sessionStorage.getItem('zhibiao.session')).token")


@pytest.fixture
def guarded(browser, base_url, request):
    """Pages with the outside-origin guard; every one opened is checked at the end (and kept as a
    screenshot, which shows where a failing flow stopped)."""
    opened = []

    def make(**kw):
        page, guard = new_page(browser, base_url, **kw)
        opened.append((page, guard))
        return page
    yield make
    for i, (page, guard) in enumerate(opened):
        shot(page, f"end-{request.node.name}-{i}")
        page.context.close()
        assert not guard.outside, f"页面请求了应用以外的地址：{guard.outside}"


def test_draft_from_recommendation_to_xlsx_and_back(guarded, base_url, accounts, tmp_path):
    page = guarded()
    login(page, "edu")
    assert page.url.endswith("/draft")
    assert page.get_by_role("link", name="审核").is_hidden()  # navigation by role: a unit does not review
    form = page.locator("#project-form")
    if form.is_hidden():
        page.get_by_role("button", name="新建项目").click()
    page.get_by_label("项目名称").fill(PROJECT)
    page.locator("#pf-sector").select_option("205")
    page.get_by_label("项目金额（元）").fill("8000000")
    page.get_by_label("项目说明（实施内容、对象、规模）").fill("对全市5所薄弱学校进行校舍维修改造，改善办学条件")
    page.get_by_role("button", name="创建项目").click()
    page.locator("#project-info strong", has_text=PROJECT).wait_for(timeout=60_000)
    STATE["project"] = page.locator("#project-select").input_value()
    assert STATE["project"].startswith("PRJ-")

    # recommendations grouped by 一级 / 二级, each with its reason
    page.get_by_role("button", name="获取推荐指标").click()
    page.locator("#rec-form").wait_for(timeout=60_000)
    # the inferred project type is shown and can be changed
    assert "校舍维修改造" in page.get_by_label("项目类型").locator("option:checked").inner_text()
    legends = page.locator("#rec-form legend").all_inner_texts()
    assert {"产出指标", "效益指标", "满意度指标"} <= set(legends), legends
    assert page.locator("#rec-form .reason").first.inner_text()
    picked = page.locator("#rec-form input[type=checkbox]:checked").count()
    assert picked >= 8
    shot(page, "draft-recommendations")
    page.get_by_role("button", name="采用选中的指标").click()
    assert page.locator("#rows .trow").count() == picked
    page.locator("#summary .score").wait_for()

    # a vague value typed in row 1 is flagged beside the row; the rewrite is adopted in one click
    row = page.locator("#rows .trow").first
    row.locator("input.value").fill("进一步提高")
    flag = row.locator(".flag[data-code=vague_value]")
    flag.wait_for()
    shot(page, "draft-flag")
    flag.get_by_role("button", name="采用建议").click()
    flag.wait_for(state="detached")
    assert row.locator("input.value").input_value() != "进一步提高"
    page.get_by_label("实施期目标").fill("完成5所学校校舍维修改造，消除C级危房，改善办学条件")
    page.get_by_label("年度目标").fill("年内完成5所学校维修改造12000平方米，验收合格率100%")

    page.get_by_role("button", name="保存").click()
    page.locator("#save-status .okmsg", has_text="已保存为修订 1").wait_for()
    shot(page, "draft-saved")

    with page.expect_download() as dl:
        page.get_by_role("button", name="下载申报表 .xlsx").click()
    path = tmp_path / "申报表.xlsx"
    dl.value.save_as(path)
    assert path.read_bytes()[:2] == b"PK"

    # the downloaded file, uploaded back, is revision 2 with exactly the rows of revision 1
    page.locator("#upload-xlsx").set_input_files(str(path))
    page.locator("#save-status .okmsg", has_text="修订 2").wait_for(timeout=30_000)
    token = token_of(page)
    diff = api_get(base_url, f"/projects/{STATE['project']}/revisions/1/diff/2", token)
    assert diff["summary"]["same"] == picked and not diff["goals"], diff["summary"]
    assert {k: diff["summary"][k] for k in ("added", "removed", "changed")} == {"added": 0, "removed": 0, "changed": 0}

    page.get_by_role("button", name="提交审核").click()
    page.locator("#save-status .okmsg", has_text="已提交审核").wait_for()
    assert api_get(base_url, f"/projects/{STATE['project']}", token)["status"] == "submitted"


def test_reviewer_returns_a_row_and_the_unit_sees_the_comment(guarded, base_url, accounts):
    if "project" not in STATE:
        pytest.skip("依赖上一个测试提交的项目")
    pid = STATE["project"]
    rev = guarded()
    login(rev, "rev")
    assert rev.url.endswith("/review")
    assert rev.get_by_role("link", name="目标编制").is_hidden()
    rev.locator("#queue td", has_text=PROJECT).first.wait_for()
    rev.get_by_label("行业").select_option("206")  # filtered by sector: 科学技术 has nothing waiting
    rev.locator("#queue .empty").wait_for()
    rev.get_by_label("行业").select_option("205")
    rev.locator("#queue td", has_text=PROJECT).first.wait_for()
    rev.get_by_role("button", name=f"打开 {PROJECT}").first.click()
    rev.locator("#review-table").wait_for()
    assert rev.locator("#detail .score").inner_text().isdigit()
    rev.get_by_label("第 2 行审核意见").fill("目标值偏低，请按近三年实际完成情况调整")
    rev.get_by_label("整表审核意见").fill("请补充质量指标的标准依据")
    shot(rev, "review-table")
    rev.get_by_role("button", name="退回修改").click()
    rev.locator("#detail .status.returned").wait_for()
    rev.locator("#review-history .comment", has_text="第 2 行：目标值偏低").wait_for()
    # the revision diff: revision 2 is the re-imported 申报表 of revision 1, so nothing changed
    rev.get_by_text("修订比较").click()
    rev.get_by_role("button", name="比较").click()
    rev.locator("#diff p", has_text="新增 0，删除 0，修改 0").wait_for()
    shot(rev, "review-returned")

    unit = guarded()
    login(unit, "edu")
    unit.goto(f"/draft?project={pid}")
    row2 = unit.locator("#rows .trow").nth(1)
    row2.locator(".comment", has_text="目标值偏低，请按近三年实际完成情况调整").wait_for()
    assert "请补充质量指标的标准依据" in unit.locator("#return-note").inner_text()
    assert unit.locator("#project-info .status").inner_text() == "已退回"
    shot(unit, "draft-returned")


BAD_CSV = ("指标名称,一级指标,二级指标,计量单位,指标解释,计算公式,行业,项目类型\n"
           "维修学校数,产出指标,数量指标,所,完成维修的学校数,累计数,教育,校舍维修改造\n"
           "维修质量,产出指标,不存在的类别,%,验收合格的比例,合格数/总数×100%,教育,校舍维修改造\n")


def test_maintainer_rejected_load_shows_located_error_and_changes_nothing(guarded, base_url, accounts, tmp_path):
    before = api_get(base_url, "/stats"), len(api_get(base_url, "/history"))
    page = guarded()
    login(page, "mnt")
    loads = page.locator("#loads")
    assert loads.is_visible()
    bad = tmp_path / "新增指标.csv"
    bad.write_text(BAD_CSV, encoding="utf-8")
    page.get_by_label("选择文件").set_input_files(str(bad))
    page.get_by_role("button", name="校验（试运行）").click()
    report = page.locator("#load-report [role=alert]")
    report.wait_for()
    text = report.inner_text()
    assert "第 3 行" in text and "C（二级指标）" in text and "不存在的类别" in text, text
    assert page.locator("#confirm-load").count() == 0
    shot(page, "library-load-rejected")
    assert (api_get(base_url, "/stats"), len(api_get(base_url, "/history"))) == before


GOOD_CSV = ("指标名称,一级指标,二级指标,计量单位,指标值,指标值设定依据,指标解释,计算公式,行业,领域,项目类型\n"
            "维修改造校舍验收资料归档率,产出指标,质量指标,%,≥95,行业标准,完成维修改造并验收的校舍中资料归档的比例,"
            "已归档数/验收数×100%,教育,义务教育,校舍维修改造\n")


def test_maintainer_dry_run_then_confirmed_load(guarded, base_url, accounts, tmp_path):
    version = api_get(base_url, "/stats")["library_version"]
    page = guarded()
    login(page, "mnt")
    good = tmp_path / "新增指标.csv"
    good.write_text(GOOD_CSV, encoding="utf-8")
    page.get_by_label("选择文件").set_input_files(str(good))
    page.get_by_role("button", name="校验（试运行）").click()
    page.get_by_role("button", name="确认加载").wait_for()
    assert page.locator("#load-report").get_by_text("试运行，未写入").count() == 1
    assert api_get(base_url, "/stats")["library_version"] == version  # a dry run writes nothing
    page.get_by_role("button", name="确认加载").click()
    page.locator("#load-report .okmsg").wait_for()
    assert api_get(base_url, "/stats")["library_version"] == version + 1
    page.reload()
    assert "新增指标.csv" in page.locator("#hist-h + .scroll").inner_text()
    shot(page, "library-load-confirmed")


def test_wrong_password_is_refused_in_chinese(guarded, accounts):
    page = guarded()
    page.goto("/login")
    page.get_by_label("用户名").fill("edu")
    page.get_by_label("密码").fill("not-the-password")
    page.get_by_role("button", name="登录").click()
    assert page.get_by_role("alert").inner_text() == "用户名或密码不正确"
    assert page.url.endswith("/login")
    page.goto("/draft")
    assert page.locator("#need-login").is_visible()  # still nobody: the draft page asks to log in
    shot(page, "login-refused")


def test_draft_by_keyboard_only(guarded, base_url, accounts):
    page = guarded()
    page.goto("/login")
    page.keyboard.press("Tab")
    tab_to(page, "#username")
    page.keyboard.type("edu")
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.wait_for_url("**/draft")
    page.locator("#project-select").wait_for()
    tab_to(page, "#new-project-btn")
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "pf-name"
    page.keyboard.type("中小学教师培训")
    tab_to(page, "#pf-amount")
    page.keyboard.type("1500000")
    tab_to(page, "#pf-desc")
    page.keyboard.type("全年培训中小学教师1000人次")
    tab_to(page, "#project-form button[type=submit]")
    page.keyboard.press("Enter")
    page.locator("#project-info strong", has_text="中小学教师培训").wait_for(timeout=60_000)
    tab_to(page, "#recommend-btn")
    page.keyboard.press("Enter")
    page.locator("#rec-form").wait_for(timeout=60_000)
    tab_to(page, "#rec-form button[type=submit]", limit=200)
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.classList.contains('name')")
    page.keyboard.press("Tab")  # name → value of the first row
    page.keyboard.press("Control+A")
    page.keyboard.type("≥1000")
    tab_to(page, "#save-btn", limit=400)
    page.keyboard.press("Enter")
    page.locator("#save-status .okmsg", has_text="已保存为修订 1").wait_for()
    shot(page, "draft-keyboard")


def test_work_pages_fit_a_phone_and_print(guarded, base_url, accounts):
    """The draft and review pages with a real table at 375 px (tables scroll inside their box, the
    page does not), and the review page's print view without navigation or buttons."""
    if "project" not in STATE:
        pytest.skip("依赖第一个测试创建的项目")
    pid = STATE["project"]

    def fits(page, name):
        widths = page.evaluate("() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
        shot(page, f"phone-{name}")
        assert widths[0] <= widths[1], f"{name}: 页面宽 {widths[0]} > 屏幕 {widths[1]}"

    unit = guarded(width=375, height=812, is_mobile=True)
    login(unit, "edu")
    unit.goto(f"/draft?project={pid}")
    unit.locator("#rows .trow").first.wait_for()
    fits(unit, "draft-table")

    rev = guarded(width=375, height=812, is_mobile=True)
    login(rev, "rev")
    rev.goto(f"/review?project={pid}")
    rev.locator("#review-table").wait_for()
    fits(rev, "review-table")

    desk = guarded()
    login(desk, "rev")
    desk.goto(f"/review?project={pid}")
    desk.locator("#review-table").wait_for()
    desk.emulate_media(media="print")
    assert desk.locator("header.top").is_hidden() and desk.locator("#queue-panel").is_hidden()
    assert desk.get_by_role("button", name="退回修改").is_hidden()
    assert desk.locator("#review-table").is_visible()
    shot(desk, "review-print")
