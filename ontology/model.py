"""The indicator record and the ids of graph nodes.

Ids are derived from names (sector code + project type + indicator name), never from positions,
so that they stay stable when the curated source grows or is reordered."""
from __future__ import annotations

import hashlib
import dataclasses
from dataclasses import asdict, dataclass


def _digest(*parts: str, length: int = 10) -> str:
    return hashlib.sha1("|".join(parts).encode("utf-8")).hexdigest()[:length].upper()


def sector_id(code: str) -> str:
    return f"SEC-{code}"


def field_id(sector_code: str, field_name: str) -> str:
    return f"FLD-{sector_code}-{_digest(field_name, length=6)}"


def project_type_id(sector_code: str, type_name: str) -> str:
    return f"PT-{sector_code}-{_digest(type_name, length=8)}"


def industry_indicator_id(sector_code: str, type_name: str, name: str) -> str:
    return f"IND-{sector_code}-{_digest(type_name, name)}"


def general_indicator_id(category_code: str, name: str) -> str:
    return f"GEN-{category_code}-{_digest(name, length=6)}"


@dataclass
class Indicator:
    """A 三级指标 of the library. ``scope`` is "industry" (行业专用) or "general" (通用)."""
    id: str
    name: str
    category: str              # 二级 category code, e.g. OUT-QTY
    scope: str = "industry"
    sector: str | None = None  # sector code, e.g. "205"; None for general indicators
    field: str | None = None   # field id
    project_types: list[str] = dataclasses.field(default_factory=list)  # project type ids
    unit: str | None = None
    value_kind: str = "定量"
    direction: str = "≥"
    typical_value: str | None = None
    basis: str | None = None
    definition: str = ""
    formula: str | None = None
    data_source: str = ""
    synonyms: list[str] = dataclasses.field(default_factory=list)
    status: str = "active"

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "Indicator":
        known = {k: d[k] for k in cls.__dataclass_fields__ if k in d}
        known["project_types"] = list(known.get("project_types") or [])
        known["synonyms"] = list(known.get("synonyms") or [])
        return cls(**known)


INDICATOR_FIELDS: tuple[str, ...] = tuple(Indicator.__dataclass_fields__)


@dataclass
class Sector:
    id: str
    code: str
    name: str


@dataclass
class Field:
    id: str
    name: str
    sector: str  # sector id


@dataclass
class ProjectType:
    id: str
    name: str
    field: str   # field id
    sector: str  # sector id
    keywords: list[str] = dataclasses.field(default_factory=list)
