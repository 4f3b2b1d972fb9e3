"""The performance loop over HTTP (docs/loop_api.md has every body): appraisal, monitoring and
warnings, evaluation, budget proposals and the yearly report with its charts.

Every route needs a bearer token. The loop's services decide what a role may do (403 before any
lookup), hide other units' projects (404, as for a project that does not exist), validate (422 with
the field) and refuse a write that lost a race (409). Every write is audited in the same commit."""
from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from engine.library import Library
from graph.store import GraphStore
from loop import service

from ..auth import User
from ..deps import get_library

router = APIRouter(tags=["绩效闭环：评估、监控、评价与结果应用"])

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SVG = "image/svg+xml"
ProjectId = Annotated[str, Path(max_length=100, description="项目编号，如 PRJ-3f9a2c1b7d")]
WarningId = Annotated[str, Path(max_length=300, description="预警编号（GET /warnings 的 id）")]
Year = Annotated[int, Path(ge=2000, le=2100, description="预算年度")]
Date = Annotated[str, StringConstraints(pattern=r"^\d{4}-\d{2}-\d{2}$")]
Text = Annotated[str, StringConstraints(max_length=2000)]
Required = Annotated[str, StringConstraints(min_length=1, max_length=2000)]
Money = Annotated[int, Field(ge=0, le=10 ** 13, description="金额（元，整数）")]
Score = Annotated[float, Field(ge=0, le=100, allow_inf_nan=False)]
Format = Annotated[Literal["json", "svg"], Query(description="json：图表数据；svg：图片")]


def get_store(lib: Annotated[Library, Depends(get_library)]) -> GraphStore:
    return lib.store


Store = Annotated[GraphStore, Depends(get_store)]


class Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")


class PlanIn(Strict):
    months: Annotated[list[Money], Field(min_length=12, max_length=12, description="1–12 月的用款计划（元）")]


class Actual(Strict):
    row: Annotated[int, Field(ge=0, le=499, description="目标表行号（从 0 起）")]
    actual: Annotated[str, StringConstraints(max_length=200)] | Annotated[float, Field(allow_inf_nan=False)] | None = None
    rate: Score | None = Field(None, description="无法由数值计算时，评价人判定的完成率（0–100，仅自评）")


class ProgressIn(Strict):
    as_of: Date = Field(description="截至日期 YYYY-MM-DD")
    spent: Money = Field(description="截至该日累计支出（元）")
    actuals: Annotated[list[Actual], Field(max_length=500)] = []
    explanation: Text | None = None


class ExplainIn(Strict):
    explanation: Required


class ActIn(Strict):
    action: Literal["urge", "adjust", "suspend", "close"]
    comment: Required


class CostItem(Strict):
    name: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    standard: Annotated[str, StringConstraints(max_length=50)] | None = None
    quantity: Annotated[float, Field(ge=0, le=1e13, allow_inf_nan=False)]
    unit_cost: Annotated[float, Field(ge=0, le=1e13, allow_inf_nan=False)]


class Cut(Strict):
    amount: Money
    reason: Required
    item: Annotated[int, Field(ge=0, le=199)] | None = None


class AppraisalScores(Strict):
    necessity: Score
    economy: Score
    target_quality: Score | None = Field(None, description="绩效目标合理性；不填时取项目目标表的审核得分")
    feasibility: Score


class AppraisalIn(Strict):
    requested: Money
    approved: Money
    scores: AppraisalScores
    cost_items: Annotated[list[CostItem], Field(max_length=200)] = []
    cuts: Annotated[list[Cut], Field(max_length=200)] = []
    opinion: Annotated[str, StringConstraints(max_length=5000)] | None = None


class SelfEvaluationIn(Strict):
    actuals: Annotated[list[Actual], Field(max_length=500)] = []
    spent: Money


class ReviewIn(Strict):
    score: Score
    comment: Required


class KeyEvaluationIn(Strict):
    kind: Literal["bureau", "third_party"]
    scope: Literal["project", "spending_standard"]
    standard: Annotated[str, StringConstraints(max_length=50)] | None = Field(
        None, description="评价的支出标准编码（ontology/data/spending_standards.yaml），scope 为 spending_standard 时填写")
    evaluator: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    method: Annotated[str, StringConstraints(min_length=1, max_length=500)]
    score: Score
    findings: Annotated[str, StringConstraints(min_length=1, max_length=5000)]
    recommendations: Annotated[str, StringConstraints(min_length=1, max_length=5000)]


class AdjustIn(Strict):
    amount: Money
    reason: Required


def _chart(data: dict[str, Any], svg: str, fmt: str) -> Any:
    return Response(svg, media_type=SVG) if fmt == "svg" else data


_CHART = {200: {"content": {"application/json": {}, SVG: {}}, "description": "图表数据（json）或 SVG 图片"}}


# --- appraisal ----------------------------------------------------------------------------------
@router.get("/projects/{pid}/appraisal", summary="事前绩效评估结果")
def get_appraisal(pid: ProjectId, who: User, store: Store) -> dict[str, Any]:
    return service.get_appraisal(store, who, pid)


@router.put("/projects/{pid}/appraisal", summary="录入事前评估：四维评分、成本核查、核定金额与每笔核减理由（审核人员）")
def put_appraisal(pid: ProjectId, body: AppraisalIn, who: User, store: Store) -> dict[str, Any]:
    return service.put_appraisal(store, who, pid, body.model_dump())


# --- monitoring ---------------------------------------------------------------------------------
@router.put("/projects/{pid}/plan", summary="填报月度用款计划（单位，本单位项目）")
def put_plan(pid: ProjectId, body: PlanIn, who: User, store: Store) -> dict[str, Any]:
    return service.set_plan(store, who, pid, body.months)


