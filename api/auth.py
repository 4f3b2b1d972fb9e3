"""Authentication and the work-graph services for the routes.

``Bearer`` tokens (engine/accounts.py) are read from ``Authorization: Bearer …``; ``current_user``
answers 401 without one, with a bad one, or with an expired one. What a user may do is decided by the
engine (engine/data/roles.yaml), never here. ``install`` maps the engine's WorkError to the API's
one error shape, with its extra fields (``current_revision``, ``current_status``)."""
from __future__ import annotations

import threading
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from engine.accounts import Principal, verify_token
from engine.library import Library
from engine.projects import Projects
from engine.work_errors import KINDS, WorkError

from .deps import get_library

_bearer = HTTPBearer(auto_error=False, description="POST /auth/token 取得的令牌：Authorization: Bearer <令牌>")
_LOCK = threading.Lock()


def install(app: FastAPI) -> None:
    @app.exception_handler(WorkError)
    async def work_error(_: Request, e: WorkError) -> JSONResponse:
        status = KINDS[e.kind]
        headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
        return JSONResponse(e.body(), status_code=status, headers=headers)


def current_user(request: Request,
                 creds: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> Principal:
    if creds is None or creds.scheme.lower() != "bearer":
        raise WorkError("unauthenticated", "unauthorized", "需要登录：请求头缺少 Authorization: Bearer <令牌>")
    return verify_token(request.app.state.library.store, creds.credentials)


def _infer(app: Any) -> Any:
    """The recommender's project-type inference, for projects created without a type."""
    def infer(name: str, description: str, sector: str | None) -> str | None:
        svc = getattr(app.state, "search_service", None)  # set by search.warm() at start-up
        if svc is None or svc.library is not app.state.library:
            return None
        return svc.infer_project_type(name, description, sector)
    return infer


def get_projects(request: Request, lib: Annotated[Library, Depends(get_library)]) -> Projects:
    svc = getattr(request.app.state, "projects", None)
    if svc is None or svc.lib is not lib:
        with _LOCK:
            svc = getattr(request.app.state, "projects", None)
            if svc is None or svc.lib is not lib:
                svc = Projects(lib, _infer(request.app))
                request.app.state.projects = svc
    return svc


User = Annotated[Principal, Depends(current_user)]
ProjectsDep = Annotated[Projects, Depends(get_projects)]
