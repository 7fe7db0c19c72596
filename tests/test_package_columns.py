"""Packaged columns are flat, typed and documented (no JSON `fields` column)."""

import pandas as pd

from core.packaging.columns import column_descriptions, flatten_fields
from core.packaging.writer import normalize_rows


def _rows():
    return pd.DataFrame({
        "id": ["1", "2", "3"], "title": ["A", "B", "C"], "url": ["http://127.0.0.1:43117/news/a",
                                                                 "https://example.org/b", "http://127.0.0.1:43117/c"],
        "source_id": ["demo-news-rss", "feed-x", "my-local"],
        "fields": [{"author": "Ann Lee", "published": "2026-03-01T10:00:00+00:00", "price": 12, "tags": ["x"]},
                   {"author": "Bo", "published": "2026-03-02T08:30:00Z", "price": 9.5, "tags": "y"},
                   {"title": "clashes with the title column"}],
    })


def test_fields_become_typed_columns_of_their_own():
    flat = flatten_fields(_rows())
    assert "fields" not in flat
    assert flat["author"].tolist()[:2] == ["Ann Lee", "Bo"] and pd.isna(flat["author"][2])
    assert str(flat["published"].dtype).startswith("datetime64") and flat["published"][1].hour == 8
    assert str(flat["price"].dtype) == "Float64" and flat["price"][0] == 12.0
    assert flat["tags"].tolist()[:2] == ['["x"]', "y"]  # mixed list and text: one text column
    assert flat["field_title"][2] == "clashes with the title column"  # never overwrites a package column
    table, specs = normalize_rows(flat, column_descriptions(list(flat.columns)))
    kinds = {spec.name: spec.kind for spec in specs}
    assert kinds["price"] == "float" and kinds["published"] == "datetime" and kinds["demo_site"] == "boolean"


def test_demo_site_urls_are_kept_and_marked():
    flat = flatten_fields(_rows())
    assert flat["url"][0] == "http://127.0.0.1:43117/news/a"  # the original address, unchanged
    # Only the demo sources' loopback pages are marked, not any loopback address.
    assert flat["demo_site"].tolist() == [True, False, False]
    assert list(flat.columns).index("demo_site") == list(flat.columns).index("url") + 1


def test_every_column_has_a_description():
    flat = flatten_fields(_rows())
    described = column_descriptions(list(flat.columns))
    assert all(described[c] for c in flat.columns)
    assert "Author" in described["author"] and "127.0.0.1" in described["demo_site"]
    assert described["tags"] == "Field 'tags' as extracted from the source."
