"""Who may do what in the loop: the loop's actions (``loop/data/roles.yaml``) checked for the same
principals and with the same unit scope as projects (``engine.accounts``). A role is allowed an
action listed for it in either policy file, so the lead can move these lines into the one
engine policy without a code change."""
from __future__ import annotations

from functools import lru_cache
from typing import Any

import yaml

from engine.accounts import Principal, visible
from engine.accounts import allowed as engine_allowed
from engine.accounts import policy as engine_policy
from engine.work_errors import WorkError

from .config import DATA_DIR

__all__ = ["SYSTEM", "Principal", "allowed", "require", "visible"]

#: the principal of bulk loads run from the command line (generated years)
SYSTEM = Principal("system", "admin", None)


@lru_cache(maxsize=1)
def loop_policy() -> dict[str, Any]:
    return yaml.safe_load((DATA_DIR / "roles.yaml").read_text(encoding="utf-8"))


def allowed(role: str, action: str) -> bool:
    return action in loop_policy()["roles"].get(role, {}).get("actions", []) or engine_allowed(role, action)


def require(who: Principal, action: str) -> None:
    """403 unless the role may do ``action``; checked before any lookup, so it reveals nothing."""
    if allowed(who.role, action):
        return
    roles = engine_policy()["roles"]
    names = loop_policy()["actions"]
    may = [roles[r]["name"] for r in roles if allowed(r, action)]
    raise WorkError("forbidden", "forbidden",
                    f"无权{names.get(action, action)}：当前角色为{roles.get(who.role, {}).get('name', who.role)}，"
                    f"仅{'、'.join(may) or '无'}可以")
