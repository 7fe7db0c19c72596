"""The FastAPI application: routers per area, one error shape, API-key auth with per-key rate limits."""

from __future__ import annotations

from fastapi import Depends, FastAPI

from core.api import (
    routes_account,
    routes_datasets,
    routes_jobs,
    routes_market,
    routes_ml,
    routes_packages,
    routes_refine,
    routes_sources,
)
from core.api.errors import PROBLEM_MEDIA_TYPE, Problem, install_error_handlers
from core.api.ratelimit import TokenBuckets
from core.api.strict_query import reject_unknown_query_parameters
from core.config import get_settings

ROUTERS = (routes_account, routes_datasets, routes_sources, routes_refine, routes_packages, routes_market,
           routes_ml, routes_jobs)
# Every operation may answer with these; declared so clients (and schemathesis) know the error shape.
ERROR_STATUSES = {400: "Bad input: the detail says what to change",
                  401: "No API key, or one that is not valid or was revoked",
                  403: "Your role may not do this",
                  404: "Not there, or not yours (one answer for both)",
                  413: "Upload larger than the API's limit",
                  422: "The request does not match the schema",
                  429: "Rate limit reached; see Retry-After"}


def create_app(*, rate_per_minute: int | None = None, rate_burst: int | None = None) -> FastAPI:
    settings = get_settings()
    # No /docs or /redoc: their pages load scripts from a CDN, and the workbench works offline.
    app = FastAPI(title="DataBroker Workbench API", version="1", docs_url=None, redoc_url=None,
                  description="The workbench's core functions over HTTP, under the same ownership rules as the "
                              "pages. Authenticate with an API key in the X-API-Key header.",
                  responses={code: {"model": Problem, "description": text} for code, text in ERROR_STATUSES.items()},
                  dependencies=[Depends(reject_unknown_query_parameters)])
    app.state.rate_per_minute = rate_per_minute or settings.api_rate_per_minute
    app.state.rate_limits = TokenBuckets(app.state.rate_per_minute, rate_burst or settings.api_rate_burst)
    install_error_handlers(app)
    for module in ROUTERS:
        app.include_router(module.router)
    _problem_media_type_in_schema(app)
    return app


def _problem_media_type_in_schema(app: FastAPI) -> None:
    """Error responses are documented as application/problem+json, the type they are sent with."""
    build = app.openapi

    def openapi() -> dict:
        if app.openapi_schema:
            return app.openapi_schema
        schema = build()
        for path in schema.get("paths", {}).values():
            for operation in path.values():
                for status, response in operation.get("responses", {}).items():
                    content = response.get("content", {})
                    if status[0] in "45" and "application/json" in content:
                        content[PROBLEM_MEDIA_TYPE] = content.pop("application/json")
        app.openapi_schema = schema
        return schema

    app.openapi = openapi
