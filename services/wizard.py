"""The import wizard (W1-W7): directory look-ups answered from Graph, and the saved configuration."""

from __future__ import annotations

import base64
import binascii
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import cast

from tortoise.transactions import in_transaction

from entra.types import EntraGroup
from models import (
    Classification,
    ConnectionScope,
    ConnectionStatus,
    GroupFilter,
    ImportMapping,
    MatchAttribute,
    Site,
    TenantConnection,
)
from services.caller import Caller
from services.connections import fed_sites, get_connection, graph_for
from services.errors import (
    InvalidInput,
    NotFound,
    SiteAlreadyConnected,
    SiteNameTaken,
    TooManyGroups,
    UnknownGroups,
    refuse_nul,
)
from services.runtime import Runtime
from services.sites import clean_site_name
from services.sync.config import (
    MAX_SELECTED_GROUPS,
    UNDEFINED,
    Policies,
    SyncConfig,
    UserType,
    classification_key,
)

SUMMARY_TTL = 60.0  # seconds a directory summary is reused between wizard steps
_SUMMARY_SELECT = ("id", "userType", "officeLocation", "department")


@dataclass(frozen=True, slots=True)
class ValueCount:
    value: str  # as first seen in Entra (trimmed), or "Undefined" for blanks (W2)
    count: int


@dataclass(slots=True)
class DirectorySummary:
    """One pass over the tenant's users: counts per office, per department and per user type."""

    offices: list[ValueCount]
    departments: list[ValueCount]
    members: int
    guests: int
    at: float = field(default_factory=time.monotonic)


def _tally(values: dict[str, str], counts: Counter[str]) -> list[ValueCount]:
    rows = [ValueCount(values[key], n) for key, n in counts.items()]
    rows.sort(key=lambda r: (-r.count, r.value.casefold()))
    return rows


async def directory_summary(rt: Runtime, caller: Caller, connection_id: int) -> DirectorySummary:
    """Scan the tenant's users once (only 4 properties) and count. Cached briefly per connection.

    Raises NotFound, ConnectionNotReady, ReauthNeeded, ConsentNeeded, MicrosoftUnavailable.
    """
    conn = await get_connection(caller, connection_id)
    cache: dict[int, DirectorySummary] = rt.extras.setdefault("directory_summaries", {})
    cached = cache.get(conn.id)
    if cached is not None and time.monotonic() - cached.at < SUMMARY_TTL:
        return cached
    labels: dict[Classification, dict[str, str]] = {c: {} for c in Classification}
    counts: dict[Classification, Counter[str]] = {c: Counter() for c in Classification}
    members = guests = 0
    async with graph_for(rt, conn) as graph:
        async for page in graph.iter_user_pages(select=_SUMMARY_SELECT):
            for user in page:
                for kind, raw in (
                    (Classification.OFFICE, user.office_location),
                    (Classification.DEPARTMENT, user.department),
                ):
                    key = classification_key(raw)
                    counts[kind][key] += 1
                    if key not in labels[kind]:
                        text = (raw or "").strip()
                        labels[kind][key] = (
                            text if text and key != classification_key(None) else UNDEFINED
                        )
                if (user.user_type or "Member").casefold() == "guest":
                    guests += 1
                else:
                    members += 1
    summary = DirectorySummary(
        offices=_tally(labels[Classification.OFFICE], counts[Classification.OFFICE]),
        departments=_tally(labels[Classification.DEPARTMENT], counts[Classification.DEPARTMENT]),
        members=members,
        guests=guests,
    )
    cache[conn.id] = summary
    return summary


def _encode_cursor(link: str | None) -> str | None:
    return base64.urlsafe_b64encode(link.encode()).decode() if link else None


def _decode_cursor(cursor: str | None) -> str | None:
    if not cursor:
        return None
    try:
        return base64.urlsafe_b64decode(cursor.encode()).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise InvalidInput("after", "not a cursor this server issued") from None


