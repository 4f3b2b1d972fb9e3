"""Query parameters shared by the routes, bounded from limits/limits.yaml so that every route
refuses an out-of-range value the same way: 422 with a Chinese message naming the parameter.

The bounds are read when the routes are declared (at start-up), so they appear in the OpenAPI
schema as ``minimum``/``maximum``/``maxLength`` and a client can see them."""
from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query

from limits import count

MAX_OFFSET = count("max_offset")
MAX_QUERY = count("max_query_chars")
MAX_TEXT = count("max_text_chars")

Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET, description=f"跳过的条数（0 到 {MAX_OFFSET}）")]


def limit_param(default: int, high: int) -> Any:
    """``limit`` between 1 and ``high`` (its own maximum per route; the default is set with ``=``)."""
    return Query(ge=1, le=high, description=f"返回条数（1 到 {high}，默认 {default}）")


def text_param(description: str, default: Any = None) -> Any:
    """A name or query word, at most ``max_query_chars`` characters."""
    return Query(max_length=MAX_QUERY, description=description)
