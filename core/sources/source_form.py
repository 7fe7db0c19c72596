"""A crawl source's config from the fields a person fills in (the Sources page's form), in one place.

Text fields arrive as typed: one start URL per line, a CSS recipe and a JSON field map as "key: value"
lines. Only the keys the kind reads are set; save_source then validates the whole config.
"""

from __future__ import annotations

from core.sources.recipe_check import parse_recipe_lines


def crawl_config_from_form(kind: str, urls_text: str, max_pages: int, *, next_selector: str = "",
                           detail_selector: str = "", recipe_text: str = "", items_path: str = "",
                           field_map_text: str = "") -> dict:
    """The config dict; ValueError names a recipe or field-map line that is not 'key: value'."""
    config = {"urls": [line.strip() for line in (urls_text or "").splitlines() if line.strip()],
              "max_pages": int(max_pages), "next_page_selector": next_selector or None,
              "detail_link_selector": detail_selector or None,
              "recipe": parse_recipe_lines(recipe_text) or None}
    if kind == "json_api":
        config["items_path"] = items_path or None
        config["field_map"] = parse_recipe_lines(field_map_text)  # same "key: value" line format
    return config
