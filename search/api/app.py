"""The app factory: `create_app(store_dir)` loads the model and opens the store once, then serves
the API, the OpenAPI page at /docs and the offline search page at /."""
from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.staticfiles import StaticFiles

from search.api.errors import install_error_handlers, without_validation_422
from search.api.middleware import install_middleware
from search.api.routes import page_router, router
from search.api.settings import ServeSettings
from search.api.state import AppState
from search.api.watches import router as watch_router


def create_app(store_dir: str | Path, model_path: str | Path | None = None,
               settings: ServeSettings | None = None) -> FastAPI:
    """Raises ModelLoadError / StoreError before serving if the model or the store cannot be used; `settings`:
    how to serve (search/api/settings.py)."""
    state = AppState.load(store_dir, model_path, settings)
    app = FastAPI(title="newsearch", version="0.1.0",
                  description="News search: hybrid retrieval, one-pass rerank and answers, topic/entity facets.")
    app.state.search = state
    install_middleware(app, state.metrics, state.settings.api_key)
    if state.settings.cors_origins:  # browsers on other origins may call the API only when asked for
        app.add_middleware(CORSMiddleware, allow_origins=state.settings.cors_origins,
                           allow_methods=["GET", "POST", "DELETE"],  # POST and DELETE: /watches
                           allow_headers=["Authorization", "Content-Type"],
                           expose_headers=["X-Request-ID", "Retry-After"])
    install_error_handlers(app)
    without_validation_422(app)
    app.include_router(router)
    app.include_router(watch_router)
    app.include_router(page_router)
    app.mount("/static", StaticFiles(directory=state.static_dir), name="static")
    return app
