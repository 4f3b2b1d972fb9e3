"""Embedded store on one SQLite file: no server, durable (WAL, synchronous=FULL).

A load is one ``BEGIN IMMEDIATE`` transaction: SQLite's journal guarantees that a process killed in
the middle of it leaves the previous library intact, and readers in other connections keep seeing
the previous version until the commit (WAL)."""
from __future__ import annotations

import json
import sqlite3
import threading
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable

from .store import (WORK_LABELS, ChangeSet, GraphStore, LoadRecord, Neighbour, Node, Page, ProgressFn,
                    StoreError, StoreUnavailable, VersionConflict, Write, WriteConflict)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS nodes (
    id TEXT PRIMARY KEY, label TEXT NOT NULL, props TEXT NOT NULL, hash TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS nodes_label ON nodes(label, id);
CREATE TABLE IF NOT EXISTS edges (
    src TEXT NOT NULL, type TEXT NOT NULL, dst TEXT NOT NULL, PRIMARY KEY (src, type, dst));
CREATE INDEX IF NOT EXISTS edges_dst ON edges(dst, type);
CREATE TABLE IF NOT EXISTS loads (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, source TEXT NOT NULL,
    file_hash TEXT NOT NULL, format TEXT NOT NULL, counts TEXT NOT NULL,
    version_before INTEGER NOT NULL, version_after INTEGER NOT NULL, note TEXT NOT NULL DEFAULT '');
"""
_BATCH = 500


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class SQLiteStore(GraphStore):
    """One connection per thread (sqlite3 connections are not shared across threads)."""

    def __init__(self, path: str | Path):
        self.path = str(path)
        self.url = f"sqlite:///{self.path}"
        self._local = threading.local()
        self._memory_conn: sqlite3.Connection | None = None
        if self.path != ":memory:":
            parent = Path(self.path).expanduser().resolve().parent
            if not parent.exists():
                raise StoreUnavailable(f"存储目录不存在：{parent}", "store_path_missing")
        conn = self._conn()
        with conn:
            conn.executescript(_SCHEMA)
            conn.execute("INSERT OR IGNORE INTO meta(key, value) VALUES ('library_version', '0')")

    def _conn(self) -> sqlite3.Connection:
        if self.path == ":memory:":
            if self._memory_conn is None:
                self._memory_conn = sqlite3.connect(":memory:", check_same_thread=False,
                                                    isolation_level=None)
            return self._memory_conn
        conn = getattr(self._local, "conn", None)
        if conn is None:
            try:
                conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=FULL")
                conn.execute("PRAGMA foreign_keys=ON")
            except sqlite3.Error as e:
                raise StoreUnavailable(f"无法打开嵌入式存储 {self.path}：{e}") from e
            self._local.conn = conn
        return conn

    # --- writes ---------------------------------------------------------------------
    def apply(self, changes: ChangeSet, record: LoadRecord,
              progress: ProgressFn | None = None) -> LoadRecord:
        conn = self._conn()
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as e:
            raise StoreError(f"存储正被其他进程写入，请稍后重试：{e}", "store_busy") from e
        try:
            before = self._version(conn)
            if changes.base_version is not None and changes.base_version != before:
                raise VersionConflict(f"加载期间指标库版本已由 {changes.base_version} 变为 {before}，请重新加载")
            total = len(changes.upserts)
            changed = 0
            for start in range(0, total, _BATCH):
                batch = changes.upserts[start:start + _BATCH]
                ids = [n.id for n in batch]
                existing = self._hashes(conn, ids)
                todo = [(n, n.content_hash()) for n in batch]
                todo = [(n, h) for n, h in todo if existing.get(n.id) != h]
                if todo:
                    conn.executemany(
                        "INSERT INTO nodes(id, label, props, hash) VALUES (?,?,?,?) "
                        "ON CONFLICT(id) DO UPDATE SET label=excluded.label, props=excluded.props, hash=excluded.hash",
                        [(n.id, n.label, n.props_json(), h)
                         for n, h in todo])
                    conn.executemany("DELETE FROM edges WHERE src = ?", [(n.id,) for n, _ in todo])
                    conn.executemany("INSERT OR IGNORE INTO edges(src, type, dst) VALUES (?,?,?)",
                                     [(n.id, t, d) for n, _ in todo for t, d in n.edges])
                    changed += len(todo)
                if progress:
                    progress(min(start + _BATCH, total), total)
            after = before + 1 if changed else before
            conn.execute("UPDATE meta SET value = ? WHERE key = 'library_version'", (str(after),))
            rec = LoadRecord(**{**record.to_dict(), "version_before": before, "version_after": after,
                                "at": _now(), "counts": {**record.counts, "written": changed}})
            cur = conn.execute(
                "INSERT INTO loads(at, source, file_hash, format, counts, version_before, version_after, note) "
                "VALUES (?,?,?,?,?,?,?,?)",
                (rec.at, rec.source, rec.file_hash, rec.format, json.dumps(rec.counts, ensure_ascii=False),
                 rec.version_before, rec.version_after, rec.note))
            rec.seq = cur.lastrowid or 0
            conn.execute("COMMIT")
            return rec
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    def commit(self, write: Write) -> None:
        """Guards are read after ``BEGIN IMMEDIATE`` took the database's write lock, so no other
        writer can slip in between the check and the write."""
        conn = self._conn()
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as e:
            raise StoreError(f"存储正被其他进程写入，请稍后重试：{e}", "store_busy") from e
        try:
            for node_id, expected in write.expect.items():
                row = conn.execute("SELECT props FROM nodes WHERE id = ?", (node_id,)).fetchone()
                if expected is None:
                    if row is not None:
                        raise WriteConflict(node_id, {})
                    continue
                current = json.loads(row[0]) if row else None
                if current is None or any(current.get(k) != v for k, v in expected.items()):
                    raise WriteConflict(node_id, None if current is None else {k: current.get(k) for k in expected})
            if write.upserts:
                conn.executemany(
                    "INSERT INTO nodes(id, label, props, hash) VALUES (?,?,?,?) "
                    "ON CONFLICT(id) DO UPDATE SET label=excluded.label, props=excluded.props, hash=excluded.hash",
                    [(n.id, n.label, n.props_json(), n.content_hash()) for n in write.upserts])
                conn.executemany("DELETE FROM edges WHERE src = ?", [(n.id,) for n in write.upserts])
                conn.executemany("INSERT OR IGNORE INTO edges(src, type, dst) VALUES (?,?,?)",
                                 [(n.id, t, d) for n in write.upserts for t, d in n.edges])
            if write.links:
                conn.executemany("INSERT OR IGNORE INTO edges(src, type, dst) VALUES (?,?,?)", write.links)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    def restore_history(self, records: list[LoadRecord], version: int) -> None:
        conn = self._conn()
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.execute("DELETE FROM loads")
            conn.executemany(
                "INSERT INTO loads(seq, at, source, file_hash, format, counts, version_before, version_after, note) "
                "VALUES (?,?,?,?,?,?,?,?,?)",
                [(r.seq, r.at, r.source, r.file_hash, r.format, json.dumps(r.counts, ensure_ascii=False),
                  r.version_before, r.version_after, r.note) for r in records])
            conn.execute("UPDATE meta SET value = ? WHERE key = 'library_version'", (str(version),))
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    # --- reads ----------------------------------------------------------------------
    @staticmethod
    def _version(conn: sqlite3.Connection) -> int:
        row = conn.execute("SELECT value FROM meta WHERE key = 'library_version'").fetchone()
        return int(row[0]) if row else 0

    @staticmethod
    def _hashes(conn: sqlite3.Connection, ids: list[str]) -> dict[str, str]:
        if not ids:
            return {}
        q = f"SELECT id, hash FROM nodes WHERE id IN ({','.join('?' * len(ids))})"
        return dict(conn.execute(q, ids).fetchall())

    def version(self) -> int:
        return self._version(self._conn())

    def hashes(self, node_ids: Iterable[str]) -> dict[str, str]:
        conn = self._conn()
        ids = list(dict.fromkeys(node_ids))
        out: dict[str, str] = {}
        for start in range(0, len(ids), 900):
            out.update(self._hashes(conn, ids[start:start + 900]))
        return out

    def _nodes(self, conn: sqlite3.Connection, rows: list[tuple]) -> list[Node]:
        nodes = [Node(r[0], r[1], json.loads(r[2])) for r in rows]
        if not nodes:
            return nodes
        by_id = {n.id: n for n in nodes}
        ids = list(by_id)
        for start in range(0, len(ids), 900):
            chunk = ids[start:start + 900]
            for src, typ, dst in conn.execute(
                    f"SELECT src, type, dst FROM edges WHERE src IN ({','.join('?' * len(chunk))}) "
                    "ORDER BY src, type, dst", chunk):
                by_id[src].edges.append((typ, dst))
        return nodes

    def get(self, node_id: str) -> Node | None:
        return self.get_many([node_id]).get(node_id)

    def get_many(self, node_ids: Iterable[str]) -> dict[str, Node]:
        conn = self._conn()
        ids = list(dict.fromkeys(node_ids))
        out: dict[str, Node] = {}
        for start in range(0, len(ids), 900):
            chunk = ids[start:start + 900]
            rows = conn.execute(f"SELECT id, label, props FROM nodes WHERE id IN ({','.join('?' * len(chunk))})",
                                chunk).fetchall()
            out.update({n.id: n for n in self._nodes(conn, rows)})
        return out

    def neighbours(self, node_id: str) -> list[Neighbour]:
        conn = self._conn()
        out_edges = conn.execute("SELECT type, dst FROM edges WHERE src = ? ORDER BY type, dst", (node_id,)).fetchall()
        in_edges = conn.execute("SELECT type, src FROM edges WHERE dst = ? ORDER BY type, src", (node_id,)).fetchall()
        nodes = self.get_many([d for _, d in out_edges] + [s for _, s in in_edges])
        res = [Neighbour(t, "out", nodes[d]) for t, d in out_edges if d in nodes]
        res += [Neighbour(t, "in", nodes[s]) for t, s in in_edges if s in nodes]
        return res

    def _where(self, label: str, props: dict[str, Any] | None,
               links: dict[str, str] | None) -> tuple[str, list[Any]]:
        clauses, params = ["label = ?"], [label]
        for key, value in (props or {}).items():
            clauses.append("json_extract(props, ?) = ?")
            params += [f'$."{key}"', value]
        for typ, dst in (links or {}).items():
            clauses.append("EXISTS (SELECT 1 FROM edges e WHERE e.src = nodes.id AND e.type = ? AND e.dst = ?)")
            params += [typ, dst]
        return " AND ".join(clauses), params

    def list(self, label: str, props: dict[str, Any] | None = None,
             links: dict[str, str] | None = None, offset: int = 0,
             limit: int | None = None) -> Page:
        conn = self._conn()
        where, params = self._where(label, props, links)
        total = conn.execute(f"SELECT count(*) FROM nodes WHERE {where}", params).fetchone()[0]
        q = f"SELECT id, label, props FROM nodes WHERE {where} ORDER BY id LIMIT ? OFFSET ?"
        rows = conn.execute(q, params + [-1 if limit is None else limit, offset]).fetchall()
        return Page(total, self._nodes(conn, rows))

    def count(self, label: str, props: dict[str, Any] | None = None) -> int:
        where, params = self._where(label, props, None)
        return self._conn().execute(f"SELECT count(*) FROM nodes WHERE {where}", params).fetchone()[0]

    def snapshot(self, include_work: bool = False) -> tuple[int, list[Node]]:
        conn = self._conn()
        skip = () if include_work else WORK_LABELS
        conn.execute("BEGIN")  # one read transaction: version and nodes agree
        try:
            version = self._version(conn)
            nodes = {r[0]: Node(r[0], r[1], json.loads(r[2]))
                     for r in conn.execute(f"SELECT id, label, props FROM nodes WHERE label NOT IN "
                                           f"({','.join('?' * len(skip))}) ORDER BY id", skip)}
            for src, typ, dst in conn.execute("SELECT src, type, dst FROM edges ORDER BY src, type, dst"):
                if src in nodes:
                    nodes[src].edges.append((typ, dst))
        finally:
            conn.execute("COMMIT")
        return version, list(nodes.values())

    def history(self) -> list[LoadRecord]:
        rows = self._conn().execute(
            "SELECT seq, at, source, file_hash, format, counts, version_before, version_after, note "
            "FROM loads ORDER BY seq").fetchall()
        return [LoadRecord(source=r[2], file_hash=r[3], format=r[4], counts=json.loads(r[5]),
                           version_before=r[6], version_after=r[7], at=r[1], seq=r[0], note=r[8])
                for r in rows]

    def wipe(self) -> None:
        """Delete every node, edge and load record and reset the version, in one transaction
        (``restore --replace`` and ``migrate --replace`` after confirmation)."""
        conn = self._conn()
        conn.execute("BEGIN IMMEDIATE")
        try:
            for table in ("edges", "nodes", "loads"):
                conn.execute(f"DELETE FROM {table}")
            conn.execute("UPDATE meta SET value = '0' WHERE key = 'library_version'")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None
        if self._memory_conn is not None:
            self._memory_conn.close()
            self._memory_conn = None
