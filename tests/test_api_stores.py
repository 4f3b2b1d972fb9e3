"""The same API answers on every store: each backend, loaded with the same library, answers the
read endpoints exactly as the embedded store does."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from loaders import load_file

ROOT = Path(__file__).resolve().parents[1]
PATHS = ["/stats", "/categories", "/sectors", "/indicators?sector=教育&limit=20",
         "/indicators?category=满意度&limit=50", "/indicators?scope=general&offset=10&limit=10"]


def _answers(store) -> dict[str, object]:
    with TestClient(create_app(store=store, seed=False)) as c:
        out = {p: c.get(p).json() for p in PATHS}
        first = out["/indicators?sector=教育&limit=20"]["items"][0]["id"]
        detail = c.get(f"/indicators/{first}").json()
        detail["neighbours"] = sorted(detail["neighbours"], key=lambda n: (n["edge"], n["direction"], n["id"]))
        out["detail"] = detail
        out["history"] = [{k: h[k] for k in ("seq", "source", "file_hash", "version_before", "version_after", "counts")}
                          for h in c.get("/history").json()]
        return out


def test_identical_answers(fresh_store, sqlite_store, mini_library: Path, tmp_path: Path) -> None:
    load_file(mini_library, fresh_store)
    load_file(mini_library, sqlite_store)
    assert _answers(fresh_store) == _answers(sqlite_store)


def _compose_command() -> list[str] | None:
    """A compose implementation that actually runs here: docker-compose, or docker with its compose
    plugin (``docker`` alone, without the plugin, is not one)."""
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    if shutil.which("docker"):
        probe = subprocess.run(["docker", "compose", "version"], capture_output=True, text=True)
        if probe.returncode == 0:
            return ["docker", "compose"]
    return None


def test_compose_file_is_valid() -> None:
    cmd = _compose_command()
    if cmd is None:
        pytest.skip("没有可用的 compose 实现（docker-compose，或带 compose 插件的 docker）")
    r = subprocess.run(cmd + ["config", "-q"], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
