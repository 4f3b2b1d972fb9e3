"""SearchService: search, autocomplete and recommendation over the current library version.

Why it is built this way:

* the index is a part of the library snapshot (engine/snapshot.py), the one owner of per-version
  library state: built once per version from the snapshot's nodes, shared with every reader, and
  replaced whole with the snapshot, so readers never lock and never see a half-built index;
* the store's version is checked at most once per ``check_interval`` (default 1 s): the version is
  the only signal needed to notice a load made by another process or another API replica sharing
  the same Neo4j, and checking it on every request would cost a round trip each time;
* when the version moved, the snapshot's background thread builds the new index (a registered
  eager part) while queries keep using the old one; only the very first build makes callers wait;
* unless ZHIBIAO_SEARCH_CACHE=0, a built index is saved under ZHIBIAO_SEARCH_CACHE_DIR (default
  ~/.cache/zhibiao), keyed by (store URL, version, last load stamp, data files), as a folder of
  .npy arrays and a JSON manifest (no pickle: a cache folder cannot run code). A fresh CLI process
  or another API replica maps those files instead of reading the library: opening takes
  milliseconds and the pages are shared between processes. Each store keeps its current cache
  folder and the one before it (a replica still on the previous version); older ones are deleted
  when a new one is written."""
from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import threading
import time
from pathlib import Path
from typing import Any

from graph.settings import setting
from engine.library import BadQuery, Library, NotFound
from engine.snapshot import LibrarySnapshot, register, snapshot_of
from graph.store import GraphStore

from .index import FORMAT, RESULT_CACHE, SearchIndex
from .text import DATA_DIR

logger = logging.getLogger("zhibiao.search")
CACHE_FORMAT = 4  # 3 was a pickle; 4 is a folder of .npy arrays (index.FORMAT inside)
KEEP_PER_STORE = 2  # the current cache folder of a store and the previous one
INDEX_KEY = "search_index"


def _data_hash() -> str:
    """The data files an index is built from (synonyms, stop words): editing them invalidates caches."""
    h = hashlib.sha1()
    for name in ("synonyms.yaml", "stopwords.txt"):
        try:
            h.update((DATA_DIR / name).read_bytes())
        except OSError:
            pass
    return h.hexdigest()[:12]


def _stamp(store: GraphStore, version: int) -> tuple:
    """What identifies the library content: URL, version and the last load record (a fresh store at
    the same URL with the same version number has a different load time), plus the index format
    and the data files."""
    try:
        hist = store.history()
        last = hist[-1] if hist else None
        tail = (last.at, last.file_hash, last.seq) if last else ("", "", 0)
    except Exception:  # a store without history still gets an in-process index
        tail = ("", "", 0)
    return (CACHE_FORMAT, store.url, version, *tail, FORMAT, _data_hash())


def _cache_base() -> Path | None:
    if not setting("ZHIBIAO_SEARCH_CACHE"):
        return None
    return setting("ZHIBIAO_SEARCH_CACHE_DIR")


def _cache_path(stamp: tuple) -> Path | None:
    base = _cache_base()
    if base is None or not stamp[1]:
        return None
    key = hashlib.sha1(repr(stamp).encode("utf-8")).hexdigest()[:20]
    return base / f"search-{CACHE_FORMAT}-{key}"


def _load(path: Path) -> SearchIndex | None:
    try:
        return SearchIndex.load(path)
    except Exception as e:  # a stale, foreign or damaged cache folder is rebuilt, never trusted blindly
        logger.info("检索索引缓存不可用，重建：%s", e)
        return None


def _save(index: SearchIndex, path: Path, stamp: tuple) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        index._meta["store"] = stamp[1]
        index.save(tmp)
        try:
            os.rename(tmp, path)  # atomic: concurrent processes never read a partial folder
        except OSError:  # another process saved the same index first
            shutil.rmtree(tmp, ignore_errors=True)
        prune(path.parent, stamp[1], keep=path)
    except OSError as e:
        shutil.rmtree(tmp, ignore_errors=True)
        logger.info("检索索引缓存写入失败（不影响检索）：%s", e)


