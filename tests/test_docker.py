"""The Docker image holds every package: the build context (the folder minus .dockerignore) contains
each package pyproject.toml names, the Dockerfile copies the context, and setuptools builds every
package from that context (the failure this guards against: an image without review/ and
search/, "package directory 'review' does not exist")."""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _packages() -> list[str]:
    doc = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return list(doc["tool"]["setuptools"]["packages"])


def _ignore_rules() -> list[tuple[bool, re.Pattern[str]]]:
    """.dockerignore as (negated, regex) in file order, with Docker's matching: paths relative to
    the context root, ``*`` within one path segment, ``**`` across segments, ``!`` re-includes."""
    rules = []
    for line in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        neg = line.startswith("!")
        pat = line.lstrip("!").strip().strip("/")
        rx = ""
        i = 0
        while i < len(pat):
            if pat.startswith("**/", i):
                rx += "(?:.*/)?"
                i += 3
            elif pat.startswith("**", i):
                rx += ".*"
                i += 2
            elif pat[i] == "*":
                rx += "[^/]*"
                i += 1
            elif pat[i] == "?":
                rx += "[^/]"
                i += 1
            else:
                rx += re.escape(pat[i])
                i += 1
        rules.append((neg, re.compile(rx + r"\Z")))
    return rules


def _ignored(rel: str, rules: list[tuple[bool, re.Pattern[str]]]) -> bool:
    """A path is out of the context when it, or a folder above it, matches the last rule that
    matches it (Docker excludes a folder's whole content with the folder)."""
    parts = rel.split("/")
    out = False
    for k in range(1, len(parts) + 1):
        prefix = "/".join(parts[:k])
        for neg, rx in rules:
            if rx.match(prefix):
                out = not neg
        if out and k < len(parts):
            return True
    return out


def _context_files() -> list[str]:
    rules = _ignore_rules()
    out = []
    for p in ROOT.rglob("*"):
        if p.is_file():
            rel = p.relative_to(ROOT).as_posix()
            if not _ignored(rel, rules):
                out.append(rel)
    return out


def test_every_package_in_pyproject_is_in_the_build_context() -> None:
    files = set(_context_files())
    missing = [pkg for pkg in _packages() if pkg.replace(".", "/") + "/__init__.py" not in files]
    assert not missing, f"pyproject.toml 中的包不在 Docker 构建上下文中：{missing}"
    assert "pyproject.toml" in files and "README.md" in files  # the build needs both


def test_dockerfile_copies_the_context_or_every_package() -> None:
    copies = [line.split()[1:] for line in (ROOT / "Dockerfile").read_text(encoding="utf-8").splitlines()
              if line.strip().upper().startswith("COPY ")]
    sources = {s.rstrip("/") for c in copies for s in c[:-1] if not s.startswith("--")}
    if "." not in sources:
        tops = {pkg.split(".")[0] for pkg in _packages()}
        assert tops <= sources, f"Dockerfile 未复制这些包：{sorted(tops - sources)}"


def test_build_context_builds_every_package(tmp_path: Path) -> None:
    """What `pip install /src` inside the image does first (setuptools' build_py), on exactly the
    files the image receives: it fails on a package directory missing from the context."""
    ctx = tmp_path / "ctx"
    for rel in _context_files():
        dst = ctx / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / rel, dst)
    out = tmp_path / "lib"
    r = subprocess.run([sys.executable, "-c", "import setuptools; setuptools.setup()", "-q", "build_py",
                        "--build-lib", str(out)], cwd=ctx, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-2000:]
    missing = [pkg for pkg in _packages() if not (out / pkg.replace(".", "/") / "__init__.py").exists()]
    assert not missing, f"镜像安装的包缺少：{missing}"
