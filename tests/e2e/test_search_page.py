"""指标检索 and the indicator page in a real browser: pinyin type-ahead, keyboard-only use, grouped
results, facets, and the page weight of a first visit."""
from __future__ import annotations

from .conftest import new_page, shot


def test_pinyin_typeahead_finds_xueshengmanyidu(page):
    page.goto("/")
    box = page.get_by_role("combobox")
    box.fill("xueshengmanyidu")
    option = page.get_by_role("option").first
    option.wait_for()
    assert option.inner_text().startswith("学生满意度")
    shot(page, "search-typeahead", full_page=False)
    box.fill("xsmyd")  # initials too
    page.get_by_role("option", name="学生满意度").first.wait_for()


def test_keyboard_only_search_to_indicator(page):
    page.goto("/")
    # the box has focus on arrival; everything below is keys only
    page.keyboard.type("xsmyd")
    page.get_by_role("option").first.wait_for()
    page.keyboard.press("ArrowDown")
    assert page.get_by_role("combobox").get_attribute("aria-activedescendant") == "sugg-0"
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "q=%E5%AD%A6%E7%94%9F%E6%BB%A1%E6%84%8F%E5%BA%A6" in page.url  # q=学生满意度
    # one result for the name, listing the project types that use it
    first = page.locator(".hit").first
    assert first.locator("h3").inner_text() == "学生满意度"
    assert first.locator(".uses .chip").count() >= 5
    shot(page, "search-results")
    # Tab from the box reaches the first result's title link; Enter opens it
    page.get_by_role("combobox").focus()
    for _ in range(12):
        page.keyboard.press("Tab")
        focused = page.evaluate("document.activeElement.closest('.hit h3') !== null")
        if focused:
            break
    assert focused, "Tab 无法到达第一条结果"
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "/indicator/" in page.url
    for label in ("指标解释", "计算公式", "计量单位", "典型值", "标准依据", "图谱关系", "相似指标"):
        assert page.get_by_text(label, exact=True).count() >= 1, label
    assert page.locator(".similar li").count() >= 1
    shot(page, "indicator")


def test_facets_filter_and_empty_state(page):
    page.goto("/?q=学生满意度")
    page.locator(".facets a", has_text="教育").first.click()
    page.wait_for_url("**sector=*")
    assert page.locator(".chip.on").inner_text().startswith("行业：教育")
    assert all("教育" in t for t in page.locator(".hit .uses .chip").evaluate_all("els => els.map(e => e.title)"))
    page.goto("/?q=zzzzqqqqxxxx")
    assert "没有找到" in page.locator(".empty").inner_text()
    page.goto("/?q=满意度&sector=火星")
    assert "未知的行业" in page.get_by_role("alert").inner_text()


def test_first_load_weight_under_500kb(browser, base_url):
    """Bytes transferred on a first visit (empty cache) to the search page, with and without a query."""
    for path in ("/", "/?q=学生满意度"):
        page, guard = new_page(browser, base_url)
        page.goto(path, wait_until="load")
        total = page.evaluate("""() => {
            const nav = performance.getEntriesByType('navigation')[0];
            return nav.transferSize + performance.getEntriesByType('resource').reduce((a, e) => a + e.transferSize, 0);
        }""")
        page.context.close()
        assert not guard.outside
        assert 0 < total <= 500 * 1024, f"{path}: {total} bytes"
