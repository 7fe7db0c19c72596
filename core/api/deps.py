"""Who is calling: the API key header turned into the acting principal, after the key's rate limit."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.concurrency import run_in_threadpool
from fastapi.security import APIKeyHeader

from core.api.errors import ApiProblem
from core.api.keys import principal_for_key
from core.api.ratelimit import TokenBuckets
from core.auth import Principal

API_KEY_HEADER = "X-API-Key"
api_key_scheme = APIKeyHeader(name=API_KEY_HEADER, auto_error=False,
                              description="An API key from the Account page or `python -m core api-key create`.")


async def current_principal(request: Request, key: Annotated[str | None, Security(api_key_scheme)]) -> Principal:
    if not key:
        raise ApiProblem(401, f"Send your API key in the {API_KEY_HEADER} header.",
                         {"WWW-Authenticate": API_KEY_HEADER})
    found = await run_in_threadpool(principal_for_key, key)
    if found is None:
        raise ApiProblem(401, "This API key is not valid or was revoked; create a new one on the Account page.",
                         {"WWW-Authenticate": API_KEY_HEADER})
    principal, key_id = found
    buckets: TokenBuckets = request.app.state.rate_limits
    wait_s = buckets.take(key_id)
    if wait_s:
        raise ApiProblem(429, f"Rate limit of {request.app.state.rate_per_minute} requests a minute for this key "
                              "reached; retry after the number of seconds in Retry-After.",
                         {"Retry-After": buckets.retry_after_header(wait_s)})
    return principal


Caller = Annotated[Principal, Depends(current_principal)]
