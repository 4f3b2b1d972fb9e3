"""Neo4j store: the same interface on a Neo4j 5 server through the official driver.

A load is one explicit transaction of batched ``UNWIND`` writes, so a dropped connection or a
failing batch leaves nothing behind. Node properties are kept both flattened (for filters and the
full-text index) and as one JSON string (``_props``) so that reads return exactly what was written.
Cypher text lives in ``cypher.py``; user values only ever travel as parameters."""
from __future__ import annotations

import json
import time
from datetime import datetime, timezone
from typing import Any, Callable, Iterable, TypeVar

from neo4j import READ_ACCESS, WRITE_ACCESS, GraphDatabase, basic_auth
from neo4j.exceptions import (AuthError, ConnectionPoolError, ConstraintError, DatabaseUnavailable,
                              Neo4jError, ServiceUnavailable, SessionExpired,
                              TransientError)

from . import cypher as Q
from .settings import setting
from .store import (WORK_LABELS, ChangeSet, GraphStore, LoadRecord, Neighbour, Node, Page, ProgressFn,
                    StoreError, StoreUnavailable, VersionConflict, Write, WriteConflict)

T = TypeVar("T")
_BATCH = 1000
_WRITE_TIMEOUT = 60.0  # seconds a guarded work-graph write may take, lock waits included
_RESERVED = {"id", "_label", "_hash", "_props"}
# no connection to be had within the acquisition timeout is the store being unavailable too (503, retry)
_UNAVAILABLE = (ServiceUnavailable, SessionExpired, DatabaseUnavailable, ConnectionError, OSError,
                ConnectionPoolError)


def _flat(node: Node, digest: str) -> dict[str, Any]:
    props: dict[str, Any] = {"id": node.id, "_label": node.label, "_hash": digest,
                             "_props": node.props_json()}
    for k, v in node.props.items():
        if k in _RESERVED or v is None:
            continue
        if isinstance(v, (str, int, float, bool)):
            props[k] = v
        elif isinstance(v, list) and all(isinstance(x, str) for x in v):
            props[k] = v
    if node.label == "Indicator":
        props["synonyms_text"] = " ".join(node.props.get("synonyms") or [])
    return props


