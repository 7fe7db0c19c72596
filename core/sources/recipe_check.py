"""Trying a CSS recipe on one live URL before saving a source (the Sources page's "Test on one URL")."""

from __future__ import annotations

from core.sources.extract_listing import test_recipe


def parse_recipe_lines(text: str) -> dict:
    """'field: css selector' per line (optionally 'field: selector @attr') -> recipe dict."""
    recipe: dict = {}
    for number, line in enumerate((text or "").splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if ":" not in line:
            raise ValueError(f"Recipe line {number} needs the form 'field: css selector'.")
        field, selector = (part.strip() for part in line.split(":", 1))
        if " @" in selector:
            selector, attr = selector.rsplit(" @", 1)
            recipe[field] = {"selector": selector.strip(), "attr": attr.strip()}
        else:
            recipe[field] = selector
    return recipe


def check_recipe_on_url(url: str, recipe: dict) -> dict:
    """Fetch one page politely and report what each selector extracted and which found nothing.
    Private hosts are reached only through the workbench's network allow-list."""
    from core.sources.allowlist_admin import workbench_allowlist
    from core.sources.fetch import PageFetchError, fetch_page_html

    try:
        html, final_url = fetch_page_html(url, allowed_endpoints=workbench_allowlist(), retries=1)
    except PageFetchError as exc:
        return {"ok": False, "error": str(exc)}
    outcome = test_recipe(html, final_url, recipe)
    return {"ok": True, **outcome}
