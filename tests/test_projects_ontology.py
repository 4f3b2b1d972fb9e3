"""The work classes in the vocabulary and their SHACL shapes: a well-formed project graph conforms,
a broken one is refused with the shapes' Chinese messages."""
from __future__ import annotations

from pathlib import Path

from pyshacl import validate
from rdflib import Graph

ONTO = Path(__file__).resolve().parent.parent / "ontology"
DATA = """
@prefix zb: <https://w3id.org/zhibiao/ontology#> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix ex: <https://example.org/> .
ex:u a zb:BudgetUnit ; zb:code "106" ; skos:prefLabel "市教育局" ; zb:owns ex:p .
ex:p a zb:Project ; skos:prefLabel "教师培训" ; zb:year 2025 ; zb:amountYuan 1500000 ;
     zb:projectStatus zb:approved ; zb:hasTable ex:t .
ex:t a zb:TargetTable ; zb:revision 1 ; zb:hasRow ex:r .
ex:r a zb:Target ; skos:prefLabel "培训人次" ; zb:valueText "≥1000" .
ex:e a zb:WorkflowEvent ; zb:about ex:p ; zb:actor "rev" .
"""


def _check(text: str) -> tuple[bool, str]:
    data = Graph().parse(data=text, format="turtle")
    shapes = Graph().parse(ONTO / "work_shapes.ttl", format="turtle")
    ok, _, report = validate(data, shacl_graph=shapes, ont_graph=Graph().parse(ONTO / "zhibiao.ttl"),
                             inference="none")
    return ok, report


def test_work_shapes_accept_a_project_and_refuse_broken_ones() -> None:
    assert _check(DATA)[0]
    broken = DATA.replace("zb:amountYuan 1500000", "zb:amountYuan -5").replace("zb:owns ex:p .", ".") \
        .replace("zb:projectStatus zb:approved", "zb:projectStatus zb:lost")
    ok, report = _check(broken)
    assert not ok
    for message in ("不能为负", "只属于一个预算单位", "状态应为"):
        assert message in report
