"""The FastAPI application. The lifespan owns the store; routers only see the Library."""
from __future__ import annotations

import logging
from contextlib import asynccontextmanager
from typing import AsyncIterator

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

import web
from engine.library import Library
from graph import GraphStore, StoreUnavailable, open_store, store_url_from_env

from . import docs, errors, middleware
from .routes import library, search, targets

logger = logging.getLogger("zhibiao.api")


def create_app(store_url: str | None = None, seed: bool = True, store: GraphStore | None = None) -> FastAPI:
    """``store`` may be given (tests); otherwise it is opened from ``store_url``/ZHIBIAO_STORE."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = store is None
        s = store or open_store(store_url_from_env(store_url))
        try:
            if seed and s.is_empty():
                from loaders import seed_bundled_library
                seed_bundled_library(s)
        except StoreUnavailable as e:
            # serve anyway: requests answer 503 until the store is reachable again
            logger.warning("存储不可用，服务先以 503 应答：%s", e)
        try:  # the budget-unit list (a replaceable reconstruction) on first start
            from engine.units import ensure_units
            ensure_units(s)
        except StoreUnavailable as e:
            logger.warning("存储不可用，预算单位名录稍后载入：%s", e)
        app.state.library = Library(s)
        search.warm(app)  # build the search index in the background; the first /search need not wait
        from engine.snapshot import warm as warm_snapshot   # and the library snapshot with review's index,
        from review.classify import index_from_snapshot     # so the first /targets/check need not wait either
        warm_snapshot(s, {"review_index": index_from_snapshot})
        try:
            yield
        finally:
            if owned:
                s.close()

    app = FastAPI(title="Zhibiao 预算绩效指标库 API", version="0.1.0", lifespan=lifespan,
                  description="指标库的检索、推荐与目标审核服务。错误返回 {code, message}：code 为稳定的英文代码，"
                              "message 为中文说明。", docs_url=None, redoc_url=None)
    errors.install(app)      # one error shape {code, message}, documented on every route
    middleware.install(app)  # request bodies bounded while read (413); CORS from ZHIBIAO_CORS_ORIGINS
    docs.install(app)        # /docs and /redoc with bundled assets (no CDN)
    app.include_router(library.router)
    app.include_router(targets.router)
    app.include_router(search.router)
    from . import auth as auth_deps  # projects, accounts, audit: bearer tokens, WorkError → {code, message}
    from .routes import admin, auth, projects, units
    auth_deps.install(app)
    for r in (auth.router, units.router, projects.router, admin.router):
        app.include_router(r)
    from .routes import loop as loop_routes  # appraisal, monitoring, evaluation, proposals, yearly report
    app.include_router(loop_routes.router)
    app.include_router(web.router)  # the Chinese web interface at / (pages only; the API keeps its paths)
    app.mount("/static", StaticFiles(directory=web.STATIC_DIR), name="static")
    return app
