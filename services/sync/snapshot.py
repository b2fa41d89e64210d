"""The scope's stored end users as plain records, indexed once per run for matching (S2, S7)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from services.sync.fields import OPTIONAL_FIELDS, Extra
from services.sync.rules import Fields, Link, email_key

# The column order `ScopeIndex.from_rows` expects, named as on models.end_user.EndUser, so the
# engine can load with `EndUser.filter(...).values_list(*STORED_USER_COLUMNS)`.
STORED_USER_COLUMNS: tuple[str, ...] = (
    "id",
    "site_id",
    "email",
    "email_key",
    "first_name",
    "last_name",
    "job_title",
    "phone",
    "mobile",
    "source",
    "entra_object_id",
    "entra_tenant_id",
    "entra_last_email",
    "user_type",
    "account_enabled",
    # Issue 6's optional fields, compared only when a field rule syncs them.
    "department",
    "office",
    "display_name",
    "manager_email",
)
# Without the optional fields (they default to ""): what a run loads when no field rule syncs
# them, a fifth fewer values per user of the scope. Rows are read positionally, so the optional
# fields must stay the last columns (and the last fields of StoredUser): add new ones before them.
CORE_USER_COLUMNS: tuple[str, ...] = STORED_USER_COLUMNS[: -len(OPTIONAL_FIELDS)]
if STORED_USER_COLUMNS[-len(OPTIONAL_FIELDS) :] != OPTIONAL_FIELDS:  # pragma: no cover
    raise RuntimeError("the optional fields must be the last STORED_USER_COLUMNS")


@dataclass(slots=True)
class StoredUser:
    """One end user of the connection's scope as loaded for a run; treated as immutable.

    `id` may be a provisional (e.g. negative) number for a user created earlier in the same run
    and not yet flushed: the planner only reports ids, it never orders by them after loading.
    """

    id: int
    site_id: int
    email: str
    # Must be rules.email_key(email): the database's unique index is on this column.
    email_key: str
    first_name: str = ""
    last_name: str = ""
    job_title: str = ""
    phone: str = ""
    mobile: str = ""
    source: str = "MANUAL"
    entra_object_id: str | None = None
    entra_tenant_id: str | None = None
    entra_last_email: str | None = None
    user_type: str | None = None
    account_enabled: bool | None = None
    department: str = ""
    office: str = ""
    display_name: str = ""
    manager_email: str = ""

    def fields(self) -> Fields:
        return Fields(self.first_name, self.last_name, self.job_title, self.phone, self.mobile)

    def extra(self) -> Extra:
        """The optional fields (issue 6's field rules)."""
        return Extra(self.department, self.office, self.display_name, self.manager_email)

    def link(self) -> Link | None:
        """The stored sync metadata, or None when the user was never (fully) linked."""
        if (
            self.entra_object_id is None
            or self.entra_tenant_id is None
            or self.entra_last_email is None
        ):
            return None
        return Link(
            self.entra_object_id,
            self.entra_tenant_id,
            self.entra_last_email,
            self.user_type,
            self.account_enabled,
        )

    def intact_link_tenant(self) -> str | None:
        """S7: the tenant this user is still linked to, or None.

        A link holds while the product has not changed the email Entra gave last time (ignoring
        case); once it has, S7 says the next sync creates a new user, so the link is ignored.
        """
        if self.entra_object_id is None or self.entra_last_email is None:
            return None
        if email_key(self.entra_last_email) != self.email_key:
            return None
        return self.entra_tenant_id


class ScopeIndex:
    """The scope's end users by email key and by intact Entra link, built once per run.

    Keys are shared by several users only in an ACCOUNT scope (emails are unique per site);
    `candidates` returns them all and the matcher decides. When two users hold an intact link to
    the same Entra object, the lowest id loaded wins, so the choice never depends on row order.
    """

    __slots__ = ("_by_key", "_linked", "_more", "_size")

    def __init__(self) -> None:
        self._by_key: dict[str, StoredUser] = {}
        # Only keys held by more than one user, with all of them, so the common case stays lean.
        self._more: dict[str, tuple[StoredUser, ...]] = {}
        self._linked: dict[tuple[str, str], StoredUser] = {}
        self._size = 0

    @classmethod
    def from_rows(cls, rows: Iterable[Sequence[Any]]) -> ScopeIndex:
        """Build from database rows in STORED_USER_COLUMNS order (tuples from values_list)."""
        index = cls()
        for row in rows:
            index._insert(StoredUser(*row), loading=True)
        return index

    @classmethod
    def from_users(cls, users: Iterable[StoredUser]) -> ScopeIndex:
        index = cls()
        for user in users:
            index._insert(user, loading=True)
        return index

    def add(self, user: StoredUser) -> None:
        """Record a user created earlier in this run, so later users see it (S11 duplicates).

        Never displaces an existing link winner: a provisional id must not outrank loaded ones.
        Renames are deliberately not re-indexed within a run: the next run sees them, and no
        two writes of one run can then collide on a (site, email_key) in any write order.
        """
        self._insert(user, loading=False)

    def candidates(self, key: str) -> tuple[StoredUser, ...]:
        """Every user of the scope whose email_key is `key`."""
        more = self._more.get(key)
        if more is not None:
            return more
        user = self._by_key.get(key)
        return () if user is None else (user,)

    def linked(self, tenant_id: str, object_id: str) -> StoredUser | None:
        """The user holding an intact link to this Entra object, if any (S7)."""
        return self._linked.get((tenant_id, object_id))

    def linked_object_ids(self, tenant_id: str) -> frozenset[str]:
        """The Entra objects of `tenant_id` that loaded users hold an intact link to."""
        return frozenset(
            object_id
            for (tenant, object_id), user in self._linked.items()
            if tenant == tenant_id and user.id > 0
        )

    def __len__(self) -> int:
        return self._size

    def _insert(self, user: StoredUser, *, loading: bool) -> None:
        key = user.email_key
        held = self._by_key.get(key)
        if held is None:
            self._by_key[key] = user
        else:
            self._more[key] = (*self._more.get(key, (held,)), user)
        self._size += 1
        tenant_id = user.intact_link_tenant()
        if tenant_id is not None and user.entra_object_id is not None:
            link_key = (tenant_id, user.entra_object_id)
            winner = self._linked.get(link_key)
            if winner is None or (loading and user.id < winner.id):
                self._linked[link_key] = user
