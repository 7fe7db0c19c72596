import pandas as pd
import streamlit as st

from core.apps.listings.bot.categories import CATEGORIES, CONDITIONS, PROPERTY
from core.apps.listings.bot.checks import DraftRefused, describe_pii
from core.apps.listings.bot.drafts import delete_draft, get_draft, list_drafts, save_draft, update_draft
from core.apps.listings.bot.export import EXPORT_FORMATS, export_drafts
from core.apps.listings.bot.fields import FieldError
from core.apps.listings.bot.service import draft_listing, with_checks
from core.apps.listings.bot.templates import money
from core.auth import PermissionDenied
from core.config import get_settings
from pages._ui import require_page_user

st.title("Listing bot")
st.caption("Draft a listing from a rough note or from fields: title, description, attributes and a suggested "
           "price, checked for personal data and missing fields. **Nothing is posted to any real site**: export "
           "your drafts and post them yourself.")
user = require_page_user("supplier", "admin")
tab_new, tab_mine = st.tabs(["New draft", "My drafts"])


def _writer(method: str) -> str:
    kind, _, detail = method.partition(":")
    return f"OpenAI ({detail})" if kind == "openai" else f"the local template (wording {detail or 1})"


def _lines(text: str) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def _form_fields() -> dict:
    c1, c2, c3 = st.columns(3)
    category = c1.selectbox("Category", list(CATEGORIES), format_func=lambda c: CATEGORIES[c].label,
                            key="lbot_f_category")
    fields = {"category": category, "condition": c2.selectbox("Condition", ["", *CONDITIONS], key="lbot_f_cond"),
              "location": c3.text_input("Location", key="lbot_f_location"),
              "price": c1.text_input("Price (empty: suggest one)", key="lbot_f_price"),
              "currency": c2.text_input("Currency", value="EUR", key="lbot_f_currency")}
    if category == PROPERTY:
        fields |= {"property_type": c3.text_input("Property type", key="lbot_f_ptype"),
                   "beds": c1.text_input("Bedrooms", key="lbot_f_beds"),
                   "baths": c2.text_input("Bathrooms", key="lbot_f_baths"),
                   "area_m2": c3.text_input("Floor area (m²)", key="lbot_f_area"),
                   "year_built": c1.text_input("Year built", key="lbot_f_built"),
                   "listing_type": c2.selectbox("For", ["sale", "rent"], key="lbot_f_deal")}
    else:
        fields |= {name: column.text_input(label, key=f"lbot_f_{name}") for name, label, column in (
            ("item", "Item", c3), ("brand", "Brand", c1), ("model", "Model", c2), ("size", "Size", c3),
            ("storage", "Storage", c1), ("colour", "Colour", c2), ("dimensions", "Dimensions", c3))}
    fields["defects"] = _lines(st.text_area("Known flaws (one per line)", key="lbot_f_defects"))
    fields["details"] = _lines(st.text_area("Other details (one per line)", key="lbot_f_details"))
    return {k: v for k, v in fields.items() if v not in ("", [])}


def _show_checks(draft: dict) -> bool:
    """The check results; True when the draft may be stored as it is."""
    for note in draft.get("notes") or []:
        st.info(note)
    for missing in draft["missing"]:
        st.error(f"Missing: {missing}.")
    if draft["recommended"]:
        st.caption("Would help buyers: " + "; ".join(draft["recommended"]) + ".")
    if draft["pii"]:
        st.error("Personal data found — it is not stored as it is:\n\n"
                 + "\n".join(f"- {line}" for line in describe_pii(draft["pii"]))
                 + "\n\nRemove it from the text, or use the redaction button to replace each with a label.")
    return not draft["missing"] and not draft["pii"]


