"""One conformance suite for every store backend: each test runs on SQLite and on Neo4j."""
from __future__ import annotations

import inspect

import pytest

from graph import ChangeSet, GraphStore, LoadRecord, Node, VersionConflict, Write, WriteConflict
from graph.sqlite_store import SQLiteStore


def _rec(source: str = "test") -> LoadRecord:
    return LoadRecord(source=source, file_hash="0" * 64, format="test", counts={"rows": 0})


def _nodes() -> list[Node]:
    return [
        Node("SEC-205", "Sector", {"code": "205", "name": "教育"}),
        Node("FLD-1", "Field", {"name": "义务教育"}, [("PART_OF", "SEC-205")]),
        Node("PT-1", "ProjectType", {"name": "校舍维修改造", "keywords": ["校舍", "危房"]},
             [("IN_SECTOR", "SEC-205"), ("PART_OF", "FLD-1")]),
        Node("OUT", "Level1", {"name": "产出指标", "order": 0}),
        Node("OUT-QTY", "Category", {"name": "数量指标", "order": 0}, [("PART_OF", "OUT")]),
        Node("IND-1", "Indicator", {"name": "维修改造面积", "scope": "industry", "status": "active",
                                    "unit": "平方米", "synonyms": ["校舍改造面积"], "typical_value": None},
             [("APPLIES_TO", "PT-1"), ("IN_CATEGORY", "OUT-QTY"), ("IN_SECTOR", "SEC-205")]),
        Node("IND-2", "Indicator", {"name": "师生满意度", "scope": "industry", "status": "active",
                                    "unit": "%", "synonyms": [], "typical_value": "90"},
             [("APPLIES_TO", "PT-1"), ("IN_SECTOR", "SEC-205")]),
    ]


def test_empty_store(fresh_store: GraphStore) -> None:
    assert fresh_store.version() == 0
    assert fresh_store.is_empty()
    assert fresh_store.history() == []
    assert fresh_store.snapshot() == (0, [])
    assert fresh_store.get("nope") is None
    assert fresh_store.list("Indicator").total == 0


def test_apply_and_read_back(fresh_store: GraphStore) -> None:
    rec = fresh_store.apply(ChangeSet(_nodes()), _rec())
    assert (rec.version_before, rec.version_after) == (0, 1)
    assert rec.counts["written"] == 7 and rec.at and rec.seq >= 1
    got = fresh_store.get("IND-1")
    assert got is not None and got.label == "Indicator"
    assert got.props == _nodes()[5].props
    assert sorted(got.edges) == sorted(_nodes()[5].edges)
    many = fresh_store.get_many(["IND-1", "IND-2", "missing"])
    assert set(many) == {"IND-1", "IND-2"}
    assert fresh_store.hashes(["IND-1", "missing"]) == {"IND-1": _nodes()[5].content_hash()}


def test_list_filters_and_pagination(fresh_store: GraphStore) -> None:
    fresh_store.apply(ChangeSet(_nodes()), _rec())
    page = fresh_store.list("Indicator")
    assert page.total == 2 and [n.id for n in page.items] == ["IND-1", "IND-2"]
    assert fresh_store.list("Indicator", offset=1, limit=1).items[0].id == "IND-2"
    assert fresh_store.list("Indicator", {"unit": "%"}).total == 1
    assert fresh_store.list("Indicator", links={"IN_CATEGORY": "OUT-QTY"}).items[0].id == "IND-1"
    assert fresh_store.list("Indicator", links={"APPLIES_TO": "PT-1", "IN_SECTOR": "SEC-205"}).total == 2
    assert fresh_store.list("Indicator", {"name": "'; DROP TABLE nodes; --"}).total == 0
    assert fresh_store.count("Indicator", {"status": "active"}) == 2
    assert fresh_store.count("Sector") == 1


def test_neighbours_both_directions(fresh_store: GraphStore) -> None:
    fresh_store.apply(ChangeSet(_nodes()), _rec())
    nbs = {(n.edge, n.direction, n.node.id) for n in fresh_store.neighbours("PT-1")}
    assert ("PART_OF", "out", "FLD-1") in nbs
    assert ("APPLIES_TO", "in", "IND-1") in nbs and ("APPLIES_TO", "in", "IND-2") in nbs


def test_idempotent_apply_keeps_version(fresh_store: GraphStore) -> None:
    fresh_store.apply(ChangeSet(_nodes()), _rec())
    rec = fresh_store.apply(ChangeSet(_nodes()), _rec("again"))
    assert rec.version_before == rec.version_after == 1
    assert rec.counts["written"] == 0
    assert [h.source for h in fresh_store.history()] == ["test", "again"]