def prune(base: Path, store_url: str, keep: Path) -> list[Path]:
    """Delete the cache folders of ``store_url`` except ``keep`` and the newest previous one, and
    caches of older formats (pickles of format 3). A process that still maps a deleted folder keeps
    reading it: the files live on until it unmaps them."""
    removed: list[Path] = []
    same_store: list[tuple[float, Path]] = []
    for p in base.glob("search-*"):
        if p == keep:
            continue
        if p.is_file() or not p.name.startswith(f"search-{CACHE_FORMAT}-"):
            target = p
        else:
            try:
                url = json.loads((p / "manifest.json").read_text(encoding="utf-8")).get("store")
            except (OSError, ValueError):
                url = None
            if url is not None and url != store_url:
                continue
            same_store.append((p.stat().st_mtime, p))
            continue
        removed.append(target)
    same_store.sort(reverse=True)
    removed += [p for _, p in same_store[KEEP_PER_STORE - 1:]]
    for p in removed:
        if p.is_dir():
            shutil.rmtree(p, ignore_errors=True)
        else:
            p.unlink(missing_ok=True)
    return removed


def index_of(snap: LibrarySnapshot) -> SearchIndex:
    """The search index of a library snapshot: mapped from the on-disk cache when a previous process
    (or another replica) saved it, otherwise built from the snapshot's nodes and saved."""
    store = snap.store
    assert store is not None
    stamp = _stamp(store, snap.version)
    path = _cache_path(stamp)
    index = _load(path) if path and path.exists() else None
    if index is None:
        t0 = time.perf_counter()
        index = SearchIndex(snap.version, snap.nodes)
        logger.info("检索索引已建立：版本 %s，%d 个指标，%.1f 秒", snap.version, len(index.docs),
                    time.perf_counter() - t0)
        if path:
            _save(index, path, stamp)
    return index


# a server builds the new index in the background with the new snapshot, before it replaces the old one
register(INDEX_KEY, index_of)


def build_index(store: GraphStore) -> SearchIndex:
    """The index of the store's current library version, as its snapshot holds it."""
    return snapshot_of(store).derived(INDEX_KEY, index_of)


