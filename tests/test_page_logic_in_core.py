"""What pages used to do themselves, now core functions with their principal checks (issue 18)."""

from __future__ import annotations

import io
import json
import uuid
import zipfile

import pandas as pd
import pytest
from monitoring_fixtures import add_items
from principals import new_user
from sqlmodel import select
from test_market import make_listing, make_package

from core import explore
from core.applications import APPLICATIONS, CRAWLED_APPLICATIONS
from core.auth import PermissionDenied
from core.market.buyer_downloads import purchase_download
from core.market.checkout import start_purchase
from core.packaging.documents import package_card, package_document
from core.refine.runs import with_item_texts
from core.sources.source_form import crawl_config_from_form
from core.store.models import Download, Item
from core.store.sql import session_scope


def test_a_buyer_downloads_a_purchase_in_one_call_recorded_like_a_link(workbench, tmp_path):
    supplier, buyer = new_user("supplier"), new_user("buyer")
    listing = make_listing(supplier, tmp_path / "pkg")
    sale_id = start_purchase(buyer, listing["id"])["sale_id"]

    download = purchase_download(buyer, sale_id)
    assert download["problems"] == []
    assert download["file_name"] == f"{download['name']}-{download['version']}.zip"
    with zipfile.ZipFile(io.BytesIO(download["archive"])) as archive:
        assert {"manifest.json", "data/items.csv"} <= set(archive.namelist())
    with session_scope() as session:
        assert [d.user_id for d in session.exec(select(Download).where(Download.sale_id == sale_id))] == [buyer.id]

    for outsider in (new_user("buyer"), supplier):
        with pytest.raises(PermissionDenied):
            purchase_download(outsider, sale_id)


def test_raw_applications_are_for_suppliers_and_admins(workbench):
    assert isinstance(explore.raw_apps(new_user("supplier")), list)
    with pytest.raises(PermissionDenied):
        explore.raw_apps(new_user("buyer"))


def test_item_previews_join_only_what_the_principal_may_read(workbench):
    owner, other = new_user("supplier"), new_user("supplier")
    dataset = add_items(owner, f"preview-{uuid.uuid4().hex[:8]}", [
        {"title": "Tram approved", "text": "The council approved the tram line " * 20}])
    with session_scope() as session:
        [item_id] = session.exec(select(Item.id).where(Item.dataset_id == dataset["id"])).all()
    sample = pd.DataFrame({"item_id": [item_id, 10**9], "prediction": ["good", "bad"]})

    mine = with_item_texts(owner, sample, id_column="item_id", text_chars=40)
    assert list(mine["prediction"]) == ["good", "bad"]  # the sample's own columns and order are kept
    assert list(mine["title"]) == ["Tram approved", ""]
    assert mine["text"][0] == ("The council approved the tram line " * 2)[:40] and mine["text"][1] == ""
    theirs = with_item_texts(other, sample, id_column="item_id")
    assert list(theirs["title"]) == ["", ""] and list(theirs["text"]) == ["", ""]


def test_package_documents_are_read_for_the_owner_only(workbench, tmp_path):
    owner = new_user("supplier")
    package_id = make_package(owner, tmp_path / "pkg")
    (tmp_path / "pkg" / "croissant.json").write_text(json.dumps({"name": "tiny"}), encoding="utf-8")
    assert package_card(owner, package_id).startswith("# Tiny package")
    assert package_document(owner, package_id, "croissant.json") == {"name": "tiny"}
    with pytest.raises(ValueError, match="croissant.json"):
        package_document(owner, package_id, "../../secret_key")
    with pytest.raises(PermissionDenied):  # NotFoundOrDenied: as if it did not exist
        package_card(new_user("supplier"), package_id)


def test_the_source_form_becomes_a_config():
    config = crawl_config_from_form("json_api", "https://a.example/api\n\n https://b.example/api ", 50,
                                    items_path="data.items", field_map_text="attributes.name: title")
    assert config == {"urls": ["https://a.example/api", "https://b.example/api"], "max_pages": 50,
                      "next_page_selector": None, "detail_link_selector": None, "recipe": None,
                      "items_path": "data.items", "field_map": {"attributes.name": "title"}}
    listing = crawl_config_from_form("listing_index", "https://shop.example/", 10, next_selector="a.next",
                                     recipe_text="title: h1\nprice: .price @content")
    assert listing["recipe"] == {"title": "h1", "price": {"selector": ".price", "attr": "content"}}
    assert "items_path" not in listing
    with pytest.raises(ValueError, match="line 1"):
        crawl_config_from_form("listing_index", "https://shop.example/", 10, recipe_text="no colon here")


def test_one_list_of_applications():
    assert APPLICATIONS[0] == "uploads" and set(CRAWLED_APPLICATIONS) == set(APPLICATIONS) - {"uploads"}