async def list_groups(
    rt: Runtime,
    caller: Caller,
    connection_id: int,
    *,
    search: str | None,
    first: int,
    after: str | None,
) -> tuple[list[EntraGroup], str | None]:
    """One page of the tenant's groups (W4), searchable by name; returns (groups, next cursor)."""
    conn = await get_connection(caller, connection_id)
    link = _decode_cursor(after)
    async with graph_for(rt, conn) as graph:
        try:
            groups, next_link = await graph.groups_page(search=search, cursor=link, top=first)
        except ValueError:
            raise InvalidInput("after", "not a cursor this server issued") from None
    return groups, _encode_cursor(next_link)


@dataclass(frozen=True, slots=True)
class MappingInput:
    value: str
    site_id: int | None = None
    new_site_name: str | None = None


@dataclass(frozen=True, slots=True)
class ImportSettings:
    classification: Classification | None = None
    mappings: tuple[MappingInput, ...] = ()
    group_filter: GroupFilter = GroupFilter.NONE
    selected_group_ids: tuple[str, ...] = ()
    user_types: tuple[str, ...] = ("MEMBER",)
    match_attribute: MatchAttribute = MatchAttribute.UPN


def _validate_shape(conn: TenantConnection, s: ImportSettings) -> None:
    if not s.user_types:
        raise InvalidInput("userTypes", "choose at least one user type: MEMBER, GUEST or both (W5)")
    if any(t not in ("MEMBER", "GUEST") for t in s.user_types):
        raise InvalidInput("userTypes", "user types are MEMBER and GUEST")
    if len(s.selected_group_ids) > MAX_SELECTED_GROUPS:
        raise TooManyGroups(len(s.selected_group_ids), MAX_SELECTED_GROUPS)
    if s.group_filter is GroupFilter.SELECTED and not s.selected_group_ids:
        raise InvalidInput(
            "selectedGroupIds", "select at least one group, or choose NONE or ALL_GROUPS"
        )
    if s.group_filter is not GroupFilter.SELECTED and s.selected_group_ids:
        raise InvalidInput(
            "selectedGroupIds", "groups can only be selected with the SELECTED filter"
        )
    if any(not g or len(g) > 64 for g in s.selected_group_ids):
        raise InvalidInput("selectedGroupIds", "group ids are Entra object ids")
    if conn.scope is ConnectionScope.SITE:
        if s.classification is not None or s.mappings:
            raise InvalidInput(
                "mappings",
                "a site-level connection imports into its site: no classification or mappings (W6)",
            )
        return
    if s.classification is None:
        raise InvalidInput("classification", "choose OFFICE or DEPARTMENT (W1)")
    if len(s.mappings) > 5000:
        raise InvalidInput("mappings", "at most 5000 mappings")
    seen: set[str] = set()
    for m in s.mappings:
        if (m.site_id is None) == (m.new_site_name is None):
            raise InvalidInput(
                "mappings", f"map {m.value!r} to an existing site or a new site name, not both"
            )
        refuse_nul("mappings", m.value)
        if m.new_site_name is not None:
            refuse_nul("mappings", m.new_site_name)
        if len(m.value) > 256:
            raise InvalidInput("mappings", "values are at most 256 characters")
        key = classification_key(m.value)
        if key in seen:
            raise InvalidInput("mappings", f"{m.value!r} is mapped twice")
        seen.add(key)


