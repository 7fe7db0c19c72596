"""Listing bot library: note parsing, template drafting, checks (PII, required fields), price suggestions from
comparables in the real stores, stored drafts with versions, exports, and ownership."""

from __future__ import annotations

import csv
import io
import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from principals import as_admin, new_user

from core.apps.listings.bot import pricing
from core.apps.listings.bot.checks import DraftRefused, missing_fields, pii_findings, redact_draft
from core.apps.listings.bot.drafts import delete_draft, get_draft, list_drafts, save_draft, update_draft
from core.apps.listings.bot.export import export_drafts
from core.apps.listings.bot.fields import FieldError, normalise_fields
from core.apps.listings.bot.note import parse_note
from core.apps.listings.bot.service import draft_listing
from core.apps.listings.bot.templates import VARIANTS, template_draft
from core.auth import PermissionDenied

BIKE_NOTE = ("selling my blue Gazelle city bike, 57cm frame, good condition, a few scratches on the fender. "
             "Bought in 2019. Asking 350 eur or best offer. Pick-up in Utrecht.")


# -- note parsing --------------------------------------------------------------------------------------
@pytest.mark.parametrize("note, expected", [
    (BIKE_NOTE, {"category": "bicycles", "item": "city bike", "brand": "Gazelle", "price": 350, "currency": "EUR",
                 "negotiable": True, "condition": "good", "size": "57 cm frame", "colour": "blue", "year": 2019,
                 "location": "Utrecht", "defects": ["a few scratches on the fender"]}),
    ("Samsung Galaxy S21 128GB, black, like new, comes with charger and box. €420 firm. Located in Amsterdam, "
     "can ship.", {"category": "phones", "brand": "Samsung", "model": "Galaxy S21", "storage": "128 GB",
                   "condition": "like new", "price": 420, "negotiable": False, "location": "Amsterdam",
                   "delivery": "can ship", "included": ["charger and box"]}),
    ("Bright 2 bedroom apartment, 1 bathroom, 75 m², built in 1998, Lyon centre. 1.250 € per month",
     {"category": "property", "beds": 2, "baths": 1, "area_m2": 75, "year_built": 1998, "price": 1250,
      "listing_type": "rent", "property_type": "apartment"}),
    ("oak dining table 180x90 cm, seats six, some wear on the top, 120 euros, collection from Berlin Mitte",
     {"category": "furniture", "item": "dining table", "dimensions": "180 x 90 cm", "condition": "fair",
      "price": 120, "location": "Berlin Mitte", "details": ["seats six"]}),
    ("Canon EOS R6 body, mint. 1.299,50 EUR", {"category": "cameras", "brand": "Canon", "model": "EOS R6",
                                               "condition": "like new", "price": 1299.5}),
])
def test_a_rough_note_becomes_fields(note, expected):
    fields = parse_note(note).fields
    assert {k: fields.get(k) for k in expected} == expected


def test_nothing_is_read_that_the_note_does_not_say():
    parsed = parse_note("old brass lamp from the attic")
    assert parsed.fields == {"category": "general", "details": ["old brass lamp from the attic"]}
    # a year or a size is not a price
    assert "price" not in parse_note("Trek road bike from 2019, 56 cm frame").fields


def test_every_parsed_field_names_its_evidence():
    parsed = parse_note(BIKE_NOTE)
    assert parsed.evidence["price"] == "350 eur"
    assert parsed.evidence["condition"] == "good condition"
    assert parsed.evidence["location"] == "in Utrecht"


@pytest.mark.parametrize("note", ["", "   ", "x" * 5001])
def test_empty_or_huge_notes_are_refused_clearly(note):
    with pytest.raises(ValueError, match="note"):
        parse_note(note)


def test_bad_structured_fields_are_each_named():
    with pytest.raises(FieldError) as refused:
        normalise_fields({"category": "boats", "price": "cheap", "currency": "XYZW", "beds": "many",
                          "condition": "pristine"})
    text = str(refused.value)
    for expected in ("category 'boats'", "price must be", "currency 'XYZW'", "beds must be", "condition 'pristine'"):
        assert expected in text


