"""The Listing bot page under AppTest: draft from a note, see the personal data named, redact and save, edit
(a new version), export buttons; the fields form names missing fields; buyers and strangers are refused."""

from __future__ import annotations

from apptest_helpers import assert_no_exception, button, page_app, text_input

from core import auth
from core.apps.listings.bot.drafts import get_draft, list_drafts

NOTE = ("selling my blue Gazelle city bike, 57cm frame, good condition, a few scratches on the fender. "
        "Asking 350 eur or best offer. Pick-up in Utrecht. Call +31 6 12345678")


def _errors(at) -> str:
    return " ".join(str(e.value) for e in at.error)


def test_draft_from_a_note_redact_save_edit_and_export(workbench):
    at = page_app("listing_bot.py", role="supplier")
    assert_no_exception(at)
    assert "Nothing is posted to any real site" in " ".join(c.value for c in at.caption)
    at.text_area(key="lbot_note").set_value(NOTE)
    button(at, "Draft listing").click().run()
    assert_no_exception(at)
    assert text_input(at, "Title").value == "Gazelle city bike, 57 cm frame, blue"
    assert "phone number '+31 6 12345678' in the description" in _errors(at)
    assert button(at, "Save draft").disabled and not button(at, "Redact and save").disabled
    before = {d["id"] for d in list_drafts(auth.demo_principal("supplier"))}
    button(at, "Redact and save").click().run()
    assert_no_exception(at)
    assert any("Saved draft" in s.value for s in at.success)
    (new_id,) = {d["id"] for d in list_drafts(auth.demo_principal("supplier"))} - before
    stored = get_draft(auth.demo_principal("supplier"), new_id)
    assert "[PHONE]" in stored["description"] and "12345678" not in stored["description"]

    # My drafts: the new draft is open; edit its title and price
    assert at.selectbox(key="lbot_open_select").value == new_id
    text_input(at, "Title", occurrence=1).set_value("Gazelle city bike, 57 cm")
    price = [t for t in at.text_input if t.label == "Price"][0]
    price.set_value("325")
    button(at, "Save changes").click().run()
    assert_no_exception(at)
    assert f"Saved version 2 of draft {new_id}." in [s.value for s in at.success]
    stored = get_draft(auth.demo_principal("supplier"), new_id)
    assert stored["version"] == 2 and stored["title"] == "Gazelle city bike, 57 cm" and stored["price"] == 325
    labels = [element.proto.label for element in at.get("download_button")]
    assert labels == ["Download JSON", "Download CSV", "Download Markdown"]


def test_an_edit_with_personal_data_is_refused_with_the_reason(workbench):
    at = page_app("listing_bot.py", role="supplier")
    at.text_area(key="lbot_note").set_value(NOTE.replace(" Call +31 6 12345678", ""))
    button(at, "Draft listing").click().run()
    button(at, "Save draft").click().run()
    draft_id = at.selectbox(key="lbot_open_select").value
    description = [t for t in at.text_area if t.label == "Description"][-1]
    description.set_value(description.value + "\n\nMail me at piet@example.org")
    button(at, "Save changes").click().run()
    assert_no_exception(at)
    assert "email address 'piet@example.org' in the description" in _errors(at)
    assert get_draft(auth.demo_principal("supplier"), draft_id)["version"] == 1


def test_the_fields_form_names_missing_required_fields(workbench):
    at = page_app("listing_bot.py", role="supplier")
    at.radio(key="lbot_source").set_value("Fields").run()
    at.selectbox(key="lbot_f_category").set_value("phones").run()
    at.text_input(key="lbot_f_brand").set_value("Fairphone")
    at.text_input(key="lbot_f_price").set_value("abc")
    button(at, "Draft listing").click().run()
    assert_no_exception(at)
    assert "price must be a positive amount, got 'abc'" in _errors(at)
    at.text_input(key="lbot_f_price").set_value("180")
    button(at, "Draft listing").click().run()
    errors = _errors(at)
    for missing in ("condition", "location", "storage"):
        assert f"Missing: {missing} is required for phones & tablets listings." in errors
    assert button(at, "Save draft").disabled


def test_buyers_are_refused(workbench):
    from apptest_helpers import ROOT
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "pages" / "listing_bot.py"), default_timeout=30)
    at.session_state["auth_user"] = auth.demo_principal("buyer").as_dict()
    at.run()
    assert "you are signed in as a buyer" in " ".join(w.value for w in at.warning)
    assert not at.button and not at.text_area


def test_another_supplier_sees_none_of_the_drafts(workbench):
    from apptest_helpers import ROOT
    from principals import new_user
    from streamlit.testing.v1 import AppTest

    from core.apps.listings.bot.drafts import save_draft
    from core.apps.listings.bot.service import draft_listing

    owner, other = new_user("supplier"), new_user("supplier")
    secret = "Owner-only Brompton folding bike"
    draft = draft_listing(owner, note=NOTE.replace(" Call +31 6 12345678", ""), use_openai=False)
    save_draft(owner, {**draft, "title": secret})
    at = AppTest.from_file(str(ROOT / "pages" / "listing_bot.py"), default_timeout=30)
    at.session_state["auth_user"] = other.as_dict()
    at.run()
    assert_no_exception(at)
    assert "No saved drafts yet" in " ".join(i.value for i in at.info)
    shown = " ".join([*(str(m.value) for m in at.markdown), *(f.value.to_csv() for f in at.dataframe),
                      *(" ".join(map(str, s.options)) for s in at.selectbox)])
    assert secret not in shown
