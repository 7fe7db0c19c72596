"""Monitoring in headless Chromium: a refined dataset gets a shifted batch and a second run; the drift check
started on the Monitoring page raises a drift alert, shown on Monitoring and on the Overview.
Screenshots land in test-artifacts/monitoring-*.png for a person to look at."""

import os
import subprocess
import sys
import textwrap

import pytest
from browser_helpers import (
    ROOT,
    assert_no_streamlit_exception,
    browser_page,
    choose,
    open_page,
    require_chromium,
    running_app,
    screenshot,
    wait_for_text,
    wait_idle,
)

pytestmark = pytest.mark.browser
DATASET = "flats"

# Run in the app's DATA_DIR before it starts: the demo admin's dataset, refined by the real engine, then a
# batch of flats 30% larger and a second refinement run (one process: imports are the slow part here).
PREPARE = textwrap.dedent("""
    import numpy as np
    from core import auth
    from core.bootstrap import init_workbench
    from core.refine.service import refine_dataset
    from core.sources.ingest import ingest_upload

    init_workbench()
    admin = auth.demo_principal("admin")
    words = ("bright quiet renovated spacious sunny modern cosy central charming large balcony garden terrace "
             "parking cellar lift view park river school tram shops market station museum harbour hill").split()
    recipe = {"name": "flats", "rules": [{"min_length": 20}]}
    for batch, (n, scale) in enumerate(((150, 1.0), (100, 1.3))):
        rng = np.random.default_rng(batch)
        lines = ["description,area,rooms,city"]
        for i in range(n):
            text = " ".join(rng.choice(words, 12))
            area = rng.normal(80, 12) * scale
            lines.append(f"Flat {batch}-{i} {text},{area:.1f},{rng.integers(1, 6)},{rng.choice(['Lyon', 'Nice'])}")
        ingest_upload(admin, f"flats-{batch}.csv", "\\n".join(lines).encode(), app="uploads", dataset="flats",
                      license="CC-BY-4.0", origin="enterprise", attested=True)
        refine_dataset(admin, "flats", recipe)
""")


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    require_chromium()
    data_dir = tmp_path_factory.mktemp("monitoring-flow") / "data"
    data_dir.mkdir()
    prepared = subprocess.run([sys.executable, "-c", PREPARE], cwd=ROOT, env={**os.environ, "DATA_DIR": str(data_dir)},
                              capture_output=True, text=True, timeout=300)
    assert prepared.returncode == 0, prepared.stderr[-3000:]
    with running_app(data_dir) as base:
        yield base


def test_a_planted_shift_raises_a_drift_alert_on_monitoring_and_overview(app_url):
    with browser_page() as page:
        page.goto(app_url)
        wait_idle(page)
        page.get_by_role("button", name="Try the demo").click()
        page.get_by_role("button", name="Sign out").wait_for(timeout=90_000)
        wait_idle(page)
        open_page(page, "Monitoring")
        page.get_by_role("tab", name="Drift").click()
        wait_idle(page)
        choose(page, "Dataset", DATASET)
        page.get_by_role("button", name="Run drift check").click()
        wait_for_text(page, r"Drift check job \d+ finished", timeout_ms=120_000)
        assert_no_streamlit_exception(page, "Monitoring after the drift check")
        page.get_by_role("button", name="Check alerts now").click()
        wait_idle(page)
        alert = page.get_by_text("Drifted columns in a recent drift check").first
        alert.wait_for(timeout=30_000)
        assert "area" in alert.inner_text() and DATASET in alert.inner_text()
        page.get_by_role("tab", name="Drift").click()
        page.get_by_text("column(s) drifted").first.wait_for(timeout=30_000)
        screenshot(page, "monitoring-1-drift")
        open_page(page, "Overview")
        page.get_by_text("Drifted columns in a recent drift check").first.wait_for(timeout=30_000)
        screenshot(page, "monitoring-2-overview-alert")
