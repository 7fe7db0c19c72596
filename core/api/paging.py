"""Paging parameters shared by the list routes that can grow without bound."""

from typing import Annotated

from fastapi import Query

MAX_PAGE = 500
Offset = Annotated[int, Query(ge=0, le=10**9, description="rows to skip")]
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE, description=f"rows to return (at most {MAX_PAGE})")]
