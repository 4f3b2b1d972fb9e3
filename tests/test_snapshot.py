"""One snapshot per library version (engine/snapshot.py): built from one read, shared by the
readers, replaced when the version moves (at once, or in the background for a server)."""
from __future__ import annotations

import time
from pathlib import Path

from engine.library import Library
from engine.snapshot import snapshot_of
from review.classify import index_for, index_from_snapshot


def _load_one_more(store, tmp_path: Path) -> None:
    from loaders import load_file
    path = tmp_path / "one.csv"
    path.write_text("三级指标,二级指标,计量单位,指标值,指标解释,计算公式,指标值设定依据\n"
                    "快照测试培训人次,数量指标,人次,≥100,测试用的通用指标,累计人次,计划标准\n", encoding="utf-8")
    load_file(path, store, shacl=False)


def test_one_snapshot_per_version_shared_by_its_readers(mini_store, tmp_path: Path) -> None:
    lib = Library(mini_store)
    snap = snapshot_of(mini_store)
    assert snapshot_of(mini_store) is snap                       # same version: the same object
    assert index_for(lib) is snap.derived("review_index", index_from_snapshot)   # review reads through it
    some = next(iter(snap.indicators))
    assert snap.projections[some] == lib.describe(mini_store.get(some))
    assert snap.values[some].raw == (mini_store.get(some).props.get("typical_value") or "")
    _load_one_more(mini_store, tmp_path)
    new = snapshot_of(mini_store)
    assert new is not snap and new.version == mini_store.version() == snap.version + 1
    assert any(p["name"] == "快照测试培训人次" for p in new.projections.values())
    assert index_for(lib) is new.derived("review_index", index_from_snapshot)


def test_a_server_keeps_the_old_snapshot_while_the_new_one_builds(mini_store, tmp_path: Path) -> None:
    old = snapshot_of(mini_store)
    _load_one_more(mini_store, tmp_path)
    assert snapshot_of(mini_store, wait=False) is old              # answered at once from the old one
    for _ in range(200):                                           # the background build lands
        snap = snapshot_of(mini_store, wait=False)
        if snap.version == mini_store.version():
            break
        time.sleep(0.05)
    assert snap.version == old.version + 1


def test_warm_builds_the_snapshot_and_what_readers_derive(mini_store) -> None:
    from engine.snapshot import warm
    warm(mini_store, {"review_index": index_from_snapshot}).join(timeout=60)
    snap = snapshot_of(mini_store)
    assert "review_index" in snap._derived
    assert index_for(Library(mini_store)) is snap._derived["review_index"]
