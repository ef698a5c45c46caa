"""Sign-in and access on every page: Streamlit's ``st.login`` (OpenID Connect) and the access file.

Sign-in is on when ``.streamlit/secrets.toml`` has an ``[auth]`` section; it is off by default, so
``make run`` on the demo needs no login and one person sees everything (``core.access.LOCAL``). With
sign-in on, ``[access] file`` in the config maps users and groups to roles and consumers
(``core.access``); a signed-in user it does not know sees nothing but a message and a sign-out button.
An access file without ``[auth]`` is refused: nobody could be told apart, so nothing is shown.

``current()`` is read afresh on every call, from ``st.user`` and the access file (re-read when it
changes), and never kept in Session State: it is what ``dashboard.data`` binds into every query.
Nothing here writes a claim other than the email or subject, and never a token or cookie.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import lru_cache

import streamlit as st
from streamlit.errors import StreamlitSecretNotFoundError

from core.access import LOCAL, Access, AccessFile, load_access
from core.errors import ConfigError, LedgerError
from core.settings import load_settings
from dashboard import trail

SIGNED_IN_KEY = "launch_ledger_audited_session"
NOT_SIGNED_IN = Access(who="not signed in", role=None, signed_in=False)
NO_SIGN_IN = (
    "An access file is configured ([access] file), but sign-in is not: add an [auth] section to "
    ".streamlit/secrets.toml (see the README, 'Sign-in and access'). Until then nothing is shown."
)
SIGN_IN_TEXT = "Chargeback figures are confidential between teams: sign in to see your consumers' launches and statements."
UNKNOWN = (
    "You are signed in as {who}, but the access file does not give you access to any consumer. "
    "Ask whoever runs Launch Ledger to add you (or one of your groups) to it, then reload this page."
)


def sign_in_configured() -> bool:
    """Whether ``[auth]`` is in the secrets (AppTest's ``at.secrets`` counts too)."""
    try:
        return bool(st.secrets.load_if_toml_exists() and "auth" in st.secrets)
    except (FileNotFoundError, StreamlitSecretNotFoundError):
        return False


def providers() -> list[str | None]:
    """The identity providers of ``[auth]``: None for the default one, then each named ``[auth.NAME]``."""
    section = st.secrets["auth"]
    named = [k for k, v in section.items() if isinstance(v, Mapping)]
    return ([None] if "client_id" in section else []) + named


@lru_cache(maxsize=8)
def _parsed(path: str, mtime_ns: int, size: int) -> AccessFile:
    return load_access(path)


def access_file() -> AccessFile | None:
    """The access file the settings name (parsed again whenever it changes), or None when none is set."""
    path = load_settings().access.file
    if not path:
        return None
    try:
        stat = os.stat(path)
    except OSError as exc:
        raise ConfigError(f"cannot read the access file {path}: {exc.strerror}; check [access] file in the config") from None
    return _parsed(str(path), stat.st_mtime_ns, stat.st_size)


def _claims() -> dict:
    """The identity claims of this session's user (``st.user``), without its tokens."""
    try:
        claims = dict(st.user.to_dict())
    except (AttributeError, KeyError, RuntimeError):
        return {}
    claims.pop("tokens", None)
    return claims


def current() -> Access:
    """Who this run is for, and what they may see. A LedgerError when the access file is wrong."""
    if not sign_in_configured():
        return NOT_SIGNED_IN if load_settings().access.file else LOCAL
    claims = _claims()
    if claims.get("is_logged_in") is not True:
        return NOT_SIGNED_IN
    found = access_file()
    if found is None:
        return Access(who=str(claims.get("email") or claims.get("sub") or "unknown user"), role=None)
    return found.resolve(claims)


def _once_per_session(access: Access, action: str) -> None:
    """Record ``action`` the first time this session runs for this person (a new tab is a new session)."""
    seen = f"{action}:{access.provider}:{access.who}"
    if st.session_state.get(SIGNED_IN_KEY) != seen:
        st.session_state[SIGNED_IN_KEY] = seen
        trail.note(access, action)


def _sign_in_screen() -> None:
    st.title("Launch Ledger")
    st.info(SIGN_IN_TEXT)
    for provider in providers():
        label = "Sign in" if provider is None else f"Sign in with {provider}"
        if st.button(label, key=f"sign_in_{provider or 'default'}", type="primary"):
            st.login(provider)


def sign_out_button(access: Access, where=st) -> None:
    if where.button("Sign out", key="sign_out"):
        trail.note(access, "sign-out")
        st.logout()
        st.stop()  # nothing more of this run (the browser is sent to the provider's sign-out); the next is signed out


def gate() -> Access:
    """The access of this run; stops it with the sign-in screen, a refusal or a configuration error."""
    try:
        access = current()
    except LedgerError as exc:
        st.error(str(exc))
        st.stop()
    if access.known:
        if access.signed_in:
            _once_per_session(access, "sign-in")
        return access
    if not sign_in_configured():
        st.error(NO_SIGN_IN)
    elif not access.signed_in:
        _sign_in_screen()
    else:
        _once_per_session(access, "access-denied")
        st.title("Launch Ledger")
        st.warning(UNKNOWN.format(who=access.who))
        sign_out_button(access)
    st.stop()


def account(access: Access) -> None:
    """Who is signed in, with what role, and the sign-out button (in the sidebar)."""
    if not access.signed_in:
        st.sidebar.caption("Sign-in is off: whoever opens this dashboard sees every consumer.")
        return
    st.sidebar.caption(f"Signed in as {access.label}")
    sign_out_button(access, st.sidebar)
