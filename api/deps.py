"""Typed dependencies: the store and the library live on app.state, owned by the lifespan."""
from __future__ import annotations

from fastapi import Request

from engine.library import Library


def get_library(request: Request) -> Library:
    return request.app.state.library