with tab_new:
    source = st.radio("Draft from", ["Rough note", "Fields"], horizontal=True, key="lbot_source")
    if source == "Rough note":
        note = st.text_area("Rough note", key="lbot_note", height=120,
                            placeholder="e.g. blue Gazelle city bike, 57 cm frame, good condition, a few scratches, "
                                        "350 eur or best offer, pick-up in Utrecht")
        given = None
    else:
        note, given = None, _form_fields()
    has_key = bool(get_settings().openai_api_key)
    use_openai = st.checkbox("Let OpenAI word it", value=has_key, disabled=not has_key, key="lbot_openai",
                             help="Only with OPENAI_API_KEY set; the local templates write drafts otherwise.")
    c1, c2 = st.columns(2)
    draft_clicked = c1.button("Draft listing", key="lbot_draft_button", type="primary")
    reword = c2.button("Another wording", key="lbot_reword", disabled="lbot_draft" not in st.session_state)
    if draft_clicked or reword:
        variant = st.session_state.get("lbot_variant", -1) + 1 if reword else None
        try:
            draft = draft_listing(user, fields=given, note=note, use_openai=use_openai and not reword,
                                  variant=variant)
        except (FieldError, ValueError, PermissionDenied) as exc:
            st.error(str(exc))
        else:
            st.session_state["lbot_draft"] = draft
            st.session_state["lbot_variant"] = int(draft["method"].split(":")[1]) - 1 \
                if draft["method"].startswith("template:") else 0
            st.session_state["lbot_edit_title"] = draft["title"]
            st.session_state["lbot_edit_description"] = draft["description"]
            st.session_state["lbot_edit_price"] = "" if draft["price"] is None else f"{draft['price']:g}"

    draft = st.session_state.get("lbot_draft")
    if draft:
        st.divider()
        st.subheader("Review")
        st.caption(f"Written by {_writer(draft['method'])} · category {CATEGORIES[draft['category']].label}")
        title = st.text_input("Title", key="lbot_edit_title")
        description = st.text_area("Description", key="lbot_edit_description", height=220)
        c1, c2 = st.columns(2)
        price_text = c1.text_input(f"Price ({draft['currency']})", key="lbot_edit_price")
        basis = draft["price_basis"]
        if basis.get("estimate") is not None:
            c2.metric("Suggested price", money(basis["estimate"], basis["currency"]),
                      help=f"{basis.get('comparables', 0)} comparables")
        st.caption(basis.get("note", ""))
        if draft["attributes"]:
            st.dataframe(pd.DataFrame({"attribute": list(draft["attributes"]),
                                       "value": [str(v) for v in draft["attributes"].values()]}), hide_index=True)
        try:
            price = float(price_text.replace(",", ".")) if price_text.strip() else None
        except ValueError:
            st.error(f"The price {price_text!r} is not a number.")
            price = draft["price"]
        reviewed = with_checks({**draft, "title": title, "description": description, "price": price})
        ready = _show_checks(reviewed)
        c1, c2 = st.columns(2)
        save = c1.button("Save draft", key="lbot_save", disabled=not ready)
        redact = c2.button("Redact and save", key="lbot_save_redacted",
                           disabled=not reviewed["pii"] or bool(reviewed["missing"]))
        if save or redact:
            try:
                saved = save_draft(user, reviewed, redact=redact)
            except (DraftRefused, PermissionDenied) as exc:
                st.error(str(exc))
            else:
                st.session_state.pop("lbot_draft", None)
                st.session_state["lbot_open_select"] = saved["id"]  # set before My drafts draws its selectbox
                st.success(f"Saved draft {saved['id']}: {saved['title']}. Open it under **My drafts**.")

