"""The store a command works on: opened from --store / ZHIBIAO_STORE, created or seeded only as
documented, named on stderr; shared by every command module (kept out of cli/main.py so that the
command modules do not import the module that imports them)."""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Callable

from graph import GraphStore, StoreError, open_store, store_url_from_env
from graph.settings import setting


def _progress(desc: str) -> tuple[Callable[[int, int], None], Callable[[], None]]:
    from tqdm import tqdm
    bar: list = []

    def update(done: int, total: int) -> None:
        if not bar:
            bar.append(tqdm(total=total, desc=desc, unit="条", file=sys.stderr, disable=None, leave=False))
        bar[0].n = done
        bar[0].refresh()

    def close() -> None:
        if bar:
            bar[0].close()
    return update, close


def seed_enabled(args: argparse.Namespace) -> bool:
    return not getattr(args, "no_seed", False) and setting("ZHIBIAO_SEED")


def sqlite_file(url: str) -> Path | None:
    """The file of a sqlite:/// URL (None for other stores and :memory:)."""
    if not url.startswith("sqlite:///"):
        return None
    path = url[len("sqlite:///"):]
    return None if path in ("", ":memory:") else Path(path)


def open_for(args: argparse.Namespace, write: bool = False) -> GraphStore:
    """The store a command works on, named on stderr when it is created or seeded.

    No silent wrong store: a *writing* command (``write``) creates a missing embedded store only
    when it is the documented default (./zhibiao.db, no --store and no ZHIBIAO_STORE) or named
    on the command line with --store; a ZHIBIAO_STORE pointing at a missing file is refused.
    ``--dry-run`` writes nothing anywhere: a missing store is not created (the file is checked
    against an empty in-memory store) and an empty one is not seeded."""
    url = store_url_from_env(args.store)
    path = sqlite_file(url)
    dry = bool(getattr(args, "dry_run", False))
    if path is not None and not path.exists():
        if dry:
            print(f"存储 {path.resolve()} 不存在：按空库校验（--dry-run 不创建、不写入任何存储）", file=sys.stderr)
            return open_store("sqlite:///:memory:")
        explicit = bool(getattr(args, "store", None))
        if write and not explicit and os.environ.get("ZHIBIAO_STORE"):   # set, whatever its value
            raise StoreError(f"存储 {path.resolve()}（环境变量 ZHIBIAO_STORE）不存在：写入命令不会隐式新建存储；"
                             "请检查路径，或用 --store 明确指定要新建的存储", "store_missing")
        print(f"新建存储：{path.resolve()}", file=sys.stderr)
    store = open_store(url)
    if seed_enabled(args) and not dry and store.is_empty():
        from loaders import seed_bundled_library
        print(f"存储 {_where(store)} 为空，正在载入内置指标库……", file=sys.stderr)
        update, close = _progress("载入内置指标库")
        try:
            report = seed_bundled_library(store, progress=update)
        finally:
            close()
        print(f"已载入内置指标库：{report.counts.get('indicators', 0)} 个指标，库版本 {report.version_after}",
              file=sys.stderr)
    return store


def _where(store: GraphStore) -> str:
    """The store as a user recognises it: the absolute file, or the server URL."""
    path = sqlite_file(store.url)
    return str(path.resolve()) if path is not None else store.url
