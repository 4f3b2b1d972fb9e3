"""Backup and restore on both stores: every label (library and work graph), version and load
history carried; restored content identical by content hash; a non-empty target refused unless
--replace --yes; a damaged file refused before anything is written."""
from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from cli.main import main
from engine.backup import BackupError, backup, content_hash, read_backup, restore, store_summary
from graph import GraphStore, Node, open_store
from graph.store import ChangeSet, LoadRecord, Write
from loaders import load_file


def _with_work_nodes(store: GraphStore) -> None:
    """A project and a user as the work graph would hold them (written through the generic apply:
    restore must carry any label, whoever writes it)."""
    store.apply(ChangeSet([Node("PRJ-BK-1", "Project", {"name": "校舍维修改造", "amount": 800}),
                           Node("USR-BK-1", "User", {"name": "张三", "role": "admin"}, [("OWNS", "PRJ-BK-1")])]),
                LoadRecord(source="test:work", file_hash="", format="test", counts={}))
    # and through the work graph's own guarded write, with a link added to an existing node
    store.commit(Write(upserts=[Node("UNIT-BK-1", "BudgetUnit", {"name": "市教育局"})],
                       links=[("UNIT-BK-1", "OWNS", "PRJ-BK-1")], expect={"UNIT-BK-1": None}))


def test_backup_then_restore_gives_identical_content(fresh_store: GraphStore, mini_library: Path,
                                                     tmp_path: Path) -> None:
    load_file(mini_library, fresh_store)
    _with_work_nodes(fresh_store)
    before = store_summary(fresh_store)
    history = [r.to_dict() for r in fresh_store.history()]
    assert {"Project", "User", "BudgetUnit", "Indicator", "Category"} <= set(before["labels"])
    out = tmp_path / "zb.backup"
    result = backup(fresh_store, out)
    assert result["content_sha256"] == before["content_sha256"] and result["loads"] == 2
    # restore into the other backend's empty store as well as this one's, emptied
    targets = [open_store(f"sqlite:///{tmp_path / 'restored.db'}")]
    try:
        for target in targets:
            restored = restore(target, out)
            after = store_summary(target)
            assert after == before and restored["content_sha256"] == before["content_sha256"]
            assert [r.to_dict() for r in target.history()] == history
            assert target.version() == fresh_store.version()
    finally:
        for t in targets:
            t.close()
    # the same store, replaced: identical again
    fresh_store.wipe()
    assert store_summary(fresh_store)["nodes"] == 0
    restore(fresh_store, out)
    assert store_summary(fresh_store) == before


def test_restore_refuses_a_non_empty_store_and_a_damaged_file(mini_store: GraphStore, tmp_path: Path) -> None:
    out = tmp_path / "b.backup"
    backup(mini_store, out)
    with pytest.raises(BackupError) as info:
        restore(mini_store, out)
    assert info.value.code == "target_not_empty"
    doc = json.loads(gzip.open(out, "rt", encoding="utf-8").read())
    doc["nodes"][0]["props"]["name"] = "篡改"
    bad = tmp_path / "bad.backup"
    with gzip.open(bad, "wt", encoding="utf-8") as fh:
        json.dump(doc, fh, ensure_ascii=False)
    with pytest.raises(BackupError) as info:
        read_backup(bad)
    assert info.value.code == "backup_corrupt"
    (tmp_path / "junk.backup").write_bytes(b"not gzip")
    with pytest.raises(BackupError):
        read_backup(tmp_path / "junk.backup")


def test_cli_backup_restore_and_replace_needs_yes(mini_store: GraphStore, tmp_path: Path, capsys) -> None:
    _with_work_nodes(mini_store)
    want = content_hash(mini_store.snapshot(include_work=True)[1])
    out = tmp_path / "cli.backup"
    assert main(["backup", "--output", str(out), "--store", mini_store.url]) == 0
    assert "内容校验" in capsys.readouterr().err
    target = f"sqlite:///{tmp_path / 'cli-restored.db'}"
    assert main(["restore", str(out), "--store", target]) == 0
    assert "内容校验一致" in capsys.readouterr().err
    with open_store(target) as t:
        assert content_hash(t.snapshot(include_work=True)[1]) == want
    # a second restore into the now non-empty store: refused (1), then --replace without --yes: refused
    assert main(["restore", str(out), "--store", target]) == 1
    assert "target_not_empty" in capsys.readouterr().err
    assert main(["restore", str(out), "--store", target, "--replace"]) == 1
    err = capsys.readouterr().err
    assert "将清空" in err and "Project 1" in err and "--yes" in err
    assert main(["restore", str(out), "--store", target, "--replace", "--yes"]) == 0
    with open_store(target) as t:
        assert content_hash(t.snapshot(include_work=True)[1]) == want


def test_backup_is_consistent_while_loads_land(mini_store: GraphStore, tmp_path: Path) -> None:
    """Backups taken while another thread keeps loading: each one is a state the store really had
    (its version is the last load's), and restores to exactly its own content."""
    import threading
    header = "二级指标,三级指标,计量单位,指标值,指标解释,计算公式,行业,项目类型,指标值设定依据\n"
    files = []
    for i in range(6):
        p = tmp_path / f"l{i}.csv"
        p.write_text(header + f"质量指标,第{i}批园所检查合格率,%,≥95%,检查合格园所占比,合格数/总数×100%,教育,"
                              "普惠性幼儿园建设,行业标准\n", encoding="utf-8")
        files.append(p)
    writer_store = open_store(mini_store.url)
    done = threading.Event()

    def load_all() -> None:
        try:
            for p in files:
                load_file(p, writer_store, shacl=False)
        finally:
            done.set()
    t = threading.Thread(target=load_all)
    t.start()
    outs = []
    while not done.is_set() or len(outs) < 2:
        out = tmp_path / f"b{len(outs)}.backup"
        backup(mini_store, out)
        outs.append(out)
    t.join()
    writer_store.close()
    for out in outs:
        doc = read_backup(out)
        assert doc["history"][-1].version_after == doc["version"]
        with open_store(f"sqlite:///{tmp_path / (out.stem + '.db')}") as target:
            assert restore(target, out)["content_sha256"] == doc["content_sha256"]
