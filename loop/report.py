"""The yearly report of the whole loop: one JSON summary, an .xlsx a bureau can hand on, and
the data behind three charts (execution curve, achievement per core target, cut proposal per
unit), also drawn as small self-contained SVG images.

Every total is a plain sum over the records given, in whole 元, so the report reproduces its
inputs' totals exactly."""
from __future__ import annotations

import io
from collections import Counter
from collections.abc import Iterable
from typing import Any
from xml.sax.saxutils import escape

from .appraisal import summary as appraisal_summary
from .monitoring import pct


def _pid(record: dict[str, Any]) -> str:
    """A record's project: stored records say ``project``, freshly computed ones ``project_id``."""
    return record.get("project") or record["project_id"]


def monitoring_summary(projects: dict[str, dict[str, Any]], plans: dict[str, list[int]],
                       reports: list[dict[str, Any]], warnings: list[dict[str, Any]]) -> dict[str, Any]:
    """Projects, units and funds monitored (a project is monitored when it has a monthly plan),
    reports received, warnings by kind and by state."""
    monitored = [projects[p] for p in plans if p in projects]
    return {"projects": len(monitored), "units": len({p["unit"] for p in monitored}),
            "amount": sum(int(p["amount"]) for p in monitored), "reports": len(reports),
            "warnings": len(warnings),
            "warnings_by_kind": dict(sorted(Counter(w["kind"] for w in warnings).items())),
            "warnings_by_status": dict(sorted(Counter(w.get("status", "open") for w in warnings).items())),
            "projects_with_warnings": len({_pid(w) for w in warnings}),
            "units_with_warnings": len({w.get("unit") for w in warnings})}


def evaluation_summary(projects: dict[str, dict[str, Any]], evaluations: list[dict[str, Any]]) -> dict[str, Any]:
    """Self-evaluations, reviews, key evaluations (count, funds, scope), grades of the final scores."""
    keyed = [e for e in evaluations if e.get("key")]
    finals = [e["final_score"] for e in evaluations if e.get("final_score") is not None]
    return {"self_evaluated": sum(1 for e in evaluations if e.get("self_total") is not None),
            "reviewed": sum(1 for e in evaluations if e.get("review_score") is not None),
            "key_evaluated": len(keyed),
            "key_amount": sum(int(projects[_pid(e)]["amount"]) for e in keyed if _pid(e) in projects),
            "key_by_scope": dict(sorted(Counter(e["key"]["scope"] for e in keyed).items())),
            "key_by_kind": dict(sorted(Counter(e["key"]["kind"] for e in keyed).items())),
            "grades": dict(sorted(Counter(e["grade"] for e in evaluations if e.get("grade")).items())),
            "average_final_score": round(sum(finals) / len(finals), 2) if finals else None}


def yearly(year: int, projects: Iterable[dict[str, Any]], appraisals: list[dict[str, Any]],
           plans: dict[str, list[int]], reports: list[dict[str, Any]], warnings: list[dict[str, Any]],
           evaluations: list[dict[str, Any]], proposals: dict[str, Any]) -> dict[str, Any]:
    """The whole loop for a year as one JSON document."""
    by_id = {p["id"]: p for p in projects}
    return {"year": year,
            "projects": {"count": len(by_id), "units": len({p["unit"] for p in by_id.values()}),
                         "amount": sum(int(p["amount"]) for p in by_id.values())},
            "appraisal": appraisal_summary(appraisals),
            "monitoring": monitoring_summary(by_id, plans, reports, warnings),
            "evaluation": evaluation_summary(by_id, evaluations),
            "results": {"next_year": year + 1, **proposals["city"]},
            "units": proposals["units"]}


# --- chart data --------------------------------------------------------------------------------
def execution_curve(amount: int, plan: list[int], reports: list[dict[str, Any]]) -> dict[str, Any]:
    """Planned cumulative progress per month and the actual progress at each report date."""
    cum, planned = 0, []
    for i, v in enumerate(plan, start=1):
        cum += v
        planned.append({"month": i, "pct": pct(cum, amount)})
    actual = [{"as_of": r["as_of"], "pct": pct(int(r["spent"]), amount)} for r in sorted(reports, key=lambda r: r["as_of"])]
    return {"kind": "execution_curve", "amount": amount, "planned": planned, "actual": actual}


