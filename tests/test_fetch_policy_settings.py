"""A fetch policy built without settings has the settings' own defaults (Settings is the one source)."""

from __future__ import annotations

from types import SimpleNamespace

from core.config import Settings
from core.sources.fetch_policy import BYTES_PER_MB, SETTING_OF_FIELD, FetchPolicy


def _declared_defaults() -> dict:
    return {name: field.default for name, field in Settings.model_fields.items()}


def test_policy_defaults_are_the_settings_defaults():
    defaults = _declared_defaults()
    policy = FetchPolicy()
    for policy_field, setting in SETTING_OF_FIELD.items():
        assert getattr(policy, policy_field) == defaults[setting], policy_field
    assert policy.max_page_bytes == int(defaults["scraper_max_page_mb"] * BYTES_PER_MB)


def test_from_settings_reads_every_mapped_setting():
    values = {**_declared_defaults(), "scraper_user_agent": "Tester/2", "scraper_obey_robots": False,
              "scraper_per_host_delay_s": 0.25, "scraper_per_host_concurrency": 3, "scraper_timeout_s": 4.0,
              "scraper_retries": 1, "scraper_max_redirects": 2, "scraper_max_page_mb": 0.5,
              "network_allowlist_endpoints": frozenset({("127.0.0.1", 8080)})}
    policy = FetchPolicy.from_settings(SimpleNamespace(**values))
    assert (policy.user_agent, policy.obey_robots, policy.per_host_delay_s, policy.per_host_concurrency,
            policy.timeout_s, policy.retries, policy.max_redirects) == ("Tester/2", False, 0.25, 3, 4.0, 1, 2)
    assert policy.max_page_bytes == 512 * 1024
    assert policy.allowed_endpoints == frozenset({("127.0.0.1", 8080)})
