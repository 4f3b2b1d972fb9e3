"""Backup and restore of a whole store, on either backend, through the store's generic primitives
(``snapshot(include_work=True)``, ``history``, ``apply``, ``restore_history``): every node label is
carried, the indicator library and the work graph (units, projects, users, audit ...) alike, with
the library version and the load history.

A backup is one gzip-compressed JSON document::

    {"format": "zhibiao-backup/1", "created", "source", "version", "history": [...],
     "nodes": [...], "counts": {label: n}, "content_sha256"}

``content_sha256`` is the hash of every node's content hash (sorted by id): a restore checks the
file against it before writing anything, and checks the restored store against it afterwards.
The snapshot is consistent while a server serves: nodes and version are read in one read
transaction, and the history is read before and after it; a load landing in between makes the
backup read again."""
from __future__ import annotations

import gzip
import hashlib
import json
import os
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

from graph.store import ChangeSet, GraphStore, LoadRecord, Node, StoreError

FORMAT = "zhibiao-backup/1"
Progress = Callable[[int, int], None]


class BackupError(StoreError):
    """A backup file that cannot be restored, or a target that must not be overwritten."""
    code = "bad_backup"


def content_hash(nodes: list[Node]) -> str:
    """One hash for a whole store's content: equal hashes mean identical nodes and edges."""
    h = hashlib.sha256()
    for n in sorted(nodes, key=lambda n: n.id):
        h.update(f"{n.id}\t{n.content_hash()}\n".encode("utf-8"))
    return h.hexdigest()


def store_summary(store: GraphStore) -> dict[str, Any]:
    """What a store holds: version, loads, nodes per label, content hash (to say what a replace loses)."""
    version, nodes = store.snapshot(include_work=True)
    return {"version": version, "loads": len(store.history()), "nodes": len(nodes),
            "labels": dict(sorted(Counter(n.label for n in nodes).items())), "content_sha256": content_hash(nodes)}


def is_blank(store: GraphStore) -> bool:
    """No node of any label and no load history."""
    return store.version() == 0 and not store.history() and not store.snapshot(include_work=True)[1]


def _consistent(store: GraphStore, tries: int = 5) -> tuple[int, list[Node], list[LoadRecord]]:
    for _ in range(tries):
        before = store.history()
        version, nodes = store.snapshot(include_work=True)
        after = store.history()
        if [r.seq for r in before] == [r.seq for r in after] and \
                (not after or after[-1].version_after == version):
            return version, nodes, after
    raise StoreError("指标库在备份期间持续变化，未能取得一致的快照，请稍后重试", "backup_busy")


def backup(store: GraphStore, output: str | Path) -> dict[str, Any]:
    """Write a backup of ``store`` to ``output`` (written to a temporary file, then renamed, so an
    interrupted backup never leaves a truncated file under the final name)."""
    version, nodes, history = _consistent(store)
    doc = {"format": FORMAT, "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
           "source": store.url, "version": version, "history": [r.to_dict() for r in history],
           "counts": dict(sorted(Counter(n.label for n in nodes).items())),
           "content_sha256": content_hash(nodes), "nodes": [n.to_dict() for n in nodes]}
    out = Path(output)
    tmp = out.with_name(out.name + ".part")
    with gzip.open(tmp, "wt", encoding="utf-8") as fh:
        json.dump(doc, fh, ensure_ascii=False, separators=(",", ":"))
    os.replace(tmp, out)
    return {k: doc[k] for k in ("version", "counts", "content_sha256")} | {"loads": len(history), "nodes": len(nodes),
                                                                           "bytes": out.stat().st_size}


def read_backup(path: str | Path) -> dict[str, Any]:
    """The backup document, checked: format, shape and content hash."""
    p = Path(path)
    if not p.is_file():
        raise BackupError(f"备份文件不存在：{p}", "backup_not_found")
    try:
        with gzip.open(p, "rt", encoding="utf-8") as fh:
            doc = json.load(fh)
    except (OSError, EOFError, ValueError, UnicodeDecodeError) as e:
        raise BackupError(f"不是有效的 Zhibiao 备份文件（应为 gzip 压缩的 JSON）：{e}") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise BackupError(f"备份格式不对：应为 {FORMAT}，收到 {doc.get('format') if isinstance(doc, dict) else type(doc).__name__}")
    try:
        doc["nodes"] = [Node.from_dict(d) for d in doc["nodes"]]
        doc["history"] = [LoadRecord(**r) for r in doc["history"]]
        int(doc["version"])
    except (KeyError, TypeError, ValueError) as e:
        raise BackupError(f"备份文件内容不完整：{e}") from None
    if content_hash(doc["nodes"]) != doc.get("content_sha256"):
        raise BackupError("备份文件的内容与其记录的校验值不符（文件已损坏或被改动），未写入任何内容", "backup_corrupt")
    return doc


def restore(store: GraphStore, path: str | Path, *, replace: bool = False,
            progress: Progress | None = None) -> dict[str, Any]:
    """Restore the backup at ``path`` into ``store``: only into a blank store unless ``replace``
    (the caller has confirmed). Verified afterwards by the content hash."""
    doc = read_backup(path)
    if not is_blank(store):
        if not replace:
            raise BackupError("目标存储不为空：恢复只写入空存储；如确定要覆盖，请加 --replace --yes", "target_not_empty")
        wipe = getattr(store, "wipe", None)
        if wipe is None:
            raise BackupError("该类型的存储不支持 --replace，请恢复到一个新的空存储", "replace_unsupported")
        wipe()
    nodes: list[Node] = doc["nodes"]
    store.apply(ChangeSet(nodes), LoadRecord(source=f"restore:{Path(path).name}", file_hash=doc["content_sha256"],
                                             format="restore", counts={"nodes": len(nodes)}), progress)
    store.restore_history(doc["history"], int(doc["version"]))
    _, now = store.snapshot(include_work=True)
    got = content_hash(now)
    if got != doc["content_sha256"]:
        raise StoreError(f"恢复后的内容校验值 {got[:12]} 与备份 {doc['content_sha256'][:12]} 不符", "restore_mismatch")
    return {"version": int(doc["version"]), "nodes": len(nodes), "loads": len(doc["history"]),
            "content_sha256": got, "counts": doc.get("counts", {})}
