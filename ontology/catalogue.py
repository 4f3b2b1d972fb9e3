"""Reader of the curated library sources in ``ontology/catalogue``.

The curated source is written by people, one file per sector, in a line format that reads like the
bureau's own tables (see ``ontology/catalogue/README.md``). This module turns it into indicator
records and reports every problem with file and line, so that a curator sees all mistakes at once.

    python -m ontology.catalogue check ontology/catalogue/205_education.txt --expect 720
"""
from __future__ import annotations

import argparse
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from rapidfuzz import fuzz

from .model import (Field, Indicator, ProjectType, Sector, field_id, general_indicator_id,
                    industry_indicator_id, project_type_id, sector_id)
from .problems import Problem
from .rules import check_indicator, field_rules
from .vocab import find_category, find_sector

CATALOGUE_DIR = Path(__file__).resolve().parent / "catalogue"
COLUMNS = ("二级类别", "指标名称", "计量单位", "方向", "指标值", "依据", "指标解释", "计算公式", "同义词", "数据来源")
_FIELD_OF_COLUMN = dict(zip(COLUMNS, ("category", "name", "unit", "direction", "typical_value", "basis",
                                      "definition", "formula", "synonyms", "data_source")))


@dataclass
class Catalogue:
    sectors: dict[str, Sector] = field(default_factory=dict)
    fields: dict[str, Field] = field(default_factory=dict)
    project_types: dict[str, ProjectType] = field(default_factory=dict)
    indicators: list[Indicator] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def _empty(v: str) -> str | None:
    v = v.strip()
    return None if v in ("", "-", "—", "无") else v


def parse_file(path: Path, cat: Catalogue | None = None) -> Catalogue:
    cat = cat or Catalogue()
    fname = path.name
    sector = fld = ptype = None
    general = False
    for lineno, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        def problem(code: str, msg: str, column: str | None = None, severity: str = "error") -> None:
            cat.problems.append(Problem(code, msg, fname, lineno, column,
                                        _FIELD_OF_COLUMN.get(column or ""), severity))
        if line.startswith("@"):
            key, _, rest = line[1:].partition(" ")
            rest = rest.strip()
            if key == "general":
                general = True
            elif key == "sector":
                code, _, name = rest.partition(" ")
                info = find_sector(code)
                if info is None or info.name != name.strip():
                    problem("unknown_sector", f"未知的行业：{rest!r}（见 ontology/data/sectors.yaml）")
                    continue
                sector = Sector(sector_id(info.code), info.code, info.name)
                cat.sectors[sector.id] = sector
            elif key == "field":
                if sector is None:
                    problem("format", "@field 之前必须先有 @sector")
                    continue
                fld = Field(field_id(sector.code, rest), rest, sector.id)
                cat.fields.setdefault(fld.id, fld)
                ptype = None
            elif key == "type":
                if fld is None:
                    problem("format", "@type 之前必须先有 @field")
                    continue
                name, _, kw = rest.partition("|")
                name = name.strip()
                pt = ProjectType(project_type_id(sector.code, name), name, fld.id, sector.id,
                                 [k.strip() for k in kw.replace("；", ";").split(";") if k.strip()])
                if pt.id in cat.project_types:
                    problem("duplicate_project_type", f"项目类型重复：{name}")
                cat.project_types[pt.id] = pt
                ptype = pt
            else:
                problem("format", f"未知的指令 @{key}")
            continue
        cols = [c.strip() for c in line.split("|")]
        if len(cols) < 9 or len(cols) > 10:
            problem("format", f"应有 9 或 10 列（以 | 分隔），实际 {len(cols)} 列")
            continue
        cols += [""] * (10 - len(cols))
        category = find_category(cols[0])
        if category is None:
            problem("unknown_category", f"未知的二级类别：{cols[0]!r}", "二级类别")
            continue
        if not general and ptype is None:
            problem("format", "指标行之前必须先有 @type")
            continue
        direction = cols[3]
        kind = "定性" if direction == "定性" else "定量"
        name = cols[1]
        if general:
            iid = general_indicator_id(category.code, name)
        else:
            iid = industry_indicator_id(sector.code, ptype.name, name)
        rec = Indicator(
            id=iid, name=name, category=category.code,
            scope="general" if general else "industry",
            sector=None if general else sector.code,
            field=None if general else fld.id,
            project_types=[] if general else [ptype.id],
            unit=_empty(cols[2]), value_kind=kind, direction=direction,
            typical_value=_empty(cols[4]), basis=_empty(cols[5]),
            definition=cols[6].strip(), formula=_empty(cols[7]),
            data_source=_empty(cols[9]) or category.default_source,
            synonyms=[s.strip() for s in cols[8].replace("；", ";").split(";") if s.strip()],
        )
        column_of = {v: k for k, v in _FIELD_OF_COLUMN.items()}
        for fieldname, code, msg in check_indicator(rec.to_dict()):
            problem(code, msg, column_of.get(fieldname))
        cat.indicators.append(rec)
        rec._source = (fname, lineno)  # type: ignore[attr-defined]
    return cat


