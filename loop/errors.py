"""Errors of the loop, each with a stable English ``code`` and a located Chinese message.

    LoopError
    ├── LoopInputError     bad input (a field, its problem): nothing is written (API 422)
    ├── LoopNotFound       the project, report or warning does not exist (API 404)
    └── LoopConflict       the write contradicts the stored state (API 409)"""
from __future__ import annotations

from graph.errors import ZhibiaoError


class LoopError(ZhibiaoError):
    code = "loop_error"
    status = 400

    def __init__(self, code: str, message: str, field: str | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field


class LoopInputError(LoopError, ValueError):
    status = 422


class LoopNotFound(LoopError, LookupError):
    status = 404


class LoopConflict(LoopError):
    status = 409
