"""The caller's own account and API keys."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from core.api import keys
from core.api.deps import Caller
from core.api.paging import RowId

router = APIRouter(tags=["account"])


class MeOut(BaseModel):
    id: int
    email: str
    display_name: str
    role: str = Field(description="supplier | buyer | admin")


class ApiKeyOut(BaseModel):
    id: int
    name: str
    prefix: str = Field(description="the key's first characters, to tell keys apart")
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class NewApiKeyOut(ApiKeyOut):
    key: str = Field(description="the key itself: shown this once, store it now")


class ApiKeyIn(BaseModel):
    model_config = ConfigDict(regex_engine="python-re")  # the pattern needs a look-ahead

    name: str = Field(min_length=1, max_length=keys.MAX_NAME_LENGTH, pattern=keys.NAME_PATTERN,
                      description="what the key is for, e.g. 'nightly sync'")


def _key_out(row: dict) -> ApiKeyOut:
    return ApiKeyOut(**{k: row[k] for k in ApiKeyOut.model_fields})


@router.get("/me", response_model=MeOut, summary="Who this API key acts as")
def me(principal: Caller) -> MeOut:
    return MeOut(id=principal.id, email=principal.email, display_name=principal.display_name, role=principal.role)


@router.get("/api-keys", response_model=list[ApiKeyOut], summary="Your API keys (never the secrets)")
def list_keys(principal: Caller) -> list[ApiKeyOut]:
    return [_key_out(row) for row in keys.list_api_keys(principal)]


@router.post("/api-keys", response_model=NewApiKeyOut, status_code=201, summary="Create an API key")
def create_key(body: ApiKeyIn, principal: Caller) -> NewApiKeyOut:
    created = keys.create_api_key(principal, body.name)
    return NewApiKeyOut(**{k: created[k] for k in NewApiKeyOut.model_fields})


@router.delete("/api-keys/{key_id}", response_model=ApiKeyOut, summary="Revoke one of your API keys")
def revoke_key(key_id: RowId, principal: Caller) -> ApiKeyOut:
    return _key_out(keys.revoke_api_key(principal, key_id))