# -- template drafting -----------------------------------------------------------------------------------
def _words(text: str) -> set[str]:
    return {w.strip(".,:;()!").lower() for w in text.split()}


def test_template_text_states_only_given_facts_and_always_the_flaws():
    fields = parse_note(BIKE_NOTE).fields
    for variant in range(VARIANTS):
        draft = template_draft(fields, variant)
        text = draft["title"] + " " + draft["description"]
        assert "a few scratches on the fender" in draft["description"]
        assert "€350" in draft["description"] and "open to offers" in draft["description"]
        assert "Utrecht" in text and "57 cm frame" in text
        numbers = {w for w in _words(text) if any(c.isdigit() for c in w)}
        assert numbers <= {"57", "2019", "€350"}, numbers  # no figure the seller did not give
    bare = template_draft({"category": "bicycles", "brand": "Trek"}, 0)
    assert bare["title"] == "Trek" and "condition" not in bare["description"].lower()
    assert "€" not in bare["description"]


def test_wordings_vary_but_are_stable_for_the_same_facts():
    fields = parse_note(BIKE_NOTE).fields
    texts = {template_draft(fields, v)["description"] for v in range(VARIANTS)}
    assert len(texts) == VARIANTS
    assert template_draft(fields)["description"] == template_draft(dict(fields))["description"]


def test_property_template():
    draft = template_draft(parse_note("Bright 2 bedroom apartment, 1 bathroom, 75 m², built in 1998, location: "
                                      "Lyon. 1.250 € per month").fields, 0)
    assert draft["title"] == "2-bedroom apartment for rent in Lyon, 75 m²"
    assert "An apartment with 2 bedrooms, 1 bathroom, 75 m² of floor area, built in 1998." in draft["description"]
    assert "Rent: €1,250 per month." in draft["description"]


# -- checks -------------------------------------------------------------------------------------------------
def test_personal_data_is_named_exactly_and_redacted():
    draft = {"category": "general", "title": "Lamp", "price": 10, "description": "Call +31 6 12345678 or mail "
             "jan.de.vries@example.org.", "attributes": {"condition": "good", "location": "Delft",
                                                          "seller": "IBAN NL91ABNA0417164300"}}
    found = {(f["kind"], f["text"], f["part"]) for f in pii_findings(draft)}
    assert found == {("phone", "+31 6 12345678", "description"), ("email", "jan.de.vries@example.org", "description"),
                     ("iban", "NL91ABNA0417164300", "attribute 'seller'")}
    redacted = redact_draft(draft)
    assert redacted["description"] == "Call [PHONE] or mail [EMAIL]."
    assert redacted["attributes"]["seller"] == "IBAN [IBAN]"
    assert pii_findings(redacted) == []
    assert "1 phone number" in redacted["notes"][0] and "1 email address" in redacted["notes"][0]


def test_required_fields_are_named_per_category():
    required, recommended = missing_fields({"category": "bicycles", "title": "Bike", "attributes": {"brand": "Cube"}})
    assert required == ["price is required for bicycles listings", "condition is required for bicycles listings",
                        "location is required for bicycles listings", "size is required for bicycles listings"]
    assert "colour helps buyers of bicycles" in recommended
    required, _ = missing_fields({"category": "property", "title": "Flat", "attributes": {"location": "Lyon"}})
    assert required == ["floor area (m²) is required for property listings",
                        "bedrooms is required for property listings"]


# -- stored drafts ---------------------------------------------------------------------------------------------
@pytest.fixture
def owner(workbench):
    return new_user("supplier")


def _bike_draft(principal, extra_note: str = "") -> dict:
    return draft_listing(principal, note=BIKE_NOTE + extra_note, use_openai=False)


