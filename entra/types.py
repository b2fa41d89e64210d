"""Typed records parsed from Graph JSON at the boundary; the rest of the code never sees raw dicts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# The properties every user request selects (graph-and-msal.md section 1: `id` always explicit,
# department/userType/accountEnabled are returned only on $select).
USER_SELECT: tuple[str, ...] = (
    "id",
    "userPrincipalName",
    "mail",
    "givenName",
    "surname",
    "displayName",
    "jobTitle",
    "businessPhones",
    "mobilePhone",
    "officeLocation",
    "department",
    "userType",
    "accountEnabled",
)
# Selected besides USER_SELECT only by connections that import licensed accounts only (issue 6):
# a fifth more bytes per user, parsed for every user of every round.
LICENSES = "assignedLicenses"
# The manager (issue 6's managerEmail field rule), read only by connections that sync it:
# `$expand=manager($select=...)` on /users (graph-and-msal.md: $expand on directory objects caps
# pages at 100 users and is refused in advanced queries), and `$select=...,manager` on
# /users/delta, which answers `manager@delta` with the manager's id only ($expand unsupported).
MANAGER = "manager"
MANAGER_SELECT: tuple[str, ...] = ("id", "mail", "userPrincipalName")
# Graph's page size with $expand on directory objects, whatever $top asks.
EXPAND_PAGE = 100


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


@dataclass(frozen=True, slots=True)
class ManagerRef:
    """A user's manager as Graph reported it.

    - id "": the user has no manager (none expanded, or a delta `@removed` entry).
    - resolved: mail and user_principal_name are known (an expanded manager, or filled in by
      the sync from another source); a delta round reports only the id (resolved False).
    The manager may be an organizational contact, which has a mail and no userPrincipalName.
    """

    id: str
    mail: str | None = None
    user_principal_name: str | None = None
    resolved: bool = True


NO_MANAGER = ManagerRef("")


def parse_manager(item: dict[str, Any], *, expanded: bool, fresh: bool) -> ManagerRef | None:
    """The manager of one Graph user object, or None when the answer says nothing about it.

    `expanded`: a `/users` answer with `$expand=manager`: a missing or null `manager` is no
    manager. Otherwise a delta item: `manager@delta` lists the manager's id (an entry with
    `@removed` takes it away); a change round leaves it out when the manager did not change
    (None), while a `fresh` round (no delta token) lists every user's current manager, so there
    a missing one is no manager.
    """
    if expanded:
        boss = item.get(MANAGER)
        if not isinstance(boss, dict) or not isinstance(boss.get("id"), str):
            return NO_MANAGER
        return ManagerRef(
            str(boss["id"]), _str(boss.get("mail")), _str(boss.get("userPrincipalName"))
        )
    entries = item.get("manager@delta")
    if not isinstance(entries, list):
        return NO_MANAGER if fresh else None
    alive = [
        e
        for e in entries
        if isinstance(e, dict) and isinstance(e.get("id"), str) and "@removed" not in e
    ]
    if not alive:
        return NO_MANAGER
    return ManagerRef(str(alive[-1]["id"]), resolved=False)


@dataclass(frozen=True, slots=True)
class EntraUser:
    """One user object as Graph returns it, reduced to the fields entrasync reads."""

    id: str
    user_principal_name: str | None
    mail: str | None
    given_name: str | None
    surname: str | None
    display_name: str | None
    job_title: str | None
    business_phone: str | None
    mobile_phone: str | None
    office_location: str | None
    department: str | None
    user_type: str | None
    account_enabled: bool | None
    # Whether assignedLicenses is non-empty; None when it was not selected, or Graph left it out
    # (a delta item leaves out a collection that was never set, so None reads as unlicensed).
    licensed: bool | None = None
    # The manager (MANAGER); None when it was not asked for, or a delta round says it did not
    # change (issue 6: a rule then leaves the stored manager's email as it is).
    manager: ManagerRef | None = None

    @classmethod
    def from_graph(cls, item: dict[str, Any], *, manager: ManagerRef | None = None) -> EntraUser:
        """Parse one Graph user; absent and null properties both become None. `manager` comes
        from `parse_manager`, which needs to know how the user was asked for."""
        phones = item.get("businessPhones")
        first_phone = phones[0] if isinstance(phones, list) and phones else None
        enabled = item.get("accountEnabled")
        licenses = item.get("assignedLicenses")
        return cls(
            id=str(item["id"]),
            user_principal_name=_str(item.get("userPrincipalName")),
            mail=_str(item.get("mail")),
            given_name=_str(item.get("givenName")),
            surname=_str(item.get("surname")),
            display_name=_str(item.get("displayName")),
            job_title=_str(item.get("jobTitle")),
            business_phone=_str(first_phone),
            mobile_phone=_str(item.get("mobilePhone")),
            office_location=_str(item.get("officeLocation")),
            department=_str(item.get("department")),
            user_type=_str(item.get("userType")),
            account_enabled=enabled if isinstance(enabled, bool) else None,
            licensed=bool(licenses) if isinstance(licenses, list) else None,
            manager=manager,
        )


@dataclass(frozen=True, slots=True)
class RemovedUser:
    """A `@removed` entry of a delta round: reason is `changed` (soft) or `deleted` (hard)."""

    id: str
    reason: str


@dataclass(frozen=True, slots=True)
class MailboxPurposes:
    """What `GET /users/{id}/mailboxSettings` said about some users (graph-and-msal.md section 1).

    - purposes: `userPurpose` by user id (`user`, `linked`, `shared`, `room`, `equipment`, ...).
    - no_mailbox: 404, the user has no Exchange Online mailbox (so it is no shared mailbox).
    - denied: 403 `ErrorAccessDenied`, the token cannot read that mailbox's settings: the app
      lacks the MailboxSettings.Read application permission, or the token is delegated (which
      reads only the signed-in user's own settings).
    - failed: anything else, throttling that outlived the retries included.
    """

    purposes: dict[str, str]
    no_mailbox: frozenset[str] = frozenset()
    denied: frozenset[str] = frozenset()
    failed: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class EntraGroup:
    id: str
    display_name: str
    mail: str | None = None
    security_enabled: bool | None = None
    group_types: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Organization:
    tenant_id: str
    display_name: str
    verified_domains: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class DeltaPage:
    """One page of a delta round; `delta_link` is set on the last page only (store it for R9)."""

    users: list[EntraUser]
    removed: list[RemovedUser]
    delta_link: str | None


@dataclass(frozen=True, slots=True)
class GroupLookup:
    """Groups found by id, in the order asked, and the ids Graph does not know (404)."""

    groups: list[EntraGroup]
    missing: list[str]


@dataclass(frozen=True, slots=True)
class BatchRequest:
    """One sub-request of `$batch`; `url` is relative to the version root, e.g. `/groups/{id}`."""

    id: str
    url: str
    method: str = "GET"
    headers: dict[str, str] | None = None
    body: Any = None


@dataclass(frozen=True, slots=True)
class BatchResponse:
    """One sub-response of `$batch`; each carries its own status (a 200 batch can hold 429s)."""

    id: str
    status: int
    headers: dict[str, str]
    body: Any
