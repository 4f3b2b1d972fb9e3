"""The one base of every error the project raises on purpose.

An error says what went wrong in two ways: a stable English ``code`` that programs and tests
rely on, and a Chinese ``message`` a person reads. ``status`` is the HTTP status the API answers
with; the API handles every subclass with one handler (api/errors.py) and the command line with
one ``except`` (cli/main.py), so a new error type needs no new handler. It lives in graph/, the
lowest layer, so that the store's own errors can subclass it too."""
from __future__ import annotations

from typing import Any


class ZhibiaoError(Exception):
    """Base class: ``code`` (stable, English), ``message`` (Chinese), ``status`` (HTTP)."""
    code: str = "error"
    status: int = 400

    def __init__(self, message: str = "", code: str | None = None):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code

    def body(self) -> dict[str, Any]:
        """The API's error body: ``{code, message}`` and whatever a subclass adds."""
        return {"code": self.code, "message": self.message}