def test_a_draft_with_personal_data_is_refused_then_saved_redacted(owner):
    draft = _bike_draft(owner, " Call +31 6 12345678.")
    assert [f["text"] for f in draft["pii"]] == ["+31 6 12345678"]
    with pytest.raises(DraftRefused, match=r"phone number '\+31 6 12345678' in the description") as refused:
        save_draft(owner, draft)
    assert refused.value.pii and list_drafts(owner) == []
    saved = save_draft(owner, draft, redact=True)
    stored = get_draft(owner, saved["id"])
    assert "[PHONE]" in stored["description"] and "12345678" not in json.dumps(stored, default=str)
    assert stored["pii"] == [] and stored["notes"] == ["Redacted 1 phone number."]


def test_missing_required_fields_refuse_the_save_naming_each(owner):
    draft = draft_listing(owner, note="Gazelle city bike, good condition, 200 euro", use_openai=False)
    with pytest.raises(DraftRefused) as refused:
        save_draft(owner, draft, redact=True)
    assert refused.value.problems == ["location is required for bicycles listings",
                                      "size is required for bicycles listings"]


def test_edits_make_versions_and_exports_carry_the_latest(owner):
    saved = save_draft(owner, _bike_draft(owner))
    assert saved["version"] == 1
    first_updated = saved["updated_at"]
    edited = update_draft(owner, saved["id"], {"title": "Gazelle city bike =cheap", "price": 325})
    assert edited["version"] == 2 and edited["updated_at"] >= first_updated
    assert update_draft(owner, saved["id"], {"title": "Gazelle city bike =cheap"})["version"] == 2  # no change
    with pytest.raises(DraftRefused, match="personal data"):
        update_draft(owner, saved["id"], {"description": "Mail me: piet@example.org"})
    with pytest.raises(DraftRefused, match="price must be a number"):
        update_draft(owner, saved["id"], {"price": "lots"})
    detail = get_draft(owner, saved["id"])
    assert [v["version"] for v in detail["versions"]] == [1, 2] and detail["versions"][0]["price"] == 350
    data = json.loads(export_drafts(owner, [saved["id"]], "json"))
    assert data[0]["title"] == "Gazelle city bike =cheap" and data[0]["price"] == 325
    rows = list(csv.DictReader(io.StringIO(export_drafts(owner, [saved["id"]], "csv").decode())))
    assert rows[0]["title"] == "Gazelle city bike =cheap" and rows[0]["price"] == "325"
    assert json.loads(rows[0]["attributes"])["brand"] == "Gazelle"
    markdown = export_drafts(owner, [saved["id"]], "md").decode()
    assert markdown.startswith("# Gazelle city bike =cheap\n") and "**Price:** €325" in markdown
    with pytest.raises(ValueError, match="format"):
        export_drafts(owner, [saved["id"]], "xlsx")


def test_csv_export_defuses_spreadsheet_formulas(owner):
    saved = save_draft(owner, _bike_draft(owner))
    update_draft(owner, saved["id"], {"title": "=HYPERLINK(\"http://evil\")"})
    rows = list(csv.DictReader(io.StringIO(export_drafts(owner, [saved["id"]], "csv").decode())))
    assert rows[0]["title"].startswith("'=")


def test_another_supplier_cannot_see_or_touch_the_drafts(owner):
    saved = save_draft(owner, _bike_draft(owner))
    intruder, buyer = new_user("supplier"), new_user("buyer")
    assert saved["id"] not in [d["id"] for d in list_drafts(intruder)]
    for attempt in (lambda p: get_draft(p, saved["id"]),
                    lambda p: update_draft(p, saved["id"], {"title": "Stolen"}),
                    lambda p: delete_draft(p, saved["id"]),
                    lambda p: export_drafts(p, [saved["id"]], "json")):
        for outsider in (intruder, buyer, None):
            with pytest.raises(PermissionDenied):
                attempt(outsider)
    for outsider in (buyer, None):
        with pytest.raises(PermissionDenied):
            list_drafts(outsider)
        with pytest.raises(PermissionDenied):
            draft_listing(outsider, note=BIKE_NOTE)
    assert get_draft(owner, saved["id"])["title"] == saved["title"]  # untouched
    assert saved["id"] in [d["id"] for d in list_drafts(as_admin())]
    delete_draft(owner, saved["id"])
    with pytest.raises(PermissionDenied):
        get_draft(owner, saved["id"])