@router.get("/projects/{pid}/progress", summary="用款计划、全部监控报告与执行曲线")
def get_progress(pid: ProjectId, who: User, store: Store) -> dict[str, Any]:
    return service.progress(store, who, pid)


@router.post("/projects/{pid}/progress", status_code=201,
             summary="报告运行监控情况：截至日期的支出与核心指标实际值；返回评估结果与触发的预警（单位）")
def post_progress(pid: ProjectId, body: ProgressIn, who: User, store: Store) -> dict[str, Any]:
    return service.report_progress(store, who, pid, body.model_dump())


@router.get("/projects/{pid}/progress/chart", summary="执行曲线：计划与实际（json 或 svg）", responses=_CHART)
def progress_chart(pid: ProjectId, who: User, store: Store, format: Format = "json") -> Any:
    return _chart(*service.execution_chart(store, who, pid), format)


@router.get("/projects/{pid}/progress/{as_of}/achievement", summary="某次报告的核心指标完成率（json 或 svg）",
            responses=_CHART)
def achievement_chart(pid: ProjectId, as_of: Annotated[str, Path(pattern=r"^\d{4}-\d{2}-\d{2}$")], who: User,
                      store: Store, format: Format = "json") -> Any:
    return _chart(*service.achievement_chart(store, who, pid, as_of), format)


@router.get("/warnings", summary="预警列表：财政看全部单位，单位只看本单位；附按单位汇总")
def list_warnings(who: User, store: Store,
                  year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
                  unit: Annotated[str | None, Query(max_length=20, description="预算单位编码")] = None,
                  status: Annotated[Literal["open", "explained", "acted", "closed"] | None, Query()] = None,
                  kind: Annotated[Literal["execution_deviation", "target_shortfall"] | None, Query()] = None,
                  project: Annotated[str | None, Query(max_length=100)] = None,
                  offset: Annotated[int, Query(ge=0, le=100000)] = 0,
                  limit: Annotated[int, Query(ge=1, le=500)] = 100) -> dict[str, Any]:
    return service.list_warnings(store, who, year, unit or None, status, kind, project or None, offset, limit)


@router.post("/warnings/{wid}/explanation", summary="单位说明预警原因（本单位）")
def explain_warning(wid: WarningId, body: ExplainIn, who: User, store: Store) -> dict[str, Any]:
    return service.explain_warning(store, who, wid, body.explanation)


@router.post("/warnings/{wid}/actions", summary="财政处理预警：督促、调整、暂缓拨付或关闭（审核人员）")
def act_on_warning(wid: WarningId, body: ActIn, who: User, store: Store) -> dict[str, Any]:
    return service.act_on_warning(store, who, wid, body.action, body.comment)


# --- evaluation ---------------------------------------------------------------------------------
@router.get("/projects/{pid}/evaluation", summary="绩效评价：自评、复核、重点评价与最终得分")
def get_evaluation(pid: ProjectId, who: User, store: Store) -> dict[str, Any]:
    return service.get_evaluation(store, who, pid)


@router.put("/projects/{pid}/evaluation/self", summary="填报绩效自评表（单位，本单位项目）")
def put_self_evaluation(pid: ProjectId, body: SelfEvaluationIn, who: User, store: Store) -> dict[str, Any]:
    return service.put_self_evaluation(store, who, pid, body.model_dump())


@router.put("/projects/{pid}/evaluation/review", summary="财政复核得分（审核人员）")
def put_review(pid: ProjectId, body: ReviewIn, who: User, store: Store) -> dict[str, Any]:
    return service.put_review(store, who, pid, body.model_dump())


@router.put("/projects/{pid}/evaluation/key", summary="重点评价：财政或受托第三方（审核人员）")
def put_key_evaluation(pid: ProjectId, body: KeyEvaluationIn, who: User, store: Store) -> dict[str, Any]:
    return service.put_key_evaluation(store, who, pid, body.model_dump())


# --- results ------------------------------------------------------------------------------------
@router.get("/budget/proposals", summary="下一年度预算调整建议：逐项目、按单位与全市合计（分档规则见 loop/data/budget_rules.yaml）")
def get_proposals(who: User, store: Store, year: Annotated[int, Query(ge=2000, le=2100, description="评价年度")],
                  unit: Annotated[str | None, Query(max_length=20)] = None) -> dict[str, Any]:
    return service.proposals(store, who, year, unit or None)


@router.put("/budget/proposals/{pid}", summary="调整某项目的建议金额（必须说明理由，审核人员）")
def adjust_proposal(pid: ProjectId, body: AdjustIn, who: User, store: Store) -> dict[str, Any]:
    return service.adjust_proposal(store, who, pid, body.model_dump())


# --- reports ------------------------------------------------------------------------------------
@router.get("/reports/{year}.xlsx", summary="年度绩效闭环报告（.xlsx）", response_class=Response,
            responses={200: {"content": {XLSX: {}}, "description": "年度报告 .xlsx"}})
async def report_xlsx(year: Year, who: User, store: Store) -> Response:
    data = await run_in_threadpool(service.yearly_workbook, store, who, year)
    return Response(data, media_type=XLSX,
                    headers={"Content-Disposition": f'attachment; filename="loop-report-{year}.xlsx"'})


@router.get("/reports/{year}/charts/proposals", summary="按单位的预算调整建议图（json 或 svg）", responses=_CHART)
def proposals_chart(year: Year, who: User, store: Store, format: Format = "json") -> Any:
    return _chart(*service.proposal_chart(store, who, year), format)


@router.get("/reports/{year}", summary="年度绩效闭环汇总（JSON）：事前评估、运行监控、绩效评价、结果应用")
def report_json(year: Year, who: User, store: Store) -> dict[str, Any]:
    return service.yearly_report(store, who, year)
