"""Recommended performance-target sets for a project, and similar indicators for an indicator.

Why a project type first: the library is organised by project type, each curated with indicators
of every kind a target table needs, so the strongest evidence for an indicator is that it belongs
to the project type the project is. The type is inferred from the project name and description
(its name, its keywords, its field and sector, and which indicator names the text matches), then
its indicators are scored on explicit criteria (coverage, fit, detail, acceptance; weights in
search/data/recommend.yaml) and picked per 二级 category with quotas, skipping near-duplicates,
until every required kind is covered. Budget units see each score and the reason.

Region-specific types (边境小康村建设 only in border counties) are offered only where they apply
(search/regions.py, data in ontology/data/regions.yaml). With an amount, the quantities and unit
costs are planned so that quantity × unit cost stays within it (search/budget.py); without one,
the values are the library's typical values and the answer says they are placeholders."""
from __future__ import annotations

import math
import re
from collections import defaultdict
from functools import lru_cache
from typing import Any

import yaml
from rapidfuzz import fuzz

from engine.library import BadQuery, Library
from ontology.nodes import PROJECT_TYPE, SECTOR
from ontology.values import plain_number

from .budget import BudgetPlanner, UnitCostHistory, lines_for
from .history import history_for
from .index import Doc, SearchIndex, doc_projection
from .regions import MAX_REGION, Region, applies, region_in_text, resolve_region, scope_note
from .text import DATA_DIR, bigrams


@lru_cache(maxsize=1)
def rules() -> dict[str, Any]:
    return yaml.safe_load((DATA_DIR / "recommend.yaml").read_text(encoding="utf-8"))




def amount_history_enabled(rules: dict[str, Any]) -> bool:
    """Whether approved tables in the store inform unit costs (search/data/recommend.yaml)."""
    return bool(rules.get("unit_cost_history", True))


MAX_TEXT = 400  # characters of project text matched against indicator names


def suggested_value(doc: Doc, amount: float | None = None, period: str | None = None) -> tuple[str | None, str | None]:
    """The value to propose and its basis, written the way target tables write values."""
    p = doc.props
    tv, unit, direction, basis = p.get("typical_value"), p.get("unit") or "", p.get("direction"), p.get("basis")
    if tv in (None, "", "-"):
        return None, None
    tv = str(tv)
    if direction == "定性" or p.get("value_kind") == "定性":
        return tv, basis
    if unit == "年月日":
        year = re.match(r"\d{4}", period or "")
        return (f"{year.group(0)}年{tv}前" if year else f"{tv}前"), basis
    if amount and unit in ("万元", "元") and direction == "≤" and plain_number(tv) is not None:
        budget = amount if unit == "元" else amount / 10000
        if float(tv) > budget:
            return f"≤{budget:g}{unit}", "项目预算（典型值超过本项目预算，按预算封顶）"
    comp = {"≥": "≥", "≤": "≤", "=": "=", "区间": ""}.get(direction or "", "")
    value = tv.replace("-", "%-", 1) if direction == "区间" and unit == "%" else tv
    return f"{comp}{value}{unit}", basis


