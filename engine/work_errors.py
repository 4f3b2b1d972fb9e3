"""The one error type of the work graph (projects, accounts, audit): a stable English ``code``, a
Chinese ``message``, a ``kind`` that the API maps to an HTTP status, and optional extra fields
(e.g. ``current_revision``) that travel with the error body."""
from __future__ import annotations

from typing import Any

from graph.errors import ZhibiaoError

#: kind → HTTP status, used by the API layer; the engine itself knows nothing of HTTP
KINDS = {"unauthenticated": 401, "forbidden": 403, "not_found": 404, "conflict": 409, "invalid": 422}


class WorkError(ZhibiaoError):
    def __init__(self, kind: str, code: str, message: str, **extra: Any):
        assert kind in KINDS, kind
        super().__init__(message)
        self.kind = kind
        self.code = code
        self.message = message
        self.extra = extra

    @property
    def status(self) -> int:  # type: ignore[override]
        return KINDS[self.kind]

    def body(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, **self.extra}
