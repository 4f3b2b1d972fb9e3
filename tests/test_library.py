"""The bundled library: built reproducibly from the curated sources, complete, and lossless through
Turtle (SHACL-conforming) into an empty store."""
from __future__ import annotations

from collections import Counter, defaultdict
from pathlib import Path

import pytest

from engine.export import export_text
from engine.library import Library
from graph import open_store
from loaders import load_file
from ontology import rdf
from ontology.build import LIBRARY_FILE, library_document, render
from ontology.catalogue import load_catalogue
from ontology.rules import field_rules
from ontology.vocab import category_index


@pytest.fixture(scope="module")
def catalogue():
    return load_catalogue()


def test_library_file_is_what_the_sources_give(catalogue) -> None:
    assert not [p for p in catalogue.problems if p.severity == "error"]
    assert LIBRARY_FILE.read_text(encoding="utf-8") == render(library_document(catalogue)), \
        "ontology/library/library.json is stale: run `zhibiao build-library`"


def test_shacl_stamp_is_current() -> None:
    """The stamp lets a seed skip re-validation; it must certify this exact file and these rules."""
    import hashlib
    import json
    from ontology.build import STAMP_FILE
    stamp = json.loads(STAMP_FILE.read_text(encoding="utf-8"))
    assert stamp["conforms"] is True
    assert stamp["sha256"] == hashlib.sha256(LIBRARY_FILE.read_bytes()).hexdigest()
    assert stamp["shapes_sha256"] == rdf.shapes_hash(), "rules changed: run `zhibiao build-library`"


def test_a_modified_copy_of_the_library_is_fully_validated(tmp_path: Path, sqlite_store) -> None:
    from loaders import LoadError
    text = LIBRARY_FILE.read_text(encoding="utf-8").replace('"unit": "平方米"', '"unit": "平方米米"', 1)
    copy = tmp_path / "library.json"
    copy.write_text(text, encoding="utf-8")
    with pytest.raises(LoadError) as info:
        load_file(copy, sqlite_store)
    assert info.value.report.errors[0].code == "bad_unit" and info.value.report.errors[0].row
    assert sqlite_store.version() == 0


def test_counts_and_coverage(catalogue) -> None:
    industry = [i for i in catalogue.indicators if i.scope == "industry"]
    assert len(industry) == 10285
    assert len({i.sector for i in industry}) >= 18
    by_type = defaultdict(set)
    for i in industry:
        by_type[i.project_types[0]].add(category_index()[i.category].kind)
    required = set(field_rules()["required_kinds_per_project_type"])
    assert all(required <= kinds for kinds in by_type.values())
    pairs = Counter((i.name, pt) for i in industry for pt in i.project_types)
    assert max(pairs.values()) == 1
    general_cats = {i.category for i in catalogue.indicators if i.scope == "general"}
    assert len(general_cats) == 21  # every general category has general indicators


def test_ids_do_not_depend_on_order(catalogue, tmp_path: Path) -> None:
    from ontology.catalogue import CATALOGUE_DIR
    files = sorted(CATALOGUE_DIR.glob("*.txt"))
    reordered = load_catalogue(list(reversed(files)))
    assert {i.id for i in reordered.indicators} == {i.id for i in catalogue.indicators}


def test_seeded_stats(seeded_store) -> None:
    stats = Library(seeded_store).stats()
    assert stats["general_categories"] == 21 and stats["industry_indicators"] == 10285
    assert stats["sectors"] >= 18 and stats["library_version"] == 1


def test_project_type_traversal_includes_general_indicators(seeded_store) -> None:
    items = Library(seeded_store).indicators_for_project_type("校舍维修改造")
    scopes = Counter(i["scope"] for i in items)
    assert scopes["industry"] >= 12 and scopes["general"] >= 20
    assert {i["category"]["code"] for i in items if i["scope"] == "industry"} >= {"OUT-QTY", "OUT-QUA", "OUT-TIME", "SAT-SVC"}


