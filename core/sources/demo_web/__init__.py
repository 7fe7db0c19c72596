"""Synthetic news, marketplace and property sites on local servers, for demos, tests and benchmarks.

    with DemoSites.start(seed=7, scale=1.0) as sites:
        for config in demo_source_configs(sites):
            crawl_source(config, policy, sink)

Content is generated from the seed (same seed, same pages); faults are injected on /faults/
paths or through the `faults` argument (see faults.py).
"""

from core.sources.demo_web.configs import demo_source_configs
from core.sources.demo_web.server import DemoSites, RequestRecord

__all__ = ["DemoSites", "RequestRecord", "demo_source_configs"]
