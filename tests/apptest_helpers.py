"""Running pages under streamlit.testing with a signed-in user."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from core import auth

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PAGE = "overview.py"


def page_app(page: str, role: str = "admin", timeout: float = 60) -> AppTest:
    """An AppTest of app.py signed in as a demo account, switched to `page` (path under pages/)."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=timeout)
    at.session_state["auth_user"] = auth.demo_principal(role).as_dict()
    at.run()
    if page != DEFAULT_PAGE:
        # AppTest drops the sidebar tree after switch_page, so the default page is rendered without switching.
        at.switch_page(f"pages/{page}")
        at.run()
    return at


def assert_no_exception(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not [e.value for e in at.error if "Traceback" in str(e.value)]


def button(at: AppTest, label: str):
    matches = [b for b in at.button if b.label == label]
    assert matches, f"no button {label!r}; have {[b.label for b in at.button]}"
    return matches[0]


def text_input(at: AppTest, label: str, occurrence: int = 0):
    matches = [t for t in at.text_input if t.label == label]
    assert len(matches) > occurrence, f"no text input {label!r}; have {[t.label for t in at.text_input]}"
    return matches[occurrence]
