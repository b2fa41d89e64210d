"""One simulated Entra tenant: users, groups, memberships, and the change log that delta rounds read."""

from __future__ import annotations

import gc
import random
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from simulator.directory_schema import USER_PROPERTIES, project
from simulator.population import build_population
from simulator.wire import dumps, iso_utc, new_guid

_MISSING = object()
# Default domains by seed, so a multi-tenant demo reads naturally.
_ORG_NAMES = {
    1: "contoso",
    2: "fabrikam",
    3: "northwind",
    4: "adatum",
    5: "tailspin",
    6: "woodgrove",
}


@dataclass(slots=True)
class UserChange:
    """When a user last changed: any change, its status (created/deleted/restored), each property."""

    seq: int
    status_seq: int = 0
    props: dict[str, int] = field(default_factory=dict)


class SimTenant:
    """A tenant's directory. Users and groups are Graph-shaped dicts keyed by id, insertion ordered.

    Every mutation goes through a method so that the change sequence (`seq`) and the per-user
    JSON cache stay right; tests may read the dicts freely but should not write them.
    """

    def __init__(
        self,
        *,
        tenant_id: str,
        domain: str,
        display_name: str,
        users: Iterable[dict[str, Any]] = (),
        groups: Iterable[dict[str, Any]] = (),
        members: dict[str, list[str]] | None = None,
        admin_user_id: str | None = None,
        mailboxes: dict[str, str] | None = None,
        managers: dict[str, str] | None = None,
    ) -> None:
        self.tenant_id = tenant_id
        self.domain = domain
        self.display_name = display_name
        self.users: dict[str, dict[str, Any]] = {u["id"]: u for u in users}
        self.deleted_users: dict[str, dict[str, Any]] = {}
        self.groups: dict[str, dict[str, Any]] = {g["id"]: g for g in groups}
        self.members: dict[str, dict[str, None]] = {g: {} for g in self.groups}
        for group_id, member_ids in (members or {}).items():
            self.members[group_id] = dict.fromkeys(member_ids)
        # The user who signs in on the consent page (the tenant's global administrator).
        self.admin_user_id = admin_user_id or next(iter(self.users), None)
        self.seq = 0
        # Bumped by expire_delta_tokens(): tokens of an older generation answer syncStateNotFound.
        self.delta_generation = 0
        self._rng = random.Random(f"{tenant_id}:runtime")
        self._changes: dict[str, UserChange] = {}
        self._hard_deleted: set[str] = set()
        self._json: dict[tuple[str, ...], dict[str, bytes]] = {}
        # userPurpose of mailboxes that are not a person's own (shared, room, equipment).
        self.mailboxes: dict[str, str] = dict(mailboxes or {})
        # The manager relationship: user id -> its manager's id (`$expand=manager`,
        # `manager@delta`); `_former_managers` is what a delta round reports as `@removed`.
        self.managers: dict[str, str] = dict(managers or {})
        self._former_managers: dict[str, str] = {}

    def __repr__(self) -> str:
        return f"SimTenant({self.domain!r}, {self.tenant_id!r}, users={len(self.users)})"

    # -- lookups ---------------------------------------------------------------------------

    def find_user(self, key: str) -> dict[str, Any] | None:
        """A live user by id or (case-insensitively) by userPrincipalName."""
        user = self.users.get(key)
        if user is not None or "@" not in key:
            return user
        folded = key.casefold()
        for candidate in self.users.values():
            if str(candidate.get("userPrincipalName", "")).casefold() == folded:
                return candidate
        return None

    @property
    def admin(self) -> dict[str, Any]:
        if self.admin_user_id is None or self.admin_user_id not in self.users:
            raise LookupError(f"tenant {self.domain} has no administrator user")
        return self.users[self.admin_user_id]

    def user_json(self, user_id: str, select: tuple[str, ...]) -> bytes:
        """The selected properties of a live user as JSON, cached until the user changes.

        The cache is what keeps a 999-user page at a few milliseconds.
        """
        cache = self._json.get(select)
        if cache is None:
            cache = self._json[select] = {}
        raw = cache.get(user_id)
        if raw is None:
            raw = cache[user_id] = dumps(project(self.users[user_id], select, USER_PROPERTIES))
        return raw

    def mailbox_purpose(self, user_id: str) -> str | None:
        """The `userPurpose` of a user's mailbox: as set, else `user` for a user with a mail
        address; None when it has no mailbox."""
        purpose = self.mailboxes.get(user_id)
        if purpose is not None:
            return purpose
        return "user" if self.users.get(user_id, {}).get("mail") else None

    def set_mailbox_purpose(self, user_id: str, purpose: str | None) -> None:
        """Make a user's mailbox `shared`, `room`, `equipment`, ...; None goes back to `user`."""
        if purpose is None:
            self.mailboxes.pop(user_id, None)
        else:
            self.mailboxes[user_id] = purpose

    # -- users -----------------------------------------------------------------------------

    def add_user(self, **props: Any) -> dict[str, Any]:
        """Create a user from Graph properties; missing core properties get Graph's defaults."""
        user_id = str(props.pop("id", None) or new_guid(self._rng))
        if user_id in self.users or user_id in self.deleted_users:
            raise ValueError(f"user {user_id} already exists")
        display = props.get("displayName") or "New user"
        slug = re.sub(r"[^a-z0-9]+", ".", display.lower()).strip(".") or "user"
        mail = props.get("mail", _MISSING)
        user: dict[str, Any] = {
            "id": user_id,
            "userPrincipalName": f"{slug}.{user_id[:8]}@{self.domain}",
            "mail": None,
            "givenName": None,
            "surname": None,
            "displayName": display,
            "jobTitle": None,
            "businessPhones": [],
            "mobilePhone": None,
            "officeLocation": None,
            "department": None,
            "preferredLanguage": None,
            "userType": "Member",
            "accountEnabled": True,
            "proxyAddresses": [f"SMTP:{mail}"] if isinstance(mail, str) else [],
            "onPremisesSyncEnabled": None,
            "createdDateTime": iso_utc(time.time()),
        }
        user.update(props)
        self.users[user_id] = user
        self._hard_deleted.discard(user_id)
        self._touch(user_id, user.keys(), status=True)
        return user

    def update_user(self, user_id: str, **props: Any) -> dict[str, Any]:
        """Change properties of a live user; only values that really differ count as changes."""
        user = self.users[user_id]
        if "id" in props and props["id"] != user_id:
            raise ValueError("a user's id cannot change")
        changed = [k for k, v in props.items() if user.get(k, _MISSING) != v]
        user.update(props)
        if changed:
            self._touch(user_id, changed)
        return user

    def delete_user(self, user_id: str, hard: bool = False) -> None:
        """Soft delete (restorable; delta says `changed`) or hard delete (delta says `deleted`)."""
        if user_id in self.users:
            user = self.users.pop(user_id)
            if not hard:
                self.deleted_users[user_id] = user
        elif not (hard and self.deleted_users.pop(user_id, None) is not None):
            raise KeyError(user_id)
        if hard:
            self._hard_deleted.add(user_id)
            for member_ids in self.members.values():
                member_ids.pop(user_id, None)
        self._touch(user_id, status=True)

    def restore_user(self, user_id: str) -> dict[str, Any]:
        """Bring back a soft-deleted user (with its group memberships, as Entra does)."""
        user = self.deleted_users.pop(user_id)
        self.users[user_id] = user
        self._touch(user_id, status=True)
        return user

    def set_manager(self, user_id: str, manager_id: str | None) -> None:
        """Give a live user a manager (another live user), or take it away (None); a change is
        tracked as the `manager` property for delta rounds."""
        if user_id not in self.users:
            raise KeyError(user_id)
        if manager_id is not None and (manager_id not in self.users or manager_id == user_id):
            raise ValueError(f"{manager_id} cannot manage {user_id}")
        current = self.managers.get(user_id)
        if current == manager_id:
            return
        if manager_id is None:
            self.managers.pop(user_id)
            if current is not None:
                self._former_managers[user_id] = current
        else:
            self.managers[user_id] = manager_id
        self._touch(user_id, ["manager"])

    def former_manager(self, user_id: str) -> str | None:
        """The manager last taken away from a user (for a delta round's `@removed` entry)."""
        return self._former_managers.get(user_id)

    # -- groups ----------------------------------------------------------------------------

    def add_group(
        self, display_name: str, *, members: Iterable[str] = (), **props: Any
    ) -> dict[str, Any]:
        """Create a security group (pass groupTypes=["Unified"] etc. for others) with members."""
        group_id = str(props.pop("id", None) or new_guid(self._rng))
        group: dict[str, Any] = {
            "id": group_id,
            "displayName": display_name,
            "description": None,
            "mail": None,
            "mailEnabled": False,
            "mailNickname": re.sub(r"[^A-Za-z0-9]", "", display_name) or "group",
            "securityEnabled": True,
            "groupTypes": [],
            "createdDateTime": iso_utc(time.time()),
        }
        group.update(props)
        self.groups[group_id] = group
        self.members[group_id] = {}
        for member_id in members:
            self.add_member(group_id, member_id)
        return group

    def add_member(self, group_id: str, member_id: str) -> None:
        if group_id not in self.groups:
            raise KeyError(group_id)
        if member_id == group_id:
            raise ValueError("a group cannot be a member of itself")
        if member_id not in self.groups and self.object_type(member_id) != "user":
            raise KeyError(member_id)
        self.members[group_id][member_id] = None

    def remove_member(self, group_id: str, member_id: str) -> None:
        del self.members[group_id][member_id]

    def object_type(self, object_id: str) -> Literal["user", "group"] | None:
        if object_id in self.users or object_id in self.deleted_users:
            return "user"
        return "group" if object_id in self.groups else None

    def member_ids(self, group_id: str, *, transitive: bool = False) -> list[str]:
        """Live members of a group, in insertion order; transitive ones flattened and deduplicated."""
        if not transitive:
            return [m for m in self.members[group_id] if m in self.users or m in self.groups]
        seen: dict[str, None] = {}
        stack = [group_id]
        visited = {group_id}  # nesting may form cycles in a hand-built tenant
        while stack:
            for member_id in self.members[stack.pop(0)]:
                if member_id in self.groups:
                    if member_id not in visited:
                        visited.add(member_id)
                        stack.append(member_id)
                    seen.setdefault(member_id)
                elif member_id in self.users:
                    seen.setdefault(member_id)
        return list(seen)

    # -- change tracking (read by delta rounds) ----------------------------------------------

    def _touch(self, user_id: str, props: Iterable[str] = (), *, status: bool = False) -> None:
        self.seq += 1
        change = self._changes.get(user_id)
        if change is None:
            change = self._changes[user_id] = UserChange(self.seq)
        change.seq = self.seq
        if status:
            change.status_seq = self.seq
        for name in props:
            change.props[name] = self.seq
        for cache in self._json.values():
            cache.pop(user_id, None)

    def changed_since(self, seq: int, tracked: frozenset[str] | None) -> list[str]:
        """Ids of users whose status or a tracked property changed after `seq`, oldest first."""
        hits = [
            (change.seq, user_id)
            for user_id, change in self._changes.items()
            if change.seq > seq
            and (
                change.status_seq > seq
                or any(
                    s > seq and (tracked is None or p in tracked) for p, s in change.props.items()
                )
            )
        ]
        return [user_id for _, user_id in sorted(hits)]

    def changed_properties(self, user_id: str, since: int) -> set[str] | None:
        """Properties changed after `since`; None when the user itself appeared (created/restored)."""
        change = self._changes.get(user_id)
        if change is None:
            return set()
        if change.status_seq > since:
            return None
        return {p for p, s in change.props.items() if s > since}

    def ever_changed(self, user_id: str, prop: str) -> bool:
        change = self._changes.get(user_id)
        return change is not None and prop in change.props

    def removal_reason(self, user_id: str) -> Literal["changed", "deleted"] | None:
        """How a delta round reports a user that is gone: soft (`changed`) or hard (`deleted`)."""
        if user_id in self.users:
            return None
        return "changed" if user_id in self.deleted_users else "deleted"

    def expire_delta_tokens(self) -> None:
        self.delta_generation += 1


def generate_tenant(
    *,
    seed: int = 1,
    users: int = 200,
    profile: Literal["small", "large"] = "small",
    tenant_id: str | None = None,
    domain: str | None = None,
    name: str | None = None,
) -> SimTenant:
    """A reproducible tenant: the same arguments always give the same users, groups and ids."""
    rng = random.Random(seed)
    tenant_id = tenant_id or new_guid(rng)
    domain = domain or f"{_ORG_NAMES.get(seed, f'tenant{seed}')}.example"
    name = name or domain.split(".")[0].capitalize()
    # The cyclic GC would rescan the growing heap of fresh dicts many times (~40% of the time).
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        population = build_population(
            rng, domain=domain, org_name=name, users=users, profile=profile
        )
    finally:
        if was_enabled:
            gc.enable()
    return SimTenant(
        tenant_id=tenant_id,
        domain=domain,
        display_name=name,
        users=population.users,
        groups=population.groups,
        members=population.members,
        admin_user_id=population.users[0]["id"] if population.users else None,
        mailboxes=dict.fromkeys(population.shared_mailbox_ids, "shared"),
        managers=population.managers,
    )
