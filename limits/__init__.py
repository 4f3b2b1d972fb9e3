"""Every input bound in one place: body sizes, .xlsx sizes, rows, cells, query length, offsets.

The numbers live in ``limits.yaml`` beside this module; each can be overridden by an environment
variable of the same name in upper case with a ``ZHIBIAO_`` prefix (``max_body_mb`` →
``ZHIBIAO_MAX_BODY_MB``), read at call time so a test or an operator can change them without a
rebuild. A refusal is a :class:`LimitExceeded`: a stable English ``code`` and a Chinese message
that says which limit and how to raise it. The API, the loaders, the review reader and the CLI all
read their limits here, so a file refused by the server is refused by ``zhibiao check`` too."""
from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from graph.errors import ZhibiaoError

__all__ = ["LimitExceeded", "count", "defaults", "env_name", "get", "human_mb", "mb"]

_FILE = Path(__file__).resolve().parent / "limits.yaml"


class LimitExceeded(ZhibiaoError, ValueError):
    """An input over one of the limits; ``code`` is stable, ``message`` Chinese, ``status`` the HTTP
    status the API answers with (413 for sizes, 422 for counts inside an accepted body)."""

    def __init__(self, code: str, message: str, status: int = 413):
        super().__init__(message, code)
        self.status = status


@lru_cache(maxsize=1)
def defaults() -> dict[str, Any]:
    """The limits as shipped (limits.yaml), before environment overrides."""
    return yaml.safe_load(_FILE.read_text(encoding="utf-8"))


def env_name(key: str) -> str:
    return f"ZHIBIAO_{key.upper()}"


def get(key: str) -> float:
    """The limit ``key`` (a number), the environment variable winning over limits.yaml.

    A malformed override is ignored rather than turning every request into an error."""
    raw = os.environ.get(env_name(key))
    if raw:
        try:
            value = float(raw)
            if value > 0:
                return value
        except ValueError:
            pass
    return float(defaults()[key])


def count(key: str) -> int:
    """A count limit (rows, cells, sheets, characters, offset) as an int."""
    return int(get(key))


def mb(key: str) -> int:
    """A size limit given in MB, in bytes."""
    return int(get(key) * 1024 * 1024)


def human_mb(n_bytes: float) -> str:
    return f"{n_bytes / 1024 / 1024:.3g} MB"