class SearchService:
    """Search, autocomplete, recommendation and similar indicators over the current index. It keeps
    no index of its own: the index and the autocomplete tables are parts of the library snapshot of
    the current version (engine/snapshot.py), shared with every other reader."""

    def __init__(self, library: Library | GraphStore, check_interval: float = 1.0):
        self.library = library if isinstance(library, Library) else Library(library)
        self.store = self.library.store
        self.check_interval = check_interval
        self._recommender_helper: Any = None
        self._helper_lock = threading.Lock()

    # --- the current snapshot -----------------------------------------------------------------
    def _snapshot(self) -> LibrarySnapshot:
        """The current snapshot, the version read at most once per ``check_interval``; after a load a
        background thread builds the next one (index included) while this one keeps answering."""
        return snapshot_of(self.store, wait=False, max_age=self.check_interval)

    def index(self) -> SearchIndex:
        """The current index; only the very first build makes a caller wait."""
        return self._snapshot().derived(INDEX_KEY, index_of)

    def prepare(self) -> None:
        """Build the index and its helpers now (a server warms up in the background)."""
        snap = self._snapshot()
        self._suggester(snap)
        self._recommender(snap)

    @staticmethod
    def _suggester(snap: LibrarySnapshot) -> Any:
        """Autocomplete tables, built on first use (their pinyin of every name takes seconds), so a
        plain search never pays for them."""
        from .suggest import Suggester
        return snap.derived("search_suggester", lambda s: Suggester(s.derived(INDEX_KEY, index_of)))

    def _recommender(self, snap: LibrarySnapshot) -> Any:
        """The recommender of the current index. Kept here, not in the snapshot: it also reads the work
        graph (approved tables) through this service's library, and a snapshot must not hold its
        store (the snapshot registry holds stores weakly)."""
        from .recommend import Recommender
        idx = snap.derived(INDEX_KEY, index_of)
        helper = self._recommender_helper
        if helper is None or helper.index is not idx:
            with self._helper_lock:
                helper = self._recommender_helper
                if helper is None or helper.index is not idx:
                    helper = self._recommender_helper = Recommender(idx, self.library)
        return helper

    def refresh(self, wait: bool = True) -> SearchIndex:
        """Check the version now (tests, after a load in this process); optionally wait for the new index."""
        return snapshot_of(self.store, wait=wait).derived(INDEX_KEY, index_of)

    # --- queries ------------------------------------------------------------------------------
    def search(self, q: str, sector: str | None = None, field: str | None = None,
               project_type: str | None = None, category: str | None = None,
               value_kind: str | None = None, limit: int = 10, offset: int = 0,
               group: bool = True) -> dict[str, Any]:
        """One page of hits; by default indicators sharing a name are one hit with ``variants``
        (see SearchIndex.search)."""
        if not 1 <= limit <= 100:
            raise BadQuery("bad_limit", f"limit 须在 1 到 100 之间（收到 {limit}）")
        if not 0 <= offset <= 10000:
            raise BadQuery("bad_offset", f"offset 须在 0 到 10000 之间（收到 {offset}）")
        idx = self.index()
        filters = idx.filter_ids(sector, field, project_type, category, value_kind)
        return idx.search(q, filters, limit=limit, offset=offset, group=group)

    def search_json(self, q: str, **kw: Any) -> bytes:
        """``search`` as the UTF-8 JSON body the API sends, memoised per index like the results
        themselves: a repeated query costs a dict lookup, not a re-encoding of hits and facets."""
        idx = self.index()
        key = (q, tuple(sorted(kw.items())))
        memo = idx.__dict__.setdefault("_json", {})
        body = memo.get(key) if RESULT_CACHE > 0 else None
        if body is None:
            body = json.dumps(self.search(q, **kw), ensure_ascii=False, allow_nan=False,
                              separators=(",", ":")).encode("utf-8")
            if RESULT_CACHE > 0:
                if len(memo) >= RESULT_CACHE:
                    try:  # FIFO eviction; another thread may be evicting at the same moment
                        memo.pop(next(iter(memo)))
                    except (KeyError, RuntimeError, StopIteration):
                        pass
                memo[key] = body
        return body

    def suggest(self, q: str, limit: int = 10) -> dict[str, Any]:
        return self._suggester(self._snapshot()).suggest(q, limit)

    def recommend(self, project: str, description: str = "", sector: str | None = None,
                  project_type: str | None = None, amount: float | None = None,
                  period: str | None = None, region: str | None = None,
                  unit: str | None = None) -> dict[str, Any]:
        """``region`` keeps place-bound project types (边境小康村建设 for border counties) where they apply;
        ``unit`` lets the unit's own approved tables price its unit costs."""
        return self._recommender(self._snapshot()).recommend(project, description, sector, project_type, amount,
                                                             period, region=region, unit=unit)

    def infer_project_type(self, name: str, description: str = "", sector: str | None = None) -> str | None:
        """The most likely project type of a new project (its id), or None."""
        found = self._recommender(self._snapshot()).infer_project_types(
            name, description, {f"SEC-{sector}"} if sector else None, top=1)
        return found[0]["id"] if found else None

    def similar(self, indicator_id: str, limit: int = 10) -> dict[str, Any]:
        snap = self._snapshot()
        if indicator_id not in snap.derived(INDEX_KEY, index_of).by_id:
            raise NotFound(f"指标 {indicator_id} 不存在（或已停用）")
        return self._recommender(snap).similar(indicator_id, limit)


_SERVICE_LOCK = threading.Lock()


def service_for(state: Any, library: Library) -> "SearchService":
    """The one SearchService kept on an app's ``state``, bound to ``library`` (re-created when the
    library object changes). The API routes, the web pages and the start-up warm-up share it, under
    one lock, so the index is built once per app."""
    svc = getattr(state, "search_service", None)
    if svc is None or svc.library is not library:
        with _SERVICE_LOCK:
            svc = getattr(state, "search_service", None)
            if svc is None or svc.library is not library:
                svc = SearchService(library)
                state.search_service = svc
    return svc
