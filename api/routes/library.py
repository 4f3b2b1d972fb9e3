"""Read-only library resources: health, stats, the category and sector trees, indicators."""
from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response

from engine.indicator_schema import IndicatorDetail, IndicatorPage
from engine.library import Library

from ..deps import get_library
from ..params import Offset, limit_param, text_param

router = APIRouter()
Lib = Annotated[Library, Depends(get_library)]


def _encoded(lib: Library, key: tuple, compute: Any) -> Response:
    """The JSON answer for ``key``, encoded once per library version (a 500-item page is 300 KB:
    encoding it per request would cost more than computing it)."""
    body = lib.per_version(("json",) + key, lambda: json.dumps(compute(), ensure_ascii=False, allow_nan=False,
                                                                separators=(",", ":")).encode("utf-8"))
    return Response(body, media_type="application/json")


@router.get("/health", summary="健康检查")
def health(lib: Lib) -> dict[str, Any]:
    return {"status": "ok", "library_version": lib.store.version(), "store": lib.store.url.split("://", 1)[0]}


@router.get("/stats", summary="指标库统计（与 zhibiao stats --json 相同）")
def stats(lib: Lib) -> dict[str, Any]:
    return _encoded(lib, ("stats",), lib.stats)  # type: ignore[return-value]


@router.get("/categories", summary="一级 → 二级指标类别树（21 个通用类别）")
def categories(lib: Lib) -> list[dict]:
    return _encoded(lib, ("categories",), lib.category_tree)  # type: ignore[return-value]


@router.get("/sectors", summary="行业 → 领域 → 项目类型树")
def sectors(lib: Lib) -> list[dict]:
    return _encoded(lib, ("sectors",), lib.sector_tree)  # type: ignore[return-value]


@router.get("/indicators", summary="按行业、领域、项目类型、类别筛选指标（分页）", response_model=IndicatorPage)
def indicators(lib: Lib,
               sector: Annotated[str | None, text_param("行业编码或名称，如 205 或 教育")] = None,
               field: Annotated[str | None, text_param("领域编码或名称")] = None,
               project_type: Annotated[str | None, text_param("项目类型编码或名称")] = None,
               category: Annotated[str | None, text_param("二级类别编码、名称或简称，如 OUT-QTY、数量指标")] = None,
               status: Annotated[str, Query(pattern="^(active|deprecated|all)$")] = "active",
               scope: Annotated[str | None, Query(pattern="^(industry|general)$")] = None,
               offset: Offset = 0,
               limit: Annotated[int, limit_param(50, 500)] = 50) -> dict[str, Any]:
    key = ("indicators", sector, field, project_type, category, status, scope, offset, limit)
    return _encoded(lib, key, lambda: lib.list_indicators(  # type: ignore[return-value]
        sector, field, project_type, category, None if status == "all" else status, scope, offset, limit))


@router.get("/indicators/{indicator_id}", summary="一个指标及其关联节点", response_model=IndicatorDetail)
def indicator(indicator_id: str, lib: Lib) -> dict[str, Any]:
    return lib.indicator(indicator_id)


@router.get("/history", summary="加载历史与指标库版本")
def history(lib: Lib) -> list[dict]:
    return lib.history()
