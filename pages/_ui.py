"""Streamlit glue shared by pages: start-up, the signed-in user, job progress panels.

Pages stay thin: widgets, one call into core/, a rendering of the result.
"""

from __future__ import annotations

import streamlit as st
from streamlit import config as streamlit_config

from core.auth import Principal
from core.config import SettingsError, get_settings
from core.plain_errors import plain_error
from core.text_safety import markdown_without_remote_images

USER_KEY = "auth_user"


@st.cache_resource(show_spinner="Starting the workbench stores...")
def _bootstrap() -> dict:
    from core.bootstrap import start_app_services

    return start_app_services()


def bootstrap() -> None:
    """Initialise stores once per process; on failure show what to do and stop the page."""
    try:
        _bootstrap()
        follow_upload_limit()
    except SettingsError as exc:
        st.error(f"The workbench cannot start: {exc}. Fix the setting in your environment or .env and reload.")
        st.stop()
    except Exception as exc:  # noqa: BLE001 - any start-up failure becomes a readable message
        st.error(f"The workbench stores could not start: {exc}")
        st.info("Check DATA_DIR is writable, and DATABASE_URL / MONGODB_URI if you set them, then reload.")
        st.stop()


def follow_upload_limit() -> None:
    """UPLOAD_MAX_MB is the one browser upload limit. Streamlit reads server.maxUploadSize when it draws a
    file uploader and again on each upload request (refusing a larger body while it streams), so setting the
    option from the settings here makes both follow; .streamlit/config.toml no longer sets it. `st.set_option`
    refuses server options, hence Streamlit's config module."""
    limit = get_settings().upload_max_mb
    if streamlit_config.get_option("server.maxUploadSize") != limit:
        streamlit_config.set_option("server.maxUploadSize", limit, where_defined="UPLOAD_MAX_MB (core/config.py)")


def current_user() -> Principal | None:
    data = st.session_state.get(USER_KEY)
    return Principal(**data) if data else None


def require_page_user(*roles: str) -> Principal:
    """The signed-in user when their role may use this page; otherwise explain and stop the page.

    Navigation already hides pages a role cannot use; this catches a page opened by URL or a session
    whose role changed. The core functions the page calls check again.
    """
    user = current_user()
    if user is None:
        st.warning("Sign in to use this page.")
        st.stop()
    if roles and user.role not in roles:
        allowed = " or ".join(roles)
        st.warning(f"This page is for a {allowed}; you are signed in as a {user.role}. "
                   "Open the Marketplace to find and download datasets.")
        st.stop()
    return user


def sign_in_as(principal: Principal) -> None:
    st.session_state[USER_KEY] = principal.as_dict()


WORK_KEY = "working_state"


def working(name: str, default=None):
    """The user's working state (chosen dataset, run, recipe draft). Widget values vanish when their page is
    left, so the choices that should follow the user across pages live here, and go at sign-out."""
    return st.session_state.get(WORK_KEY, {}).get(name, default)


def remember(name: str, value) -> None:
    st.session_state.setdefault(WORK_KEY, {})[name] = value


def remembered_selectbox(label: str, options: list, name: str, key: str, **kwargs):
    """A selectbox that opens on the working-state choice `name` (when still an option) and records the pick."""
    current = working(name)
    index = options.index(current) if current in options else kwargs.pop("index", 0)
    kwargs.pop("index", None)
    value = st.selectbox(label, options, index=index, key=key, **kwargs)
    remember(name, value)
    return value


def sign_out() -> None:
    """Forget the user and all their working state: the next person at this browser starts clean
    (no job ids, chosen runs, prepared exports or download links of the previous user)."""
    for key in list(st.session_state.keys()):
        del st.session_state[key]


@st.cache_data(ttl=10, show_spinner=False)
def store_health() -> dict:
    from core.status import raw_health, sql_health

    return {"sql": sql_health(), "raw": raw_health()}


# Markdown tables (a dataset card's Fields table, say) scroll inside their own box like st.dataframe does,
# instead of pushing the whole page wider than a phone screen.
NARROW_SCREEN_STYLE = """<style>
[data-testid="stMarkdownContainer"] table { display: block; max-width: 100%; overflow-x: auto; }
</style>"""


def sidebar(user: Principal | None) -> None:
    st.html(NARROW_SCREEN_STYLE)
    with st.sidebar:
        if user:
            # Both were typed by the user at sign-up.
            name = markdown_without_remote_images(user.display_name)
            email = markdown_without_remote_images(user.email)
            st.markdown(f"**{name}**  \n{email}")
            st.caption(f"Role: {user.role}" + (" · demo account" if user.is_demo else ""))
            if st.button("Sign out", key="sidebar_sign_out", width="stretch"):
                sign_out()
                st.rerun()
        st.divider()
        health = store_health()
        for label, key in (("SQL store", "sql"), ("Raw store", "raw")):
            info = health[key]
            icon = ":material/check_circle:" if info["ok"] else ":material/error:"
            detail = info["kind"] if info["ok"] else f"{info['kind']}: {info.get('error', 'down')}"
            st.caption(f"{icon} {label}: {detail}")


def job_label(kind: str) -> str:
    """A job kind in words: "news_analyze" -> "News analyze"."""
    return kind.replace("_", " ").capitalize()


def show_job(job_id: int, key: str, describe=None) -> dict | None:
    """A live progress panel for a job; polls while it runs, then shows the outcome.

    `describe(result) -> str` says in words what a finished job did; without it the job's last message shows.
    """
    from core.store import jobs

    @st.fragment(run_every=1.0)
    def _live() -> None:
        job = jobs.get_job(current_user(), job_id)
        if job is None:
            st.warning(f"Job {job_id} no longer exists.")
            return
        if job["status"] in ("queued", "running"):
            st.progress(job["progress"], text=f"{job_label(job['kind'])} job {job_id}: {job['message']}")
            if st.button("Stop", key=f"{key}_stop_{job_id}"):
                jobs.request_cancel(current_user(), job_id)
            return
        st.rerun()  # finished: redraw the whole page once, without polling

    job = jobs.get_job(current_user(), job_id)
    if job and job["status"] in ("queued", "running"):
        _live()
    elif job and job["status"] == "succeeded":
        words = describe(job["result"] or {}) if describe else job["message"]
        st.success(f"{job_label(job['kind'])} job {job_id} finished: {words}")
    elif job:
        st.error(f"{job_label(job['kind'])} job {job_id} failed: {plain_error(job['error'])}")
    return job


def next_steps(*links: tuple[str, str, str] | tuple[str, str, str, dict]) -> None:
    """Where the work goes next, as a row of links: (page path, label, icon[, query params])."""
    for column, link in zip(st.columns(len(links)), links, strict=True):
        page, label, icon, *params = link
        column.page_link(page, label=label, icon=icon, query_params=params[0] if params else None)
