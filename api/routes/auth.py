"""POST /auth/token (username + password → bearer token) and GET /auth/me."""
from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, StringConstraints

from engine.accounts import authenticate, issue_token

from ..auth import User

router = APIRouter(tags=["账号与登录"])


class TokenRequest(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")
    username: Annotated[str, StringConstraints(min_length=1, max_length=40)]
    password: Annotated[str, StringConstraints(min_length=1, max_length=128)]


@router.post("/auth/token", summary="登录：用户名与密码换取访问令牌（Bearer）")
def token(body: TokenRequest, request: Request) -> dict[str, Any]:
    """{"username","password"} → {"access_token","token_type":"bearer","expires_in","user"}; 401 bad_credentials."""
    store = request.app.state.library.store
    who = authenticate(store, body.username, body.password)
    access, ttl = issue_token(store, who)
    return {"access_token": access, "token_type": "bearer", "expires_in": ttl, "user": who.to_dict()}


@router.get("/auth/me", summary="当前登录的账号")
def me(who: User) -> dict[str, Any]:
    return who.to_dict()