async def configure_import(
    rt: Runtime, caller: Caller, connection_id: int, s: ImportSettings
) -> TenantConnection:
    """Validate and save the connection's import configuration (W1-W7); all or nothing.

    Raises PermissionDenied, NotFound (connection or a site, including another account's),
    InvalidInput, TooManyGroups, UnknownGroups, SiteAlreadyConnected, SiteNameTaken, and the
    connection errors of the group check (ReauthNeeded, ConsentNeeded, MicrosoftUnavailable).
    """
    caller.require_admin()
    conn = await get_connection(caller, connection_id)
    if conn.status is ConnectionStatus.DISCONNECTED:
        raise InvalidInput(
            "connectionId", "this connection is disconnected; connect it again first"
        )
    _validate_shape(conn, s)
    fed = await fed_sites(caller.account_id, exclude=conn.id)
    existing_ids = {m.site_id for m in s.mappings if m.site_id is not None}
    sites = {
        x.id: x for x in await Site.filter(account_id=caller.account_id, id__in=list(existing_ids))
    }
    for site_id in existing_ids:
        if site_id not in sites:
            raise NotFound("site")
        if site_id in fed:
            raise SiteAlreadyConnected(sites[site_id].name)
    if conn.scope is ConnectionScope.SITE and conn.site_id in fed:
        site = await Site.get(id=conn.site_id, account_id=caller.account_id)
        raise SiteAlreadyConnected(site.name)
    new_names = {
        clean_site_name(m.new_site_name) for m in s.mappings if m.new_site_name is not None
    }
    taken = await Site.filter(account_id=caller.account_id, name__in=list(new_names)).values_list(
        "name", flat=True
    )
    if taken:
        raise SiteNameTaken(str(taken[0]))
    if s.group_filter is GroupFilter.SELECTED:
        async with graph_for(rt, conn) as graph:
            lookup = await graph.get_groups(s.selected_group_ids)
        if lookup.missing:
            raise UnknownGroups(list(lookup.missing))

    async with in_transaction():
        created: dict[str, int] = {}
        for name in sorted(new_names):
            created[name] = (await Site.create(account_id=caller.account_id, name=name)).id
        await ImportMapping.filter(connection_id=conn.id).delete()
        await ImportMapping.bulk_create(
            [
                ImportMapping(
                    connection_id=conn.id,
                    account_id=caller.account_id,
                    value=m.value.strip() or UNDEFINED,
                    value_key=classification_key(m.value),
                    site_id=m.site_id
                    if m.site_id is not None
                    else created[clean_site_name(m.new_site_name or "")],
                )
                for m in s.mappings
            ]
        )
        conn.classification = s.classification  # type: ignore[assignment]
        conn.group_filter = s.group_filter
        conn.selected_group_ids = list(dict.fromkeys(s.selected_group_ids))
        conn.user_types = sorted(set(s.user_types))
        conn.match_attribute = s.match_attribute
        conn.config_version += 1
        conn.configured_at = datetime.now(UTC)
        await conn.save()
    return conn


def saved_policies(conn: TenantConnection) -> Policies:
    """The connection's saved sync policies (issue 6); raises ValueError on a corrupt row."""
    return Policies(
        lifecycle=conn.lifecycle_policy.value,
        exempt_shared_mailboxes=conn.lifecycle_exempt_shared,
        review_conflicts=conn.review_conflicts,
        field_rules=dict(conn.field_rules or {}),  # type: ignore[arg-type]
        enabled_only=conn.filter_enabled_only,
        licensed_only=conn.filter_licensed_only,
        include_domains=tuple(conn.include_domains or ()),
        exclude_domains=tuple(conn.exclude_domains or ()),
        exclusion_patterns=tuple(conn.exclusion_patterns or ()),
    )


async def sync_config(
    conn: TenantConnection, proposed: Mapping[str, object] | None = None
) -> SyncConfig:
    """The frozen configuration the engine applies, built from the saved rows.

    `proposed` (a preview run's SyncRun.proposed_policies) replaces the saved policies.
    """
    policies = saved_policies(conn) if proposed is None else Policies.from_json(proposed)
    mappings = {m.value: m.site_id for m in await ImportMapping.filter(connection_id=conn.id)}
    return SyncConfig(
        scope=conn.scope.value,
        tenant_id=conn.entra_tenant_id or "",
        site_id=conn.site_id,
        classification=conn.classification.value if conn.classification else None,
        mappings=mappings,
        group_filter=conn.group_filter.value,
        selected_group_ids=tuple(conn.selected_group_ids),
        user_types=frozenset(cast(list[UserType], conn.user_types)),
        match_attribute=conn.match_attribute.value,
        policies=policies,
    )
