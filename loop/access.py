"""Who may do what in the loop: the loop's actions live in the one permission policy
(``engine/data/roles.yaml``) and are checked for the same principals and with the same unit scope as
projects (``engine.accounts``)."""
from __future__ import annotations

from engine.accounts import Principal, visible
from engine.accounts import allowed as engine_allowed
from engine.accounts import policy as engine_policy
from engine.work_errors import WorkError

__all__ = ["SYSTEM", "Principal", "allowed", "require", "visible"]

#: the principal of bulk loads run from the command line (generated years)
SYSTEM = Principal("system", "admin", None)


def allowed(role: str, action: str) -> bool:
    return engine_allowed(role, action)


def require(who: Principal, action: str) -> None:
    """403 unless the role may do ``action``; checked before any lookup, so it reveals nothing."""
    if allowed(who.role, action):
        return
    roles = engine_policy()["roles"]
    names = engine_policy()["actions"]
    may = [roles[r]["name"] for r in roles if allowed(r, action)]
    raise WorkError("forbidden", "forbidden",
                    f"无权{names.get(action, action)}：当前角色为{roles.get(who.role, {}).get('name', who.role)}，"
                    f"仅{'、'.join(may) or '无'}可以")
