"""The audit log: every write of the work graph leaves one AuditEntry (actor, action, object, time,
content hash of the object before and after), appended in the same commit as the write it records,
so the log can never miss a write nor record one that did not happen. Read by admins."""
from __future__ import annotations

import uuid
from datetime import datetime, timezone
from typing import Any

from graph.store import GraphStore, Node

AUDIT = "AuditEntry"


def now() -> str:
    """UTC time as ISO 8601 with microseconds, the one time format of the work graph."""
    return datetime.now(timezone.utc).isoformat(timespec="microseconds").replace("+00:00", "Z")


def entry(actor: str, action: str, obj: str, before: Node | None, after: Node | None,
          detail: dict[str, Any] | None = None) -> Node:
    """An audit node for a write of ``obj``; ids sort by time so the log lists oldest first."""
    t = datetime.now(timezone.utc)
    aid = f"AUD-{t.strftime('%Y%m%dT%H%M%S.%f')}-{uuid.uuid4().hex[:8]}"
    return Node(aid, AUDIT, {"actor": actor, "action": action, "object": obj,
                             "at": t.isoformat(timespec="microseconds").replace("+00:00", "Z"),
                             "before": before.content_hash() if before else None,
                             "after": after.content_hash() if after else None,
                             "detail": detail or {}})


def read(store: GraphStore, actor: str | None = None, action: str | None = None,
         offset: int = 0, limit: int = 100) -> dict[str, Any]:
    """Entries oldest first, filtered by actor and/or action."""
    props = {k: v for k, v in (("actor", actor), ("action", action)) if v}
    page = store.list(AUDIT, props, offset=offset, limit=limit)
    return {"total": page.total, "offset": offset, "limit": limit,
            "items": [{"id": n.id, **n.props} for n in page.items]}
