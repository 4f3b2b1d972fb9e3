"""Every environment variable the project reads, with its default and meaning, in one place.

The names, types, defaults and Chinese meanings are data (``graph/settings.yaml``); the input
limits keep their own file (``limits/limits.yaml``, overridable as ``ZHIBIAO_<KEY>``) and are listed
here as a view, so ``all_settings()`` is the whole list. Values are read when asked for, not at
import, so a test or a server started with another environment sees its own values.
tests/test_settings.py checks that every variable the code names is listed here."""
from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

_FILE = Path(__file__).resolve().parent / "settings.yaml"
_FALSE = ("0", "false", "no", "off")


@lru_cache(maxsize=1)
def table() -> dict[str, dict[str, Any]]:
    """name → {type, default, meaning}: the documented variables (limits apart)."""
    return yaml.safe_load(_FILE.read_text(encoding="utf-8"))


def setting(name: str) -> Any:
    """The value of ``name``: the environment when set (converted to the documented type), else
    the documented default. An unknown name is a programming error (KeyError)."""
    spec = table()[name]
    raw = os.environ.get(name)
    if raw is not None and raw.strip() == "" and spec["type"] != "str":
        raw = None                      # an empty variable is an unset one (ZHIBIAO_SEED= keeps seeding)
    value = spec.get("default") if raw is None else raw
    if value is None:
        return None
    kind = spec["type"]
    if kind == "bool":
        return value if isinstance(value, bool) else str(value).strip().lower() not in _FALSE
    if kind == "int":
        return int(value)
    if kind == "float":
        return float(value)
    if kind == "path":
        return Path(str(value)).expanduser()
    return str(value)


def all_settings() -> list[dict[str, Any]]:
    """Every variable with its default and meaning, the input limits included."""
    out = [{"name": k, **v} for k, v in table().items()]
    from limits import defaults, env_name
    out += [{"name": env_name(k), "type": "float", "default": v, "meaning": "输入上限（limits/limits.yaml）"}
            for k, v in defaults().items()]
    return out
