"""UPLOAD_MAX_MB is the one browser upload limit: Streamlit's server option and the uploader follow it."""

from __future__ import annotations

import tomllib

from apptest_helpers import ROOT, assert_no_exception, page_app
from streamlit import config as streamlit_config

from core.config import get_settings


def test_the_upload_page_and_the_server_follow_upload_max_mb(workbench, monkeypatch):
    for limit in (37, 200):  # app.py applies the setting on each run (page_app starts from app.py)
        monkeypatch.setattr(get_settings(), "upload_max_mb", limit)
        at = page_app("upload.py", role="supplier")
        assert_no_exception(at)
        assert streamlit_config.get_option("server.maxUploadSize") == limit  # the server's streaming cap
        assert at.file_uploader(key="upload_files").proto.max_upload_size_mb == limit  # what the browser is told


def test_the_streamlit_config_file_does_not_set_a_second_limit():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert "maxUploadSize" not in config.get("server", {})
