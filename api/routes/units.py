"""GET /units: the municipal budget units (open, like the library)."""
from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from engine.units import list_units

router = APIRouter(tags=["预算单位"])


@router.get("/units", summary="市直预算单位名录")
def units(request: Request, offset: Annotated[int, Query(ge=0, le=100000)] = 0,
          limit: Annotated[int, Query(ge=1, le=1000)] = 200) -> dict[str, Any]:
    return list_units(request.app.state.library.store, offset, limit)
