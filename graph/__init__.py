"""Graph stores behind one interface. ``open_store(url)`` is the only place that picks a backend;
nothing outside this package imports a backend's driver."""
from __future__ import annotations

from pathlib import Path
from typing import Callable

from .settings import setting
from .store import (ChangeSet, GraphStore, LoadRecord, Neighbour, Node, Page, StoreError,
                    StoreUnavailable, StoreURLError, VersionConflict, WORK_LABELS, Write, WriteConflict)

DEFAULT_STORE_URL = "sqlite:///./zhibiao.db"

__all__ = ["ChangeSet", "GraphStore", "LoadRecord", "Neighbour", "Node", "Page", "StoreError",
           "StoreUnavailable", "StoreURLError", "VersionConflict", "WORK_LABELS", "Write", "WriteConflict", "open_store", "DEFAULT_STORE_URL",
           "store_url_from_env", "SCHEMES", "register_scheme"]


def store_url_from_env(explicit: str | None = None) -> str:
    return explicit or setting("ZHIBIAO_STORE") or DEFAULT_STORE_URL


def _open_sqlite(url: str) -> GraphStore:
    from .sqlite_store import SQLiteStore
    path = url[len("sqlite:///"):] if url.startswith("sqlite:///") else ""
    if not path:
        raise StoreURLError("sqlite 存储地址缺少文件路径，例如 sqlite:///./zhibiao.db")
    return SQLiteStore(path if path == ":memory:" else Path(path))


def _open_neo4j(url: str) -> GraphStore:
    from .neo4j_store import Neo4jStore
    return Neo4jStore(url, setting("NEO4J_USER"), setting("NEO4J_PASSWORD"),
                      database=setting("NEO4J_DATABASE") or None)


#: URL scheme → the function that opens a store of that kind (a new backend registers here)
SCHEMES: dict[str, Callable[[str], GraphStore]] = {
    "sqlite": _open_sqlite,
    **{s: _open_neo4j for s in ("neo4j", "bolt", "neo4j+s", "bolt+s", "neo4j+ssc", "bolt+ssc")},
}


def register_scheme(scheme: str, opener: Callable[[str], GraphStore]) -> None:
    """Make ``open_store`` open ``scheme://…`` URLs with ``opener``."""
    SCHEMES[scheme] = opener


def open_store(url: str) -> GraphStore:
    """``sqlite:///relative.db``, ``sqlite:////abs/path.db``, ``sqlite:///:memory:``, or
    ``neo4j://host:port`` / ``bolt://host:port`` (credentials from NEO4J_USER / NEO4J_PASSWORD);
    any scheme registered in ``SCHEMES``."""
    opener = SCHEMES.get(url.split("://", 1)[0]) if "://" in url else None
    if opener is None:
        raise StoreURLError(f"无法识别的存储地址：{url!r}；应为 sqlite:///路径 或 neo4j://主机:端口")
    return opener(url)
