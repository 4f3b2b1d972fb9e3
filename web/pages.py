"""Page routes of the web interface.

Read pages (search, indicator, library trees) are rendered on the server from the same Library and
SearchService the JSON API uses, so they work without JavaScript and cannot drift from the API; the
script adds type-ahead and the interactive pages (draft, review, loads, monitoring), which hold a
bearer token and call the JSON API from the browser, as any other client would."""
from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from markupsafe import Markup, escape

from engine.library import BadQuery, Library, NotFound
from graph import StoreUnavailable
from ontology.nodes import INDICATOR
from search.engine import SearchService, service_for

HERE = Path(__file__).resolve().parent
STATIC_DIR = HERE / "static"
templates = Jinja2Templates(directory=str(HERE / "templates"))
router = APIRouter(include_in_schema=False)

#: hits fetched for one page of grouped results (one name used by many project types shows once)
PAGE_HITS = 60
_LOCK = threading.Lock()
_COUNTS: dict[int, dict[str, int]] = {}


def _asset_version() -> str:
    """A content hash of the static files, appended to their URLs so a new release is never served
    from a stale browser cache while unchanged files stay cached."""
    h = hashlib.sha256()
    for p in sorted(STATIC_DIR.glob("*")):
        h.update(p.read_bytes())
    return h.hexdigest()[:10]


templates.env.globals["asset_version"] = _asset_version()


def typical_text(ind: dict[str, Any], with_unit: bool = True) -> str:
    """An indicator's typical value as a table writes it: comparator, value, unit — except a date,
    whose unit column says 年月日 and is not written after "12月31日" (the one value grammar decides)."""
    value = ind.get("typical_value")
    if not value:
        return ""
    from ontology.values import parse_value
    unit = ind.get("unit") or ""
    if not with_unit or unit in ("-",) or parse_value(value, unit).kind == "date":
        unit = ""
    return f"{ind.get('direction') or ''}{value}{unit}"


templates.env.filters["typical"] = typical_text


def _library(request: Request) -> Library:
    return request.app.state.library


def _search(request: Request) -> SearchService:
    """The app's SearchService (the one the API warms at start-up), created if missing."""
    return service_for(request.app.state, _library(request))


def _highlight(text: str) -> Markup:
    """The search engine marks matches with <em>; everything else in the name is escaped."""
    return Markup(str(escape(text)).replace("&lt;em&gt;", "<em>").replace("&lt;/em&gt;", "</em>"))


def group_hits(hits: list[dict]) -> list[dict]:
    """Hits grouped by indicator name, in rank order: the same name used by many project types
    (学生满意度 in eight of them) is one result listing where it is used."""
    groups: OrderedDict[str, dict] = OrderedDict()
    for h in hits:
        g = groups.get(h["name"])
        if g is None:
            g = groups[h["name"]] = {"name": h["name"], "highlight": _highlight(h.get("highlight") or h["name"]),
                                     "id": h["id"], "category": h.get("category"), "level1": h.get("level1"),
                                     "unit": h.get("unit"), "value_kind": h.get("value_kind"),
                                     "why": h.get("why") or [], "uses": []}
        value = f"{h.get('direction') or ''}{h.get('typical_value') or ''}{h.get('unit') or ''}"
        # one entry per project type: an indicator node may apply to several, and a name to several nodes
        for pt in h.get("project_types") or [None]:
            g["uses"].append({"id": h["id"], "sector": h.get("sector"), "field": h.get("field"),
                              "project_type": pt, "value": value})
    return list(groups.values())


def _page(request: Request, template: str, status: int = 200, **ctx: Any) -> HTMLResponse:
    return templates.TemplateResponse(request, template, {"page": template.removesuffix(".html"), **ctx},
                                      status_code=status)


def _error_page(request: Request, status: int, code: str, message: str) -> HTMLResponse:
    return _page(request, "error.html", status=status, code=code, message=message, title="出错了")


FILTERS = ("sector", "field", "project_type", "category")
FILTER_NAMES = {"sector": "行业", "field": "领域", "project_type": "项目类型", "category": "类别",
                "level1": "一级类别"}


