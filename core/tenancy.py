"""Ownership: who may see and act on which datasets, sources, raw records, runs, packages and jobs.

Suppliers own what they create and see only that; admins see everything; buyers see the
marketplace and their purchases, nothing raw. Every core function that touches owned data calls
one of these checks with the acting principal, so a page that forgets to hide a button, a job
started by a stale session and an API call all meet the same rule.

Ownership is read from the SQL store (the system of record): a dataset's or source's `created_by`.
A raw document belongs to the owner of the source that collected it: a saved source by name, or an
upload, whose source id is `upload:<dataset>`. A run or package belongs to its dataset's owner.
"""

from __future__ import annotations

from sqlmodel import select

from core.auth import PermissionDenied, Principal, require_role
from core.store.models import DataPackage, Dataset, Listing, RefinementRun, Source
from core.store.sql import session_scope

SUPPLY_ROLES = ("supplier", "admin")
UPLOAD_SOURCE_PREFIX = "upload:"


class NotFoundOrDenied(PermissionDenied):
    """The thing does not exist or belongs to someone else; one message for both, so ids cannot be probed."""


def sees_everything(principal: Principal) -> bool:
    return principal.role == "admin"


def require_supplier(principal: Principal | None, action: str) -> Principal:
    """A supplier or an admin: the roles that handle data before it is packaged."""
    return require_role(principal, *SUPPLY_ROLES, action=action)


def require_admin(principal: Principal | None, action: str) -> Principal:
    return require_role(principal, "admin", action=action)


def require_signed_in(principal: Principal | None, action: str) -> Principal:
    if principal is None:
        raise PermissionDenied(f"Sign in to {action}.")
    return principal


def owns(principal: Principal, owner_id: int | None) -> bool:
    return sees_everything(principal) or (owner_id is not None and owner_id == principal.id)


def _denied(what: str) -> NotFoundOrDenied:
    return NotFoundOrDenied(f"No {what} that you can use.")


# -- datasets -----------------------------------------------------------------------------------
def dataset_for(principal: Principal | None, name: str, action: str = "use this dataset") -> dict:
    """The dataset `name` if the principal may act on it (its owner, or an admin)."""
    require_supplier(principal, action)
    with session_scope() as session:
        dataset = session.exec(select(Dataset).where(Dataset.name == name)).first()
        if dataset is None or not owns(principal, dataset.created_by):
            raise _denied(f"dataset named '{name}'")
        return dataset.model_dump()


def dataset_by_id_for(principal: Principal | None, dataset_id: int, action: str = "use this dataset") -> dict:
    require_supplier(principal, action)
    with session_scope() as session:
        dataset = session.get(Dataset, dataset_id)
        if dataset is None or not owns(principal, dataset.created_by):
            raise _denied(f"dataset {dataset_id}")
        return dataset.model_dump()


def visible_datasets(principal: Principal | None) -> list[dict]:
    require_supplier(principal, "see datasets")
    with session_scope() as session:
        query = select(Dataset).order_by(Dataset.name)
        if not sees_everything(principal):
            query = query.where(Dataset.created_by == principal.id)
        return [d.model_dump() for d in session.exec(query)]


def visible_dataset_ids(principal: Principal) -> list[int] | None:
    """Ids of the datasets a supplier owns; None for an admin (no restriction)."""
    if sees_everything(principal):
        return None
    with session_scope() as session:
        return list(session.exec(select(Dataset.id).where(Dataset.created_by == principal.id)).all())


# -- sources and raw records --------------------------------------------------------------------
def source_for(principal: Principal | None, name: str, action: str = "use this source") -> dict:
    require_supplier(principal, action)
    with session_scope() as session:
        source = session.exec(select(Source).where(Source.name == name)).first()
        if source is None or not owns(principal, source.created_by):
            raise _denied(f"source named '{name}'")
        return source.model_dump()


def raw_source_ids(principal: Principal) -> list[str] | None:
    """Raw-store source ids whose documents the principal owns; None for an admin (all of them)."""
    if sees_everything(principal):
        return None
    with session_scope() as session:
        sources = session.exec(select(Source.name).where(Source.created_by == principal.id)).all()
        datasets = session.exec(select(Dataset.name).where(Dataset.created_by == principal.id)).all()
    return sorted({*sources, *(UPLOAD_SOURCE_PREFIX + name for name in datasets)})


def scoped_query(principal: Principal | None, query: dict, action: str = "see raw records") -> dict:
    """`query` narrowed to the principal's raw documents (unchanged for an admin).

    Merged as a plain `source_id` condition rather than `$and`, so a `$text` search stays top-level,
    where MongoDB (and the embedded server) require it.
    """
    require_supplier(principal, action)
    owned = raw_source_ids(principal)
    if owned is None:
        return query
    wanted = query.get("source_id")
    if wanted is None:
        return {**query, "source_id": {"$in": owned}}
    if not isinstance(wanted, str):
        raise TypeError("scoped_query narrows a single source_id or none.")
    return {**query, "source_id": wanted if wanted in owned else {"$in": []}}


# -- runs, packages, jobs -----------------------------------------------------------------------
def row_of_owned_dataset(principal: Principal | None, model, row_id: int, what: str, action: str) -> dict:
    """A row of any table with a dataset_id (run, package, news analysis...) when its dataset is the principal's."""
    require_supplier(principal, action)
    with session_scope() as session:
        row = session.exec(select(model, Dataset.created_by).join(Dataset, Dataset.id == model.dataset_id)
                           .where(model.id == row_id)).first()
        if row is None or not owns(principal, row[1]):
            raise _denied(f"{what} {row_id}")
        return row[0].model_dump()


def run_for(principal: Principal | None, run_id: int, action: str = "see this run") -> dict:
    return row_of_owned_dataset(principal, RefinementRun, run_id, "refinement run", action)


def package_for(principal: Principal | None, package_id: int, action: str = "use this package") -> dict:
    return row_of_owned_dataset(principal, DataPackage, package_id, "package", action)


def job_visible(principal: Principal | None, job: dict | None) -> bool:
    return principal is not None and job is not None and owns(principal, job.get("created_by"))


def sellers_listing(session, principal: Principal | None, listing_id: int, *, missing: type[Exception],
                    change: str = "this listing") -> Listing:
    """The listing `principal` may change (its seller, or an admin), read in `session`; `missing` is the
    error for an unknown id (each caller's own kind)."""
    if principal is None:
        raise PermissionDenied("Sign in to change a listing.")
    listing = session.get(Listing, listing_id)
    if listing is None:
        raise missing(f"Listing #{listing_id} does not exist.")
    if principal.role != "admin" and listing.seller_id != principal.id:
        raise PermissionDenied(f"Only the seller or an admin can change {change}.")
    return listing
