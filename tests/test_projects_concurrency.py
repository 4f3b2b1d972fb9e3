"""A real server under load, on both stores (issue 9 acceptance):

* 64 clients for 30 s (ZHIBIAO_CONCURRENCY_SECONDS) writing tables and reading projects against a
  uvicorn server on a free loopback port: no server error, and no lost or interleaved revision
  (every accepted write is stored whole under the revision it was answered with; revisions run
  1..N without a gap; every row of a revision carries the marker of the one write that made it);
* kill -9 of the server in the middle of writes leaves every table at a committed revision.

Each write carries a unique marker (client, sequence) in the annual goal and in every row's basis."""
from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import httpx2 as httpx

from engine.accounts import add_user
from engine.units import ensure_units
from graph import GraphStore
from projects_support import ROWS

SECONDS = float(os.environ.get("ZHIBIAO_CONCURRENCY_SECONDS", "30"))
CLIENTS = 64
ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start_server(store: GraphStore) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    env = {**os.environ, "ZHIBIAO_STORE": store.url, "ZHIBIAO_SEED": "0", "ZHIBIAO_TOKEN_SECRET": "concurrency-test"}
    log = tempfile.NamedTemporaryFile("w+b", prefix="zhibiao-server-", suffix=".log", delete=False)
    # the server's log goes to a file: an unread pipe would fill up and stall the server
    proc = subprocess.Popen([sys.executable, "-m", "uvicorn", "api.app:create_app", "--factory", "--host", "127.0.0.1",
                             "--port", str(port), "--log-level", "warning", "--timeout-keep-alive", "300"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=log)
    proc.log_path = log.name  # type: ignore[attr-defined]
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/units", timeout=2).status_code == 200:
                return proc, base
        except httpx.HTTPError:
            pass
        if proc.poll() is not None:
            raise RuntimeError(Path(log.name).read_text(encoding="utf-8", errors="replace")[-2000:])
        time.sleep(0.3)
    proc.kill()
    raise RuntimeError("服务未能在 90 秒内就绪")


def _stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(60)
    except subprocess.TimeoutExpired:  # graceful shutdown still draining: the test is over anyway
        proc.kill()
        proc.wait(30)


def _prepare(store: GraphStore, mini_library: Path, projects_per_unit: int) -> dict[str, list[str]]:
    from engine.accounts import Principal
    from engine.library import Library
    from engine.projects import Projects
    from loaders import load_file
    load_file(mini_library, store)
    ensure_units(store)
    add_user(store, "edu", "edu-password", "unit", "106", "cli")
    add_user(store, "police", "police-password", "unit", "110", "cli")
    add_user(store, "rev", "rev-password", "reviewer", None, "cli")
    svc = Projects(Library(store))
    out: dict[str, list[str]] = {}
    for name, unit in (("edu", "106"), ("police", "110")):
        who = Principal(name, "unit", unit)
        out[name] = [svc.create(who, f"项目{i}", unit, 2025, 100000)["id"] for i in range(projects_per_unit)]
    return out


def _warm_up(base: str, head: dict[str, str], pid: str) -> None:
    """One table write and one search before the clock starts: the server builds its review and search
    indexes on first use, and that one-time cost is not what these tests measure."""
    rev = httpx.get(f"{base}/projects/{pid}", headers=head, timeout=300).json()["revision"]
    goals, rows = _table("warm-up")
    r = httpx.put(f"{base}/projects/{pid}/targets", headers=head, json={"revision": rev, "goals": goals, "rows": rows},
                  timeout=300)
    assert r.status_code == 200, r.text
    httpx.get(f"{base}/search", params={"q": "培训"}, timeout=300)


def _token(base: str, name: str) -> dict[str, str]:
    r = httpx.post(f"{base}/auth/token", json={"username": name, "password": f"{name}-password"}, timeout=30)
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def _table(marker: str) -> tuple[dict, list[dict]]:
    return {"period": "实施期目标", "annual": marker}, [{**r, "basis": marker} for r in ROWS]


def _check_committed(store: GraphStore, pids: list[str], accepted: dict[tuple[str, int], str] | None) -> int:
    """Every project's revisions 1..N are whole (each row carries its table's marker); nothing
    beyond N exists; every accepted write is stored under the revision it was answered with."""
    total = 0
    for pid in pids:
        n = store.get(pid).props["revision"]
        total += n
        for rev in range(1, n + 1):
            table = store.get(f"{pid}/r{rev}")
            assert table is not None, (pid, rev)
            rows = store.get_many(d for t, d in table.edges if t == "HAS_ROW")
            assert len(rows) == len(ROWS), (pid, rev, len(rows))
            marker = table.props["goals"]["annual"]
            assert {r.props["basis"] for r in rows.values()} == {marker}, (pid, rev)  # not interleaved
            if accepted is not None:
                assert accepted.get((pid, rev)) == marker, (pid, rev)  # the write answered with rev
        assert store.get(f"{pid}/r{n + 1}") is None
        if accepted is not None:
            assert not [k for k in accepted if k[0] == pid and k[1] > n]  # nothing accepted was lost
    return total


def test_64_clients_for_30_seconds(fresh_store: GraphStore, mini_library: Path) -> None:
    pids = _prepare(fresh_store, mini_library, projects_per_unit=6)
    proc, base = _start_server(fresh_store)
    statuses: Counter = Counter()
    accepted: dict[tuple[str, int], str] = {}
    errors: list[str] = []
    lock = threading.Lock()
    try:
        heads = {name: _token(base, name) for name in ("edu", "police", "rev")}
        _warm_up(base, heads["edu"], pids["edu"][0])
        accepted[(pids["edu"][0], fresh_store.get(pids["edu"][0]).props["revision"])] = "warm-up"
        stop = time.monotonic() + SECONDS

        def client(cid: int) -> None:
            rnd = random.Random(cid)
            account = "edu" if cid % 2 else "police"
            mine = pids[account]
            seq = 0
            # 64 clients share one server process on a small machine: a request may queue a while
            with httpx.Client(base_url=base, timeout=300) as http:
                while time.monotonic() < stop:
                    seq += 1
                    pid = rnd.choice(mine)
                    try:
                        if rnd.random() < 0.35:  # readers: the list, a project, the reviewer's queue
                            r = http.get("/projects", params={"unit": "106" if cid % 2 else "110"},
                                         headers=heads[account])
                            r2 = http.get(f"/projects/{pid}", headers=heads["rev"])
                            with lock:
                                statuses[r.status_code] += 1
                                statuses[r2.status_code] += 1
                            continue
                        current = http.get(f"/projects/{pid}", headers=heads[account])
                        if current.status_code != 200:
                            with lock:
                                statuses[current.status_code] += 1
                                errors.append(f"{current.status_code} {current.text[:200]}")
                            continue
                        rev = current.json()["revision"]
                        marker = f"c{cid}-s{seq}"
                        goals, rows = _table(marker)
                        r = http.put(f"/projects/{pid}/targets", headers=heads[account],
                                     json={"revision": rev, "goals": goals, "rows": rows})
                        with lock:
                            statuses[current.status_code] += 1
                            statuses[r.status_code] += 1
                            if r.status_code == 200:
                                key = (pid, r.json()["revision"])
                                assert key not in accepted, key  # two writes answered with one revision
                                accepted[key] = marker
                            elif r.status_code == 409:
                                assert r.json()["code"] == "stale_revision" and r.json()["current_revision"] > rev
                            else:
                                errors.append(f"{r.status_code} {r.text[:200]}")
                    except AssertionError as e:
                        with lock:
                            errors.append(f"assert {e}")
                    except httpx.TransportError as e:  # a dropped connection is a server failure too
                        with lock:
                            statuses["transport_error"] += 1
                            errors.append(f"transport {e!r}")
        threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        _stop(proc)
    server_errors = sum(v for k, v in statuses.items() if k == "transport_error" or k >= 500)
    print(f"\n{fresh_store.url.split(':')[0]}：{CLIENTS} 个客户端 {SECONDS:g} 秒，应答 {dict(statuses)}，"
          f"写入成功 {len(accepted)}，服务器错误 {server_errors}")
    server_log = Path(proc.log_path).read_text(encoding="utf-8", errors="replace")  # type: ignore[attr-defined]
    assert server_errors == 0 and not errors, (errors[:5], server_log[-3000:])
    assert len(accepted) > 1 and statuses[200] > len(accepted)
    stored = _check_committed(fresh_store, pids["edu"] + pids["police"], accepted)
    assert stored == len(accepted)


def test_kill_9_mid_write_leaves_committed_revisions(fresh_store: GraphStore, mini_library: Path) -> None:
    pids = _prepare(fresh_store, mini_library, projects_per_unit=3)
    proc, base = _start_server(fresh_store)
    head = _token(base, "edu")
    _warm_up(base, head, pids["edu"][0])
    stop = threading.Event()
    sent = Counter()

    def writer(cid: int) -> None:
        seq = 0
        with httpx.Client(base_url=base, timeout=10) as http:
            while not stop.is_set():
                seq += 1
                pid = pids["edu"][cid % 3]
                try:
                    rev = http.get(f"/projects/{pid}", headers=head).json()["revision"]
                    goals, rows = _table(f"k{cid}-{seq}")
                    http.put(f"/projects/{pid}/targets", headers=head, json={"revision": rev, "goals": goals, "rows": rows})
                    sent[cid] += 1
                except (httpx.HTTPError, ValueError, KeyError):
                    if stop.is_set():
                        return
    threads = [threading.Thread(target=writer, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 120
    while sum(sent.values()) < 8 and time.monotonic() < deadline:  # writes are flowing: now kill mid-write
        time.sleep(0.2)
    time.sleep(0.5)
    os.kill(proc.pid, signal.SIGKILL)  # no shutdown, no cleanup: transactions in flight die with it
    proc.wait(30)
    stop.set()
    for t in threads:
        t.join()
    assert sum(sent.values()) > 0

    def state() -> tuple[int, int]:
        return (sum(fresh_store.get(p).props["revision"] for p in pids["edu"]),
                fresh_store.list("AuditEntry", {"action": "project.put_targets"}).total)
    # a commit whose COMMIT message left before the kill still completes in the database a moment later:
    # read once the store is quiet (the same state twice, a second apart)
    seen, deadline = state(), time.monotonic() + 60
    while time.monotonic() < deadline:
        time.sleep(1)
        now = state()
        if now == seen:
            break
        seen = now
    revisions = _check_committed(fresh_store, pids["edu"], None)
    assert revisions > 0
    # the audit log holds exactly one entry per committed revision: a write and its audit are one commit
    puts = fresh_store.list("AuditEntry", {"action": "project.put_targets"}).total
    assert puts == revisions
    # and the store takes new writes at once
    proc2, base2 = _start_server(fresh_store)
    try:
        pid = pids["edu"][0]
        rev = fresh_store.get(pid).props["revision"]
        goals, rows = _table("after-restart")
        r = httpx.put(f"{base2}/projects/{pid}/targets", headers=_token(base2, "edu"),
                      json={"revision": rev, "goals": goals, "rows": rows}, timeout=60)
        assert r.status_code == 200 and r.json()["revision"] == rev + 1
    finally:
        _stop(proc2)
