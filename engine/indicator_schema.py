"""The indicator projection (engine/projection.py) as pydantic models, for the OpenAPI schema."""
from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class CodeName(BaseModel):
    code: str
    name: str | None = None


class IdName(BaseModel):
    id: str
    name: str | None = None


class IndicatorOut(BaseModel):
    """One indicator, the same JSON in /indicators, /indicators/{id}, search hits (``indicator``),
    recommendation items and review suggestions."""
    model_config = ConfigDict(extra="forbid")
    id: str
    name: str | None
    category: CodeName | None
    level1: CodeName | None
    sector: CodeName | None
    field: IdName | None
    project_types: list[IdName]
    scope: str | None
    unit: str | None
    value_kind: str | None
    direction: str | None
    typical_value: str | None
    basis: str | None
    definition: str | None
    formula: str | None
    data_source: str | None
    synonyms: list[str]
    status: str | None


class Neighbour(BaseModel):
    edge: str
    direction: str
    id: str
    label: str
    name: str | None = None


class IndicatorDetail(IndicatorOut):
    """/indicators/{id}: the projection and the nodes it is linked to."""
    neighbours: list[Neighbour]


class IndicatorPage(BaseModel):
    total: int
    offset: int
    limit: int
    items: list[IndicatorOut]