# -- price suggestions ---------------------------------------------------------------------------------------
def _marketplace_source(principal, raw_store, prices: list[float], category="Bicycles", brand="Gazelle") -> str:
    from core.sources import registry

    name = f"shop-{uuid.uuid4().hex[:8]}"
    registry.save_source(principal, name, "marketplace", "url_list", {"urls": ["https://shop.example.org/a"]})
    now = datetime.now(UTC)
    docs = [{"source_id": name, "url": f"https://shop.example.org/{name}/{i}", "fetched_at": now - timedelta(minutes=i),
             "content_hash": uuid.uuid4().hex, "raw_content": "<html></html>",
             "metadata": {"kind": "listing", "extracted": {"title": f"bike {i}", "category": category, "brand": brand,
                                                           "price": price, "currency": "EUR"}}}
            for i, price in enumerate(prices)]
    raw_store.insert_documents("marketplace", docs)
    return name


def test_category_median_from_the_users_own_comparables(raw_store):
    owner, stranger = new_user("supplier"), new_user("supplier")
    # 9 plausible prices, a typo'd extra zeros and a 1-euro placeholder
    _marketplace_source(owner, raw_store, [300, 320, 340, 350, 360, 380, 400, 420, 450, 35000, 1])
    _marketplace_source(owner, raw_store, [999, 999, 999], category="Cameras", brand="Canon")
    suggestion = pricing.suggest_price(owner, {"category": "bicycles", "currency": "EUR"})
    assert suggestion["method"] == "category_median"
    assert suggestion["estimate"] == 360 and suggestion["comparables"] == 9 and suggestion["outliers_dropped"] == 2
    assert (suggestion["low"], suggestion["high"]) == (340, 400) and suggestion["spread"] == 60
    assert "Median of 9 comparable bicycles listings" in suggestion["note"]
    same_brand = pricing.suggest_price(owner, {"category": "bicycles", "brand": "Gazelle", "currency": "EUR"})
    assert same_brand["basis"] == "Gazelle bicycles"
    # another supplier's shop is not their evidence
    nothing = pricing.suggest_price(stranger, {"category": "bicycles", "currency": "EUR"})
    assert nothing["estimate"] is None and "0 comparable bicycles" in nothing["note"]
    other_currency = pricing.suggest_price(owner, {"category": "bicycles", "currency": "USD"})
    assert other_currency["estimate"] is None and "priced in USD" in other_currency["note"]
    # a draft without a price takes the suggestion, and says so
    draft = draft_listing(owner, note="Gazelle city bike, 57 cm frame, good condition, pick-up in Delft",
                          use_openai=False)
    assert draft["price"] == 360 and "suggested €360 is used" in draft["notes"][0]


def test_property_drafts_use_the_valuation_or_say_why_not(owner, monkeypatch):
    fields = {"category": "property", "beds": 3, "area_m2": 110, "location": "Ames", "listing_type": "sale"}
    real = pricing.suggest_price(owner, fields)  # the Property app's own valuation: no model trained by this user
    assert real["estimate"] is None and real["note"].startswith("No price suggested by the property valuation: ")
    assert "Enter the price yourself." in real["note"]
    monkeypatch.setattr(pricing, "_valuation_function", lambda: None)
    assert "not available" in pricing.suggest_price(owner, fields)["note"]

    def untrained(principal, given):
        raise LookupError("no valuation model is trained yet")

    monkeypatch.setattr(pricing, "_valuation_function", lambda: untrained)
    note = pricing.suggest_price(owner, fields)["note"]
    assert note == "No price suggested by the property valuation: no valuation model is trained yet. Enter the " \
                   "price yourself."
    seen = {}

    def trained(principal, given):
        seen["args"] = (principal, given)
        return {"estimate": 251000.0, "low": 230000.0, "high": 270000.0, "comparables": [{}, {}, {}],
                "model": "property-value v2"}

    monkeypatch.setattr(pricing, "_valuation_function", lambda: trained)
    suggestion = pricing.suggest_price(owner, fields)
    assert seen["args"] == (owner, fields)
    assert suggestion == {"method": "property_valuation", "estimate": 251000.0, "low": 230000.0, "high": 270000.0,
                          "currency": "EUR", "comparables": 3, "spread": 40000.0, "basis": "property-value v2",
                          "note": "Estimate of property-value v2 (interval 230,000–270,000), 3 comparable sales."}
    rent = pricing.suggest_price(owner, {**fields, "listing_type": "rent"})
    assert rent["estimate"] is None and "not rents" in rent["note"]


