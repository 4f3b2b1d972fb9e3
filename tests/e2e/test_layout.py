"""Every page on a 375-pixel-wide phone screen: no horizontal scrolling, Chinese text rendered, a
screenshot kept for a human to look at."""
from __future__ import annotations

import pytest

from .conftest import new_page, shot

PAGES = {"search": "/", "results": "/?q=学生满意度", "indicator": "/indicator/IND-205-139E3EAA2D",
         "library": "/library", "library-listing": "/library?sector=教育&project_type=校舍维修改造",
         "login": "/login", "draft-anonymous": "/draft", "review-anonymous": "/review",
         "not-found": "/indicator/NO-SUCH"}


@pytest.mark.parametrize("name", list(PAGES))
def test_phone_width_no_horizontal_scroll(browser, base_url, name):
    page, guard = new_page(browser, base_url, width=375, height=812, is_mobile=True, has_touch=True)
    page.goto(PAGES[name])
    page.wait_for_load_state("load")
    widths = page.evaluate("() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    offenders = page.evaluate("""() => Array.from(document.querySelectorAll('body *'))
        .filter(e => { const r = e.getBoundingClientRect(); return r.width > 0 && r.right > document.documentElement.clientWidth + 1
                        && !e.closest('.scroll') && getComputedStyle(e).position !== 'absolute'; })
        .slice(0, 5).map(e => e.tagName + '.' + e.className)""")
    shot(page, f"phone-{name}")
    page.context.close()
    assert not guard.outside
    assert widths[0] <= widths[1], f"{name}: 页面宽 {widths[0]} > 屏幕 {widths[1]}：{offenders}"
    assert not offenders, offenders