def test_upsert_replaces_props_and_edges(fresh_store: GraphStore) -> None:
    fresh_store.apply(ChangeSet(_nodes()), _rec())
    changed = Node("IND-1", "Indicator", {"name": "维修改造校舍面积", "scope": "industry", "status": "deprecated",
                                          "unit": "平方米", "synonyms": [], "typical_value": None},
                   [("IN_CATEGORY", "OUT-QTY")])
    rec = fresh_store.apply(ChangeSet([changed]), _rec())
    assert rec.version_after == 2
    got = fresh_store.get("IND-1")
    assert got.props["status"] == "deprecated" and got.edges == [("IN_CATEGORY", "OUT-QTY")]
    assert fresh_store.list("Indicator", links={"APPLIES_TO": "PT-1"}).total == 1


def test_failing_batch_leaves_nothing(fresh_store: GraphStore) -> None:
    fresh_store.apply(ChangeSet(_nodes()[:3]), _rec())
    many = [Node(f"IND-X{i:05d}", "Indicator", {"name": f"指标{i}", "status": "active"}, [("IN_SECTOR", "SEC-205")])
            for i in range(1200)]

    def boom(done: int, total: int) -> None:
        if done >= 500:
            raise RuntimeError("模拟中途失败")
    with pytest.raises(RuntimeError):
        fresh_store.apply(ChangeSet(many), _rec("broken"), progress=boom)
    assert fresh_store.version() == 1
    assert fresh_store.count("Indicator") == 0
    assert [h.source for h in fresh_store.history()] == ["test"]
    rec = fresh_store.apply(ChangeSet(many[:10]), _rec("next"))
    assert rec.version_after == 2 and fresh_store.count("Indicator") == 10


def test_version_conflict_is_refused(fresh_store: GraphStore) -> None:
    fresh_store.apply(ChangeSet(_nodes()[:3]), _rec())
    with pytest.raises(VersionConflict):
        fresh_store.apply(ChangeSet(_nodes()[3:], base_version=0), _rec())
    assert fresh_store.version() == 1


def test_snapshot_and_history_restore(fresh_store: GraphStore) -> None:
    fresh_store.apply(ChangeSet(_nodes()), _rec())
    version, nodes = fresh_store.snapshot()
    assert version == 1 and sorted(n.id for n in nodes) == sorted(n.id for n in _nodes())
    hist = fresh_store.history()
    fresh_store.restore_history(hist + [LoadRecord("x", "1" * 64, "json", {"rows": 1}, 1, 7, "2026-01-01T00:00:00+00:00", 99)], 7)
    assert fresh_store.version() == 7
    assert fresh_store.history()[-1].seq == 99


def test_unicode_and_odd_text_round_trip(fresh_store: GraphStore) -> None:
    odd = Node("IND-U", "Indicator", {"name": "𠀀生僻字‍与 emoji 🚸 \"引号\" 'q' \\ ${x} {{y}}", "status": "active",
                                      "synonyms": ["MATCH (n) DETACH DELETE n"]}, [])
    fresh_store.apply(ChangeSet([odd]), _rec())
    assert fresh_store.get("IND-U").props == odd.props


def test_library_round_trip_through_turtle(fresh_store: GraphStore, mini_library) -> None:
    from engine.export import export_text
    from loaders import load_file
    load_file(mini_library, fresh_store)
    ttl = export_text(fresh_store, "ttl")
    other = SQLiteStore(":memory:")
    path = mini_library.parent / "rt.ttl"
    path.write_text(ttl, encoding="utf-8")
    load_file(path, other)
    a = {n.id: n.content_hash() for n in fresh_store.snapshot()[1]}
    b = {n.id: n.content_hash() for n in other.snapshot()[1]}
    assert a == b and len(a) > 100


def test_every_backend_has_the_whole_interface() -> None:
    from graph.store import GraphStore as Base
    abstract = {name for name, f in inspect.getmembers(Base) if getattr(f, "__isabstractmethod__", False)}
    backends = [SQLiteStore]
    try:
        from graph.neo4j_store import Neo4jStore
        backends.append(Neo4jStore)
    except ImportError:
        pass
    for cls in backends:
        missing = {m for m in abstract if getattr(getattr(cls, m), "__isabstractmethod__", False)}
        assert not missing, f"{cls.__name__} lacks {missing}"


# --- the work graph: guarded commits (projects, accounts, audit) ------------------------------------------
def _project(rev: int, **extra) -> Node:
    return Node("PRJ-1", "Project", {"name": "校舍维修", "unit": "101", "revision": rev, **extra},
                [("HAS_TABLE", f"PRJ-1/r{rev}")] if rev else [])


