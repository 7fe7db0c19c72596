import pytest

from core.config import SettingsError, load_settings, reset_settings_cache


@pytest.fixture(autouse=True)
def _forget_settings_read_meanwhile():
    """These tests point DATA_DIR and others elsewhere; a background thread of this process (the scheduler
    started by page tests) may read and cache settings meanwhile. Autouse, so it is torn down after
    monkeypatch has restored the environment: the next get_settings() reads the real one."""
    yield
    reset_settings_cache()


def test_defaults_need_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    settings = load_settings()
    assert settings.sql_url == f"sqlite:///{tmp_path / 'workbench.db'}"
    assert settings.mongodb_uri is None
    assert settings.scraper_obey_robots is True


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("DATABASE_URL", "mysql://u@h/db", "DATABASE_URL"),
        ("MONGODB_URI", "http://localhost", "MONGODB_URI"),
        ("SCRAPER_TIMEOUT_S", "-3", "SCRAPER_TIMEOUT_S"),
        ("UPLOAD_MAX_MB", "lots", "UPLOAD_MAX_MB"),
    ],
)
def test_bad_value_is_refused_naming_the_setting(monkeypatch, name, value, expected):
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError, match=expected):
        load_settings()


def test_legacy_postgres_scheme_is_normalised(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgres://u@h/db")
    assert load_settings().sql_url == "postgresql://u@h/db"


def test_secret_key_generated_once_and_kept(tmp_path, monkeypatch):
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    first = load_settings().resolved_secret_key
    assert len(first) >= 40
    assert load_settings().resolved_secret_key == first
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_env_file_is_read(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("SCRAPER_PER_HOST_DELAY_S=2.5\n")
    assert load_settings().scraper_per_host_delay_s == 2.5