@pytest.mark.slow
def test_turtle_export_conforms_and_round_trips(seeded_store, tmp_path: Path) -> None:
    from rdflib import Graph
    ttl = export_text(seeded_store, "ttl")
    assert rdf.validate(Graph().parse(data=ttl, format="turtle")) == []
    path = tmp_path / "library.ttl"
    path.write_text(ttl, encoding="utf-8")
    with open_store(f"sqlite:///{tmp_path / 'rt.db'}") as other:
        load_file(path, other, shacl=False)  # conformance was just shown on the whole export
        assert Library(other).stats() == Library(seeded_store).stats()
        a = {n.id: n.content_hash() for n in seeded_store.snapshot()[1]}
        b = {n.id: n.content_hash() for n in other.snapshot()[1]}
        assert a == b


def test_jsonld_round_trip(seeded_store, tmp_path: Path) -> None:
    path = tmp_path / "library.jsonld"
    path.write_text(export_text(seeded_store, "jsonld"), encoding="utf-8")
    with open_store(f"sqlite:///{tmp_path / 'rt.db'}") as other:
        load_file(path, other, shacl=False)
        assert {n.id: n.content_hash() for n in other.snapshot()[1]} == \
            {n.id: n.content_hash() for n in seeded_store.snapshot()[1]}


NEW_TYPES = ("公用经费和日常运转", "药品化妆品医疗器械抽检与监管", "党校主体班培训", "民办幼儿园补助", "畜禽养殖补贴",
             "宗教事务和寺庙管理", "生态岗位", "极高海拔生态搬迁", "内地西藏班", "一村一幼", "雪顿节和藏历新年活动",
             "拉萨河治理", "南北山绿化", "人畜分离")


def test_the_citys_common_and_plateau_types_are_there(catalogue) -> None:
    """issue 11: types units of the city file every year, each with indicators of every kind and
    at least one qualitative indicator whose value states its criterion (a standard or a score)."""
    from review.values import parse_value
    names = {pt.name: pt.id for pt in catalogue.project_types.values()}
    required = set(field_rules()["required_kinds_per_project_type"])
    for t in NEW_TYPES:
        inds = [i for i in catalogue.indicators if names[t] in i.project_types]
        assert len(inds) >= 14 and required <= {category_index()[i.category].kind for i in inds}, t
    qualitative = [i for i in catalogue.indicators if i.value_kind == "定性" and i.scope == "industry"]
    assert all(parse_value(i.typical_value or "").kind in ("standard", "quantity") for i in qualitative), \
        [(i.name, i.typical_value) for i in qualitative if parse_value(i.typical_value or "").kind not in
         ("standard", "quantity")]


def test_rates_are_not_written_at_least_100_percent(catalogue) -> None:
    """"≥100%" of a rate that cannot exceed 100% is "=100%"; only ratios of this year to a base that
    may exceed it (保值增值率, 规模稳定率, 收支平衡率, 不低于…水平) keep ≥."""
    import re
    ratio = re.compile("保值|稳定率|平衡率|不低于")
    bad = [i.name for i in catalogue.indicators if i.unit == "%" and i.direction == "≥"
           and i.typical_value == "100" and not ratio.search(i.name)]
    assert not bad, bad


def test_region_rules_name_existing_types_and_regions(catalogue) -> None:
    from search.regions import region_data
    data = region_data()
    names = {pt.name for pt in catalogue.project_types.values()}
    assert set(data["project_types"]) <= names
    assert data["city"] in data["regions"]
    assert all(r["parent"] is None or r["parent"] in data["regions"] for r in data["regions"].values())
    lhasa = [n for n, r in data["regions"].items() if r["parent"] == data["city"]]
    assert lhasa and not any(data["regions"][n].get("border") for n in lhasa)  # no Lhasa county is a border county