def test_commit_writes_work_nodes_outside_the_library(fresh_store: GraphStore) -> None:
    fresh_store.apply(ChangeSet(_nodes()), _rec())
    unit = Node("UNIT-101", "BudgetUnit", {"code": "101", "name": "市教育局"})
    fresh_store.commit(Write([unit, _project(0)], links=[("UNIT-101", "OWNS", "PRJ-1")],
                             expect={"PRJ-1": None}))
    assert fresh_store.version() == 1 and len(fresh_store.history()) == 1  # library untouched
    assert fresh_store.get("PRJ-1").props["revision"] == 0
    assert fresh_store.get("UNIT-101").edges == [("OWNS", "PRJ-1")]
    assert fresh_store.list("Project", {"unit": "101"}).total == 1
    lib_ids = {n.id for n in fresh_store.snapshot()[1]}
    assert "PRJ-1" not in lib_ids and "IND-1" in lib_ids
    assert {"PRJ-1", "UNIT-101"} <= {n.id for n in fresh_store.snapshot(include_work=True)[1]}
    from engine.export import export_text
    assert "PRJ-1" not in export_text(fresh_store, "json") and "IND-1" in export_text(fresh_store, "json")
    # a link adds an edge to an existing node without replacing its other edges
    fresh_store.commit(Write([Node("PRJ-2", "Project", {"name": "x", "unit": "101", "revision": 0})],
                             links=[("UNIT-101", "OWNS", "PRJ-2")]))
    assert fresh_store.get("UNIT-101").edges == [("OWNS", "PRJ-1"), ("OWNS", "PRJ-2")]
    assert fresh_store.count("Project") == 2


def test_commit_guard_refuses_and_writes_nothing(fresh_store: GraphStore) -> None:
    fresh_store.commit(Write([_project(0)]))
    table = Node("PRJ-1/r1", "TargetTable", {"revision": 1}, [("USES", "nowhere")])
    fresh_store.commit(Write([_project(1), table], expect={"PRJ-1": {"revision": 0}}))
    with pytest.raises(WriteConflict) as e:  # stale: still based on revision 0
        fresh_store.commit(Write([_project(1, name="覆盖"), Node("EVT-x", "Event", {})],
                                 expect={"PRJ-1": {"revision": 0}}))
    assert e.value.current == {"revision": 1} and e.value.node_id == "PRJ-1"
    assert fresh_store.get("PRJ-1").props["name"] == "校舍维修" and fresh_store.get("EVT-x") is None
    with pytest.raises(WriteConflict) as e:  # must not exist
        fresh_store.commit(Write([_project(0)], expect={"PRJ-1": None}))
    assert e.value.current == {}
    with pytest.raises(WriteConflict) as e:  # guard on a node that is not there
        fresh_store.commit(Write([Node("EVT-y", "Event", {})], expect={"PRJ-9": {"revision": 0}}))
    assert e.value.current is None and fresh_store.get("EVT-y") is None
    assert fresh_store.version() == 0 and fresh_store.history() == []


def test_concurrent_guarded_writes_exactly_one_wins(fresh_store: GraphStore) -> None:
    """Eight writers read revision 1 and each tries to write revision 2: one succeeds, seven conflict."""
    import threading
    fresh_store.commit(Write([_project(1)]))
    barrier = threading.Barrier(8)
    results: list[str] = []

    def writer(i: int) -> None:
        barrier.wait()
        try:
            fresh_store.commit(Write([_project(2, name=f"writer-{i}"), Node(f"EVT-{i}", "Event", {"by": i})],
                                     expect={"PRJ-1": {"revision": 1}}))
            results.append(f"won-{i}")
        except WriteConflict as e:
            assert e.current == {"revision": 2}
            results.append("conflict")
    threads = [threading.Thread(target=writer, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    winners = [r for r in results if r.startswith("won")]
    assert len(winners) == 1 and results.count("conflict") == 7
    i = winners[0].split("-")[1]
    assert fresh_store.get("PRJ-1").props["name"] == f"writer-{i}"
    assert [n.id for n in fresh_store.list("Event").items] == [f"EVT-{i}"]


def test_migrate_carries_the_work_graph(fresh_store: GraphStore) -> None:
    from engine.migrate import migrate
    fresh_store.apply(ChangeSet(_nodes()), _rec())
    fresh_store.commit(Write([_project(0)]))
    other = SQLiteStore(":memory:")
    migrate(fresh_store, other)
    assert other.get("PRJ-1").props == _project(0).props and other.version() == 1


def test_commit_upsert_replaces_only_the_changed_edges(fresh_store: GraphStore) -> None:
    fresh_store.apply(ChangeSet(_nodes()), _rec())
    t = Node("T-1", "Target", {"name": "x"}, [("IN_CATEGORY", "OUT-QTY"), ("USES", "IND-1")])
    fresh_store.commit(Write([t]))
    fresh_store.commit(Write([Node("T-1", "Target", {"name": "y"}, [("USES", "IND-1"), ("USES", "IND-2")])]))
    got = fresh_store.get("T-1")
    assert got.props == {"name": "y"} and got.edges == [("USES", "IND-1"), ("USES", "IND-2")]
    assert {(n.edge, n.direction, n.node.id) for n in fresh_store.neighbours("OUT-QTY")} == \
        {("PART_OF", "out", "OUT"), ("IN_CATEGORY", "in", "IND-1")}
