"""A data subject planted in every store of one supplier: raw documents, items, lake files, a raw snapshot,
an unsold and a sold package version. Built through the real ingest, run and package code."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass

import pandas as pd
from principals import new_user

from core.auth import Principal
from core.market.checkout import start_purchase
from core.market.listings import create_listing
from core.packaging.build import PackageRequest, build_package
from core.refine import runs
from core.sources.ingest import ingest_upload

EMAIL = "Jane.Marlowe@Example.org"
PHONE = "+44 20 7946 0321"
NAME = "Jane Marlowe"
FILLER = " The council approved the tram plan after a long consultation with residents and businesses."
TEXTS = [
    f"Contact {EMAIL} for the viewing of the flat on Mill Lane.{FILLER}",
    f"Seller jane marlowe can be reached on 020 7946 0321 in the evenings.{FILLER}",
    f"Janet Marlowes and jane.marlowe@example.org.uk are other people entirely.{FILLER}",
    f"Weekly report on energy prices and the grid.{FILLER}",
]
PLANTED_RECORDS = 2  # TEXTS[0] and TEXTS[1]; TEXTS[2] only looks like the subject


@dataclass
class PlantedPerson:
    owner: Principal
    dataset: str
    data: bytes
    unsold_package_id: int
    sold_package_id: int
    buyer: Principal


def upload_bytes(texts: list[str]) -> bytes:
    return "\n".join(json.dumps({"id": i, "text": t}) for i, t in enumerate(texts)).encode()


def upload(owner: Principal, dataset: str, data: bytes):
    return ingest_upload(owner, "people.jsonl", data, app="uploads", dataset=dataset, license="CC-BY-4.0",
                         origin="enterprise", attested=True)


def _refine_keeping_everything(dataset: dict) -> int:
    items = runs.load_items(dataset["id"])
    n = len(items)
    signals = pd.DataFrame({"id": items["id"], "quality": [0.8] * n, "language": ["en"] * n,
                            "duplicate_cluster": items["id"], "pii_count": [1] * n, "topic_label": ["housing"] * n})
    decisions = pd.DataFrame({"id": items["id"], "kept": [True] * n, "drop_reason": [""] * n})
    funnel = [{"rule": "min_quality", "dropped": 0, "remaining": n}]
    run_id = runs.start_run(dataset["id"], {"rules": [{"min": {"quality": 0.5}}]}, "privacy0test", None, None)
    runs.finish_run(run_id, dataset["name"], items, signals, decisions, funnel, {"total_s": 0.1}, items["text"])
    return run_id


def _sell(owner: Principal, package_id: int, buyer: Principal) -> None:
    """Listed and bought through the marketplace (a free listing: the local ledger records a paid sale)."""
    listing = create_listing(owner, package_id, "People set", "Contacts.", ["housing"], "housing", 0)
    assert start_purchase(buyer, listing["id"])["status"] == "paid"


def plant_person() -> PlantedPerson:
    from core import tenancy

    owner = new_user("supplier")
    name = f"people-{uuid.uuid4().hex[:8]}"
    data = upload_bytes(TEXTS)
    upload(owner, name, data)
    dataset = tenancy.dataset_for(owner, name)
    _refine_keeping_everything(dataset)
    title = f"People {uuid.uuid4().hex[:6]}"
    sold = build_package(owner, PackageRequest(dataset=name, title=title, license="CC-BY-4.0"))
    unsold = build_package(owner, PackageRequest(dataset=name, title=title, license="CC-BY-4.0"))
    buyer = new_user("buyer")
    _sell(owner, sold["package_id"], buyer)
    return PlantedPerson(owner, name, data, unsold["package_id"], sold["package_id"], buyer)
