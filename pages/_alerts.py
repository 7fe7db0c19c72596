"""The open-alerts strip shared by the Overview and Monitoring pages."""

from __future__ import annotations

import streamlit as st

from core.auth import Principal
from core.monitoring import alerts
from core.text_safety import markdown_without_remote_images


@st.cache_data(ttl=15, show_spinner=False)
def _evaluated(principal: Principal) -> list[dict]:
    # Evaluating runs a few queries per rule; a short TTL keeps page reruns cheap while staying current.
    return alerts.evaluate_alerts(principal)


def show_alerts(principal: Principal, *, quiet_when_clear: bool = True, fresh: bool = False) -> list[dict]:
    """Each open alert as an error line; with `fresh` the rules are evaluated now rather than from the cache."""
    if fresh:
        _evaluated.clear()
    try:
        found = _evaluated(principal)
    except Exception as exc:  # noqa: BLE001 - alerts must never take a page down
        st.warning(f"Alerts could not be evaluated: {exc}")
        return []
    for alert in found:
        since = alert["raised_at"].strftime("%Y-%m-%d %H:%M UTC")
        # Messages name datasets and data columns, which came from users and files.
        message = markdown_without_remote_images(alert["message"])
        st.error(f"**Alert**: {message} (since {since})", icon=":material/notifications_active:")
    if not found and not quiet_when_clear:
        st.success("No open alerts.", icon=":material/check_circle:")
    return found