class Neo4jStore(GraphStore):
    has_fulltext = True

    def __init__(self, url: str, user: str = "neo4j", password: str = "", database: str | None = None,
                 retries: int = 3):
        self.url = url
        self.database = database
        self.retries = retries
        auth = basic_auth(user, password) if password else None
        self._driver = GraphDatabase.driver(url, auth=auth, connection_timeout=5, max_transaction_retry_time=10,
                                            # a busy server may take a while to hand out a connection
                                            connection_acquisition_timeout=setting("NEO4J_ACQUISITION_TIMEOUT"))
        self._schema_ready = False

    # --- plumbing -------------------------------------------------------------------
    def _unavailable(self, e: Exception) -> StoreUnavailable:
        return StoreUnavailable(f"无法连接 Neo4j（{self.url}）：{e.__class__.__name__}")

    def _session(self):
        return self._driver.session(database=self.database)

    def _ensure_schema(self) -> None:
        if self._schema_ready:
            return
        try:
            with self._session() as s:
                for stmt in Q.SCHEMA:
                    s.run(stmt).consume()
        except _UNAVAILABLE as e:
            raise self._unavailable(e) from e
        except AuthError as e:
            raise StoreUnavailable(f"Neo4j 认证失败（检查 NEO4J_USER/NEO4J_PASSWORD）：{e.message}") from e
        self._schema_ready = True

    def _run(self, work: Callable[[Any], T], *, write: bool = False, timeout: float | None = None,
             retry_unavailable: bool = True) -> T:
        """Run ``work(tx)`` in one explicit transaction and commit it: the one way this store talks
        to the server. Deadlocks and other transient failures retry the whole unit (a guarded write
        reads its guards again, so a retry never writes over someone else's change); a connection
        that died on the way retries on a fresh one when ``retry_unavailable``.

        Why no ``with tx:`` and no ``execute_read``: when the server fails a query, the driver
        (neo4j 6.4) hands the connection back to the pool at once, and the rollback that those two
        run afterwards still touches it, while another thread may already hold it. Under 64 clients
        that rollback's end-of-stream probe stole a byte of the other thread's answer, which then
        waited out the 120 s receive timeout. A failed transaction is left to ``session.close()``,
        which knows whether the connection is still its own and rolls back only then."""
        self._ensure_schema()
        attempt = 0
        while True:
            attempt += 1
            try:
                with self._driver.session(database=self.database,
                                          default_access_mode=WRITE_ACCESS if write else READ_ACCESS) as s:
                    tx = s.begin_transaction(timeout=timeout)
                    out = work(tx)
                    tx.commit()
                    return out
            except TransientError:
                if attempt >= self.retries + 5:
                    raise StoreError("Neo4j 多次遇到锁冲突或暂时性错误，请稍后重试", "store_busy") from None
                time.sleep(0.05 * attempt)
            except (SessionExpired, ServiceUnavailable) as e:
                if not retry_unavailable or attempt >= self.retries:
                    raise self._unavailable(e) from e
                time.sleep(0.1 * attempt)
            except _UNAVAILABLE as e:
                raise self._unavailable(e) from e
            except AuthError as e:
                raise StoreUnavailable(f"Neo4j 认证失败（检查 NEO4J_USER/NEO4J_PASSWORD）：{e.message}") from e

    def _read(self, fn: Callable[[Any], T]) -> T:
        try:
            return self._run(fn)
        except (StoreError, StoreUnavailable):
            raise
        except Neo4jError as e:
            raise StoreError(f"Neo4j 查询失败：{e.message}") from e

    # --- writes ---------------------------------------------------------------------
    def apply(self, changes: ChangeSet, record: LoadRecord,
              progress: ProgressFn | None = None) -> LoadRecord:
        for n in changes.upserts:
            if n.label not in Q.LABELS:
                raise StoreError(f"未知的节点类型 {n.label!r}", "unknown_label")
            for t, _ in n.edges:
                if t not in Q.EDGE_TYPES:
                    raise StoreError(f"未知的关系类型 {t!r}", "unknown_edge_type")
        # a load is not retried when the connection dies: it may have committed; the caller reloads
        return self._run(lambda tx: self._apply_tx(tx, changes, record, progress), write=True,
                         retry_unavailable=False)

    def _apply_tx(self, tx: Any, changes: ChangeSet, record: LoadRecord,
                  progress: ProgressFn | None) -> LoadRecord:
        before = tx.run(Q.LOCK_META).single()["version"]
        if changes.base_version is not None and changes.base_version != before:
            raise VersionConflict(f"加载期间指标库版本已由 {changes.base_version} 变为 {before}，请重新加载")
        total = len(changes.upserts)
        todo: list[tuple[Node, str]] = []
        for start in range(0, total, _BATCH):
            batch = changes.upserts[start:start + _BATCH]
            existing = {r["id"]: r["hash"] for r in tx.run(Q.HASHES, ids=[n.id for n in batch])}
            created: dict[str, list[dict]] = {}
            updated: dict[str, list[dict]] = {}
            for n in batch:
                h = n.content_hash()
                if existing.get(n.id) == h:
                    continue
                target = updated if n.id in existing else created
                target.setdefault(n.label, []).append({"id": n.id, "props": _flat(n, h)})
                todo.append((n, h))
            old_ids = [row["id"] for rows in updated.values() for row in rows]
            if old_ids:  # an update replaces labels and outgoing edges
                tx.run(Q.REMOVE_LABELS, ids=old_ids).consume()
                tx.run(Q.DELETE_OUT_EDGES, ids=old_ids).consume()
            for label, rows in updated.items():
                tx.run(Q.UPDATE_NODES[label], rows=rows).consume()
            for label, rows in created.items():
                tx.run(Q.CREATE_NODES[label], rows=rows).consume()
            if progress:
                progress(min(start + _BATCH, total), total)
        # edges after all nodes, so that targets later in the change set exist
        by_type: dict[str, list[dict[str, str]]] = {}
        for n, _ in todo:
            for t, d in n.edges:
                by_type.setdefault(t, []).append({"src": n.id, "dst": d})
        for t, rows in by_type.items():
            for start in range(0, len(rows), _BATCH * 5):
                tx.run(Q.CREATE_EDGES[t], rows=rows[start:start + _BATCH * 5]).consume()
        after = before + 1 if todo else before
        tx.run(Q.SET_VERSION, version=after).consume()
        seq = tx.run(Q.NEXT_LOAD_SEQ).single()["seq"]
        rec = LoadRecord(**{**record.to_dict(), "version_before": before, "version_after": after, "seq": seq,
                            "at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                            "counts": {**record.counts, "written": len(todo)}})
        tx.run(Q.CREATE_LOAD, rec=self._load_props(rec)).consume()
        return rec

    def commit(self, write: Write) -> None:
        """One write transaction: guarded nodes are locked (a SET takes Neo4j's write lock) in id
        order before their properties are read, so two guarded writers serialise and the second
        sees the first one's result. Deadlocks and other transient errors retry the whole write."""
        for n in write.upserts:
            if n.label not in Q.LABELS:
                raise StoreError(f"未知的节点类型 {n.label!r}", "unknown_label")
        for t in [t for n in write.upserts for t, _ in n.edges] + [t for _, t, _ in write.links]:
            if t not in Q.EDGE_TYPES:
                raise StoreError(f"未知的关系类型 {t!r}", "unknown_edge_type")
        try:
            # bounded: a writer never waits on another's lock for longer than _WRITE_TIMEOUT (the server
            # ends the transaction), so no request hangs behind a lost client. A connection that went
            # defunct mid-write is retried on a fresh one with its guards read again: it lands once
            # or reports a conflict, never twice.
            self._run(lambda tx: self._commit_tx(tx, write), write=True, timeout=_WRITE_TIMEOUT)
        except ConstraintError:  # a concurrent writer created a node this write meant to create
            created = [i for i, e in write.expect.items() if e is None]
            raise WriteConflict(created[0] if created else "?", {}) from None

    def _commit_tx(self, tx: Any, write: Write) -> None:
        for node_id in sorted(write.expect):
            expected = write.expect[node_id]
            if expected is None:
                if tx.run(Q.NODE_EXISTS, id=node_id).single()["found"]:
                    raise WriteConflict(node_id, {})
                continue
            row = tx.run(Q.LOCK_NODE, id=node_id).single()
            current = json.loads(row["props"]) if row else None
            if current is None or any(current.get(k) != v for k, v in expected.items()):
                raise WriteConflict(node_id, None if current is None else {k: current.get(k) for k in expected})
        if write.upserts:
            # a node guarded as "must not exist" is always CREATEd: if another writer created it after the
            # guard was read, the id constraint refuses this write (a conflict) instead of it becoming an update
            must_create = {i for i, e in write.expect.items() if e is None}
            existing = {r["id"] for r in tx.run(Q.HASHES, ids=[n.id for n in write.upserts])} - must_create
            created: dict[str, list[dict]] = {}
            updated: dict[str, list[dict]] = {}
            for n in write.upserts:
                target = updated if n.id in existing else created
                target.setdefault(n.label, []).append({"id": n.id, "props": _flat(n, n.content_hash())})
            old_ids = sorted(existing)
            # an updated node keeps the edges it still has: only the difference is written, so a
            # project's new revision creates one HAS_TABLE edge instead of re-creating all of them
            current = {(r["src"], r["type"], r["dst"]) for r in tx.run(Q.OUT_EDGES, ids=old_ids)} if old_ids else set()
            wanted = {(n.id, t, d) for n in write.upserts for t, d in n.edges}
            gone = [{"src": a, "type": t, "dst": b} for a, t, b in sorted(current - wanted)]
            if old_ids:
                tx.run(Q.REMOVE_LABELS, ids=old_ids).consume()
            if gone:
                tx.run(Q.DELETE_EDGES, rows=gone).consume()
            for label, rows in updated.items():
                tx.run(Q.UPDATE_NODES[label], rows=rows).consume()
            for label, rows in created.items():
                tx.run(Q.CREATE_NODES[label], rows=rows).consume()
            by_type: dict[str, list[dict[str, str]]] = {}
            for src, t, d in sorted(wanted - current):
                by_type.setdefault(t, []).append({"src": src, "dst": d})
            for t, rows in by_type.items():
                tx.run(Q.CREATE_EDGES[t], rows=rows).consume()
        links: dict[str, list[dict[str, str]]] = {}
        for src, t, dst in write.links:
            links.setdefault(t, []).append({"src": src, "dst": dst})
        for t, rows in links.items():
            tx.run(Q.MERGE_EDGES[t], rows=rows).consume()

    @staticmethod
    def _load_props(r: LoadRecord) -> dict[str, Any]:
        return {"seq": r.seq, "at": r.at, "source": r.source, "file_hash": r.file_hash, "format": r.format,
                "counts": json.dumps(r.counts, ensure_ascii=False), "version_before": r.version_before,
                "version_after": r.version_after, "note": r.note}

    def restore_history(self, records: list[LoadRecord], version: int) -> None:
        def work(tx: Any) -> None:
            tx.run(Q.DELETE_HISTORY).consume()
            for r in records:
                tx.run(Q.CREATE_LOAD, rec=self._load_props(r)).consume()
            tx.run(Q.SET_VERSION_MERGE, version=version).consume()
        self._run(work, write=True, retry_unavailable=False)

    def wipe(self) -> None:
        """Delete everything this store wrote (tests and `migrate --replace`)."""
        self._ensure_schema()
        with self._session() as s:
            s.run(Q.WIPE).consume()

    # --- reads ----------------------------------------------------------------------
    @staticmethod
    def _nodes(records: Iterable[Any]) -> list[Node]:
        out = []
        for r in records:
            edges = sorted((e[0], e[1]) for e in r["edges"] if e is not None)
            out.append(Node(r["id"], r["label"], json.loads(r["props"]), edges))
        return out

    def version(self) -> int:
        return self._read(lambda tx: tx.run(Q.VERSION).single()["version"])

    def hashes(self, node_ids: Iterable[str]) -> dict[str, str]:
        ids = list(dict.fromkeys(node_ids))
        if not ids:
            return {}

        def work(tx: Any) -> dict[str, str]:
            out: dict[str, str] = {}
            for start in range(0, len(ids), 5000):
                out.update({r["id"]: r["hash"] for r in tx.run(Q.HASHES, ids=ids[start:start + 5000])})
            return out
        return self._read(work)

    def get(self, node_id: str) -> Node | None:
        return self.get_many([node_id]).get(node_id)

    def get_many(self, node_ids: Iterable[str]) -> dict[str, Node]:
        ids = list(dict.fromkeys(node_ids))
        if not ids:
            return {}

        def work(tx: Any) -> dict[str, Node]:
            out: dict[str, Node] = {}
            for start in range(0, len(ids), 5000):
                out.update({n.id: n for n in self._nodes(tx.run(Q.GET_MANY, ids=ids[start:start + 5000]))})
            return out
        return self._read(work)

    def neighbours(self, node_id: str) -> list[Neighbour]:
        rows = self._read(lambda tx: [(r["edge"], r["direction"], r["id"]) for r in tx.run(Q.NEIGHBOURS, id=node_id)])
        nodes = self.get_many(i for _, _, i in rows)
        return [Neighbour(e, d, nodes[i]) for e, d, i in rows if i in nodes]

    def _params(self, label: str, props: dict[str, Any] | None, links: dict[str, str] | None) -> dict[str, Any]:
        return {"label": label, "props": dict(props or {}),
                "links": [{"type": t, "dst": d} for t, d in (links or {}).items()]}

    def list(self, label: str, props: dict[str, Any] | None = None,
             links: dict[str, str] | None = None, offset: int = 0,
             limit: int | None = None) -> Page:
        p = self._params(label, props, links)

        def work(tx: Any) -> Page:
            total = tx.run(Q.COUNT, **p).single()["total"]
            items = self._nodes(tx.run(Q.LIST, **p, offset=offset, limit=total if limit is None else limit))
            return Page(total, items)
        return self._read(work)

    def count(self, label: str, props: dict[str, Any] | None = None) -> int:
        p = self._params(label, props, None)
        return self._read(lambda tx: tx.run(Q.COUNT, **p).single()["total"])

    def snapshot(self, include_work: bool = False) -> tuple[int, list[Node]]:
        def work(tx: Any) -> tuple[int, list[Node]]:
            version = tx.run(Q.VERSION).single()["version"]
            if include_work:
                return version, self._nodes(tx.run(Q.ALL_NODES))
            return version, self._nodes(tx.run(Q.LIBRARY_NODES, work=list(WORK_LABELS)))
        return self._read(work)

    def history(self) -> list[LoadRecord]:
        def work(tx: Any) -> list[LoadRecord]:
            out = []
            for r in tx.run(Q.HISTORY):
                rec = r["l"]
                out.append(LoadRecord(source=rec["source"], file_hash=rec["file_hash"], format=rec["format"],
                                      counts=json.loads(rec["counts"]), version_before=rec["version_before"],
                                      version_after=rec["version_after"], at=rec["at"], seq=rec["seq"],
                                      note=rec.get("note", "")))
            return out
        return self._read(work)

    def fulltext(self, query: str, limit: int = 10) -> list[tuple[str, str, float]]:
        """Neo4j's own full-text search (cjk analyzer), the baseline the search engine is measured against."""
        return self._read(lambda tx: [(r["id"], r["name"], r["score"]) for r in
                                      tx.run(Q.FULLTEXT_QUERY, index=Q.FULLTEXT_INDEX, text=query, limit=limit)])

    def close(self) -> None:
        self._driver.close()
