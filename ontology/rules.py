"""Field rules every indicator record must satisfy, shared by the catalogue build and the loaders.

The SHACL shapes (``ontology/shapes.ttl``) check structure; these rules check meaning that SHACL
cannot express well (a rate above 100%, a satisfaction target below 60%, money for cost)."""
from __future__ import annotations

import re
from functools import lru_cache

import yaml

from .values import plain_number, plain_range
from .vocab import BASES, DATA_DIR, DIRECTIONS, STATUSES, VALUE_KINDS, category_index, units

_FORBIDDEN_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")


@lru_cache(maxsize=1)
def field_rules() -> dict:
    return yaml.safe_load((DATA_DIR / "field_rules.yaml").read_text(encoding="utf-8"))


def validation_hash() -> str:
    """Hash of everything validation depends on (SHACL shapes and field-rule data): the key of the
    bundled library's validation stamp. No rdflib import, so a seed stays cheap."""
    import hashlib
    here = DATA_DIR.parent
    h = hashlib.sha256()
    for path in (here / "shapes.ttl", DATA_DIR / "field_rules.yaml", DATA_DIR / "units.tsv",
                 DATA_DIR / "categories.yaml", DATA_DIR / "sectors.yaml"):
        h.update(path.read_bytes())
    return h.hexdigest()


def check_text(value: str | None, field: str) -> list[tuple[str, str, str]]:
    """Reject control characters and bidi overrides: they hide text from reviewers."""
    if value and _FORBIDDEN_CHARS.search(value):
        return [(field, "invalid_characters", f"{field} 含有控制字符或不可见的方向控制字符")]
    return []


def check_indicator(rec: dict) -> list[tuple[str, str, str]]:
    """Return (field, code, message) for every rule the record breaks."""
    rules = field_rules()
    out: list[tuple[str, str, str]] = []
    name = (rec.get("name") or "").strip()
    for f in ("id", "name", "definition", "unit", "typical_value", "formula", "data_source"):
        out += check_text(rec.get(f), f)
    for s in rec.get("synonyms") or []:
        out += check_text(s, "synonyms")
    if not name:
        out.append(("name", "missing_field", "指标名称不能为空"))
    elif not (rules["name_min_length"] <= len(name) <= rules["name_max_length"]):
        out.append(("name", "bad_name", f"指标名称长度应在 {rules['name_min_length']}–{rules['name_max_length']} 字之间"))
    cat = category_index().get((rec.get("category") or "").strip())
    if cat is None:
        out.append(("category", "unknown_category", f"未知的二级指标类别：{rec.get('category')!r}"))
    kind = rec.get("value_kind")
    if kind not in VALUE_KINDS:
        out.append(("value_kind", "bad_value_kind", f"指标值类型应为 定量 或 定性，实际为 {kind!r}"))
    direction = rec.get("direction")
    if direction not in DIRECTIONS:
        out.append(("direction", "bad_direction", f"指标方向应为 {'、'.join(DIRECTIONS)} 之一，实际为 {direction!r}"))
    if rec.get("status", "active") not in STATUSES:
        out.append(("status", "bad_status", f"状态应为 active 或 deprecated，实际为 {rec.get('status')!r}"))
    basis = rec.get("basis")
    if basis and basis not in BASES:
        out.append(("basis", "bad_basis", f"指标值设定依据应为 {'、'.join(BASES)} 之一，实际为 {basis!r}"))
    if len((rec.get("definition") or "").strip()) < rules["definition_min_length"]:
        out.append(("definition", "missing_field", "缺少指标解释（至少 4 个字）"))
    unit = rec.get("unit")
    value = rec.get("typical_value")
    if kind == "定性":
        if direction not in (None, "定性"):
            out.append(("direction", "kind_mismatch", "定性指标的方向应为 定性"))
        if unit:
            out.append(("unit", "bad_unit", f"定性指标不应有计量单位（实际为 {unit!r}）"))
        return out
    if kind != "定量":
        return out
    if direction == "定性":
        out.append(("direction", "kind_mismatch", "定量指标的方向不能为 定性"))
    u = units().get(unit or "")
    if not unit:
        out.append(("unit", "missing_field", "定量指标必须有计量单位"))
    elif u is None:
        out.append(("unit", "bad_unit", f"未知的计量单位 {unit!r}（见 ontology/data/units.tsv）"))
    if not (rec.get("formula") or "").strip():
        out.append(("formula", "missing_field", "定量指标必须有计算公式"))
    if u is not None and cat is not None:
        dims = rules["allowed_dimensions_by_category"].get(cat.code) or \
            rules["allowed_dimensions_by_kind"].get(cat.kind or "")
        if dims and u.dimension not in dims:
            out.append(("unit", "unit_mismatch", f"{cat.name}的计量单位不应为 {unit}（应为{'/'.join(dims)}类单位）"))
    if value and u is not None:
        if u.dimension == "date":
            return out
        nums: list[float] = []
        if direction == "区间":
            rng = plain_range(value)
            if rng is None:
                out.append(("typical_value", "bad_value", f"区间值应写成 下限-上限，实际为 {value!r}"))
            else:
                nums = list(rng)
                if rng[0] > rng[1]:
                    out.append(("typical_value", "bad_value", f"区间下限大于上限：{value!r}"))
        else:
            n = plain_number(value)
            if n is None:
                out.append(("typical_value", "bad_value", f"定量指标的指标值应为数字，实际为 {value!r}"))
            else:
                nums = [n]
        for n in nums:
            if n < 0:
                out.append(("typical_value", "out_of_range", f"指标值不能为负数：{value}"))
            if u.dimension == "rate" and unit == "%" and n > rules["rate_max"]:
                out.append(("typical_value", "out_of_range", f"比率不能超过 {rules['rate_max']}%：{value}"))
            if cat is not None and cat.kind == "满意度" and unit == "%":
                lo, hi = rules["satisfaction_range"]
                if not lo <= n <= hi:
                    out.append(("typical_value", "out_of_range", f"满意度指标值应在 {lo}%–{hi}% 之间：{value}"))
        if not rec.get("basis"):
            out.append(("basis", "missing_field", "给出指标值时须注明设定依据（计划标准/行业标准/历史标准/其他标准）"))
    return out