def test_personal_data_the_draft_leaves_out_is_reported(owner):
    draft = draft_listing(owner, note=BIKE_NOTE.replace("Asking 350 eur", "Asking 350 eur, call +31 6 12345678"),
                          use_openai=False)
    assert draft["pii"] == []  # the clause also held the price, so it is not copied into the text...
    assert any("phone number '+31 6 12345678' from your note" in note for note in draft["notes"])  # ...but said


def test_stated_conditions_and_materials():
    assert parse_note("IKEA sofa, black, used, 120 eur").fields["condition"] == "fair"
    assert parse_note("Selling my Trek road bike (like new), works perfectly").fields["condition"] == "like new"
    assert "condition" not in parse_note("Trek road bike, works perfectly").fields  # working is not a condition
    fields = parse_note("solid oak dining table, 120 eur").fields
    assert fields["material"] == "solid oak" and "colour" not in fields


def test_command_line_drafts_saves_and_exports(tmp_path, capsys, workbench):
    from core.cli import main

    fields = tmp_path / "fields.json"
    fields.write_text(json.dumps({"category": "phones", "brand": "Fairphone", "model": "5", "storage": "256 GB",
                                  "condition": "good", "price": "€380", "location": "Utrecht"}))
    assert main(["listing", "draft", "--fields", str(fields), "--no-openai", "--save", "--json"]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out)["title"] == "Fairphone 5, 256 GB" and "Saved draft" in err
    draft_id = int(err.split("Saved draft ")[1].split()[0])
    assert main(["listing", "export", str(draft_id), "--format", "md"]) == 0
    assert capsys.readouterr().out.startswith("# Fairphone 5, 256 GB")
    fields.write_text("{not json")
    assert main(["listing", "draft", "--fields", str(fields)]) == 2
    assert "cannot read" in capsys.readouterr().err
    assert main(["listing", "draft", "--note", "Trek bike, 200 eur", "--no-openai", "--save"]) == 2
    assert "condition is required for bicycles listings" in capsys.readouterr().err


def test_drafts_round_trip_on_each_sql_store(sql_url):
    """Save, edit, list and delete on SQLite and PostgreSQL (JSON attributes, versions, ownership)."""
    owner = new_user("supplier")
    draft = {"category": "furniture", "title": "Oak dining table", "description": "Seats six.", "price": 120,
             "currency": "EUR", "attributes": {"condition": "fair", "location": "Berlin", "year": 2019},
             "price_basis": {"method": "none", "note": "No price suggested."}, "method": "template:1"}
    saved = save_draft(owner, draft)
    edited = update_draft(owner, saved["id"], {"attributes": {**draft["attributes"], "material": "oak"}})
    assert edited["version"] == 2
    stored = get_draft(owner, saved["id"])
    assert stored["attributes"] == {"condition": "fair", "location": "Berlin", "year": 2019, "material": "oak"}
    assert [v["attributes"].get("material") for v in stored["versions"]] == [None, "oak"]
    assert [d["id"] for d in list_drafts(owner)] == [saved["id"]]
    delete_draft(owner, saved["id"])
    assert list_drafts(owner) == []