class Recommender:
    def __init__(self, index: SearchIndex, library: Library | None = None,
                 unit_cost_history: UnitCostHistory | None = None):
        """``unit_cost_history``: the unit's own approved unit costs per indicator id, once the
        project store records projects; budget planning prefers it to standards and typical values."""
        self.index = index
        self.library = library
        self.rules = rules()
        self.pts = [c for c in index.ctx.values() if c.label == PROJECT_TYPE]
        self.planner = BudgetPlanner(self.rules, unit_cost_history)
        self._history = unit_cost_history
        self._units_of: dict[str, Any] | None = None
        self._inputs = re.compile("|".join(self.rules["input_patterns"]))
        self._generic = re.compile("|".join(sorted(self.rules["type_generic_terms"], key=len, reverse=True)))

    def _acceptance(self) -> dict[str, float]:
        """0..1 per indicator from the approved target tables of the store (none without a library)."""
        if self.library is None:
            return {}
        from engine.acceptance import acceptance_scores
        return acceptance_scores(self.library.store)

    # --- project type inference -----------------------------------------------------------------
    def infer_project_types(self, project: str, description: str = "", sector_ids: set[str] | None = None,
                            top: int = 5, region: Region | None = None) -> list[dict[str, Any]]:
        """Project types ranked by evidence in the text, each with the terms that gave it away.
        Types that do not apply in the unit's region (default: the city) are not offered."""
        ix = self.index
        region = region or resolve_region(None)
        name, text = project.strip(), f"{project} {description}".strip()
        # words every project name carries (项目, 工程, 补助, 建设, 农村 …) say nothing about its type:
        # matched on them, 农村文化建设配套补助 looks like 农村公路建设
        core = self._generic.sub(" ", name)
        text_bi = set(bigrams(self._generic.sub(" ", text)))
        name_bi = set(bigrams(core))
        # which indicator names the text mentions, aggregated per project type
        scores, it, _, _ = ix.score(text[:MAX_TEXT])
        by_pt: dict[str, float] = defaultdict(float)
        for d, s in sorted(scores.items(), key=lambda t: -t[1])[:60]:
            for pt in ix.docs[d].pts:
                by_pt[pt] += s
        ind_norm = max(by_pt.values(), default=1.0) or 1.0
        out = []
        for c in self.pts:
            if sector_ids and c.sector_id not in sector_ids:
                continue
            if not applies(c.name, region):
                continue
            matched: list[str] = []
            s = 0.0
            if c.name in text:
                s += 3.0
                matched.append(c.name)
            kws = [k for k in c.keywords if k in text]
            if kws:
                s += min(3.0, 1.2 * len(kws)) + (0.5 if any(k in name for k in kws) else 0.0)
                matched += kws
            pbi = set(bigrams(c.name))
            if pbi:
                s += 1.5 * len(pbi & name_bi) / len(pbi) + 0.8 * len(pbi & text_bi) / len(pbi)
            s += 0.6 * fuzz.partial_ratio(c.name, core) / 100 if len(core.strip()) >= 2 else 0.0
            fld = ix.ctx.get(c.parent or "")
            if fld and fld.name in text:
                s += 0.5
                matched.append(fld.name)
            sec = ix.ctx.get(c.sector_id or "")
            if sec and sec.name in text:
                s += 0.3
                matched.append(sec.name)
            s += 1.2 * by_pt.get(c.id, 0.0) / ind_norm
            if s > 0:
                out.append((s, c, matched))
        out.sort(key=lambda t: (-t[0], t[1].id))
        res = []
        for s, c, matched in out[:top]:
            fld = ix.ctx.get(c.parent or "")
            sec = ix.ctx.get(c.sector_id or "")
            res.append({"id": c.id, "name": c.name, "field": fld.name if fld else None,
                        "sector": sec.name if sec else None, "score": round(s, 3),
                        "matched": list(dict.fromkeys(matched))})
        return res

    # --- scoring ------------------------------------------------------------------------------------
    def _project_terms(self, text: str) -> dict[str, float]:
        ix = self.index
        terms = {}
        for w in ix.segment(text):
            if len(w) >= 2 and w not in terms:
                terms[w] = ix.idf.get("w" + w, ix.idf_max * 0.5)
        # search-mode segmentation also yields words that straddle two others (维修|改造 → 修改):
        # they are not in the text's meaning, so they neither count for coverage nor show as reasons
        @lru_cache(maxsize=None)
        def splits(s: str) -> bool:  # s is a concatenation of other terms
            return s in terms or any(s[:k] in terms and splits(s[k:]) for k in range(2, len(s) - 1))

        def straddles(t: str) -> bool:
            for longer in terms:
                i = longer.find(t)
                if len(longer) <= len(t) or i < 0:
                    continue
                for k in range(i + 1, i + len(t)):
                    if k >= 2 and len(longer) - k >= 2 and splits(longer[:k]) and splits(longer[k:]):
                        return True
            return False
        return {t: v for t, v in terms.items() if not straddles(t)}

    @staticmethod
    def _detail(doc: Doc) -> float:
        p = doc.props
        qual = p.get("value_kind") == "定性"
        checks = [bool(p.get("unit")) or qual, bool(p.get("definition")), bool(p.get("formula")) or qual,
                  p.get("typical_value") not in (None, "", "-"), bool(p.get("basis")) and p.get("basis") != "-",
                  bool(p.get("data_source"))]
        return sum(checks) / len(checks)

    def _coverage(self, doc: Doc, terms: dict[str, float]) -> tuple[float, list[str]]:
        hay = doc.name + "|" + "|".join(doc.synonyms) + "|" + (doc.props.get("definition") or "")
        hit = [t for t in terms if t in hay]
        total = sum(terms.values()) or 1.0
        cov = sum(terms[t] for t in hit) / total
        # show maximal terms only (维修改造, not also 维修 and 修改)
        return cov, [t for t in hit if not any(t != o and t in o for o in hit)]

    def _near_duplicate(self, a: Doc, b: Doc) -> bool:
        if a.name == b.name or a.name in b.synonyms or b.name in a.synonyms:
            return True
        if fuzz.ratio(a.name, b.name) >= self.rules["near_duplicate_ratio"]:
            return True
        ba, bb = set(bigrams(a.name)), set(bigrams(b.name))
        return bool(ba and bb) and len(ba & bb) / len(ba | bb) >= 0.6

    # --- the recommendation ---------------------------------------------------------------------------
    def recommend(self, project: str, description: str = "", sector: str | None = None,
                  project_type: str | None = None, amount: float | None = None,
                  period: str | None = None, region: str | None = None, unit: str | None = None) -> dict[str, Any]:
        """``amount`` in 元; ``region`` the unit's county or city (default: the city itself); ``unit``
        the budget unit's code, whose approved tables give the unit costs it planned with before."""
        ix = self.index
        project = (project or "").strip()
        description = (description or "").strip()
        if not project:
            raise BadQuery("empty_project", "项目名称不能为空，如「校舍维修改造」「农牧民技能培训」")
        if len(project) > 200 or len(description) > 5000:
            raise BadQuery("text_too_long", "项目名称不超过 200 字，项目说明不超过 5000 字")
        if amount is not None and (not math.isfinite(amount) or amount < 0):
            raise BadQuery("bad_amount", f"项目金额须为非负数（元），收到 {amount}")
        if (region and len(region) > MAX_REGION) or (unit and len(str(unit)) > 64):
            raise BadQuery("text_too_long", f"地区名称不超过 {MAX_REGION} 字，单位编码不超过 64 字")
        sector_ids = ix.resolve(SECTOR, sector) if sector else None
        where = resolve_region(region or region_in_text(f"{project} {description}"))
        text = f"{project} {description}".strip()
        candidates = self.infer_project_types(project, description, sector_ids, region=where)
        notes: list[str] = []
        if project_type:
            pt_ids = ix.resolve(PROJECT_TYPE, project_type,
                                next(iter(sector_ids)) if sector_ids and len(sector_ids) == 1 else None)
            given = [c for c in candidates if c["id"] in pt_ids]
            chosen = given[:1] or [{"id": sorted(pt_ids)[0], "name": ix.ctx[sorted(pt_ids)[0]].name,
                                    "score": None, "matched": []}]
            chosen[0]["given"] = True
            if not applies(chosen[0]["name"], where):
                notes.append(f"项目类型「{chosen[0]['name']}」{scope_note(chosen[0]['name']) or '不适用于本地区'}，"
                             f"而单位所在地区为「{where.name}」：请确认")
            candidates = chosen + [c for c in candidates if c["id"] != chosen[0]["id"]]
            selected = [chosen[0]["id"]]
        else:
            if not candidates:
                where = f"行业「{sector}」中" if sector else ""
                raise BadQuery("no_project_type", f"无法从项目名称和说明推断{where}的项目类型：请补充说明，或用 project_type 指定")
            top = candidates[0]["score"]
            selected = [c["id"] for c in candidates[:2] if c["score"] >= top * self.rules["secondary_ratio"]]
        for c in candidates:
            c["selected"] = c["id"] in selected
        primary = selected[0]
        prim_ctx = ix.ctx[primary]
        fits = self.rules["fit"]

        # candidates: indicators of the selected types, then general ones for any missing kind
        pool: dict[int, float] = {}
        for i, pid in enumerate(selected):
            for d in ix.ctx[pid].docs:
                pool.setdefault(d, fits["primary"] if i == 0 else fits["secondary"])
        general = [d for d in ix.docs if d.sector_id is None and d.kind]
        terms = self._project_terms(text)
        scored = []
        for d, fit in list(pool.items()) + [(g.idx, fits["general"]) for g in general if g.idx not in pool]:
            doc = ix.docs[d]
            if not doc.kind:  # evaluation-only categories do not belong in a target table
                continue
            if self._inputs.search(doc.name):  # fund inputs are not performance targets (domain.md)
                continue
            if doc.props.get("typical_value") in (None, "", "-") and not (
                    amount and doc.category == "COST-ECO" and (doc.props.get("unit") or "") in self.rules["money_units"]):
                continue  # no value to propose: the row would go into the table empty
            cov, hit = self._coverage(doc, terms)
            scored.append([doc, fit, cov, hit, self._detail(doc)])
        max_cov = max((s[2] for s in scored), default=0.0) or 1.0
        w = self.rules["weights"]
        rows = []
        accepted = self._acceptance()
        for doc, fit, cov, hit, det in scored:
            covn = cov / max_cov
            acc = round(accepted.get(doc.id, 0.0), 4)  # how often approved tables used it (engine/acceptance.py)
            total = w["coverage"] * covn + w["fit"] * fit + w["detail"] * det + w["acceptance"] * acc
            rows.append((total, doc, {"total": round(total, 4), "coverage": round(covn, 4), "fit": fit,
                                      "detail": round(det, 4), "acceptance": acc}, hit))
        rows.sort(key=lambda r: (-r[0], r[1].id))

        quotas: dict[str, int] = self.rules["quotas"]
        optional = set(self.rules["optional"])
        chosen_docs: list[Doc] = []
        by_cat: dict[str, list[tuple]] = defaultdict(list)
        for r in rows:
            by_cat[r[1].category].append(r)
        picked: dict[str, list[tuple]] = defaultdict(list)
        for cat in sorted(quotas, key=lambda c: ix.category_order.get(c, (99, 99))):
            for r in by_cat.get(cat, []):
                if len(picked[cat]) >= quotas[cat]:
                    break
                doc = r[1]
                if cat in optional and (r[2]["fit"] < fits["secondary"] or
                                        (not r[3] and len(picked[cat]) > 0)):
                    continue
                if any(self._near_duplicate(doc, o) for o in chosen_docs):
                    continue
                picked[cat].append(r)
                chosen_docs.append(doc)
        if amount:
            self._ensure_pair(picked, rows, chosen_docs)
        kinds_covered = {ix.docs[r[1].idx].kind for rs in picked.values() for r in rs}
        for kind in self.rules["required_kinds"]:  # fill a missing kind from anything that has it
            if kind in kinds_covered:
                continue
            for r in rows:
                if r[1].kind == kind and not any(self._near_duplicate(r[1], o) for o in chosen_docs):
                    picked[r[1].category].append(r)
                    chosen_docs.append(r[1])
                    kinds_covered.add(kind)
                    break

        groups = []
        budget_rows = []
        for cat in sorted(picked, key=lambda c: ix.category_order.get(c, (99, 99))):
            if not picked[cat]:
                continue
            first = picked[cat][0][1]
            items = [self._item(r, selected, prim_ctx.name, amount, period) for r in picked[cat]]
            budget_rows += [(it, cat, r[1].props.get("typical_value")) for it, r in zip(items, picked[cat])]
            groups.append({"level1": first.level1_name, "level2": first.category_name, "code": cat,
                           "kind": first.kind, "indicators": items})
        budget = self._planner_for(unit).plan(lines_for(budget_rows, self.planner.dims), amount)
        required = self.rules["required_kinds"]
        sec = ix.ctx.get(prim_ctx.sector_id or "")
        return {"project": project, "library_version": ix.version,
                "sector": {"name": sec.name if sec else None, "code": (sec.id.removeprefix("SEC-") if sec else None),
                           "inferred": not sector},
                "project_types": candidates,
                "groups": groups,
                "coverage": {"required": required, "covered": [k for k in required if k in kinds_covered],
                             "missing": [k for k in required if k not in kinds_covered]},
                "budget": budget, "type_inference": self._type_inference(candidates, project_type),
                "region": {"name": where.name, "border": where.border, "known": where.known,
                           "default": where.defaulted},
                "notes": notes, "weights": w, "terms": list(terms)[:30]}

    def _planner_for(self, unit: str | None) -> BudgetPlanner:
        """The budget planner with the unit-cost history of the approved tables in the store (the
        unit's own first, then the city's), unless a history was given to the recommender."""
        if self._history is not None or self.library is None or not amount_history_enabled(self.rules):
            return self.planner
        if self._units_of is None:
            self._units_of = {d.id: d.props.get("unit") for d in self.index.docs}
        return BudgetPlanner(self.rules, history_for(self.library.store, self._units_of, unit))

    def _type_inference(self, candidates: list[dict[str, Any]], given: str | None) -> dict[str, Any]:
        """Say why the type was chosen, and offer the top 3 when the evidence does not single one out."""
        if given or not candidates:
            return {"sure": True, "reason": "项目类型由申报单位指定" if given else "", "alternatives": []}
        top = candidates[0]
        second = candidates[1]["score"] if len(candidates) > 1 else 0.0
        sure = top["score"] >= self.rules["type_sure"]["min_score"] and \
            second <= top["score"] * self.rules["type_sure"]["max_second_ratio"]
        why = f"项目名称和说明中出现「{'」「'.join(top['matched'][:4])}」" if top["matched"] else "项目文本与该类型指标的用词最接近"
        reason = f"推断为「{top['name']}」（{top['sector']} → {top['field']}）：{why}"
        if not sure:
            reason += "；依据不够充分，请从前三个候选中确认"
        return {"sure": sure, "reason": reason,
                "alternatives": [] if sure else [{"id": c["id"], "name": c["name"], "sector": c["sector"],
                                                  "score": c["score"], "matched": c["matched"]}
                                                 for c in candidates[:3]]}

    def _ensure_pair(self, picked: dict[str, list[tuple]], rows: list[tuple], chosen: list[Doc]) -> None:
        """With an amount, the set needs a unit cost that prices one of its quantities: swap in the
        best-scored unit cost of the same project type that does (or a quantity a unit cost prices)."""
        pl = self.planner
        qty = [r for r in picked.get("OUT-QTY", [])]
        costs = [r for r in picked.get("COST-ECO", [])]

        def pairs(c: Doc, q: Doc) -> bool:
            return pl.quantity_factor(c.props.get("unit") or "", q.props.get("unit") or "") is not None
        if any(pairs(c[1], q[1]) for c in costs for q in qty):
            return
        for r in rows:  # rows are sorted best first
            d = r[1]
            if d.category != "COST-ECO" or r[2]["fit"] < self.rules["fit"]["secondary"] or d in chosen:
                continue
            if pl.split_cost_unit(d.props.get("unit") or "") and any(pairs(d, q[1]) for q in qty):
                if len(costs) >= self.rules["quotas"]["COST-ECO"]:
                    out = min(costs, key=lambda x: x[0])
                    picked["COST-ECO"].remove(out)
                    chosen.remove(out[1])
                picked["COST-ECO"].append(r)
                chosen.append(d)
                return
        for r in rows:
            d = r[1]
            if d.category != "OUT-QTY" or r[2]["fit"] < self.rules["fit"]["secondary"] or d in chosen:
                continue
            if any(pairs(c[1], d) for c in costs):
                if len(qty) >= self.rules["quotas"]["OUT-QTY"]:
                    out = min(qty, key=lambda x: x[0])
                    picked["OUT-QTY"].remove(out)
                    chosen.remove(out[1])
                picked["OUT-QTY"].append(r)
                chosen.append(d)
                return

    def _item(self, row: tuple, selected: list[str], primary_name: str, amount: float | None,
              period: str | None) -> dict[str, Any]:
        total, doc, score, hit = row
        ix = self.index
        value, basis = suggested_value(doc, amount, period)
        pt_here = [p for p in doc.pts if p in selected]
        if pt_here:
            c = ix.ctx[pt_here[0]]
            fld = ix.ctx.get(c.parent or "")
            path = " → ".join(x for x in (doc.sector_name, fld.name if fld else None, c.name, doc.name) if x)
            why = f"项目类型「{c.name}」的专用指标"
        else:
            path = f"通用指标 → {doc.level1_name} → {doc.category_name} → {doc.name}"
            why = f"项目类型「{primary_name}」缺少该类指标，取通用{doc.category_name}"
        if hit:
            why += "；回应项目文本中的「" + "」「".join(hit[:4]) + "」"
        p = doc.props
        return {"id": doc.id, "name": doc.name, "level1": doc.level1_name, "level2": doc.category_name,
                "kind": doc.kind, "unit": p.get("unit"), "value_kind": p.get("value_kind"),
                "direction": p.get("direction"), "suggested_value": value, "basis": basis,
                "definition": p.get("definition"), "formula": p.get("formula"),
                "reason": why, "path": path, "matched_terms": hit, "score": score,
                "indicator": doc_projection(doc)}

    # --- similar indicators -------------------------------------------------------------------------
    def similar(self, indicator_id: str, limit: int = 10) -> dict[str, Any]:
        """Indicators that measure the same thing elsewhere: same or near name, shared synonyms,
        same category; useful to compare values across project types and spot duplicates."""
        ix = self.index
        doc = ix.by_id[indicator_id]
        scores, _, _, _ = ix.score(doc.name)
        for s in doc.synonyms:
            for d, v in ix.score(s)[0].items():
                scores[d] = max(scores.get(d, 0.0), 0.8 * v)
        out = []
        for d, v in scores.items():
            o = ix.docs[d]
            if o.id == doc.id:
                continue
            why = []
            s = v
            if o.name == doc.name:
                why.append("名称相同")
            elif set(o.synonyms) & ({doc.name} | set(doc.synonyms)) or doc.name in o.synonyms:
                why.append("同义词相同")
            r = fuzz.ratio(o.name, doc.name)
            if r >= 60 and o.name != doc.name:
                why.append(f"名称相似度 {r:.0f}")
            if o.category == doc.category:
                s += 0.2
                why.append(f"同属{doc.category_name}")
            if o.sector_id and o.sector_id == doc.sector_id:
                s += 0.1
                why.append(f"同属{doc.sector_name}行业")
            out.append((s, o, why))
        out.sort(key=lambda t: (-t[0], t[1].id))
        cut = out[0][0] * 0.3 if out else 0
        hits = [{"id": o.id, "name": o.name, "category": o.category_name, "sector": o.sector_name or "通用",
                 "project_types": list(o.pt_names), "unit": o.props.get("unit"),
                 "typical_value": o.props.get("typical_value"), "score": round(s, 4), "why": why or ["字词相近"]}
                for s, o, why in out[:limit] if s >= cut]
        return {"id": doc.id, "name": doc.name, "category": doc.category_name, "sector": doc.sector_name or "通用",
                "similar": hits, "library_version": ix.version}


