"""explainUser (issue 6): what the sync does with one Entra user, and why, from its own rules.

Every step calls the function the engine calls (rules.filter_reason, rules.route, the email
rules, planner.match, planner.plan_user with the review queue, scope.load_touched), so a rule
added to any of them shows here unchanged. The one thing a single user cannot show is a
duplicate met earlier in the same run (two Entra users with one email, neither linked yet):
the explanation plans the user as if it came first.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from entra.graph import GraphClient
from entra.types import EntraUser
from models import ReviewItem, TenantConnection
from services.caller import Caller
from services.connections import get_connection, graph_for
from services.errors import ConnectionNotReady, EntraUserNotFound, InvalidInput
from services.runtime import Runtime
from services.sync.batch import SeenKeys
from services.sync.config import SyncConfig, classification_key
from services.sync.delta import syncs_manager, user_select
from services.sync.lifecycle import Transition
from services.sync.lifecycle_run import LifecycleRun
from services.sync.planner import Decision, DecisionKind, match, plan_user
from services.sync.reasons import SkipReason
from services.sync.review_store import load_book
from services.sync.rules import (
    email_key,
    entra_email,
    filter_reason,
    normalize_email,
    route,
    user_type_of,
)
from services.sync.scope import load_touched, match_keys
from services.sync.snapshot import ScopeIndex
from services.wizard import sync_config

MatchedBy = Literal["LINK", "EMAIL", "NONE", "AMBIGUOUS"]
# An Entra object id or a user principal name: what `/users/{key}` accepts.
MAX_KEY = 320


@dataclass(frozen=True, slots=True)
class FilterStep:
    """W4/W5 and the richer filters: why the user is in or out (`reason` None: in)."""

    reason: SkipReason | None
    user_type: str | None
    group_filter: str
    # SELECTED: the selected groups the user is in (transitively); ALL_GROUPS: its groups.
    groups: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class RouteStep:
    """W1-W3/W6: the site a new user would be created in (`site_id` None: UNMAPPED)."""

    scope: str
    classification: str | None
    value: str | None
    key: str | None
    site_id: int | None


@dataclass(frozen=True, slots=True)
class MatchStep:
    """S2/S7/S9: the email matched by, and the end user it matches (`email` None: `reason`)."""

    email: str | None
    by: MatchedBy
    end_user_id: int | None
    candidate_ids: tuple[int, ...]
    reason: SkipReason | None


@dataclass(frozen=True, slots=True)
class ReviewState:
    item_id: int
    kind: str
    status: str
    resolution: str | None


@dataclass(frozen=True, slots=True)
class Explanation:
    """One Entra user of a connection, through every step of the sync, and the next sync's
    decision (the planner's own, field by field)."""

    connection_id: int
    user: EntraUser
    filter: FilterStep
    route: RouteStep
    match: MatchStep | None  # None when the user has no routed site to match in
    decision: Decision
    review: ReviewState | None
    review_on: bool
    # The lifecycle policy's outcome for the matched end user (issue 6): INACTIVE or ACTIVE with
    # its cause, SKIP for a deactivation the shared-mailbox exemption could not decide; None
    # when nothing changes (always under KEEP).
    lifecycle: Transition | None = None


async def explain_user(
    rt: Runtime,
    caller: Caller,
    connection_id: int,
    *,
    entra_user_id: str | None = None,
    email: str | None = None,
) -> Explanation:
    """Explain one Entra user of the connection (by object id, or by UPN or mail).

    Raises InvalidInput (not exactly one of the two, or too long), NotFound (connection),
    ConnectionNotReady (not connected or not configured), EntraUserNotFound, and what graph_for
    raises (ReauthNeeded, ConsentNeeded, MicrosoftUnavailable).
    """
    key = _key(entra_user_id, email)
    conn = await get_connection(caller, connection_id)
    if conn.configured_at is None:
        raise ConnectionNotReady("NOT_CONFIGURED", "configure the import first (configureImport)")
    config = await sync_config(conn)
    async with graph_for(rt, conn) as graph:
        manager = syncs_manager(config)  # issue 6: read only when the managerEmail rule syncs it
        user = await graph.get_user(key, select=user_select(config), manager=manager)
        if user is None and email is not None:
            user = await graph.find_user_by_mail(key, select=user_select(config), manager=manager)
        if user is None:
            raise EntraUserNotFound(key)
        groups, members = await _membership(graph, config, user)
        # The lifecycle policy and the pins as a run applies them (mailbox look-ups included).
        lifecycle = LifecycleRun(conn, config, graph.mailbox_purposes)
        return await _explain(conn, config, user, groups, members, lifecycle)


def _key(entra_user_id: str | None, email: str | None) -> str:
    if (entra_user_id is None) == (email is None):
        raise InvalidInput("entraUserId", "give exactly one of entraUserId and email")
    field, value = ("entraUserId", entra_user_id) if email is None else ("email", email)
    assert value is not None
    text = value.strip()
    if not text or len(text) > MAX_KEY or not text.isprintable():
        raise InvalidInput(field, f"{field} must be 1 to {MAX_KEY} printable characters")
    return text


async def _membership(
    graph: GraphClient, config: SyncConfig, user: EntraUser
) -> tuple[tuple[str, ...], frozenset[str] | None]:
    """W4 for one user: its groups that count, and the member set `filter_reason` expects
    (just this user, or empty), from `/users/{id}/transitiveMemberOf`."""
    if config.group_filter == "NONE":
        return (), None
    groups = await graph.transitive_group_ids(user.id)
    if config.group_filter == "SELECTED":
        selected = {g.casefold(): g for g in config.selected_group_ids}
        counted = tuple(sorted(selected[g.casefold()] for g in groups if g.casefold() in selected))
    else:
        counted = tuple(sorted(groups))
    return counted, frozenset({user.id}) if counted else frozenset()


async def _explain(
    conn: TenantConnection,
    config: SyncConfig,
    user: EntraUser,
    groups: tuple[str, ...],
    members: frozenset[str] | None,
    lifecycle: LifecycleRun,
) -> Explanation:
    user_type = user_type_of(user)
    filter_step = FilterStep(
        reason=filter_reason(user, config, members),
        user_type=user_type,
        group_filter=config.group_filter,
        groups=groups,
    )
    routed = route(user, config)
    site_id = None if isinstance(routed, SkipReason) else routed
    value = None
    if config.scope == "ACCOUNT":
        value = user.office_location if config.classification == "OFFICE" else user.department
    route_step = RouteStep(
        scope=config.scope,
        classification=config.classification,
        value=value,
        key=classification_key(value) if config.scope == "ACCOUNT" else None,
        site_id=site_id,
    )
    stored = await load_touched(conn, [user.id], match_keys([user], config.match_attribute))
    index = ScopeIndex.from_users(stored)
    reviews = await load_book(conn) if config.policies.review_conflicts else None
    decision = plan_user(user, config, index, members, SeenKeys(), reviews)
    await lifecycle.load_users(u.id for u in stored)
    decision = lifecycle.screen(decision)  # a pin EXCLUDE
    transition = (await lifecycle.plan([(user, decision, None)], (), index))[0][0]
    match_step = _match_step(user, config, index, site_id, decision)
    review = None
    item = await ReviewItem.get_or_none(connection_id=conn.id, entra_object_id=user.id)
    if item is not None:
        review = ReviewState(item.id, item.kind.value, item.status.value, item.resolution)
    return Explanation(
        connection_id=conn.id,
        user=user,
        filter=filter_step,
        route=route_step,
        match=match_step,
        decision=decision,
        review=review,
        review_on=reviews is not None,
        lifecycle=transition,
    )


def _match_step(
    user: EntraUser,
    config: SyncConfig,
    index: ScopeIndex,
    site_id: int | None,
    decision: Decision,
) -> MatchStep | None:
    raw = entra_email(user, config.match_attribute)
    email = normalize_email(raw) if raw is not None else None
    if email is None:
        reason = SkipReason.NO_EMAIL if raw is None else SkipReason.INVALID_EMAIL
        return MatchStep(None, "NONE", None, (), reason)
    if site_id is None:
        return None
    key = email_key(email)
    found = match(key, user, index, config, site_id)
    candidates = tuple(sorted(c.id for c in index.candidates(key) if c.id > 0))
    by: MatchedBy
    if decision.kind is DecisionKind.REVIEW or found.reason is SkipReason.AMBIGUOUS_MATCH:
        by = "AMBIGUOUS"
    elif found.user is None:
        by = "NONE"
    else:
        by = "LINK" if found.by_link else "EMAIL"
    end_user_id = found.user.id if found.user is not None and by != "AMBIGUOUS" else None
    return MatchStep(email, by, end_user_id, candidates, found.reason)
