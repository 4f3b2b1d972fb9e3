"""Where a project type applies: region-specific types are offered only where they make sense.

Why: a plateau city's library holds types that exist only in some places (边境小康村建设 only in
border counties, 拉萨河治理 only along the Lhasa river). Offering them elsewhere makes a unit copy a
target set for a project it cannot have. The regions, their parents, the border flag and the rule
per project type are data (ontology/data/regions.yaml), so a region list can be replaced without
touching code. A unit that does not say where it is gets the city's own region (``city``)."""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

REGIONS_FILE = Path(__file__).resolve().parent.parent / "ontology" / "data" / "regions.yaml"
MAX_REGION = 40  # characters of a region name accepted from a caller


@dataclass(frozen=True)
class Region:
    """A resolved region: its name, the chain of regions it lies in, and whether it is a border county."""
    name: str
    chain: tuple[str, ...]
    border: bool
    known: bool
    defaulted: bool


@lru_cache(maxsize=1)
def region_data() -> dict[str, Any]:
    return yaml.safe_load(REGIONS_FILE.read_text(encoding="utf-8"))


def resolve_region(name: str | None) -> Region:
    """The region a unit names, with its parents; an empty name means the city itself. A name
    outside the list is kept but lies in no listed region, so region-specific types are not offered."""
    data = region_data()
    regions: dict[str, dict] = data["regions"]
    defaulted = not (name or "").strip()
    raw = (name or "").strip()[:MAX_REGION] or data["city"]
    # "拉萨市城关区" → 城关区 (the most specific listed name it contains); "城关" → 城关区
    inside = sorted((r for r in regions if r in raw), key=lambda r: (raw.rfind(r), len(r)), reverse=True)
    prefix = sorted(r for r in regions if len(raw) >= 2 and r.startswith(raw))
    key = (inside or prefix or [None])[0]
    if key is None:
        return Region(raw, (raw,), False, False, defaulted)
    chain = [key]
    while regions.get(chain[-1], {}).get("parent"):
        chain.append(regions[chain[-1]]["parent"])
    return Region(key, tuple(chain), bool(regions[key].get("border")), True, defaulted)


def region_in_text(text: str) -> str | None:
    """A listed region named in the project's own text ("亚东县边境小康村建设"), the most specific one:
    units often put the place in the project name, and the API may not be told where the unit is."""
    regions: dict[str, dict] = region_data()["regions"]

    def depth(name: str) -> int:
        d = 0
        while regions.get(name, {}).get("parent"):
            name, d = regions[name]["parent"], d + 1
        return d
    named = [r for r in regions if len(r) >= 2 and r in (text or "")]
    return max(named, key=lambda r: (depth(r), len(r))) if named else None


def applies(project_type: str, region: Region) -> bool:
    """True when the project type may be offered to a unit in this region."""
    rule = region_data().get("project_types", {}).get(project_type)
    if not rule:
        return True
    if rule.get("border") and not region.border:
        return False
    within = rule.get("within")
    return not within or any(w in region.chain for w in within)


def scope_note(project_type: str) -> str | None:
    """What a region-specific type is for, said to the unit when it names the type itself."""
    rule = region_data().get("project_types", {}).get(project_type)
    return rule.get("note") if rule else None