with tab_mine:
    drafts = list_drafts(user)
    if not drafts:
        st.info("No saved drafts yet. Draft one under **New draft**.")
        st.stop()
    table = pd.DataFrame([{"id": d["id"], "title": d["title"], "category": CATEGORIES[d["category"]].label,
                           "price": money(d["price"], d["currency"]), "version": d["version"],
                           "updated": d["updated_at"].strftime("%Y-%m-%d %H:%M")} for d in drafts])
    st.dataframe(table, hide_index=True)
    if st.session_state.get("lbot_flash"):
        st.success(st.session_state.pop("lbot_flash"))
    ids = [d["id"] for d in drafts]
    if st.session_state.get("lbot_open_select") not in ids:  # deleted, or another user's session state
        st.session_state.pop("lbot_open_select", None)
    # Labelled by id and category, which edits do not change: the browser keeps showing a selected option's
    # first label, so a title here would go stale after renaming the draft (the table above has the titles).
    categories = {d["id"]: CATEGORIES[d["category"]].label for d in drafts}
    chosen = st.selectbox("Open draft", ids, format_func=lambda i: f"Draft #{i} ({categories[i]})",
                          key="lbot_open_select")
    current = get_draft(user, chosen)
    st.caption(f"Version {current['version']} · written by {_writer(current['method'])} · last saved "
               f"{current['updated_at']:%Y-%m-%d %H:%M} UTC")
    with st.form(f"lbot_edit_{chosen}_{current['version']}"):
        new_title = st.text_input("Title", value=current["title"])
        new_description = st.text_area("Description", value=current["description"], height=220)
        c1, c2 = st.columns(2)
        new_price = c1.text_input("Price", value="" if current["price"] is None else f"{current['price']:g}")
        new_currency = c2.text_input("Currency", value=current["currency"])
        new_attributes = st.text_area("Attributes (one 'name: value' per line)",
                                      value="\n".join(f"{k}: {v}" for k, v in current["attributes"].items()))
        redact_edit = st.checkbox("Replace personal data with labels when saving")
        submitted = st.form_submit_button("Save changes")
    if submitted:
        attributes = {}
        for line in _lines(new_attributes):
            name, _, value = line.partition(":")
            name, value = name.strip(), value.strip()
            old = current["attributes"].get(name)
            attributes[name] = old if str(old) == value else value  # an untouched 2019 or True keeps its type
        try:
            price = float(new_price.replace(",", ".")) if new_price.strip() else None
        except ValueError:
            price = new_price  # update_draft refuses it with a message naming the price
        try:
            saved = update_draft(user, chosen, {"title": new_title, "description": new_description, "price": price,
                                                "currency": new_currency, "attributes": attributes},
                                 redact=redact_edit)
        except (ValueError, PermissionDenied) as exc:  # DraftRefused is a ValueError
            st.error(str(exc))
        else:
            st.session_state["lbot_flash"] = f"Saved version {saved['version']} of draft {chosen}."
            st.rerun()
    with st.expander(f"Versions ({len(current['versions'])})"):
        st.dataframe(pd.DataFrame([{"version": v["version"], "title": v["title"],
                                    "price": money(v["price"], v["currency"]),
                                    "saved": v["created_at"].strftime("%Y-%m-%d %H:%M:%S")}
                                   for v in current["versions"]]), hide_index=True)

    st.subheader("Export")
    if not set(st.session_state.get("lbot_export_ids") or []) <= set(ids):  # a draft was deleted meanwhile
        st.session_state.pop("lbot_export_ids", None)
    chosen_ids = st.multiselect("Drafts to export", ids, default=[chosen], key="lbot_export_ids",
                                format_func=lambda i: f"Draft #{i} ({categories[i]})")
    if chosen_ids:
        columns = st.columns(len(EXPORT_FORMATS))
        labels = {"json": "JSON", "csv": "CSV", "md": "Markdown"}
        for column, (fmt, mime) in zip(columns, EXPORT_FORMATS.items(), strict=True):
            column.download_button(f"Download {labels[fmt]}", export_drafts(user, chosen_ids, fmt),
                                   file_name=f"listing-drafts.{fmt}", mime=mime, key=f"lbot_export_{fmt}")
    with st.expander("Delete this draft"):
        confirm = st.checkbox(f"Yes, delete draft {chosen} and its versions", key=f"lbot_delete_ok_{chosen}")
        if st.button("Delete draft", key="lbot_delete", disabled=not confirm):
            delete_draft(user, chosen)
            st.rerun()