@router.get("/", response_class=HTMLResponse)
def search_page(request: Request, q: str = "", sector: str = "", field: str = "", project_type: str = "",
                category: str = "", offset: int = 0) -> HTMLResponse:
    """指标检索: the box, grouped results and facets; without a query, the library at a glance."""
    q = q.strip()[:100]
    filters = {k: v for k, v in (("sector", sector), ("field", field), ("project_type", project_type),
                                 ("category", category)) if v}
    ctx: dict[str, Any] = {"q": q, "filters": filters, "filter_names": FILTER_NAMES, "title": "指标检索"}
    try:
        if not q:
            ctx["stats"] = _library(request).stats()
            return _page(request, "search.html", **ctx)
        offset = max(0, min(offset, 10_000))
        res = _search(request).search(q, limit=PAGE_HITS, offset=offset, **filters)
    except BadQuery as e:
        return _page(request, "search.html", status=400, error=e.message, **ctx)
    except StoreUnavailable:
        return _error_page(request, 503, "store_unavailable", "指标库存储暂时不可用，请稍后刷新重试")

    def link(**change: Any) -> str:
        params = {"q": q, **filters, **change}
        return "/?" + urlencode({k: v for k, v in params.items() if v not in (None, "", 0)})

    facets = []
    for key in ("sector", "project_type", "category"):
        values = res.get("facets", {}).get(key) or []
        if values and key not in filters:
            facets.append({"key": key, "name": FILTER_NAMES[key],
                           "values": [{**v, "href": link(**{key: v["value"]}, offset=0)} for v in values[:12]]})
    ctx.update(res=res, groups=group_hits(res["hits"]), facets=facets,
               json_href="/search?" + urlencode({"q": q, **filters, "limit": PAGE_HITS, "offset": offset}),
               remove={k: link(**{k: ""}, offset=0) for k in filters},
               next=link(offset=offset + PAGE_HITS) if offset + PAGE_HITS < res["total"] else None,
               prev=link(offset=max(0, offset - PAGE_HITS)) if offset else None)
    return _page(request, "search.html", **ctx)


@router.get("/indicator/{indicator_id}", response_class=HTMLResponse)
def indicator_page(request: Request, indicator_id: str) -> HTMLResponse:
    """One indicator: definition, formula, unit, typical value and basis, its place in the graph,
    and similar indicators."""
    try:
        ind = _library(request).indicator(indicator_id)
        similar = _search(request).similar(indicator_id, 8)["similar"]
    except NotFound:
        return _error_page(request, 404, "not_found", f"指标 {indicator_id} 不存在，可能已被删除或编码有误")
    except StoreUnavailable:
        return _error_page(request, 503, "store_unavailable", "指标库存储暂时不可用，请稍后刷新重试")
    return _page(request, "indicator.html", ind=ind, similar=similar, title=ind["name"])


def tree_counts(lib: Library) -> dict[str, int]:
    """Active indicators per sector, field, project type and category id, computed once per
    library version (a tree of 490 project types is one pass over the graph, not 490 queries)."""
    version = lib.store.version()
    with _LOCK:
        if version in _COUNTS:
            return _COUNTS[version]
    g = lib.graph()
    counts: dict[str, int] = {}
    for n in g.by_label(INDICATOR):
        if n.props.get("status") != "active":
            continue
        for _typ, dst in n.edges:
            counts[dst] = counts.get(dst, 0) + 1
    with _LOCK:
        _COUNTS.clear()
        _COUNTS[version] = counts
    return counts


@router.get("/library", response_class=HTMLResponse)
def library_page(request: Request, sector: str = "", project_type: str = "", category: str = "",
                 offset: int = 0) -> HTMLResponse:
    """指标库: the category tree and the sector → field → project type tree with counts; a chosen
    project type or category lists its indicators. Maintainer uploads are done by the script."""
    lib = _library(request)
    ctx: dict[str, Any] = {"title": "指标库", "sel_sector": sector, "sel_pt": project_type, "sel_cat": category}
    try:
        ctx.update(categories=lib.category_tree(), sectors=lib.sector_tree(), counts=tree_counts(lib),
                   stats=lib.stats(), history=lib.history()[-10:][::-1])
        if project_type or category:
            offset = max(0, min(offset, 100_000))
            ctx["listing"] = lib.list_indicators(sector=sector or None, project_type=project_type or None,
                                                 category=category or None, offset=offset, limit=100)
            base = {"sector": sector, "project_type": project_type, "category": category}
            if offset + 100 < ctx["listing"]["total"]:
                ctx["next"] = "/library?" + urlencode({k: v for k, v in {**base, "offset": offset + 100}.items() if v})
    except BadQuery as e:
        ctx["error"] = e.message
        return _page(request, "library.html", status=400, **ctx)
    except StoreUnavailable:
        return _error_page(request, 503, "store_unavailable", "指标库存储暂时不可用，请稍后刷新重试")
    return _page(request, "library.html", **ctx)


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request) -> HTMLResponse:
    return _page(request, "login.html", title="登录")


@router.get("/draft", response_class=HTMLResponse)
def draft_page(request: Request) -> HTMLResponse:
    """目标编制: the shell; the script loads the unit's projects and drives the table."""
    lib = _library(request)
    return _page(request, "draft.html", title="目标编制", categories=lib.category_tree(), sectors=lib.sector_tree())


@router.get("/review", response_class=HTMLResponse)
def review_page(request: Request) -> HTMLResponse:
    """审核: the shell; the script loads the queue and the chosen table."""
    return _page(request, "review.html", title="审核", sectors=_library(request).sector_tree())


@router.get("/monitoring", response_class=HTMLResponse)
def monitoring_page(request: Request, year: int | None = None) -> HTMLResponse:
    """监控与评价: the shell; the script loads warnings, charts, evaluations and proposals."""
    y = year if year and 2000 <= year <= 2100 else date.today().year - 1
    return _page(request, "monitoring.html", title="监控与评价", year=y)
