"""One error shape for every failure: RFC 9457 problem details (`application/problem+json`).

Core functions say what went wrong with exceptions whose messages are written for people; here each
kind becomes a status: not yours or not there -> 404 (one answer for both, so ids cannot be probed),
a role that may not -> 403, bad input (the core's ValueError family) -> 400, request shape -> 422.
Anything else is a bug: 500 with no internals in the body (the traceback goes to the server log).
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from core.auth import AuthError, PermissionDenied
from core.market.stripe_gateway import PaymentProviderError
from core.tenancy import NotFoundOrDenied

PROBLEM_MEDIA_TYPE = "application/problem+json"
log = logging.getLogger("core.api")

_TITLES = {400: "Bad request", 401: "Not authenticated", 403: "Forbidden", 404: "Not found",
           405: "Method not allowed", 409: "Conflict", 413: "Request body too large", 415: "Unsupported media type",
           422: "Invalid request", 429: "Too many requests", 500: "Internal error", 502: "Payment provider failed"}


class Problem(BaseModel):
    type: str = Field(description="A URI naming the kind of problem ('about:blank' for plain HTTP statuses)")
    title: str = Field(description="Short summary of the kind of problem")
    status: int = Field(description="The HTTP status code")
    detail: str = Field(description="What went wrong with this request and what to do about it")


class ApiProblem(Exception):
    """Raised by routes for a problem with a specific status."""

    def __init__(self, status: int, detail: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status, self.detail, self.headers = status, detail, headers or {}


def problem_response(status: int, detail: str, headers: dict[str, str] | None = None) -> JSONResponse:
    body = Problem(type="about:blank", title=_TITLES.get(status, "Error"), status=status, detail=detail)
    return JSONResponse(body.model_dump(), status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers)


def _validation_detail(exc: RequestValidationError) -> str:
    parts = []
    for error in exc.errors()[:10]:
        where = ".".join(str(p) for p in error.get("loc", ()) if p != "body") or "request"
        parts.append(f"{where}: {error.get('msg', 'invalid')}")
    return "; ".join(parts) or "The request is not valid."


def _allowed_methods(request: Request) -> list[str]:
    """Every method some route serves at this path: Starlette names only the first route's methods."""
    methods: set[str] = set()
    for route in request.app.router.routes:
        match, _ = route.matches({**request.scope, "method": "__none__"})
        if match != Match.NONE:
            methods |= _route_methods(route, request)
    return sorted(methods)


def _route_methods(route, request: Request) -> set[str]:
    if getattr(route, "methods", None):
        return set(route.methods)
    found: set[str] = set()
    for method in ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"):  # an included router: ask it per method
        match, _ = route.matches({**request.scope, "method": method})
        if match == Match.FULL:
            found.add(method)
    return found


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiProblem)
    async def _api_problem(request: Request, exc: ApiProblem):
        return problem_response(exc.status, exc.detail, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError):
        return problem_response(422, _validation_detail(exc))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException):
        detail = exc.detail if isinstance(exc.detail, str) else _TITLES.get(exc.status_code, "Error")
        headers = dict(getattr(exc, "headers", None) or {})
        if exc.status_code == 405:
            headers["Allow"] = ", ".join(_allowed_methods(request))
        return problem_response(exc.status_code, detail, headers)

    @app.exception_handler(NotFoundOrDenied)
    async def _not_found(request: Request, exc: NotFoundOrDenied):
        return problem_response(404, str(exc))

    @app.exception_handler(PermissionDenied)
    async def _denied(request: Request, exc: PermissionDenied):
        return problem_response(403, str(exc))

    @app.exception_handler(AuthError)
    async def _auth(request: Request, exc: AuthError):
        return problem_response(400, str(exc))

    @app.exception_handler(ValueError)
    async def _bad_input(request: Request, exc: ValueError):
        # The core's user-facing errors (UploadError, ListingError, RecipeError, ...) are ValueErrors.
        return problem_response(400, str(exc) or "The request is not valid.")

    @app.exception_handler(PaymentProviderError)
    async def _provider(request: Request, exc: PaymentProviderError):
        return problem_response(502, str(exc))  # Stripe failed or refused; the message says what to do

    @app.exception_handler(Exception)
    async def _bug(request: Request, exc: Exception):
        log.exception("Unhandled error on %s %s", request.method, request.url.path)
        return problem_response(500, "The server failed on this request; the error is in the server log.")