def check_catalogue(cat: Catalogue) -> None:
    """Whole-catalogue rules: unique ids and names per project type, coverage of every kind."""
    rules = field_rules()
    seen: dict[str, Indicator] = {}
    by_type: dict[str, list[Indicator]] = defaultdict(list)
    for ind in cat.indicators:
        fname, lineno = getattr(ind, "_source", (None, None))
        if ind.id in seen:
            cat.problems.append(Problem("duplicate_indicator",
                                        f"同一项目类型下指标名称重复：{ind.name}", fname, lineno, "指标名称", "name"))
        seen[ind.id] = ind
        for pt in ind.project_types:
            by_type[pt].append(ind)
    from .vocab import category_index
    for pt_id, pt in cat.project_types.items():
        inds = by_type.get(pt_id, [])
        kinds = {category_index()[i.category].kind for i in inds}
        missing = [k for k in rules["required_kinds_per_project_type"] if k not in kinds]
        where = f"{pt.name}"
        if missing:
            cat.problems.append(Problem("missing_kind", f"项目类型「{where}」缺少 {'、'.join(missing)} 类指标"))
        if len(inds) < rules["min_indicators_per_project_type"]:
            cat.problems.append(Problem("too_few", f"项目类型「{where}」只有 {len(inds)} 个指标，至少需要 "
                                                   f"{rules['min_indicators_per_project_type']} 个"))
        names = [i.name for i in inds]
        for a in range(len(names)):
            for b in range(a + 1, len(names)):
                if fuzz.ratio(names[a], names[b]) >= 95:
                    cat.problems.append(Problem("near_duplicate", f"项目类型「{where}」内指标名称过于相近：{names[a]} / {names[b]}",
                                                severity="warning"))


def load_catalogue(paths: list[Path] | None = None) -> Catalogue:
    paths = paths or sorted(CATALOGUE_DIR.glob("*.txt"))
    cat = Catalogue()
    for p in paths:
        parse_file(p, cat)
    check_catalogue(cat)
    return cat


def _main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m ontology.catalogue")
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("check", help="校验行业指标源文件并统计")
    c.add_argument("files", nargs="*", type=Path)
    c.add_argument("--expect", type=int, help="期望的行业指标总数")
    c.add_argument("--verbose", action="store_true", help="列出每个项目类型的指标数")
    args = ap.parse_args(argv)
    cat = load_catalogue(args.files or None)
    for p in cat.problems:
        print(p)
    industry = [i for i in cat.indicators if i.scope == "industry"]
    per_sector = Counter(i.sector for i in industry)
    per_type = Counter(pt for i in industry for pt in i.project_types)
    for code, n in sorted(per_sector.items()):
        types = [pt for pt in cat.project_types.values() if pt.sector == f"SEC-{code}"]
        print(f"行业 {code}: {n} 个指标, {len({t.field for t in types})} 个领域, {len(types)} 个项目类型")
    if args.verbose:
        for pt_id, n in sorted(per_type.items(), key=lambda kv: kv[1]):
            print(f"  {cat.project_types[pt_id].name}: {n}")
    general = [i for i in cat.indicators if i.scope == "general"]
    print(f"合计：行业指标 {len(industry)}，通用指标 {len(general)}，"
          f"错误 {sum(p.severity == 'error' for p in cat.problems)}，警告 {sum(p.severity == 'warning' for p in cat.problems)}")
    ok = not any(p.severity == "error" for p in cat.problems)
    if args.expect is not None and len(industry) != args.expect:
        print(f"行业指标数 {len(industry)} ≠ 期望 {args.expect}")
        ok = False
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(_main())
