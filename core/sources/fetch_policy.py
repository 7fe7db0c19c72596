"""What a polite fetch may do (`FetchPolicy`) and what it gives back (`FetchResult`)."""

from __future__ import annotations

from dataclasses import dataclass, field

from core.config import Settings
from core.sources.allowlist import normalise_host

# Policy field -> the setting it follows. The Settings class is the one source of the defaults: a policy built
# without settings (FetchPolicy()) has the values the settings have when nothing overrides them.
SETTING_OF_FIELD = {"user_agent": "scraper_user_agent", "obey_robots": "scraper_obey_robots",
                    "per_host_delay_s": "scraper_per_host_delay_s",
                    "per_host_concurrency": "scraper_per_host_concurrency", "timeout_s": "scraper_timeout_s",
                    "retries": "scraper_retries", "max_redirects": "scraper_max_redirects"}
BYTES_PER_MB = 1024 * 1024


def _setting_default(name: str):
    return Settings.model_fields[name].default

# Transient answers worth another try; 501/505 say the server will never do it.
RETRYABLE_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504, 507, 509})
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})


@dataclass(frozen=True)
class FetchPolicy:
    """Politeness and robustness settings, like Scrapy's: one object, sane defaults."""

    user_agent: str = _setting_default("scraper_user_agent")
    obey_robots: bool = _setting_default("scraper_obey_robots")
    per_host_delay_s: float = _setting_default("scraper_per_host_delay_s")  # a larger robots.txt Crawl-delay wins
    per_host_concurrency: int = _setting_default("scraper_per_host_concurrency")
    total_concurrency: int = 8
    timeout_s: float = _setting_default("scraper_timeout_s")  # one attempt, connect + headers + body, cut hard
    deadline_s: float | None = None  # the whole fetch (redirects, retries, backoff); None: timeout_s
    retries: int = _setting_default("scraper_retries")  # extra attempts on 429, 5xx and connection errors
    backoff_base_s: float = 0.5
    backoff_max_s: float = 30.0
    max_retry_after_s: float = 120.0  # a longer Retry-After is reported, not slept through
    max_page_bytes: int = int(_setting_default("scraper_max_page_mb") * BYTES_PER_MB)
    max_redirects: int = _setting_default("scraper_max_redirects")
    conditional_requests: bool = True
    # Exact (host, port) pairs of the network allow-list (NETWORK_ALLOWLIST, admin entries) that may
    # be private; the demo sites' own ports are allowed while they run, whatever the policy says.
    allowed_endpoints: frozenset[tuple[str, int]] = field(default_factory=frozenset)

    def __post_init__(self):
        problems = []
        for name in ("per_host_delay_s", "backoff_base_s", "backoff_max_s", "max_retry_after_s"):
            if getattr(self, name) < 0:
                problems.append(f"{name} must be >= 0, got {getattr(self, name)}")
        for name in ("per_host_concurrency", "total_concurrency", "max_page_bytes"):
            if getattr(self, name) < 1:
                problems.append(f"{name} must be >= 1, got {getattr(self, name)}")
        for name in ("retries", "max_redirects"):
            if getattr(self, name) < 0:
                problems.append(f"{name} must be >= 0, got {getattr(self, name)}")
        if self.timeout_s <= 0:
            problems.append(f"timeout_s must be > 0, got {self.timeout_s}")
        if self.deadline_s is not None and self.deadline_s <= 0:
            problems.append(f"deadline_s must be > 0, got {self.deadline_s}")
        if not self.user_agent.strip():
            problems.append("user_agent must not be empty")
        if problems:
            raise ValueError("invalid FetchPolicy: " + "; ".join(problems))
        # Normalised like URL hosts (case, brackets, IP spelling), so a hand-built entry matches too.
        endpoints = frozenset((normalise_host(host), int(port)) for host, port in self.allowed_endpoints)
        object.__setattr__(self, "allowed_endpoints", endpoints)

    @property
    def fetch_deadline_s(self) -> float:
        """The most one fetch may take, every hop and retry included (politeness waits excluded)."""
        return self.deadline_s if self.deadline_s is not None else self.timeout_s

    @classmethod
    def from_settings(cls, settings, **overrides) -> FetchPolicy:
        """The policy the workbench settings (SCRAPER_*, NETWORK_ALLOWLIST) describe; admin-added
        allow-list entries come from `allowlist_admin.workbench_allowlist`, passed as an override."""
        values = {name: getattr(settings, setting) for name, setting in SETTING_OF_FIELD.items()}
        values.update(max_page_bytes=int(settings.scraper_max_page_mb * BYTES_PER_MB),
                      allowed_endpoints=settings.network_allowlist_endpoints)
        return cls(**{**values, **overrides})


@dataclass
class FetchResult:
    url: str
    final_url: str
    status: int = 0  # 0 when no HTTP answer was received
    headers: dict[str, str] = field(default_factory=dict)  # lower-case names
    body: bytes = b""
    content_type: str | None = None
    elapsed_s: float = 0.0
    error: str | None = None  # why no usable answer came back (network, SSRF, robots, redirects)
    not_modified: bool = False
    truncated: bool = False  # body cut at max_page_bytes, or the connection closed early
    from_robots_block: bool = False
    attempts: int = 0
    robots_overridden: bool = False  # robots.txt disallows it but the policy does not obey robots
    redirects: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.error is None and 200 <= self.status < 300

    @property
    def problem(self) -> str | None:
        """Why this result is not a usable page, in words; None when it is (or is unchanged)."""
        if self.error:
            return self.error
        if self.not_modified or 200 <= self.status < 300:
            return None
        tries = f" after {self.attempts} attempts" if self.attempts > 1 else ""
        return f"HTTP {self.status}{tries}"

    @property
    def etag(self) -> str | None:
        return self.headers.get("etag")

    @property
    def last_modified(self) -> str | None:
        return self.headers.get("last-modified")
