"""Every export format of the whole bundled library, loaded back into the same store, is a no-op:
0 created, 0 updated, the library version unchanged, every node's content hash unchanged. One value
grammar is what makes the table formats pass (a qualitative 达到预期 once came back as 预期)."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from engine.export import export_bytes
from graph import open_store
from loaders import load_file

FAST = ("csv", "json", "xlsx")
RDF = ("ttl", "jsonld")


@pytest.fixture
def library_copy(seeded_db: str, tmp_path: Path) -> str:
    """A writable copy of the seeded library store (the session store stays read-only)."""
    src = Path(seeded_db.removeprefix("sqlite:///"))
    dst = tmp_path / "copy.db"
    shutil.copy(src, dst)
    return f"sqlite:///{dst}"


def _round_trip(url: str, fmt: str, tmp_path: Path) -> None:
    with open_store(url) as store:
        before = {n.id: n.content_hash() for n in store.snapshot()[1]}
        version = store.version()
        path = tmp_path / f"library.{fmt}"
        path.write_bytes(export_bytes(store, fmt))
        report = load_file(path, store, shacl=False)   # conformance of the export is tested apart
        assert report.errors == []
        assert report.counts["created"] == 0 and report.counts["updated"] == 0, report.counts
        assert report.counts["indicators"] > 10_000
        assert store.version() == version
        assert {n.id: n.content_hash() for n in store.snapshot()[1]} == before


@pytest.mark.parametrize("fmt", FAST)
def test_table_and_json_exports_reload_as_no_op(library_copy: str, fmt: str, tmp_path: Path) -> None:
    _round_trip(library_copy, fmt, tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize("fmt", RDF)
def test_rdf_exports_reload_as_no_op(library_copy: str, fmt: str, tmp_path: Path) -> None:
    _round_trip(library_copy, fmt, tmp_path)
