"""The FastAPI application behind `ketlit serve`: the JSON API, the HTML page and its assets.

Errors are turned into answers at this one edge: typed library errors map to status codes
(malformed query 400, unknown PMID 404, no index 503 with the remedy), FastAPI's parameter checks
to 422, each with a JSON body ``{"detail": "one clear line"}`` under /api/ and an HTML page
elsewhere. Nothing here writes: the server is read-only.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.trustedhost import TrustedHostMiddleware

from index.errors import (
    ConfigError,
    IndexMissingError,
    InputFileError,
    KetlitError,
    NotFoundError,
    QueryError,
    SearchTimeoutError,
    UsageError,
)
from index.settings import Settings
from search.web.searching import SharedSearcher

WEB_DIR = Path(__file__).resolve().parent

# Markup in a title must never run, even if an escape were missed somewhere: scripts and styles
# only from this server, no inline script, no plugins, no framing.
_SECURITY_HEADERS = {
    "Content-Security-Policy": ("default-src 'self'; script-src 'self'; style-src 'self'; "
                                "img-src 'self' data:; object-src 'none'; base-uri 'none'; "
                                "form-action 'self'; frame-ancestors 'none'"),
    "X-Content-Type-Options": "nosniff",
    # Links go out to PubMed/DOI/PMC; the search (in our URL) stays on this machine.
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


def status_for(exc: KetlitError) -> int:
    if isinstance(exc, NotFoundError):
        return 404
    if isinstance(exc, IndexMissingError):
        return 503
    if isinstance(exc, QueryError | UsageError | InputFileError | ConfigError
                  | SearchTimeoutError):
        return 400
    return 500


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/") or request.url.path == "/openapi.json"


def _validation_message(exc: RequestValidationError) -> str:
    parts = []
    for err in exc.errors():
        loc = [str(x) for x in err.get("loc", ()) if x not in ("query", "path", "body")]
        name = ".".join(loc) or "request"
        given = err.get("input")
        shown = f" (got {given!r:.60})" if isinstance(given, str | int | float) else ""
        parts.append(f"{name}: {err.get('msg', 'invalid value')}{shown}")
    return "; ".join(parts) or "invalid request parameters"


def create_app(settings: Settings, *, allowed_hosts: list[str] | None = None) -> FastAPI:
    """The app for ``settings``. ``allowed_hosts`` guards a loopback server against DNS
    rebinding (a web page elsewhere pointing its own name at 127.0.0.1)."""
    from importlib.metadata import PackageNotFoundError, version

    from search.web import api, evidence, feeds, pages, whatsnew

    try:
        ver = version("ketlit")
    except PackageNotFoundError:
        ver = "0"
    # The interactive /docs and /redoc pages load their assets from a CDN; there is no internet
    # here, so only the OpenAPI document itself is published.
    shared = SharedSearcher(settings)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        shared.close()

    app = FastAPI(title="ketlit", version=ver, docs_url=None, redoc_url=None, lifespan=lifespan,
                  description="Read-only JSON API over the local ketlit index of PubMed records. "
                              "Errors answer {\"detail\": \"...\"} with a 4xx status (503 when "
                              "there is no index yet).")
    app.state.settings = settings
    app.state.searcher = shared
    if allowed_hosts:
        app.add_middleware(TrustedHostMiddleware, allowed_hosts=allowed_hosts)

    @app.middleware("http")
    async def security_headers(request: Request, call_next: Any) -> Response:
        response = await call_next(request)
        for k, v in _SECURITY_HEADERS.items():
            response.headers.setdefault(k, v)
        return response

    @app.exception_handler(KetlitError)
    async def ketlit_error(request: Request, exc: KetlitError) -> Response:
        status = status_for(exc)
        if _wants_json(request):
            return JSONResponse({"detail": str(exc)}, status_code=status)
        return pages.error_page(request, status, str(exc))

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        message = _validation_message(exc)
        if _wants_json(request):
            return JSONResponse({"detail": message}, status_code=422)
        return pages.error_page(request, 422, message)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        detail = exc.detail if isinstance(exc.detail, str) else "request failed"
        if exc.status_code == 404 and detail == "Not Found":
            detail = f"no such page: {request.url.path}"
        if _wants_json(request):
            return JSONResponse({"detail": detail}, status_code=exc.status_code,
                                headers=getattr(exc, "headers", None))
        return pages.error_page(request, exc.status_code, detail)

    app.include_router(api.router)
    app.include_router(pages.router)
    app.include_router(whatsnew.router)
    app.include_router(feeds.router)
    app.include_router(evidence.router)
    app.mount("/static", StaticFiles(directory=WEB_DIR / "static"), name="static")
    return app