def achievement_bars(targets: list[dict[str, Any]], threshold: float) -> dict[str, Any]:
    """Achievement per core target of one assessed report (not reported rows shown as such)."""
    return {"kind": "achievement", "threshold": threshold,
            "bars": [{"row": t["row"], "name": t["name"], "rate": t["rate"], "status": t["status"]}
                     for t in targets if t.get("core")]}


def proposal_bars(units: list[dict[str, Any]], names: dict[str, str] | None = None, top: int = 30) -> dict[str, Any]:
    """The change proposed per unit (largest cuts first)."""
    rows = sorted(units, key=lambda u: u["change"])[:top]
    return {"kind": "proposal", "bars": [{"unit": u["unit"], "name": (names or {}).get(u["unit"], u["unit"]),
                                          "base_amount": u["base_amount"], "final_amount": u["final_amount"],
                                          "change": u["change"]} for u in rows]}


# --- SVG ---------------------------------------------------------------------------------------
_W, _H, _PAD = 640, 320, 48


def _svg(body: list[str], title: str, height: int = _H) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{_W}" height="{height}" viewBox="0 0 {_W} {height}" '
            f'font-family="sans-serif" font-size="12" role="img"><title>{escape(title)}</title>'
            f'<rect width="100%" height="100%" fill="#fff"/>'
            f'<text x="{_PAD}" y="20" font-size="14">{escape(title)}</text>' + "".join(body) + "</svg>")


def execution_svg(data: dict[str, Any], title: str) -> str:
    """Planned (line) vs actual (dots) execution progress over the months of the year."""
    x0, x1, y0, y1 = _PAD, _W - 16, _H - 32, 36
    top = max([100.0] + [p["pct"] for p in data["planned"]] + [a["pct"] for a in data["actual"]])

    def X(month: float) -> float:
        return x0 + (month - 1) / 11 * (x1 - x0)

    def Y(v: float) -> float:
        return y0 - v / top * (y0 - y1)
    body = [f'<line x1="{x0}" y1="{y0}" x2="{x1}" y2="{y0}" stroke="#888"/>',
            f'<line x1="{x0}" y1="{y0}" x2="{x0}" y2="{y1}" stroke="#888"/>']
    for v in (0, 50, 100):
        body.append(f'<text x="{x0 - 6}" y="{Y(v) + 4:.1f}" text-anchor="end">{v}%</text>')
    for m in range(1, 13):
        body.append(f'<text x="{X(m):.1f}" y="{y0 + 16}" text-anchor="middle">{m}月</text>')
    pts = " ".join(f"{X(p['month']):.1f},{Y(p['pct']):.1f}" for p in data["planned"])
    body.append(f'<polyline points="{pts}" fill="none" stroke="#1f77b4" stroke-width="2"><title>计划</title></polyline>')
    for a in data["actual"]:
        month = int(a["as_of"][5:7]) + (int(a["as_of"][8:10]) - 15) / 30
        body.append(f'<circle cx="{X(month):.1f}" cy="{Y(a["pct"]):.1f}" r="5" fill="#d62728">'
                    f'<title>{escape(a["as_of"])} 实际 {a["pct"]:g}%</title></circle>')
    body.append(f'<text x="{x1}" y="20" text-anchor="end" fill="#1f77b4">— 计划</text>'
                f'<text x="{x1 - 60}" y="20" text-anchor="end" fill="#d62728">● 实际</text>')
    return _svg(body, title)


