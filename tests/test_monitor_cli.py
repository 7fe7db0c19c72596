"""`python -m core monitor run`: one pass as the local operator, events as JSON lines on standard output."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

from monitor_fixtures import shop_config

from core.sources.demo_web import DemoSites

ROOT = Path(__file__).resolve().parent.parent
SETUP = """
import json, sys
from core.auth import cli_principal
from core.bootstrap import init_workbench
from core.sources.registry import save_source
init_workbench()
save_source(cli_principal(), "cli-shop", "marketplace", "listing_index", json.loads(sys.argv[1]), license="CC-BY-4.0")
"""


def _run(args: list[str], env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], cwd=ROOT, env={**os.environ, **env}, capture_output=True,
                          text=True, timeout=300)


def test_monitor_run_prints_each_event_of_a_pass_as_a_json_line(tmp_path):
    with DemoSites.start(seed=5, scale=0.5) as sites:
        shop = sites.hosts["marketplace"].site
        endpoint = urlsplit(sites.marketplace_url).netloc  # the demo shop is another process's loopback server
        env = {"DATA_DIR": str(tmp_path / "data"), "NETWORK_ALLOWLIST": endpoint}
        setup = _run(["-c", SETUP, json.dumps(shop_config(sites))], env)
        assert setup.returncode == 0, setup.stderr
        nothing = _run(["-m", "core", "monitor", "run"], env)
        assert nothing.returncode == 2 and "no watched source" in nothing.stderr
        baseline = _run(["-m", "core", "monitor", "run", "--source", "cli-shop"], env)
        assert baseline.returncode == 0, baseline.stderr
        assert baseline.stdout == "" and "baseline" in baseline.stderr
        shop.drop_price(7, 0.5)
        added = shop.add_items(1)[0]
        shop.shuffle(3)
        changed = _run(["-m", "core", "monitor", "run", "--source", "cli-shop"], env)
        assert changed.returncode == 0, changed.stderr
        events = [json.loads(line) for line in changed.stdout.splitlines()]
        assert sorted((e["kind"], urlsplit(e["url"]).path) for e in events) == [
            ("new", f"/item/{added}.html"), ("price_drop", "/item/7.html")]
        drop = next(e for e in events if e["kind"] == "price_drop")
        assert drop["drop_pct"] == 50.0 and drop["source"] == "cli-shop" and drop["delivered_to"] == []
        unknown = _run(["-m", "core", "monitor", "run", "--source", "no-such-source"], env)
        assert unknown.returncode == 2 and "no-such-source" in unknown.stderr and "Traceback" not in unknown.stderr
