"""The loop's operations on the store, for the API and the CLI: each checks the role (before any
lookup, so a refusal reveals nothing), hides other units' projects from unit accounts (404),
validates its input (located 422, nothing written), and writes its nodes with one audit entry in
one guarded commit (compare-and-set on the records it read; 409 when another writer got there
first). Errors are ``engine.work_errors.WorkError`` like the rest of the work graph."""
from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from engine import audit
from engine.work_errors import WorkError
from graph.store import GraphStore, Node, Write, WriteConflict

from . import records as R
from .access import Principal, require, visible
from .appraisal import appraise
from .appraisal import summary as appraisal_summary
from .budget import check_adjustment, propose
from .config import rules
from .errors import LoopError
from .evaluation import (
    check_key_evaluation,
    check_score,
    final_score,
    grade_of,
    self_evaluation,
)
from .monitoring import all_warnings, as_date, assess, check_plan
from .report import yearly

MAX_TEXT = 2000
MAX_ROWS = 500
MAX_ACTUAL = 200
RETRIES = 5  # a part of an evaluation written while others write theirs: re-read and re-apply


# --- plumbing ---------------------------------------------------------------------------------
def _invalid(e: LoopError) -> WorkError:
    return WorkError("invalid", e.code, e.message, **({"field": e.field} if e.field else {}))


def _text(value: Any, field: str, required: bool = False, limit: int = MAX_TEXT) -> str:
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        raise WorkError("invalid", "text_required" if required else "bad_text", f"{field}：{'必须填写' if required else '应为文字'}",
                        field=field)
    if len(value) > limit:
        raise WorkError("invalid", "too_long", f"{field}：不超过 {limit} 字", field=field)
    return value.strip()


def _project(store: GraphStore, who: Principal, pid: str, rows: bool = True) -> tuple[Node, dict[str, Any]]:
    node = store.get(pid) if isinstance(pid, str) and 0 < len(pid) <= 200 else None
    if node is None or node.label != R.PROJECT or not visible(who, node.props.get("unit")):
        raise WorkError("not_found", "project_not_found", f"项目 {pid} 不存在")
    return node, R.project_view(store, node, rows)


def _guard(node: Node) -> dict[str, Any]:
    """What a loop write depends on in the project: its table revisions."""
    return {"revision": node.props.get("revision"), "approved_revision": node.props.get("approved_revision")}


def _etag_guard(old: Node | None) -> dict[str, Any] | None:
    return {"etag": old.props.get("etag")} if old else None


def _commit(store: GraphStore, who: Principal, action: str, obj: str, old: Node | None, nodes: list[Node],
            expect: dict[str, dict[str, Any] | None], detail: dict[str, Any] | None = None) -> None:
    main = next((n for n in nodes if n.id == obj), None)
    try:
        store.commit(Write(nodes + [audit.entry(who.username, action, obj, old, main, detail)], expect=expect))
    except WriteConflict as e:
        raise WorkError("conflict", "changed_concurrently", f"{e.node_id} 已被他人修改或已存在，请刷新后重试",
                        current=e.current) from None


def _record(store: GraphStore, who: Principal, node_id: str, label: str, what: str) -> Node:
    node = store.get(node_id) if isinstance(node_id, str) and 0 < len(node_id) <= 300 else None
    if node is None or node.label != label or not visible(who, node.props.get("unit")):
        raise WorkError("not_found", f"{what}_not_found", f"{node_id} 不存在")
    return node


def _now() -> str:
    return audit.now()


# --- monitoring -------------------------------------------------------------------------------
def set_plan(store: GraphStore, who: Principal, pid: str, months: Any) -> dict[str, Any]:
    """The unit's monthly spending plan (12 whole-元 amounts, total ≤ budget); replaces the previous one."""
    require(who, "plan.write")
    _, proj = _project(store, who, pid, rows=False)
    try:
        months = check_plan(months, proj["amount"])
    except LoopError as e:
        raise _invalid(e) from None
    old = store.get(R.plan_id(pid))
    new = R.record(R.plan_id(pid), R.PLAN, proj, {"months": months, "total": sum(months),
                                                  "etag": (old.props["etag"] + 1) if old else 1,
                                                  "updated_by": who.username, "updated_at": _now()})
    _commit(store, who, "plan.write", new.id, old, [new], {new.id: _etag_guard(old)})
    return R.public(new)


