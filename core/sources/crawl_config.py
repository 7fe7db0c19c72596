"""Checking a crawl configuration before any request is made, with every problem named at once."""

from __future__ import annotations

from urllib.parse import urlsplit

from cssselect import GenericTranslator, SelectorError
from lxml import etree

from core.sources.listing_recipe import compile_recipe

KINDS = ("feed", "sitemap", "listing_index", "json_api", "url_list")
PAGE_KINDS = ("article", "listing")
DEFAULT_MAX_PAGES = 1000
# Keys that once widened (or could look like they widen) the SSRF guard. Network policy comes from the
# allow-list that settings and admins set, never from a source's config, so a config naming one is refused.
NETWORK_POLICY_KEYS = frozenset({
    "allow_private", "allow_private_hosts", "allowed_hosts", "allowed_private_hosts", "allowed_endpoints",
    "network_allowlist", "allowlist",
})
_TRANSLATOR = GenericTranslator()


class CrawlConfigError(ValueError):
    """The crawl configuration cannot be used; the message lists every problem found."""


def compile_selector(selector: str) -> etree.XPath:
    return etree.XPath(_TRANSLATOR.css_to_xpath(selector))


def _check_selector(config: dict, key: str, problems: list[str]) -> None:
    selector = config.get(key)
    if selector is None:
        return
    if not isinstance(selector, str) or not selector.strip():
        problems.append(f"{key} must be a non-empty CSS selector string, got {selector!r}")
        return
    try:
        compile_selector(selector)
    except (SelectorError, etree.XPathError) as error:
        problems.append(f"{key} {selector!r} is not a valid CSS selector ({error})")


def _check_urls(urls, problems: list[str]) -> None:
    if not isinstance(urls, list | tuple) or not urls:
        problems.append("urls must be a non-empty list of http(s) URLs")
        return
    for position, url in enumerate(urls):
        scheme = urlsplit(url).scheme.lower() if isinstance(url, str) else ""
        if scheme not in ("http", "https"):
            problems.append(f"urls[{position}] = {url!r} is not an http(s) URL")


def _check_json_api(config: dict, problems: list[str]) -> None:
    field_map = config.get("field_map")
    if field_map is not None and (
        not isinstance(field_map, dict)
        or not all(isinstance(k, str) and isinstance(v, str) and k and v for k, v in field_map.items())
    ):
        problems.append('field_map must map dotted paths to field names, e.g. {"price.amount": "price"}')
    for key in ("items_path", "next_page_path"):
        if config.get(key) is not None and not isinstance(config[key], str):
            problems.append(f"{key} must be a dotted path string such as 'data.items'")


def _is_network_policy_key(key) -> bool:
    return isinstance(key, str) and key.strip().lower() in NETWORK_POLICY_KEYS


def network_policy_problem(config: dict) -> str | None:
    """Why a config may not be used because it tries to set network policy, or None."""
    named = sorted(key for key in config if _is_network_policy_key(key) and config[key])
    if not named:
        return None
    return (f"{', '.join(named)} cannot be set in a source config; private hosts are reached only through the "
            "network allow-list (NETWORK_ALLOWLIST or an admin's entry for an exact host:port)")


def without_network_policy(config: dict) -> dict:
    """The config minus network-policy keys (harmless false ones that sources saved earlier may hold)."""
    return {key: value for key, value in config.items() if not _is_network_policy_key(key)}


def validate_config(config: dict) -> dict:
    """The config with defaults filled in; raises CrawlConfigError naming every problem."""
    if not isinstance(config, dict):
        raise CrawlConfigError(f"a crawl config must be a dict, got {type(config).__name__}")
    problems: list[str] = []
    if policy_problem := network_policy_problem(config):
        problems.append(policy_problem)
    if not isinstance(config.get("source_id"), str) or not config["source_id"].strip():
        problems.append("source_id must be a non-empty string")
    if not isinstance(config.get("app"), str) or not config["app"].strip():
        problems.append("app must name the application, e.g. 'news' or 'marketplace'")
    if config.get("kind") not in KINDS:
        problems.append(f"kind must be one of {', '.join(KINDS)}, got {config.get('kind')!r}")
    _check_urls(config.get("urls"), problems)
    max_pages = config.get("max_pages", DEFAULT_MAX_PAGES)
    if isinstance(max_pages, bool) or not isinstance(max_pages, int) or max_pages < 1:
        problems.append(f"max_pages must be a whole number >= 1, got {max_pages!r}")
    if config.get("page_kind") is not None and config["page_kind"] not in PAGE_KINDS:
        problems.append(f"page_kind must be 'article' or 'listing', got {config['page_kind']!r}")
    for key in ("next_page_selector", "detail_link_selector"):
        _check_selector(config, key, problems)
    if config.get("kind") == "listing_index" and not config.get("detail_link_selector"):
        problems.append("a listing_index crawl needs detail_link_selector (the CSS selector of detail links)")
    _, recipe_errors = compile_recipe(config.get("recipe"))
    problems.extend(recipe_errors.values())
    _check_json_api(config, problems)
    if problems:
        name = config.get("source_id") or "(no source_id)"
        raise CrawlConfigError(f"crawl config {name!r} is not usable: " + "; ".join(problems))
    return {
        "recipe": None,
        "next_page_selector": None,
        "detail_link_selector": None,
        "field_map": None,
        "items_path": "",
        "next_page_path": None,
        "page_kind": None,
        **without_network_policy(config),
        "max_pages": max_pages,
    }
