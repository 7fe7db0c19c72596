"""Parameters shared by several routes: paging, and the name rules as schema patterns (the core checks them
again; the patterns let clients and schemathesis know them)."""

from typing import Annotated

from fastapi import Path, Query

MAX_PAGE = 500
Offset = Annotated[int, Query(ge=0, le=10**9, description="rows to skip")]
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE, description=f"rows to return (at most {MAX_PAGE})")]

# core.safe_names.safe_name (a '..' inside is still refused by the core, with a 400).
SAFE_NAME_PATTERN = r"^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,99}$"
# ml.registry.check_name: a safe name that starts with a letter or digit.
MODEL_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$"
# Row ids: a number past what SQL stores (64 bits) must be refused by the schema (422), not by the database
# (500). 2**53 - 1 rather than 2**63 - 1: JSON tools read numbers as doubles, which hold it exactly.
MAX_ID = 2**53 - 1
RowId = Annotated[int, Path(ge=1, le=MAX_ID)]
