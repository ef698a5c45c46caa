"""Who may see whose money: the access file, a signed-in user's role and consumers, and what a query may return.

Chargeback figures are confidential between teams. The dashboard's sign-in (OpenID Connect, Streamlit's
``st.login``) says who a person is; the **access file** (TOML, ``[access] file`` in the config) says what
they may see. No Streamlit here: the dashboard hands this module the identity claims and gets back an
``Access``, whose ``reader`` the query layer binds into every statement that returns launch, task or bill
rows (``queries.filters.Filters.reader``, the ``reader=`` option of the other named queries).

Roles, from least to most:

- ``viewer``: the consumers the file lists for them, nothing else (their launches, their statement lines;
  shared costs only as the lines charged to those consumers).
- ``finance``: every consumer; may close months; sees the audit trail.
- ``admin``: finance, plus the raw quarantined records and the job runs (they may carry any team's data).

A user the file does not know has no role and sees nothing. ``Reader`` is the query layer's view of it:
``consumers`` None means every consumer, which only finance and admin get, decided here and never from a
URL; an empty tuple means none at all.

The file::

    groups_claim = "groups"        # the OIDC claim that lists a user's groups (Cognito: "cognito:groups")

    [users."ana@example.org"]      # an email (matched without case) or an OIDC subject (sub, exact)
    role = "viewer"
    consumers = ["oncology-research"]

    [groups."finance-team"]        # a value of the groups claim
    role = "finance"
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from core.errors import ConfigError, LedgerError

ROLES = ("viewer", "finance", "admin")
DEFAULT_GROUPS_CLAIM = "groups"
LOCAL_USER = "local (sign-in off)"


class AccessDenied(LedgerError):
    """The signed-in user's role does not allow the action (closing a month, reading raw records)."""


@dataclass(frozen=True)
class Reader:
    """What a named query may return to the person it runs for (bound as parameters, never formatted in).

    ``consumers``: the consumers whose rows it may return; None is every consumer (finance, admin, the
    command line). ``admin``: whether raw quarantined records and job runs may be returned.
    """

    consumers: tuple[str, ...] | None = None
    admin: bool = True

    def __post_init__(self) -> None:
        if self.consumers is not None:
            if isinstance(self.consumers, str):
                raise TypeError("Reader.consumers is a tuple of consumer names, not one string")
            object.__setattr__(self, "consumers", tuple(sorted(set(self.consumers))))
            if self.admin:
                raise ValueError("an admin reader sees every consumer: pass consumers=None")

    @property
    def every_consumer(self) -> bool:
        return self.consumers is None

    def sees(self, consumer: str | None) -> bool:
        """Whether a row of ``consumer`` (None: untagged, or a line for nobody) may be shown."""
        return self.consumers is None or (consumer is not None and consumer in self.consumers)

    def params(self) -> dict[str, object]:
        """The named parameters the scoped SQL binds: ``$all_consumers``, ``$allowed_consumers``, ``$admin``."""
        return {
            "all_consumers": self.consumers is None,
            "allowed_consumers": list(self.consumers or ()),
            "admin": self.admin,
        }


EVERYONE = Reader()  # the command line, the jobs and a dashboard without sign-in: every consumer, raw records
NOBODY = Reader(consumers=(), admin=False)


@dataclass(frozen=True)
class Access:
    """A person's access: who they are (for the audit trail), their role and the consumers they may see."""

    who: str
    role: str | None  # None: the access file does not know them
    consumers: tuple[str, ...] = ()  # a viewer's consumers (finance and admin see every consumer)
    signed_in: bool = True
    provider: str | None = None  # the identity provider's name in [auth] (Streamlit's "provider" claim)

    @property
    def known(self) -> bool:
        return self.role is not None

    @property
    def every_consumer(self) -> bool:
        return self.role in ("finance", "admin")

    @property
    def may_close_months(self) -> bool:
        return self.role in ("finance", "admin")

    @property
    def sees_audit(self) -> bool:
        return self.role in ("finance", "admin")

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def reader(self) -> Reader:
        if self.role == "admin":
            return EVERYONE
        if self.role == "finance":
            return Reader(consumers=None, admin=False)
        if self.role == "viewer":
            return Reader(consumers=self.consumers, admin=False)
        return NOBODY

    @property
    def label(self) -> str:
        """ "ana@example.org · viewer of oncology-research" (what the sidebar says)."""
        if not self.known:
            return f"{self.who} · no access"
        if self.role == "viewer":
            return f"{self.who} · viewer of {', '.join(self.consumers)}"
        return f"{self.who} · {self.role}"


