"""The loop's rules as data: thresholds, weights and grades, tiered budget rules, spending standards.

Each file in ``loop/data/`` is read once and cached; every computing function also takes the rules
as an argument, so a test (or the bureau) can apply another file without touching code. A
directory given in ZHIBIAO_LOOP_DATA overrides the bundled files of the same name."""
from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml

from graph.settings import setting

DATA_DIR = Path(__file__).resolve().parent / "data"
# the city's spending standards are one file shared with the recommender (search/budget.py)
SHARED = {"spending_standards": Path(__file__).resolve().parent.parent / "ontology" / "data" / "spending_standards.yaml"}
FILES = ("thresholds", "weights", "budget_rules", "spending_standards")


class RulesError(ValueError):
    """A rules file is missing a key or has a value of the wrong kind; the message names the file."""

    def __init__(self, message: str, code: str = "bad_rules_file"):
        super().__init__(message)
        self.code = code
        self.message = message


def data_path(name: str) -> Path:
    """Where ``name``.yaml is read from: ZHIBIAO_LOOP_DATA first, then the bundled copy."""
    override = setting("ZHIBIAO_LOOP_DATA")
    if override and (Path(override) / f"{name}.yaml").is_file():
        return Path(override) / f"{name}.yaml"
    return SHARED.get(name, DATA_DIR / f"{name}.yaml")


def read_rules(path: str | Path) -> dict[str, Any]:
    """Read one rules file; a file that is not a YAML mapping is refused with its path."""
    p = Path(path)
    try:
        doc = yaml.safe_load(p.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as e:
        raise RulesError(f"无法读取规则文件 {p}：{e}") from e
    if not isinstance(doc, dict):
        raise RulesError(f"规则文件 {p} 应为 YAML 映射（键: 值）")
    return doc


@cache
def _cached(path: str, mtime: float) -> dict[str, Any]:
    return read_rules(path)


def rules(name: str) -> dict[str, Any]:
    """The named rules file (thresholds, weights, budget_rules, spending_standards), re-read when it changes."""
    if name not in FILES:
        raise RulesError(f"未知的规则文件 {name!r}；可选：{'、'.join(FILES)}", "unknown_rules_file")
    p = data_path(name)
    return _cached(str(p), p.stat().st_mtime)
