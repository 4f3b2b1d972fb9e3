"""Fixtures named for what they give: a fresh store of each backend, a small library file, the
bundled library seeded once per session, and an API client."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

from graph import GraphStore, open_store
from ontology.build import library_document, render
from ontology.catalogue import CATALOGUE_DIR, load_catalogue

DATA = Path(__file__).resolve().parent / "data"
# search indexes pickled by a test run stay in the run's own temporary folder, not in ~/.cache
os.environ.setdefault("ZHIBIAO_SEARCH_CACHE_DIR", tempfile.mkdtemp(prefix="zhibiao-search-"))
NEO4J_URI = os.environ.get("NEO4J_URI")
REQUIRE_NEO4J = os.environ.get("ZHIBIAO_REQUIRE_NEO4J") == "1"


def _neo4j_param():
    reason = "Neo4j 测试已跳过：未设置 NEO4J_URI（运行 scripts/neo4j-local start 并导出 NEO4J_URI）"
    marks = [pytest.mark.neo4j]
    if not NEO4J_URI and not REQUIRE_NEO4J:
        marks.append(pytest.mark.skip(reason=reason))
    return pytest.param("neo4j", marks=marks, id="neo4j")


BACKENDS = [pytest.param("sqlite", id="sqlite"), _neo4j_param()]


def make_store(backend: str, tmp_path: Path) -> GraphStore:
    if backend == "sqlite":
        return open_store(f"sqlite:///{tmp_path / 'store.db'}")
    if not NEO4J_URI:
        pytest.fail("ZHIBIAO_REQUIRE_NEO4J=1 但未设置 NEO4J_URI：CI 必须先启动 Neo4j")
    from graph.neo4j_store import Neo4jStore
    # tests run one after another on one server: each starts from an emptied graph
    store = open_store(NEO4J_URI)
    assert isinstance(store, Neo4jStore)
    store.wipe()
    return store


@pytest.fixture(params=BACKENDS)
def fresh_store(request: pytest.FixtureRequest, tmp_path: Path):
    store = make_store(request.param, tmp_path)
    yield store
    store.close()


@pytest.fixture
def sqlite_store(tmp_path: Path):
    store = open_store(f"sqlite:///{tmp_path / 'store.db'}")
    yield store
    store.close()


@pytest.fixture(scope="session")
def mini_library(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The general indicators plus one small sector: a complete library that loads in a second."""
    cat = load_catalogue([CATALOGUE_DIR / "general.txt", DATA / "mini_catalogue.txt"])
    assert not [p for p in cat.problems if p.severity == "error"], cat.problems
    path = tmp_path_factory.mktemp("lib") / "mini_library.json"
    path.write_text(render(library_document(cat)), encoding="utf-8")
    return path


@pytest.fixture
def mini_store(sqlite_store: GraphStore, mini_library: Path) -> GraphStore:
    from loaders import load_file
    load_file(mini_library, sqlite_store)
    return sqlite_store


@pytest.fixture(scope="session")
def seeded_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The whole bundled library seeded once into an embedded store file (read-only for tests)."""
    from loaders import seed_bundled_library
    url = f"sqlite:///{tmp_path_factory.mktemp('seeded') / 'seeded.db'}"
    with open_store(url) as store:
        seed_bundled_library(store)
    return url


@pytest.fixture
def seeded_store(seeded_db: str):
    store = open_store(seeded_db)
    yield store
    store.close()