LOCAL = Access(who=LOCAL_USER, role="admin", signed_in=False)  # sign-in off: one person on their own machine


@dataclass(frozen=True)
class Grant:
    role: str
    consumers: tuple[str, ...] = ()


@dataclass(frozen=True)
class AccessFile:
    """The parsed access file: grants by user (email or subject) and by group."""

    path: str
    groups_claim: str = DEFAULT_GROUPS_CLAIM
    users: Mapping[str, Grant] = field(default_factory=dict)
    groups: Mapping[str, Grant] = field(default_factory=dict)

    def resolve(self, claims: Mapping[str, object]) -> Access:
        """The access of the user these identity claims describe (``st.user``): role and consumers.

        Matched by subject (``sub``, exact), by email (without case; not when the provider says
        ``email_verified`` is false) and by each value of the groups claim. Several matches combine: the
        highest role wins, and a viewer sees the consumers of all their viewer grants.
        """
        sub, email = _text(claims.get("sub")), _text(claims.get("email"))
        who = email or sub or "unknown user"
        provider = _text(claims.get("provider"))
        grants = [self.users[sub]] if sub and sub in self.users else []
        if email and claims.get("email_verified") is not False and email.lower() in self.users:
            grants.append(self.users[email.lower()])
        grants += [self.groups[g] for g in _values(claims.get(self.groups_claim)) if g in self.groups]
        if not grants:
            return Access(who=who, role=None, provider=provider)
        role = max((g.role for g in grants), key=ROLES.index)
        consumers = tuple(sorted({c for g in grants for c in g.consumers})) if role == "viewer" else ()
        return Access(who=who, role=role, consumers=consumers, provider=provider)


def _text(value: object) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def _values(claim: object) -> list[str]:
    """A groups claim as a list of strings (a single string is one group; anything else is ignored)."""
    if isinstance(claim, str):
        return [claim]
    if isinstance(claim, Iterable) and not isinstance(claim, Mapping | bytes):
        return [v for v in claim if isinstance(v, str)]
    return []


def _grant(where: str, raw: object) -> Grant:
    if not isinstance(raw, dict):
        raise ConfigError(f'{where} must be a table with a role, e.g. role = "viewer" and consumers = ["..."]')
    unknown = sorted(set(raw) - {"role", "consumers"})
    if unknown:
        raise ConfigError(f"{where} has an unknown key {unknown[0]!r}: only role and consumers")
    role = raw.get("role")
    if role not in ROLES:
        raise ConfigError(f"{where} role must be one of {', '.join(ROLES)}, not {role!r}")
    consumers = raw.get("consumers", [])
    if not isinstance(consumers, list) or not all(isinstance(c, str) and c.strip() for c in consumers):
        raise ConfigError(f'{where} consumers must be a list of consumer names, e.g. consumers = ["oncology-research"]')
    if role == "viewer" and not consumers:
        raise ConfigError(f"{where} is a viewer of no consumer: list the consumers they may see")
    if role != "viewer" and consumers:
        raise ConfigError(f"{where} is {role}, who sees every consumer: remove its consumers")
    return Grant(role, tuple(sorted({c.strip() for c in consumers})))


def parse_access(text: str, path: str = "access file") -> AccessFile:
    """An access file's grants; a ConfigError (one line) says what is wrong and where."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"the access file {path} is not valid TOML: {exc}") from None
    unknown = sorted(set(raw) - {"groups_claim", "users", "groups"})
    if unknown:
        raise ConfigError(f"the access file {path} has an unknown key {unknown[0]!r}: only groups_claim, [users] and [groups]")
    claim = raw.get("groups_claim", DEFAULT_GROUPS_CLAIM)
    if not isinstance(claim, str) or not claim.strip():
        raise ConfigError(f'groups_claim in {path} must name an OIDC claim, e.g. groups_claim = "groups"')
    tables = {}
    for section in ("users", "groups"):
        entries = raw.get(section, {})
        if not isinstance(entries, dict):
            raise ConfigError(f"[{section}] in {path} must be a table of {section[:-1]} names")
        tables[section] = {
            (name.strip().lower() if section == "users" and "@" in name else name.strip()): _grant(
                f"[{section}.{name!r}] in {path}", grant
            )
            for name, grant in entries.items()
        }
    return AccessFile(path, claim.strip(), tables["users"], tables["groups"])


def load_access(path: str | Path) -> AccessFile:
    """Read and parse the access file at ``path``."""
    try:
        text = Path(path).read_text()
    except OSError as exc:
        raise ConfigError(
            f"cannot read the access file {path}: {exc.strerror or exc}; check [access] file in the config"
        ) from None
    return parse_access(text, str(path))
