"""Controlled vocabularies read from ``ontology/data``.

They are data rather than code because the bureau revises them (a new unit, a renamed category)
and a load must be able to carry such revisions without a release."""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

DATA_DIR = Path(__file__).resolve().parent / "data"

#: Value directions an indicator may have; 定性 indicators carry a grade instead of a number.
DIRECTIONS = ("≥", "≤", "=", "区间", "定性")
VALUE_KINDS = ("定量", "定性")
BASES = ("计划标准", "行业标准", "历史标准", "其他标准")
STATUSES = ("active", "deprecated")


@dataclass(frozen=True)
class Category:
    code: str
    name: str
    short: str
    level1_code: str
    level1_name: str
    use: str  # "target" for project target tables, "evaluation" for appraisal/evaluation
    kind: str | None
    default_source: str


@dataclass(frozen=True)
class Unit:
    name: str
    dimension: str
    note: str = ""


@dataclass(frozen=True)
class SectorInfo:
    code: str
    name: str
    slug: str


@lru_cache(maxsize=1)
def categories() -> tuple[Category, ...]:
    raw = yaml.safe_load((DATA_DIR / "categories.yaml").read_text(encoding="utf-8"))
    out: list[Category] = []
    for group in raw["level1"]:
        for c in group["categories"]:
            out.append(Category(code=c["code"], name=c["name"], short=c["short"],
                                level1_code=group["code"], level1_name=group["name"],
                                use=group["use"], kind=c.get("kind"),
                                default_source=c.get("default_source", "")))
    return tuple(out)


@lru_cache(maxsize=1)
def level1_groups() -> tuple[tuple[str, str], ...]:
    seen: dict[str, str] = {}
    for c in categories():
        seen.setdefault(c.level1_code, c.level1_name)
    return tuple(seen.items())


@lru_cache(maxsize=1)
def category_index() -> dict[str, Category]:
    """Every spelling a maintainer may use (code, full name, short name) → category."""
    idx: dict[str, Category] = {}
    for c in categories():
        for key in (c.code, c.name, c.short):
            idx[key] = c
    return idx


def find_category(text: str) -> Category | None:
    return category_index().get(text.strip())


@lru_cache(maxsize=1)
def units() -> dict[str, Unit]:
    out: dict[str, Unit] = {}
    for line in (DATA_DIR / "units.tsv").read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split("\t")
        out[parts[0].strip()] = Unit(parts[0].strip(), parts[1].strip(),
                                     parts[2].strip() if len(parts) > 2 else "")
    return out


@lru_cache(maxsize=1)
def sectors() -> tuple[SectorInfo, ...]:
    raw = yaml.safe_load((DATA_DIR / "sectors.yaml").read_text(encoding="utf-8"))
    return tuple(SectorInfo(str(s["code"]), s["name"], s["slug"]) for s in raw["sectors"])


def find_sector(text: str) -> SectorInfo | None:
    t = text.strip()
    for s in sectors():
        if t in (s.code, s.name, s.slug):
            return s
    return None