def _actuals(value: Any, rows: list[dict[str, Any]], field: str = "actuals") -> list[dict[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, list) or len(value) > MAX_ROWS:
        raise WorkError("invalid", "bad_actuals", f"{field}：应为 [{{row, actual}}] 列表，至多 {MAX_ROWS} 项", field=field)
    known = {r["row"] for r in rows}
    out, seen = [], set()
    for i, a in enumerate(value):
        where = f"{field}[{i}]"
        if not isinstance(a, dict) or isinstance(a.get("row"), bool) or not isinstance(a.get("row"), int):
            raise WorkError("invalid", "bad_actual", f"{where}：应为 {{row: 行号, actual: 实际值}}", field=where)
        if a["row"] not in known:
            raise WorkError("invalid", "unknown_row", f"{where}.row：目标表没有第 {a['row']} 行（行号从 0 起）",
                            field=f"{where}.row")
        if a["row"] in seen:
            raise WorkError("invalid", "duplicate_row", f"{where}.row：第 {a['row']} 行重复", field=f"{where}.row")
        seen.add(a["row"])
        actual = a.get("actual")
        if actual is not None and (isinstance(actual, bool) or not isinstance(actual, (str, int, float))
                                   or len(str(actual)) > MAX_ACTUAL):
            raise WorkError("invalid", "bad_actual", f"{where}.actual：应为不超过 {MAX_ACTUAL} 字的文字或数字",
                            field=f"{where}.actual")
        item = {"row": a["row"], "actual": actual}
        if "rate" in a and a["rate"] is not None:
            item["rate"] = a["rate"]
        out.append(item)
    return out


def _money(value: Any, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0 or value != int(value) \
            or value > 10 ** 13:
        raise WorkError("invalid", "bad_amount", f"{field}：金额应为非负整数（元），收到「{value}」", field=field)
    return int(value)


def report_progress(store: GraphStore, who: Principal, pid: str, body: dict[str, Any]) -> dict[str, Any]:
    """A unit's report as of a date: funds spent and the actual value of its targets. Stored with
    its assessment; every warning it raises is stored with it, open."""
    require(who, "progress.report")
    node, proj = _project(store, who, pid)
    if not isinstance(body, dict):
        raise WorkError("invalid", "bad_report", "监控报告应为对象 {as_of, spent, actuals, explanation}")
    plan = store.get(R.plan_id(pid))
    if plan is None:
        raise WorkError("conflict", "plan_required", f"项目 {pid} 尚未填报月度用款计划，先填报计划再报告执行情况")
    try:
        as_of = as_date(body.get("as_of"))
    except LoopError as e:
        raise _invalid(e) from None
    if not proj["year"] - 1 <= as_of.year <= proj["year"] + 1 or as_of > date.today():
        raise WorkError("invalid", "bad_date", f"as_of：报告日期 {as_of} 不在项目年度 {proj['year']} 前后或晚于今天",
                        field="as_of")
    spent = _money(body.get("spent"), "spent")
    if spent > proj["amount"]:
        raise WorkError("invalid", "spent_over_budget", f"spent：已支出 {spent:,} 元超过项目预算 {proj['amount']:,} 元",
                        field="spent")
    actuals = _actuals(body.get("actuals"), proj["rows"])
    explanation = _text(body.get("explanation"), "explanation")
    result = assess(proj, plan.props["months"], {"as_of": as_of.isoformat(), "spent": spent, "actuals": actuals})
    rid = R.report_id(pid, as_of.isoformat())
    warnings = [R.record(R.warning_id(pid, w["as_of"], w["kind"], w["row"]), R.WARNING, proj,
                         {"report": rid, "as_of": w["as_of"], "kind": w["kind"], "row": w["row"], "measure": w["measure"],
                          "threshold": w["threshold"], "message": w["message"], "status": "open",
                          "explanation": explanation or None, "actions": [], "etag": 1, "raised_at": _now()})
                for w in result["warnings"]]
    report = R.record(rid, R.REPORT, proj, {
        "as_of": as_of.isoformat(), "spent": spent, "actuals": actuals, "explanation": explanation,
        "revision": proj["revision"], "execution": result["execution"], "targets": result["targets"],
        "not_reported": result["not_reported"], "warnings": [w.id for w in warnings],
        "reported_by": who.username, "reported_at": _now()})
    expect: dict[str, dict[str, Any] | None] = {rid: None, pid: _guard(node), plan.id: {"etag": plan.props["etag"]}}
    expect.update({w.id: None for w in warnings})
    try:
        store.commit(Write([report, *warnings, audit.entry(who.username, "progress.report", rid, None, report,
                                                            {"warnings": len(warnings)})], expect=expect))
    except WriteConflict as e:
        if e.node_id == rid:
            raise WorkError("conflict", "report_exists", f"项目 {pid} 已有 {as_of} 的监控报告；更正请报告新的日期") from None
        raise WorkError("conflict", "changed_concurrently", f"{e.node_id} 已被他人修改，请刷新后重试") from None
    return {"report": R.public(report), "warnings": [R.public(w) for w in warnings]}


def progress(store: GraphStore, who: Principal, pid: str) -> dict[str, Any]:
    """The plan, every report (oldest first) and the execution curve of a project."""
    require(who, "loop.read")
    _, proj = _project(store, who, pid, rows=False)
    from .report import execution_curve
    plan = store.get(R.plan_id(pid))
    reports = [R.public(n) for n in store.list(R.REPORT, {"project": pid}).items]
    curve = execution_curve(proj["amount"], plan.props["months"], reports) if plan else None
    return {"project": pid, "amount": proj["amount"], "plan": R.public(plan) if plan else None,
            "reports": sorted(reports, key=lambda r: r["as_of"]), "curve": curve}


def list_warnings(store: GraphStore, who: Principal, year: int | None = None, unit: str | None = None,
                  status: str | None = None, kind: str | None = None, project: str | None = None,
                  offset: int = 0, limit: int = 100) -> dict[str, Any]:
    """Warnings for the bureau (every unit) or for a unit (its own only), with counts per unit."""
    require(who, "loop.read")
    props = {k: v for k, v in (("year", year), ("status", status), ("kind", kind), ("project", project)) if v is not None}
    if not visible(who, unit if unit is not None else "\x00all"):
        if unit is not None:   # another unit asked for: nothing there for this account
            return {"total": 0, "offset": offset, "limit": limit, "items": [], "by_unit": []}
        unit = who.unit
    if unit is not None:
        props["unit"] = unit
    items = [R.public(n) for n in store.list(R.WARNING, props).items]
    names = _unit_names(store)
    page = items[offset:offset + limit]
    projects = store.get_many({w["project"] for w in page})
    for w in page:
        w["unit_name"] = names.get(w["unit"])
        w["project_name"] = projects[w["project"]].props.get("name") if w["project"] in projects else None
    by_unit: dict[str, dict[str, Any]] = {}
    for w in items:
        u = by_unit.setdefault(w["unit"], {"unit": w["unit"], "unit_name": names.get(w["unit"]), "warnings": 0,
                                           "open": 0, "projects": set()})
        u["warnings"] += 1
        u["open"] += w["status"] == "open"
        u["projects"].add(w["project"])
    summary = [{**u, "projects": len(u["projects"])} for u in sorted(by_unit.values(), key=lambda u: str(u["unit"]))]
    return {"total": len(items), "offset": offset, "limit": limit, "items": page, "by_unit": summary}


def _update_warning(store: GraphStore, who: Principal, wid: str, action: str,
                    change: Callable[[dict[str, Any]], dict[str, Any]]) -> dict[str, Any]:
    old = _record(store, who, wid, R.WARNING, "warning")
    props = change(dict(old.props))
    new = Node(old.id, old.label, {**props, "etag": old.props["etag"] + 1}, list(old.edges))
    _commit(store, who, action, wid, old, [new], {wid: {"etag": old.props["etag"]}})
    return R.public(new)


def explain_warning(store: GraphStore, who: Principal, wid: str, explanation: Any) -> dict[str, Any]:
    """The unit's explanation of a warning (情况说明)."""
    require(who, "warning.explain")
    text = _text(explanation, "explanation", required=True)
    return _update_warning(store, who, wid, "warning.explain", lambda p: {
        **p, "explanation": text, "explained_by": who.username, "explained_at": _now(),
        "status": "explained" if p["status"] == "open" else p["status"]})


def act_on_warning(store: GraphStore, who: Principal, wid: str, action: Any, comment: Any) -> dict[str, Any]:
    """The bureau's action on a warning (urge, adjust, suspend, close), with a comment."""
    require(who, "warning.act")
    actions = rules("thresholds")["actions"]
    if action not in actions:
        raise WorkError("invalid", "unknown_action", f"action：应为 {'、'.join(f'{k}（{v}）' for k, v in actions.items())}",
                        field="action")
    text = _text(comment, "comment", required=True)
    return _update_warning(store, who, wid, "warning.act", lambda p: {
        **p, "actions": [*p.get("actions", []), {"action": action, "name": actions[action], "comment": text,
                                                 "by": who.username, "at": _now()}],
        "status": "closed" if action == "close" else "acted"})


# --- appraisal --------------------------------------------------------------------------------
def put_appraisal(store: GraphStore, who: Principal, pid: str, doc: Any) -> dict[str, Any]:
    """The reviewer's appraisal of a project: scores, cost checks, approved amount and every cut's reason."""
    require(who, "appraisal.write")
    _, proj = _project(store, who, pid, rows=False)
    if isinstance(doc, dict) and isinstance(doc.get("scores"), dict) and doc["scores"].get("target_quality") is None:
        # 绩效目标合理性 defaults to the review score the project's target table got (目标审核)
        table = store.get(f"{pid}/r{proj['revision']}") if proj["revision"] else None
        score = table.props.get("score") if table else None
        if not isinstance(score, (int, float)):
            raise WorkError("invalid", "bad_score", "scores.target_quality：项目目标表尚无审核得分，请填写绩效目标合理性得分",
                            field="scores.target_quality")
        doc = {**doc, "scores": {**doc["scores"], "target_quality": float(score)}}
    try:
        result = appraise(doc)
    except LoopError as e:
        raise _invalid(e) from None
    old = store.get(R.appraisal_id(pid))
    new = R.record(R.appraisal_id(pid), R.APPRAISAL, proj, {**result, "appraised_by": who.username,
                                                             "appraised_at": _now(),
                                                             "etag": (old.props["etag"] + 1) if old else 1})
    _commit(store, who, "appraisal.write", new.id, old, [new], {new.id: _etag_guard(old)},
            {"requested": result["requested"], "approved": result["approved"]})
    return R.public(new)


def get_appraisal(store: GraphStore, who: Principal, pid: str) -> dict[str, Any]:
    require(who, "loop.read")
    _project(store, who, pid, rows=False)
    node = store.get(R.appraisal_id(pid))
    if node is None:
        raise WorkError("not_found", "appraisal_not_found", f"项目 {pid} 尚无事前评估")
    return R.public(node)


# --- evaluation -------------------------------------------------------------------------------
def _evaluation_props(proj: dict[str, Any], props: dict[str, Any]) -> dict[str, Any]:
    """Recompute which score counts (and its grade) from the parts present."""
    self_total = (props.get("self") or {}).get("total")
    review = (props.get("review") or {}).get("score")
    key = (props.get("key") or {}).get("score")
    final, source = final_score(self_total, review, key)
    return {**props, "self_total": self_total, "review_score": review, "key_score": key,
            "final_score": final, "final_source": source, "grade": grade_of(final) if final is not None else None,
            "amount": proj["amount"]}


def _update_evaluation(store: GraphStore, who: Principal, proj: dict[str, Any], action: str,
                       change: Callable[[dict[str, Any]], dict[str, Any]]) -> dict[str, Any]:
    eid = R.evaluation_id(proj["id"])
    for attempt in range(RETRIES):
        old = store.get(eid)
        base = dict(old.props) if old else {"self": None, "review": None, "key": None}
        props = _evaluation_props(proj, change(base))
        new = R.record(eid, R.EVALUATION, proj, {**props, "etag": (old.props["etag"] + 1) if old else 1})
        try:
            store.commit(Write([new, audit.entry(who.username, action, eid, old, new, {"final": props["final_score"]})],
                               expect={eid: _etag_guard(old)}))
            return R.public(new)
        except WriteConflict:   # another part was written at the same time: re-read and apply ours again
            if attempt == RETRIES - 1:
                raise WorkError("conflict", "changed_concurrently", f"{eid} 正被他人修改，请稍后重试") from None
    raise AssertionError("unreachable")


def put_self_evaluation(store: GraphStore, who: Principal, pid: str, body: Any) -> dict[str, Any]:
    """The unit's self-evaluation: actual per row (and its own rate for rows judged by hand) and funds spent."""
    require(who, "evaluation.self")
    _, proj = _project(store, who, pid)
    if not isinstance(body, dict):
        raise WorkError("invalid", "bad_self_evaluation", "自评应为对象 {actuals, spent}")
    actuals = _actuals(body.get("actuals"), proj["rows"])
    spent = _money(body.get("spent"), "spent")
    try:
        result = self_evaluation(proj, actuals, spent)
    except LoopError as e:
        raise _invalid(e) from None
    part = {**result, "actuals": actuals, "by": who.username, "at": _now(), "revision": proj["revision"]}
    return _update_evaluation(store, who, proj, "evaluation.self", lambda p: {**p, "self": part})


def put_review(store: GraphStore, who: Principal, pid: str, body: Any) -> dict[str, Any]:
    """The bureau's review score (复核) with a comment."""
    require(who, "evaluation.review")
    _, proj = _project(store, who, pid, rows=False)
    if not isinstance(body, dict):
        raise WorkError("invalid", "bad_review", "复核应为对象 {score, comment}")
    try:
        score = check_score(body.get("score"), "score")
    except LoopError as e:
        raise _invalid(e) from None
    part = {"score": score, "comment": _text(body.get("comment"), "comment", required=True), "by": who.username,
            "at": _now()}
    return _update_evaluation(store, who, proj, "evaluation.review", lambda p: {**p, "review": part})


def put_key_evaluation(store: GraphStore, who: Principal, pid: str, body: Any) -> dict[str, Any]:
    """A key evaluation (重点评价) by the bureau or a commissioned third party."""
    require(who, "evaluation.key")
    _, proj = _project(store, who, pid, rows=False)
    try:
        part = check_key_evaluation(body)
    except LoopError as e:
        raise _invalid(e) from None
    part.update(by=who.username, at=_now())
    return _update_evaluation(store, who, proj, "evaluation.key", lambda p: {**p, "key": part})


def get_evaluation(store: GraphStore, who: Principal, pid: str) -> dict[str, Any]:
    require(who, "loop.read")
    _project(store, who, pid, rows=False)
    node = store.get(R.evaluation_id(pid))
    if node is None:
        raise WorkError("not_found", "evaluation_not_found", f"项目 {pid} 尚无绩效评价")
    return R.public(node)


# --- results ----------------------------------------------------------------------------------
def _proposal_items(store: GraphStore, year: int, unit: str | None = None) -> list[dict[str, Any]]:
    props: dict[str, Any] = {"year": year, **({"unit": unit} if unit else {})}
    projects = store.list(R.PROJECT, props).items
    evals = {n.props["project"]: n.props for n in store.list(R.EVALUATION, props).items}
    adjust = {n.props["project"]: n.props for n in store.list(R.PROPOSAL, props).items}
    items = []
    for p in projects:
        e, a = evals.get(p.id, {}), adjust.get(p.id, {})
        items.append({"project_id": p.id, "unit": p.props.get("unit"), "name": p.props.get("name"),
                      "amount": int(p.props.get("amount") or 0), "score": e.get("final_score"),
                      "score_source": e.get("final_source"), "adjusted_amount": a.get("adjusted_amount"),
                      "adjust_reason": a.get("reason")})
    return items


def proposals(store: GraphStore, who: Principal, year: int, unit: str | None = None) -> dict[str, Any]:
    """Next year's budget proposal per project, per unit and for the city, from this year's scores."""
    require(who, "proposal.read")
    if not visible(who, unit if unit is not None else "\x00all"):
        unit = who.unit if unit is None or unit == who.unit else "\x00none"
    return {"year": year, "next_year": year + 1, **propose(_proposal_items(store, year, unit))}


def adjust_proposal(store: GraphStore, who: Principal, pid: str, body: Any) -> dict[str, Any]:
    """A reviewer's adjustment of one project's proposed amount, with the reason (kept with history)."""
    require(who, "proposal.adjust")
    _, proj = _project(store, who, pid, rows=False)
    if not isinstance(body, dict):
        raise WorkError("invalid", "bad_adjustment", "调整应为对象 {amount, reason}")
    try:
        amount, reason = check_adjustment(body.get("amount"), body.get("reason"))
    except LoopError as e:
        raise _invalid(e) from None
    nid = R.proposal_id(pid, proj["year"] + 1)
    old = store.get(nid)
    history = list(old.props.get("history", [])) if old else []
    if old:
        history.append({k: old.props.get(k) for k in ("adjusted_amount", "reason", "by", "at")})
    new = R.record(nid, R.PROPOSAL, proj, {"next_year": proj["year"] + 1, "adjusted_amount": amount, "reason": reason,
                                          "by": who.username, "at": _now(), "history": history,
                                          "etag": (old.props["etag"] + 1) if old else 1})
    _commit(store, who, "proposal.adjust", nid, old, [new], {nid: _etag_guard(old)}, {"amount": amount})
    item = next(i for i in _proposal_items(store, proj["year"], proj["unit"]) if i["project_id"] == pid)
    return propose([item])["projects"][0]


# --- the year ---------------------------------------------------------------------------------
def year_data(store: GraphStore, year: int) -> dict[str, Any]:
    """Every record of a year, read once (the report, the charts and the warnings benchmark use it)."""
    f = {"year": year}
    return {"projects": R.project_views(store, store.list(R.PROJECT, f).items, with_rows=False),
            "appraisals": [n.props for n in store.list(R.APPRAISAL, f).items],
            "plans": {n.props["project"]: n.props["months"] for n in store.list(R.PLAN, f).items},
            "reports": [n.props for n in store.list(R.REPORT, f).items],
            "warnings": [n.props for n in store.list(R.WARNING, f).items],
            "evaluations": [n.props for n in store.list(R.EVALUATION, f).items]}


def yearly_report(store: GraphStore, who: Principal, year: int) -> dict[str, Any]:
    """The yearly summary of the whole loop (appraisal, monitoring, evaluation, results)."""
    require(who, "report.read")
    d = year_data(store, year)
    return yearly(year, d["projects"], d["appraisals"], d["plans"], d["reports"], d["warnings"], d["evaluations"],
                  propose(_proposal_items(store, year)))


def compute_warnings(store: GraphStore, year: int) -> list[dict[str, Any]]:
    """Every warning of the year recomputed from the stored plans and each project's latest report
    (what the bureau's warning list would show after a change of thresholds)."""
    plans = {n.props["project"]: n.props["months"] for n in store.list(R.PLAN, {"year": year}).items}
    latest: dict[str, dict[str, Any]] = {}
    for n in store.list(R.REPORT, {"year": year}).items:
        if n.props["project"] not in latest or n.props["as_of"] > latest[n.props["project"]]["as_of"]:
            latest[n.props["project"]] = n.props
    views = {v["id"]: v for v in R.project_views(store, list(store.get_many(latest).values()))}
    return all_warnings((views[pid], plans[pid], rep) for pid, rep in latest.items() if pid in plans and pid in views)


def appraisals_summary(store: GraphStore, who: Principal, year: int) -> dict[str, Any]:
    require(who, "report.read")
    return {"year": year, **appraisal_summary(n.props for n in store.list(R.APPRAISAL, {"year": year}).items)}


# --- report files and charts ----------------------------------------------------------------------
def _unit_names(store: GraphStore) -> dict[str, str]:
    return {n.props.get("code"): n.props.get("name") for n in store.iter_label("BudgetUnit")}


def yearly_workbook(store: GraphStore, who: Principal, year: int) -> bytes:
    """The yearly report as an .xlsx: 总览 and one sheet per part of the loop."""
    from .report import workbook
    require(who, "report.read")
    d = year_data(store, year)
    props = propose(_proposal_items(store, year))
    rep = yearly(year, d["projects"], d["appraisals"], d["plans"], d["reports"], d["warnings"], d["evaluations"], props)
    names = _unit_names(store)
    projects = {p["id"]: p for p in d["projects"]}

    def pname(pid: str) -> str:
        return str(projects.get(pid, {}).get("name") or pid)
    sheets = {
        "事前评估": (["项目编号", "项目名称", "单位", "申请金额（元）", "核定金额（元）", "核减金额（元）", "核减率（%）",
                  "综合得分", "评估结论", "核减理由"],
                 [[a["project"], pname(a["project"]), names.get(a["unit"], a["unit"]), a["requested"], a["approved"],
                   a["cut"], a["cut_rate_pct"], a["score"], a["conclusion"], "；".join(c["reason"] for c in a["cuts"])]
                  for a in sorted(d["appraisals"], key=lambda a: a["project"])]),
        "运行监控": (["项目编号", "项目名称", "单位", "报告日期", "预算（元）", "已支出（元）", "计划进度（%）",
                  "实际进度（%）", "偏离（百分点）", "预警数"],
                 [[r["project"], pname(r["project"]), names.get(r["unit"], r["unit"]), r["as_of"],
                   r["execution"]["amount"], r["spent"], r["execution"]["planned_pct"], r["execution"]["actual_pct"],
                   r["execution"]["deviation_pts"], len(r["warnings"])]
                  for r in sorted(d["reports"], key=lambda r: (r["project"], r["as_of"]))]),
        "预警": (["项目编号", "单位", "日期", "类型", "行", "数值", "阈值", "说明", "状态", "单位说明", "财政处理"],
               [[w["project"], names.get(w["unit"], w["unit"]), w["as_of"], w["kind"], w["row"], w["measure"],
                 w["threshold"], w["message"], w["status"], w.get("explanation") or "",
                 "；".join(f"{a['name']}：{a['comment']}" for a in w.get("actions", []))]
                for w in sorted(d["warnings"], key=lambda w: (w["project"], w["as_of"], w["kind"]))]),
        "绩效评价": (["项目编号", "项目名称", "单位", "自评得分", "复核得分", "重点评价得分", "最终得分", "来源", "等级"],
                 [[e["project"], pname(e["project"]), names.get(e["unit"], e["unit"]), e.get("self_total"),
                   e.get("review_score"), e.get("key_score"), e.get("final_score"), e.get("final_source"), e.get("grade")]
                  for e in sorted(d["evaluations"], key=lambda e: e["project"])]),
        "预算建议": (["项目编号", "项目名称", "单位", "得分", "档次", "建议", "调整比例（%）", "本年预算（元）",
                  "建议金额（元）", "调整后金额（元）", "最终金额（元）", "调整理由"],
                 [[p["project_id"], p["name"], names.get(p["unit"], p["unit"]), p["score"], p["band"], p["rule"],
                   p["rate_pct"], p["base_amount"], p["proposed_amount"], p["adjusted_amount"], p["final_amount"],
                   p["adjust_reason"] or ""] for p in props["projects"]]),
        "单位汇总": (["单位", "项目数", "本年预算（元）", "建议金额（元）", "最终金额（元）", "增减（元）"],
                 [[names.get(u["unit"], u["unit"]), u["projects"], u["base_amount"], u["proposed_amount"],
                   u["final_amount"], u["change"]] for u in props["units"]]),
    }
    return workbook(rep, sheets)


def execution_chart(store: GraphStore, who: Principal, pid: str) -> tuple[dict[str, Any], str]:
    """The execution curve of a project (planned vs actual) as data and as SVG."""
    from .report import execution_svg
    data = progress(store, who, pid)
    if data["curve"] is None:
        raise WorkError("not_found", "plan_not_found", f"项目 {pid} 尚未填报月度用款计划")
    return data["curve"], execution_svg(data["curve"], f"{pid} 资金执行进度：计划与实际")


def achievement_chart(store: GraphStore, who: Principal, pid: str, as_of: str) -> tuple[dict[str, Any], str]:
    """Achievement per core target of one progress report, as data and as SVG."""
    from .report import achievement_bars, bars_svg
    require(who, "loop.read")
    _project(store, who, pid, rows=False)
    node = store.get(R.report_id(pid, as_of))
    if node is None:
        raise WorkError("not_found", "report_not_found", f"项目 {pid} 没有 {as_of} 的监控报告")
    threshold = float(rules("thresholds")["target_shortfall"]["min_achievement_pct"])
    data = achievement_bars(node.props["targets"], threshold)
    svg = bars_svg([b["name"] or f"第{b['row']}行" for b in data["bars"]], [b["rate"] for b in data["bars"]],
                   f"{pid} 核心指标完成率（{as_of}）", "%", threshold)
    return data, svg


def proposal_chart(store: GraphStore, who: Principal, year: int) -> tuple[dict[str, Any], str]:
    """The proposed change per unit (largest cuts first), as data and as SVG."""
    from .report import bars_svg, proposal_bars
    out = proposals(store, who, year)
    data = proposal_bars(out["units"], _unit_names(store))
    svg = bars_svg([b["name"] or b["unit"] for b in data["bars"]], [b["change"] / 10_000 for b in data["bars"]],
                   f"{year + 1} 年预算调整建议（按单位，万元）", "万元")
    return data, svg
