"""Raw Explorer selections act only on the records the user ticked in the table on screen."""

import uuid
from datetime import UTC, datetime, timedelta

import streamlit as st
from apptest_helpers import assert_no_exception, button, page_app

from core.store.raw import content_hash


def _seed(raw_store):
    """Two 'alpha' and two 'beta' records, each with its own main text; newest first is alpha-0."""
    app = f"rxs{uuid.uuid4().hex[:6]}"
    now = datetime.now(UTC)
    docs = []
    for i, word in enumerate(["alpha", "alpha", "beta", "beta"]):
        docs.append({"source_id": "s1", "url": f"https://shop.test/{word}/{i}",
                     "fetched_at": now - timedelta(minutes=i),
                     "content_hash": content_hash(f"{word}{i}"), "raw_content": f"<p>{word} record {i}</p>",
                     "metadata": {"status": 200, "kind": "article",
                                  "extracted": {"title": f"{word.title()} {i}", "text": f"Body of {word} {i}"}}})
    raw_store.insert_documents(app, docs)
    return app


def _open(app):
    st.cache_data.clear()
    at = page_app("raw_explorer.py")
    at.selectbox(key="rawx_app").select(app).run()
    return at


def _tick(at, rows):
    at.session_state[at.session_state["rawx_table_key"]] = {"selection": {"rows": rows, "columns": [], "cells": []}}
    at.run()
    assert_no_exception(at)


def _delete_buttons(at):
    return [b for b in at.button if b.label == "Delete for good"]


def test_changing_the_search_clears_the_selection_so_delete_cannot_hit_another_record(workbench, raw_store):
    app = _seed(raw_store)
    at = _open(app)
    at.text_input(key="rawx_text").input("alpha").run()
    _tick(at, [0])
    assert len(_delete_buttons(at)) == 1
    at.text_input(key="rawx_text").input("beta").run()
    assert_no_exception(at)
    assert set(at.dataframe[0].value["title"]) == {"Beta 2", "Beta 3"}
    # Nothing looks ticked, so nothing can be deleted or labelled.
    assert _delete_buttons(at) == []
    assert not [b for b in at.button if b.label.startswith(("Label good", "Label bad"))]
    assert raw_store.collection(app).count_documents({}) == 4


def test_delete_confirmation_names_the_ticked_record_and_deletes_only_it(workbench, raw_store):
    app = _seed(raw_store)
    at = _open(app)
    at.text_input(key="rawx_text").input("beta").run()
    frame = at.dataframe[0].value
    ticked = frame.iloc[1]
    _tick(at, [1])
    confirmation = "\n".join(t.value for t in at.text)
    assert ticked["title"] in confirmation and ticked["url"] in confirmation
    other = frame.iloc[0]
    assert other["title"] not in confirmation
    button(at, "Delete for good").click().run()
    assert_no_exception(at)
    remaining = {str(doc["_id"]) for doc in raw_store.collection(app).find({}, {"_id": 1})}
    assert ticked["id"] not in remaining and other["id"] in remaining and len(remaining) == 3
    # The table changed under the selection, so nothing stays ticked afterwards.
    assert _delete_buttons(at) == []


def test_main_text_follows_the_opened_record(workbench, raw_store):
    app = _seed(raw_store)
    at = _open(app)
    frame = at.dataframe[0].value
    _tick(at, [0])
    [main] = [t for t in at.text_area if t.label == "Main text"]
    first_title = frame.iloc[0]["title"]
    assert main.value == f"Body of {first_title.lower()}"
    _tick(at, [2])
    [main] = [t for t in at.text_area if t.label == "Main text"]
    assert main.value == f"Body of {frame.iloc[2]['title'].lower()}"
