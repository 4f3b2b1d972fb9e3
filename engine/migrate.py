"""Copy a whole store to another one, history and version included: how a bureau moves from the
embedded store to Neo4j without losing its record of loads."""
from __future__ import annotations

from typing import Callable

from graph.store import ChangeSet, GraphStore, LoadRecord, StoreError


def migrate(src: GraphStore, dst: GraphStore, replace: bool = False,
            progress: Callable[[int, int], None] | None = None) -> dict[str, int]:
    if not dst.is_empty() or dst.history():
        if not replace:
            raise StoreError("目标存储不为空：请换一个空的目标，或加 --replace 先清空", "target_not_empty")
        wipe = getattr(dst, "wipe", None)
        if wipe is None:
            raise StoreError("该类型的目标存储不支持 --replace，请使用新的空文件", "replace_unsupported")
        wipe()
    version, nodes = src.snapshot(include_work=True)
    history = src.history()
    dst.apply(ChangeSet(nodes), LoadRecord(source=f"migrate:{src.url}", file_hash="", format="migrate",
                                           counts={"nodes": len(nodes)}), progress)
    dst.restore_history(history, version)
    return {"nodes": len(nodes), "loads": len(history), "version": version}