def bars_svg(labels: list[str], values: list[float | None], title: str, unit: str = "%",
             threshold: float | None = None) -> str:
    """Horizontal bars (negative values to the left of zero); a dashed threshold line when given."""
    n = max(len(labels), 1)
    height = 44 + n * 22 + 16
    x_label, x0, x1 = 8, 200, _W - 60
    vals = [v for v in values if v is not None]
    lo, hi = min([0.0] + vals), max([0.0] + vals + ([threshold] if threshold is not None else []))
    span = (hi - lo) or 1.0

    def X(v: float) -> float:
        return x0 + (v - lo) / span * (x1 - x0)
    body = [f'<line x1="{X(0):.1f}" y1="36" x2="{X(0):.1f}" y2="{height - 16}" stroke="#888"/>']
    for i, (label, v) in enumerate(zip(labels, values)):
        y = 40 + i * 22
        body.append(f'<text x="{x_label}" y="{y + 13}">{escape(label[:16])}</text>')
        if v is None:
            body.append(f'<text x="{X(0) + 4:.1f}" y="{y + 13}" fill="#888">未报告</text>')
            continue
        a, b = sorted((X(0), X(v)))
        colour = "#d62728" if (threshold is not None and v < threshold) or (threshold is None and v < 0) else "#2ca02c"
        body.append(f'<rect x="{a:.1f}" y="{y}" width="{max(b - a, 1):.1f}" height="16" fill="{colour}">'
                    f'<title>{escape(label)}：{v:,.4g}{unit}</title></rect>'
                    f'<text x="{b + 4:.1f}" y="{y + 13}">{v:,.4g}{unit}</text>')
    if threshold is not None:
        body.append(f'<line x1="{X(threshold):.1f}" y1="36" x2="{X(threshold):.1f}" y2="{height - 16}" '
                    f'stroke="#ff7f0e" stroke-dasharray="4 3"/>')
    return _svg(body, title, height)


# --- xlsx --------------------------------------------------------------------------------------
def workbook(report: dict[str, Any], sheets: dict[str, tuple[list[str], list[list[Any]]]]) -> bytes:
    """The report as an .xlsx: a 总览 sheet of the summary, then one sheet per table given."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    wb = Workbook()
    ws = wb.active
    ws.title = "总览"
    ws.append([f"{report['year']} 年度预算绩效管理闭环报告"])
    ws["A1"].font = Font(bold=True, size=14)
    rows = [("项目数", report["projects"]["count"]), ("单位数", report["projects"]["units"]),
            ("项目预算（元）", report["projects"]["amount"]),
            ("事前评估项目数", report["appraisal"]["projects"]), ("申请金额（元）", report["appraisal"]["requested"]),
            ("核减金额（元）", report["appraisal"]["cut"]), ("核减率（%）", report["appraisal"]["cut_rate_pct"]),
            ("监控项目数", report["monitoring"]["projects"]), ("监控单位数", report["monitoring"]["units"]),
            ("监控资金（元）", report["monitoring"]["amount"]), ("预警数", report["monitoring"]["warnings"]),
            ("自评项目数", report["evaluation"]["self_evaluated"]), ("复核项目数", report["evaluation"]["reviewed"]),
            ("重点评价项目数", report["evaluation"]["key_evaluated"]),
            ("重点评价资金（元）", report["evaluation"]["key_amount"]),
            (f"{report['results']['next_year']} 年预算基数（元）", report["results"]["base_amount"]),
            (f"{report['results']['next_year']} 年建议金额（元）", report["results"]["final_amount"]),
            ("调整合计（元）", report["results"]["change"])]
    for k, v in rows:
        ws.append([k, v])
    ws.column_dimensions["A"].width = 28
    ws.column_dimensions["B"].width = 20
    for name, (header, body) in sheets.items():
        s = wb.create_sheet(name[:31])
        s.append(header)
        for c in s[1]:
            c.font = Font(bold=True)
        for r in body:
            s.append(r)
        for col in s.columns:   # readable widths (CJK counts double) and thousands separators for 元
            cells = list(col)
            width = max(len(str(c.value or "")) + sum(1 for ch in str(c.value or "") if ord(ch) > 0x2E80)
                        for c in cells[:200])
            s.column_dimensions[cells[0].column_letter].width = min(max(width + 2, 8), 48)
            if "元" in str(cells[0].value):
                for c in cells[1:]:
                    c.number_format = "#,##0"
        s.freeze_panes = "A2"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
