"""The Chinese web interface: server-rendered Jinja2 pages over the same library the API serves,
one CSS file and one small hand-written script, all bundled in this package (no CDN, no build step).

``api/app.py`` includes :data:`router` and mounts :data:`STATIC_DIR` at ``/static``. Nothing here
imports ``api``: pages read the library through ``engine`` and ``search`` like the API does, and the
interactive pages (draft, review, library loads) call the JSON API from the browser."""
from __future__ import annotations

from .pages import STATIC_DIR, router

__all__ = ["STATIC_DIR", "router"]
