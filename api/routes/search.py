"""Search, autocomplete, recommendation and similar indicators over HTTP.

One SearchService per app, created lazily on first use and kept on ``app.state``: its index is
shared by all requests and swapped in the background when the library version changes, so a
request never waits for a rebuild (except the very first one after start)."""
from __future__ import annotations

import threading
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from engine.indicator_schema import IndicatorOut
from engine.library import Library
from search.engine import SearchService, service_for

from ..deps import get_library
from ..params import MAX_QUERY, MAX_TEXT, limit_param, text_param

router = APIRouter()


def get_search(request: Request, lib: Annotated[Library, Depends(get_library)]) -> SearchService:
    """The app's SearchService, bound to the app's Library (re-created if the library object changed)."""
    return service_for(request.app.state, lib)


Search = Annotated[SearchService, Depends(get_search)]


def warm(app: Any) -> threading.Thread:
    """Build the search index in the background right after start-up (call from the lifespan once
    ``app.state.library`` is set), so that the first /search does not wait for it."""
    def run() -> None:
        svc = service_for(app.state, app.state.library)
        try:
            svc.prepare()
        except Exception:  # the store may be unavailable at start-up; requests will retry
            pass
    t = threading.Thread(target=run, name="search-warm", daemon=True)
    t.start()
    return t


class SearchVariant(BaseModel):
    """One indicator inside a grouped hit: the same name curated under another project type."""
    id: str
    sector: str
    field: str | None
    project_types: list[str]
    category: str | None
    unit: str | None
    typical_value: Any = None
    score: float


class SearchHit(BaseModel):
    """A hit. Indicators sharing one name are one hit (``group=true``, the default): ``id`` and the
    indicator fields are those of the best-ranked one, ``project_types`` lists the project types of
    all of them, ``variants`` lists each (id, sector, field, project types, unit, typical value)."""
    model_config = ConfigDict(extra="allow")
    id: str
    name: str
    category: str | None
    category_code: str | None
    level1: str | None
    sector: str
    sector_code: str | None
    field: str | None
    project_types: list[str]
    unit: str | None
    value_kind: str | None
    direction: str | None
    typical_value: Any = None
    score: float
    highlight: str = Field(description="名称，命中部分以 <em> 标出")
    why: list[str] = Field(description="命中理由")
    variants: list[SearchVariant] | None = Field(None, description="同名指标（group=true 时）")
    variant_count: int | None = None
    indicator: IndicatorOut = Field(description="该指标的统一投影，与 GET /indicators/{id} 的同名字段完全相同")


class SearchPage(BaseModel):
    model_config = ConfigDict(extra="allow")
    total: int = Field(description="命中条数（group=true 时按名称计）")
    total_indicators: int = Field(description="命中的指标数（分面按指标计）")
    offset: int
    limit: int
    library_version: int
    query: dict[str, Any] = Field(description="查询解读：拼音、容错、识别出的项目类型/领域/行业/类别、同义扩展")
    hits: list[SearchHit]
    facets: dict[str, list[dict[str, Any]]] = Field(description="行业、一级、二级类别、项目类型、指标值类型的计数")


@router.get("/search", summary="检索指标：汉字、拼音、首字母、错别字均可；可按行业、领域、项目类型、类别筛选",
            tags=["检索与推荐"], responses={200: {"model": SearchPage, "description": "一页检索结果"}})
def search(svc: Search,
           q: Annotated[str, text_param("查询词，如 学生满意度、xsmyd、xueshengmanyidu、校舍维修改造 验收", "")] = "",
           sector: Annotated[str | None, text_param("行业编码或名称，如 205 或 教育")] = None,
           field: Annotated[str | None, text_param("领域名称")] = None,
           project_type: Annotated[str | None, text_param("项目类型名称")] = None,
           category: Annotated[str | None, text_param("一级或二级类别编码、名称或简称，如 满意度、OUT-QTY")] = None,
           value_kind: Annotated[str | None, text_param("指标值类型：定量 或 定性")] = None,
           limit: Annotated[int, limit_param(10, 100)] = 10,
           offset: Annotated[int, Query(ge=0, le=10000, description="跳过的条数（0 到 10000）")] = 0,
           group: Annotated[bool, Query(description="同名指标合并为一条（列出其全部项目类型与 variants）")] = True,
           ) -> Response:
    # the body is encoded once per index and query (SearchService.search_json), not per request
    return Response(svc.search_json(q, sector=sector or None, field=field or None, project_type=project_type or None,
                                    category=category or None, value_kind=value_kind or None, limit=limit,
                                    offset=offset, group=group), media_type="application/json")


@router.get("/suggest", summary="输入提示：指标名称、类别、行业、项目类型的前缀（汉字或拼音）", tags=["检索与推荐"])
def suggest(svc: Search, q: Annotated[str, text_param("已输入的前缀，如 学生、xs、xuesheng", "")] = "",
            limit: Annotated[int, limit_param(10, 50)] = 10) -> dict[str, Any]:
    return svc.suggest(q, limit)


class RecommendRequest(BaseModel):
    """Strict: numbers are numbers (``false`` or ``"12"`` is not an amount), texts are bounded,
    unknown fields are refused so a misspelt field is not silently ignored."""
    model_config = ConfigDict(extra="forbid")

    project: str = Field(description="项目名称，如 校舍维修改造", examples=["校舍维修改造"],
                         max_length=MAX_QUERY)
    description: str = Field("", description="项目说明（实施内容、对象、规模）", max_length=MAX_TEXT)
    sector: str | None = Field(None, description="行业编码或名称；不填则从文本推断", max_length=MAX_QUERY)
    project_type: str | None = Field(None, description="项目类型名称；不填则从文本推断", max_length=MAX_QUERY)
    amount: float | None = Field(None, description="项目金额（元，不小于 0），用于成本类指标的建议值封顶",
                                 ge=0, le=1e15, strict=True, allow_inf_nan=False)
    period: str | None = Field(None, description="实施期或年度，如 2026", max_length=MAX_QUERY)
    region: str | None = Field(None, description="单位所在县（区）或市，如 亚东县；不填则按本市，限定地区的项目类型只在适用地区推荐",
                               max_length=MAX_QUERY)
    unit: str | None = Field(None, description="预算单位编码；填写后单位成本优先取本单位已批准目标表中的值",
                             max_length=MAX_QUERY)


@router.post("/recommend", summary="为项目推荐绩效目标集（覆盖数量、质量、时效、成本、效益、满意度），附评分与理由",
             tags=["检索与推荐"])
def recommend(body: RecommendRequest, svc: Search) -> dict[str, Any]:
    return svc.recommend(body.project, body.description, sector=body.sector or None,
                         project_type=body.project_type or None, amount=body.amount, period=body.period,
                         region=body.region or None, unit=body.unit or None)


@router.get("/indicators/{indicator_id}/similar", summary="相似指标（同名、同义、近似名称）", tags=["检索与推荐"])
def similar(indicator_id: Annotated[str, Path(max_length=64)], svc: Search,
            limit: Annotated[int, limit_param(10, 50)] = 10) -> dict[str, Any]:
    return svc.similar(indicator_id, limit)
