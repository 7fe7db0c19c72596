"""A package version's documents (dataset card, Croissant, datapackage.json) for the principal who may see it.

Pages ask for a document by package id; the ownership check and the file reading happen here, so no page
opens a path of the package directory itself.
"""

from __future__ import annotations

from core import tenancy
from core.auth import Principal
from core.packaging.build import dataset_card_body, package_metadata

METADATA_DOCUMENTS = ("croissant.json", "datapackage.json")


def package_card(principal: Principal | None, package_id: int) -> str:
    """The dataset card (README.md without its front matter), or "" when the file is missing."""
    return dataset_card_body(tenancy.package_for(principal, package_id, "read this package")["path"])


def package_document(principal: Principal | None, package_id: int, name: str) -> dict:
    """croissant.json or datapackage.json, parsed; PackageBuildError says what is wrong with the file."""
    if name not in METADATA_DOCUMENTS:
        raise ValueError(f"A package's metadata documents are {', '.join(METADATA_DOCUMENTS)}; not {name!r}.")
    return package_metadata(tenancy.package_for(principal, package_id, "read this package")["path"], name)
