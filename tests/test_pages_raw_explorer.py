import uuid
from datetime import UTC, datetime

import streamlit as st
from apptest_helpers import assert_no_exception, page_app
from principals import as_admin

from core import explore
from core.store.raw import content_hash


def _seed(raw_store, n=70):
    app = f"rx{uuid.uuid4().hex[:6]}"
    now = datetime.now(UTC)
    raw_store.insert_documents(app, [
        {"source_id": "s1" if i % 2 else "s2", "url": f"https://shop.test/{i}", "fetched_at": now,
         "content_hash": content_hash(str(i)), "raw_content": f"<p>item {i} <script>alert(1)</script></p>",
         "metadata": {"status": 200, "kind": "listing", "extracted": {"title": f"Item {i}", "price": i}}}
        for i in range(n)
    ])
    return app


def _open(app):
    st.cache_data.clear()  # the page caches the list of applications for a few seconds
    at = page_app("raw_explorer.py")
    at.selectbox(key="rawx_app").select(app).run()
    return at


def test_browse_page_and_filter(workbench, raw_store):
    app = _seed(raw_store)
    at = _open(app)
    assert_no_exception(at)
    assert len(at.dataframe[0].value) == 50
    at.button(key="rawx_next").click().run()
    assert len(at.dataframe[0].value) == 20
    at.selectbox(key="rawx_source").select("s1").run()
    assert_no_exception(at)
    frame = at.dataframe[0].value
    assert len(frame) == 35 and set(frame["source_id"]) == {"s1"}
    # The count line counts the matches, not the collection.
    assert any("records 1-35 of 35 matching" in c.value for c in at.caption), [c.value for c in at.caption]
    at.text_input(key="rawx_text").input("item").run()
    assert_no_exception(at)
    assert any("of 35 matching" in c.value for c in at.caption), [c.value for c in at.caption]
    at.text_input(key="rawx_text").input("nothingmatchesthis").run()
    assert "No records match" in at.info[0].value


def test_select_open_and_label(workbench, raw_store):
    app = _seed(raw_store, n=5)
    at = _open(app)
    first_id = at.dataframe[0].value.iloc[0]["id"]
    at.session_state[at.session_state["rawx_table_key"]] = {"selection": {"rows": [0], "columns": [], "cells": []}}
    at.run()
    assert_no_exception(at)
    # The record view shows HTML as source text in a code block, never rendered.
    assert any("<script>alert(1)</script>" in code.value for code in at.code)
    at.button(key="rawx_good").click().run()
    assert_no_exception(at)
    assert explore.labels_for(as_admin(), app, [first_id]) == {first_id: "good"}


def test_uploaded_rows_show_their_own_title_and_no_dead_link(workbench, raw_store):
    from core.sources.ingest import ingest_upload

    dataset = f"rx-upload-{uuid.uuid4().hex[:6]}"
    csv_text = "headline,body\nTram line approved,The council approved the tram plan.\n,No headline on this row\n"
    ingest_upload(as_admin(), "stories.csv", csv_text.encode(), app="uploads", dataset=dataset,
                  license="CC-BY-4.0", origin="enterprise", attested=True)
    table, _ = explore.raw_page(as_admin(), "uploads", explore.RawFilter(source_id=f"upload:{dataset}"))
    assert sorted(table["title"]) == ["No headline on this row", "Tram line approved"]
    assert table["url"].isna().all()  # upload://... names a file row, not a page: no link
