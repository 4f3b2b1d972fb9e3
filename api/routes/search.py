"""Search, autocomplete, recommendation and similar indicators over HTTP.

One SearchService per app, created lazily on first use and kept on ``app.state``: its index is
shared by all requests and swapped in the background when the library version changes, so a
request never waits for a rebuild (except the very first one after start)."""
from __future__ import annotations

import threading
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from engine.library import BadQuery, Library
from search.engine import SearchService

from ..deps import get_library

router = APIRouter()
_LOCK = threading.Lock()


def get_search(request: Request, lib: Annotated[Library, Depends(get_library)]) -> SearchService:
    """The app's SearchService, bound to the app's Library (re-created if the library object changed)."""
    svc = getattr(request.app.state, "search_service", None)
    if svc is None or svc.library is not lib:
        with _LOCK:
            svc = getattr(request.app.state, "search_service", None)
            if svc is None or svc.library is not lib:
                svc = SearchService(lib)
                request.app.state.search_service = svc
    return svc


Search = Annotated[SearchService, Depends(get_search)]


def warm(app: Any) -> threading.Thread:
    """Build the search index in the background right after start-up (call from the lifespan once
    ``app.state.library`` is set), so that the first /search does not wait for it."""
    def run() -> None:
        with _LOCK:
            svc = getattr(app.state, "search_service", None)
            if svc is None or svc.library is not app.state.library:
                svc = SearchService(app.state.library)
                app.state.search_service = svc
        try:
            svc.prepare()
        except Exception:  # the store may be unavailable at start-up; requests will retry
            pass
    t = threading.Thread(target=run, name="search-warm", daemon=True)
    t.start()
    return t


def _limit(value: int, low: int, high: int, name: str = "limit") -> int:
    if not low <= value <= high:
        raise BadQuery(f"bad_{name}", f"{name} 须在 {low} 到 {high} 之间（收到 {value}）")
    return value


@router.get("/search", summary="检索指标：汉字、拼音、首字母、错别字均可；可按行业、领域、项目类型、类别筛选",
            tags=["检索与推荐"])
def search(svc: Search,
           q: Annotated[str, Query(description="查询词，如 学生满意度、xsmyd、xueshengmanyidu、校舍维修改造 验收")] = "",
           sector: Annotated[str | None, Query(description="行业编码或名称，如 205 或 教育")] = None,
           field: Annotated[str | None, Query(description="领域名称")] = None,
           project_type: Annotated[str | None, Query(description="项目类型名称")] = None,
           category: Annotated[str | None, Query(description="一级或二级类别编码、名称或简称，如 满意度、OUT-QTY")] = None,
           value_kind: Annotated[str | None, Query(description="指标值类型：定量 或 定性")] = None,
           limit: int = 10, offset: int = 0) -> dict[str, Any]:
    return svc.search(q, sector=sector or None, field=field or None, project_type=project_type or None,
                      category=category or None, value_kind=value_kind or None, limit=limit, offset=offset)


@router.get("/suggest", summary="输入提示：指标名称、类别、行业、项目类型的前缀（汉字或拼音）", tags=["检索与推荐"])
def suggest(svc: Search, q: Annotated[str, Query(description="已输入的前缀，如 学生、xs、xuesheng")] = "",
            limit: int = 10) -> dict[str, Any]:
    return svc.suggest(q, limit)


class RecommendRequest(BaseModel):
    project: str = Field(description="项目名称，如 校舍维修改造", examples=["校舍维修改造"])
    description: str = Field("", description="项目说明（实施内容、对象、规模）")
    sector: str | None = Field(None, description="行业编码或名称；不填则从文本推断")
    project_type: str | None = Field(None, description="项目类型名称；不填则从文本推断")
    amount: float | None = Field(None, description="项目金额（元），用于成本类指标的建议值封顶")
    period: str | None = Field(None, description="实施期或年度，如 2026")


@router.post("/recommend", summary="为项目推荐绩效目标集（覆盖数量、质量、时效、成本、效益、满意度），附评分与理由",
             tags=["检索与推荐"])
def recommend(body: RecommendRequest, svc: Search) -> dict[str, Any]:
    return svc.recommend(body.project, body.description, sector=body.sector or None,
                         project_type=body.project_type or None, amount=body.amount, period=body.period)


@router.get("/indicators/{indicator_id}/similar", summary="相似指标（同名、同义、近似名称）", tags=["检索与推荐"])
def similar(indicator_id: str, svc: Search, limit: int = 10) -> dict[str, Any]:
    _limit(limit, 1, 50)
    return svc.similar(indicator_id, limit)
