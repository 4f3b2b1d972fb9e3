"""Neo4j-specific behaviour on a real server: a connection killed mid-load, the server going away
and coming back under the API, migrate from the embedded store, and the cjk full-text index."""
from __future__ import annotations

import signal
import socket
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from graph import StoreUnavailable, open_store
from loaders import load_file

from conftest import NEO4J_URI, REQUIRE_NEO4J

pytestmark = [pytest.mark.neo4j, pytest.mark.skipif(
    not NEO4J_URI and not REQUIRE_NEO4J,
    reason="Neo4j 测试已跳过：未设置 NEO4J_URI（运行 scripts/neo4j-local start 并导出 NEO4J_URI）")]
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def neo(tmp_path):
    if not NEO4J_URI:
        pytest.fail("ZHIBIAO_REQUIRE_NEO4J=1 但未设置 NEO4J_URI")
    store = open_store(NEO4J_URI)
    store.wipe()
    yield store
    store.close()


def test_connection_killed_mid_load_leaves_nothing(neo, mini_library: Path, tmp_path: Path) -> None:
    load_file(mini_library, neo)
    version, before = neo.snapshot()
    header = "二级指标,三级指标,计量单位,指标值,指标解释,计算公式,行业,项目类型,指标值设定依据\n"
    rows = [f"质量指标,第{i}号园区食堂检查合格率,%,≥98%,食堂检查合格的园所占比,合格园所数/检查园所数×100%,教育,普惠性幼儿园建设,行业标准\n"
            for i in range(2500)]
    big = tmp_path / "big.csv"
    big.write_text(header + "".join(rows), encoding="utf-8")
    script = textwrap.dedent(f"""
        import time
        from graph import open_store
        from loaders import load_file
        store = open_store({NEO4J_URI!r})
        def progress(done, total):
            if done >= 1000:
                print("MID", flush=True)
                time.sleep(120)
        load_file({str(big)!r}, store, progress=progress, shacl=False)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        assert proc.stdout.readline().strip() == "MID"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert neo.version() == version
    assert len(neo.snapshot()[1]) == len(before)
    r = load_file(big, neo, shacl=False)
    assert r.version_after == version + 1 and neo.count("Indicator") == len([n for n in before if n.label == "Indicator"]) + 2500


class _Proxy:
    """A loopback TCP forwarder we can cut and restore, standing for a server that goes away."""

    def __init__(self, target: tuple[str, int]):
        self.target = target
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.up = True
        self.conns: list[socket.socket] = []
        self.sock.listen(16)
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            if not self.up:
                c.close()
                continue
            u = socket.create_connection(self.target)
            self.conns += [c, u]
            for a, b in ((c, u), (u, c)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(a: socket.socket, b: socket.socket) -> None:
        try:
            while data := a.recv(65536):
                b.sendall(data)
        except OSError:
            pass
        finally:
            for s in (a, b):
                try:
                    s.close()
                except OSError:
                    pass

    def cut(self) -> None:
        self.up = False
        for c in self.conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
                c.close()
            except OSError:
                pass
        self.conns.clear()

    def restore(self) -> None:
        self.up = True

    def close(self) -> None:
        self.cut()
        self.sock.close()


def test_api_answers_503_and_recovers(neo, mini_library: Path) -> None:
    from fastapi.testclient import TestClient

    from api.app import create_app
    load_file(mini_library, neo)
    host, port = NEO4J_URI.split("://", 1)[1].rsplit(":", 1)
    proxy = _Proxy((host, int(port)))
    try:
        with TestClient(create_app(f"bolt://127.0.0.1:{proxy.port}", seed=False)) as client:
            assert client.get("/stats").json()["general_categories"] == 21
            proxy.cut()
            r = client.get("/stats")
            assert r.status_code == 503 and r.json()["code"] == "store_unavailable" and "不可用" in r.json()["message"]
            proxy.restore()
            for _ in range(5):
                r = client.get("/stats")
                if r.status_code == 200:
                    break
            assert r.status_code == 200 and r.json()["general_categories"] == 21
    finally:
        proxy.close()


def test_unreachable_server_is_a_clear_error() -> None:
    store = open_store("bolt://127.0.0.1:1")
    with pytest.raises(StoreUnavailable) as info:
        store.version()
    assert "无法连接 Neo4j" in str(info.value)
    store.close()


def test_migrate_from_embedded_gives_identical_store(neo, mini_library: Path, tmp_path: Path) -> None:
    from cli.main import main
    from engine.library import Library
    url = f"sqlite:///{tmp_path / 'm.db'}"
    with open_store(url) as src:
        load_file(mini_library, src)
        load_file(mini_library, src)
        src_stats, src_nodes, src_hist = Library(src).stats(), src.snapshot()[1], src.history()
    assert main(["migrate", "--from", url, "--to", NEO4J_URI]) == 0
    assert Library(neo).stats() == src_stats
    assert {n.id: n.content_hash() for n in neo.snapshot()[1]} == {n.id: n.content_hash() for n in src_nodes}
    assert [(h.seq, h.version_after, h.file_hash) for h in neo.history()] == \
        [(h.seq, h.version_after, h.file_hash) for h in src_hist]
    assert main(["migrate", "--from", url, "--to", NEO4J_URI]) == 1  # target not empty: refused (exit 1)


def test_cjk_fulltext_index(neo, mini_library: Path) -> None:
    load_file(mini_library, neo)
    with neo._session() as s:
        s.run("CALL db.awaitIndexes(60)").consume()
    hits = neo.fulltext("满意度", limit=20)
    assert hits and any("满意度" in name for _, name, _ in hits)


def test_failed_transactions_never_disturb_other_threads(neo) -> None:
    """A query the server fails returns its connection to the driver's pool at once; a rollback run
    after that (``with tx:`` or ``execute_read``) would probe a connection another thread may hold by
    then, steal a byte of its answer and leave it waiting out the 120 s receive timeout (seen under
    64 clients). Eight threads, half failing on purpose, half reading: every read is right and none
    waits long."""
    import time
    from graph import ChangeSet, LoadRecord, Node
    from neo4j.exceptions import ClientError
    neo.apply(ChangeSet([Node("SEC-1", "Sector", {"name": "教育"})]),
              LoadRecord(source="t", file_hash="0" * 64, format="test", counts={}))
    stop = time.monotonic() + 8
    slowest: list[float] = []
    problems: list[str] = []
    counts = {"failed": 0, "read": 0}
    lock = threading.Lock()

    def failing() -> None:
        while time.monotonic() < stop:
            try:
                neo._run(lambda tx: tx.run("UNWIND [1, 0] AS x RETURN 1 / x AS y").consume())
                problems.append("a division by zero was not refused")
            except ClientError:
                with lock:
                    counts["failed"] += 1

    def reading() -> None:
        worst = 0.0
        while time.monotonic() < stop:
            t0 = time.monotonic()
            try:
                node = neo.get("SEC-1")
            except Exception as e:  # noqa: BLE001 — any failure of a plain read is the finding
                problems.append(repr(e))
                continue
            worst = max(worst, time.monotonic() - t0)
            if node is None or node.props != {"name": "教育"}:
                problems.append(f"wrong read {node!r}")
            with lock:
                counts["read"] += 1
        slowest.append(worst)
    threads = [threading.Thread(target=failing if i % 2 else reading) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=200)
    assert not any(t.is_alive() for t in threads), "a thread hung on a connection another thread had"
    assert not problems, problems[:3]
    assert counts["failed"] > 50 and counts["read"] > 50, counts
    assert max(slowest) < 10, slowest


def test_pages_searches_and_exports_make_a_bounded_number_of_queries(neo, mini_library: Path, monkeypatch) -> None:
    """Counted on the real server, query by query: a page of 5 indicators and a page of 200 cost the
    same few queries (no query per indicator), an export of the whole library is one snapshot read,
    and a search page, once the index exists, none at all."""
    from neo4j import Transaction

    from engine.export import export_bytes, export_text
    from engine.library import Library
    from search.engine import SearchService
    load_file(mini_library, neo)
    lib = Library(neo)
    lib.vocab()
    svc = SearchService(lib, check_interval=3600.0)
    svc.index()
    sent: list[str] = []
    real = Transaction.run

    def counting(self, query, *a, **k):  # type: ignore[no-untyped-def]
        sent.append(query)
        return real(self, query, *a, **k)
    monkeypatch.setattr(Transaction, "run", counting)

    def queries(work) -> int:  # type: ignore[no-untyped-def]
        sent.clear()
        work()
        return len(sent)
    small = queries(lambda: lib.list_indicators(limit=5, status=None))
    large = queries(lambda: lib.list_indicators(limit=200, offset=5, status=None))
    assert len(lib.list_indicators(limit=200, offset=5, status=None)["items"]) > 50
    assert small == large <= 4, (small, large, sent)
    assert queries(lambda: export_text(neo, "csv")) <= 3, sent
    assert queries(lambda: export_bytes(neo, "xlsx")) <= 3, sent
    assert queries(lambda: svc.search("满意度", limit=50)) == 0, sent
