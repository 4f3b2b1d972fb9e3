"""Accounts, roles and bearer tokens.

* Passwords are hashed with argon2id (argon2-cffi); only the hash is stored.
* A token is ``zb1.<payload>.<signature>``: the payload (base64url JSON: user, issued, expires) signed
  with HMAC-SHA256. The secret comes from ZHIBIAO_TOKEN_SECRET or, when unset, is generated once and
  kept in the store (node ``SETTING-token-secret``) so every API replica on the same store accepts
  the tokens of the others. Tokens live ZHIBIAO_TOKEN_TTL seconds (default 8 h).
* Every request re-reads the user: a disabled or deleted account stops working at once, and a role
  change applies to tokens already issued.
* The permission policy is data (engine/data/roles.yaml): role → allowed actions and scope. ``require``
  and ``visible`` are the only places that read it.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
import threading
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from graph.settings import setting
from graph.store import GraphStore, Node, Write, WriteConflict

from . import audit
from .work_errors import WorkError

USER, UNIT, SETTING = "User", "BudgetUnit", "Setting"
SECRET_ID = "SETTING-token-secret"
USERNAME_RE = re.compile(r"^[A-Za-z0-9_.\-\u4e00-\u9fff]{2,40}$")
MIN_PASSWORD, MAX_PASSWORD = 8, 128
_DUMMY: dict[tuple, str] = {}
_SECRETS: dict[str, bytes] = {}
_SECRETS_LOCK = threading.Lock()


def hasher() -> PasswordHasher:
    """argon2id with the library's defaults (time 3, 64 MiB); ZHIBIAO_ARGON2_TIME_COST and
    ZHIBIAO_ARGON2_MEMORY_KIB tune it (the tests lower them; hashes keep their own parameters)."""
    return PasswordHasher(time_cost=setting("ZHIBIAO_ARGON2_TIME_COST"),
                          memory_cost=setting("ZHIBIAO_ARGON2_MEMORY_KIB"))


def _dummy_hash(h: PasswordHasher) -> str:
    """A hash to verify against when the user does not exist, so both cases cost the same."""
    key = (h.time_cost, h.memory_cost)
    if key not in _DUMMY:
        _DUMMY[key] = h.hash("zhibiao-dummy-password")
    return _DUMMY[key]


@lru_cache(maxsize=1)
def policy() -> dict[str, Any]:
    return yaml.safe_load((Path(__file__).resolve().parent / "data" / "roles.yaml").read_text(encoding="utf-8"))


def roles() -> list[str]:
    return list(policy()["roles"])


@dataclass(frozen=True)
class Principal:
    """Who makes a request, as read from the store for this request."""
    username: str
    role: str
    unit: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"username": self.username, "role": self.role, "unit": self.unit}


def allowed(role: str, action: str) -> bool:
    return action in policy()["roles"].get(role, {}).get("actions", [])


def require(who: Principal, action: str) -> None:
    """403 unless the role may do ``action`` at all (checked before any lookup, so it reveals nothing)."""
    if not allowed(who.role, action):
        p = policy()
        may = [p["roles"][r]["name"] for r in p["roles"] if allowed(r, action)]
        raise WorkError("forbidden", "forbidden",
                        f"无权{p['actions'].get(action, action)}：当前角色为{p['roles'].get(who.role, {}).get('name', who.role)}，"
                        f"仅{'、'.join(may) or '无'}可以")


def visible(who: Principal, unit: str | None) -> bool:
    """Whether an object of ``unit`` exists for this user at all (own_unit scope hides other units)."""
    scope = policy()["roles"].get(who.role, {}).get("scope")
    return scope == "all" or (scope == "own_unit" and who.unit is not None and who.unit == unit)


# --- users ------------------------------------------------------------------------------------------
def user_id(username: str) -> str:
    return f"USER-{username}"


def user_view(node: Node) -> dict[str, Any]:
    p = node.props
    return {"username": p["username"], "role": p["role"], "unit": p.get("unit"), "active": p.get("active", True),
            "created_by": p.get("created_by"), "created_at": p.get("created_at")}


def add_user(store: GraphStore, username: str, password: str, role: str, unit: str | None,
             actor: str) -> dict[str, Any]:
    """Create an account (refused if the name is taken); the audit entry is written with it."""
    if not USERNAME_RE.match(username or ""):
        raise WorkError("invalid", "bad_username", "用户名应为 2–40 个字母、数字、汉字或 _ . -")
    if role not in policy()["roles"]:
        raise WorkError("invalid", "unknown_role", f"未知的角色「{role}」；可选：{'、'.join(roles())}")
    if not (MIN_PASSWORD <= len(password or "") <= MAX_PASSWORD):
        raise WorkError("invalid", "bad_password", f"密码长度应为 {MIN_PASSWORD}–{MAX_PASSWORD} 个字符")
    edges = []
    if role == "unit":
        if not unit:
            raise WorkError("invalid", "unit_required", "单位账号必须指定所属预算单位（--unit 单位编码）")
        if store.get(f"UNIT-{unit}") is None:
            raise WorkError("invalid", "unknown_unit", f"预算单位「{unit}」不存在（先加载预算单位名录）")
        edges.append(("BELONGS_TO", f"UNIT-{unit}"))
    elif unit:
        raise WorkError("invalid", "unit_not_allowed", f"只有单位账号（unit）才属于某个预算单位，{role} 账号不指定单位")
    node = Node(user_id(username), USER, {"username": username, "role": role, "unit": unit if role == "unit" else None,
                                          "password_hash": hasher().hash(password), "active": True,
                                          "created_by": actor, "created_at": audit.now()}, edges)
    try:
        store.commit(Write([node, audit.entry(actor, "user.create", node.id, None, node, {"role": role, "unit": unit})],
                           expect={node.id: None}))
    except WriteConflict:
        raise WorkError("conflict", "username_taken", f"用户名「{username}」已被使用") from None
    return user_view(node)


def list_users(store: GraphStore) -> list[dict[str, Any]]:
    return [user_view(n) for n in store.iter_label(USER)]


def has_admin(store: GraphStore) -> bool:
    return store.count(USER, {"role": "admin"}) > 0


def authenticate(store: GraphStore, username: str, password: str) -> Principal:
    """The user if the password matches; one message for a wrong name or a wrong password."""
    node = store.get(user_id(username)) if USERNAME_RE.match(username or "") else None
    stored = node.props.get("password_hash") if node and node.props.get("active", True) else None
    h = hasher()
    try:
        h.verify(stored or _dummy_hash(h), password or "")  # same work whether the user exists or not
        ok = stored is not None
    except (VerificationError, InvalidHashError):
        ok = False
    if not ok:
        raise WorkError("unauthenticated", "bad_credentials", "用户名或密码错误")
    return Principal(node.props["username"], node.props["role"], node.props.get("unit"))


# --- tokens -------------------------------------------------------------------------------------------
def token_ttl() -> int:
    return setting("ZHIBIAO_TOKEN_TTL")


def _secret(store: GraphStore) -> bytes:
    env = setting("ZHIBIAO_TOKEN_SECRET")
    if env:
        return env.encode("utf-8")
    key = store.url or str(id(store))
    cached = _SECRETS.get(key)
    if cached is not None:
        return cached
    with _SECRETS_LOCK:
        node = store.get(SECRET_ID)
        if node is None:
            fresh = Node(SECRET_ID, SETTING, {"value": secrets.token_hex(32)})
            try:  # several replicas may start at once: the first one's secret wins, others re-read
                store.commit(Write([fresh, audit.entry("system", "token_secret.create", SECRET_ID, None, None)],
                                   expect={SECRET_ID: None}))
            except WriteConflict:
                pass
            node = store.get(SECRET_ID)
        value = bytes.fromhex(node.props["value"])
        _SECRETS[key] = value
        return value


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def issue_token(store: GraphStore, who: Principal, ttl: int | None = None) -> tuple[str, int]:
    ttl = token_ttl() if ttl is None else ttl
    now = int(time.time())
    payload = _b64(json.dumps({"sub": who.username, "iat": now, "exp": now + ttl}, separators=(",", ":")).encode())
    sig = _b64(hmac.new(_secret(store), f"zb1.{payload}".encode("ascii"), hashlib.sha256).digest())
    return f"zb1.{payload}.{sig}", ttl


def verify_token(store: GraphStore, token: str) -> Principal:
    """The current user of a valid, unexpired token (401 ``bad_token``/``token_expired`` otherwise)."""
    bad = WorkError("unauthenticated", "bad_token", "令牌无效，请重新登录")
    parts = (token or "").split(".")
    if len(parts) != 3 or parts[0] != "zb1" or len(token) > 1000:
        raise bad
    expected = hmac.new(_secret(store), f"zb1.{parts[1]}".encode("ascii"), hashlib.sha256).digest()
    try:
        if not hmac.compare_digest(expected, _unb64(parts[2])):
            raise bad
        claims = json.loads(_unb64(parts[1]))
    except (ValueError, TypeError):
        raise bad from None
    if not isinstance(claims, dict) or not isinstance(claims.get("exp"), int) or not isinstance(claims.get("sub"), str):
        raise bad
    if claims["exp"] <= time.time():
        raise WorkError("unauthenticated", "token_expired", "令牌已过期，请重新登录")
    node = store.get(user_id(claims["sub"]))
    if node is None or node.label != USER or not node.props.get("active", True):
        raise bad
    return Principal(node.props["username"], node.props["role"], node.props.get("unit"))
