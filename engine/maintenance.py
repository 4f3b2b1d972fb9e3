"""Maintainers' loads over HTTP: indicator files (the same validation and report as ``zhibiao load``)
and the budget-unit list. A real library load is accepted only after a dry run of the very same
file (same sha256) passed, recorded in the audit log, so a maintainer always sees the report first."""
from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from graph.store import GraphStore, Write

from . import audit
from .accounts import Principal, require
from .units import load_units
from .work_errors import WorkError


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def load_library_file(store: GraphStore, path: Path, who: Principal, dry_run: bool, source: str) -> dict[str, Any]:
    """The load report (``zhibiao load --json``) plus ``file_hash``; the audit log records it."""
    from loaders import LoadError, load_file
    require(who, "library.load")
    digest = _sha256(path)
    obj = f"sha256:{digest}"
    if not dry_run and store.count(audit.AUDIT, {"action": "library.dry_run_passed", "object": obj}) == 0:
        raise WorkError("conflict", "dry_run_required",
                        "正式加载前须先对同一文件做一次校验（dry_run=true）并通过；请先校验")
    try:
        report = load_file(path, store, dry_run=dry_run, source=source)
    except LoadError as e:
        report = e.report
    body = {**report.to_dict(), "file_hash": digest}
    passed = not report.errors
    action = ("library.dry_run_passed" if passed else "library.dry_run_failed") if dry_run else \
        ("library.load" if passed else "library.load_failed")
    store.commit(Write([audit.entry(who.username, action, obj, None, None,
                                    {"file": source, "counts": report.counts, "errors": len(report.errors),
                                     "version_before": report.version_before,
                                     "version_after": report.version_after})]))
    return body


def load_unit_file(store: GraphStore, path: Path, who: Principal, dry_run: bool, source: str) -> dict[str, Any]:
    require(who, "units.load")
    return load_units(store, path, who.username, dry_run=dry_run, source=source)
