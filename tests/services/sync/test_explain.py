"""explainUser (issue 6): for every kind of user, the explanation is what the next run does."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from models import (
    ChangeLogEntry,
    EndUser,
    GroupFilter,
    LifecyclePolicy,
    SyncRun,
    TenantConnection,
    UserPin,
)
from services.errors import ConnectionNotReady, EntraUserNotFound, InvalidInput
from services.sync.explain import Explanation, explain_user
from services.sync.planner import DecisionKind
from services.sync.reasons import SkipReason
from services.wizard import ImportSettings
from tests.factories import connect_tenant, make_user

from .conftest import Harness
from .test_engine_review import world


async def explain(harness: Harness, conn: TenantConnection, **key: str) -> Explanation:
    return await explain_user(harness.rt, harness.caller, conn.id, **key)


async def explain_then_run(
    harness: Harness, conn: TenantConnection, ids: Sequence[str]
) -> tuple[dict[str, Explanation], SyncRun]:
    """Explain each user, then run, and check the run did exactly what was explained."""
    told = {i: await explain(harness, conn, entra_user_id=i) for i in ids}
    run = await harness.run(conn)
    rows = {r.entra_object_id: r for r in await ChangeLogEntry.filter(run_id=run.id)}
    for object_id, e in told.items():
        d, logged = e.decision, rows.get(object_id)
        if d.kind is DecisionKind.UNCHANGED:
            assert logged is None, object_id
            continue
        assert logged is not None, object_id
        assert logged.action.value == d.kind.value
        if d.kind is DecisionKind.SKIP:
            assert d.reason is not None and logged.reason == d.reason.value
        elif d.kind is DecisionKind.REVIEW:
            assert d.review is not None and logged.reason == d.review.kind
        else:
            assert logged.changes == {n: [o, v] for n, (o, v) in d.changes.items()}
    return told, run


def entra(harness: Harness, **props: Any) -> dict[str, Any]:
    return harness.tenant.add_user(**props)


async def test_explain_filtered_created_updated_and_unchanged_users(harness: Harness) -> None:
    conn = await harness.connect(ImportSettings(user_types=("MEMBER",)))
    steady = entra(harness, displayName="Steady One", givenName="Steady", mail="s@contoso.example")
    changing = entra(harness, displayName="Changing One", givenName="Old", jobTitle="Clerk")
    await harness.run(conn)
    newcomer = entra(harness, displayName="New Comer", givenName="New", surname="Comer")
    guest = entra(harness, displayName="A Guest", userType="Guest", mail="g@fabrikam.example")
    harness.tenant.update_user(changing["id"], givenName="New", jobTitle="Manager")
    ids = [steady["id"], changing["id"], newcomer["id"], guest["id"]]

    told, run = await explain_then_run(harness, conn, ids)

    s, c, n, g = (told[i] for i in ids)
    assert s.decision.kind is DecisionKind.UNCHANGED and s.match is not None
    assert (s.match.by, s.match.end_user_id) == ("LINK", s.decision.existing_id)
    assert c.decision.kind is DecisionKind.UPDATE
    assert dict(c.decision.changes) == {
        "first_name": ("Old", "New"),
        "job_title": ("Clerk", "Manager"),
    }
    assert n.decision.kind is DecisionKind.CREATE and n.match is not None
    assert (n.match.by, n.route.site_id, n.decision.site_id) == (
        "NONE",
        harness.site.id,
        harness.site.id,
    )
    assert n.decision.changes["last_name"] == ("", "Comer")
    assert (g.filter.reason, g.filter.user_type) == (SkipReason.FILTERED_USER_TYPE, "GUEST")
    assert g.decision.reason is SkipReason.FILTERED_USER_TYPE
    assert (run.created, run.updated) == (1, 1)


async def test_explain_finds_a_user_by_upn_or_mail(harness: Harness) -> None:
    conn = await harness.connect()
    user = entra(
        harness,
        displayName="Mail User",
        userPrincipalName="upn.user@contoso.example",
        mail="Mail.User@contoso.example",
    )
    by_upn = await explain(harness, conn, email="UPN.User@contoso.example")
    by_mail = await explain(harness, conn, email="mail.user@contoso.example")
    assert by_upn.user.id == by_mail.user.id == user["id"]
    with pytest.raises(EntraUserNotFound):
        await explain(harness, conn, email="nobody@contoso.example")
    with pytest.raises(EntraUserNotFound):
        await explain(harness, conn, entra_user_id="00000000-0000-0000-0000-000000000000")
    with pytest.raises(InvalidInput):
        await explain(harness, conn)
    with pytest.raises(InvalidInput):
        await explain(harness, conn, email="a@b.c", entra_user_id="x")


async def test_explain_needs_a_configured_connection(harness: Harness) -> None:
    conn = await connect_tenant(harness.rt, harness.account, scope="SITE", site=harness.site)
    with pytest.raises(ConnectionNotReady) as caught:
        await explain(harness, conn, email="anyone@contoso.example")
    assert caught.value.status == "NOT_CONFIGURED"


async def test_explain_unmapped_and_ambiguous_users_under_review(harness: Harness) -> None:
    w = await world(harness, review=True)
    unmapped = entra(harness, displayName="Nowhere", officeLocation="Atlantis")
    names = ["several", "ambiguous", "moved", "twin"]
    ids = [w.entra[n]["id"] for n in names] + [unmapped["id"]]

    told, run = await explain_then_run(harness, w.conn, ids)

    several, ambiguous, moved, twin, nowhere = (told[i] for i in ids)
    for e in (several, ambiguous, moved):
        assert e.decision.kind is DecisionKind.REVIEW and e.match is not None
        assert e.match.by == "AMBIGUOUS" and e.review_on
    assert several.match is not None and several.match.candidate_ids == tuple(
        sorted([w.product["several_north"].id, w.product["several_south"].id])
    )
    assert several.route.site_id == w.north.id and several.route.value == "RevNorth"
    assert twin.decision.kind is DecisionKind.CREATE
    assert (nowhere.route.site_id, nowhere.route.key, nowhere.match) == (None, "atlantis", None)
    assert nowhere.decision.reason is SkipReason.UNMAPPED
    assert run.review_waiting == 4
    # Explained again, the queued user shows its item.
    again = await explain(harness, w.conn, entra_user_id=w.entra["several"]["id"])
    assert again.review is not None and again.review.status == "OPEN"


async def test_explain_group_filter_from_the_users_transitive_groups(harness: Harness) -> None:
    inner_member = entra(harness, displayName="Inner Member")
    outsider = entra(harness, displayName="Outsider")
    inner = harness.tenant.add_group("Inner", members=[inner_member["id"]])
    outer = harness.tenant.add_group("Outer", members=[inner["id"]])
    conn = await harness.connect(
        ImportSettings(
            group_filter=GroupFilter.SELECTED,
            selected_group_ids=(outer["id"],),
            user_types=("MEMBER",),
        )
    )
    ids = [inner_member["id"], outsider["id"]]

    told, _ = await explain_then_run(harness, conn, ids)

    member, other = told[ids[0]], told[ids[1]]
    assert (member.filter.reason, member.filter.groups) == (None, (outer["id"],))
    assert member.decision.kind is DecisionKind.CREATE
    assert (other.filter.reason, other.filter.groups) == (SkipReason.FILTERED_GROUP, ())


async def test_explain_email_match_of_a_manual_user(harness: Harness) -> None:
    user = entra(harness, displayName="Manual Match", userPrincipalName="manual@contoso.example")
    manual = await make_user(harness.site, email="MANUAL@contoso.example")
    conn = await harness.connect()

    told, _ = await explain_then_run(harness, conn, [user["id"]])

    e = told[user["id"]]
    assert e.match is not None and (e.match.by, e.match.end_user_id) == ("EMAIL", manual.id)
    assert e.decision.changes["source"] == ("MANUAL", "ENTRA")


async def test_explain_shows_pins_and_the_lifecycle_policy(harness: Harness) -> None:
    conn = await harness.connect(ImportSettings(user_types=("MEMBER",)))
    leaver = entra(harness, displayName="Leaving Soon", givenName="Leaving")
    pinned = entra(harness, displayName="Pinned Out", givenName="Pinned")
    await harness.run(conn)
    harness.tenant.update_user(leaver["id"], accountEnabled=False)
    harness.tenant.update_user(pinned["id"], jobTitle="Changed in Entra")
    await EndUser.filter(entra_object_id=pinned["id"]).update(pin=UserPin.EXCLUDE)

    # Default policy KEEP (S5): the disabled user is only updated, nothing else is said.
    told = await explain(harness, conn, entra_user_id=leaver["id"])
    assert told.lifecycle is None
    excluded = await explain(harness, conn, entra_user_id=pinned["id"])
    assert excluded.decision.reason is SkipReason.PINNED_EXCLUDE

    conn.lifecycle_policy = LifecyclePolicy.MARK_INACTIVE
    await conn.save(update_fields=["lifecycle_policy"])
    told = await explain(harness, conn, entra_user_id=leaver["id"])
    assert told.lifecycle is not None
    assert (told.lifecycle.action, told.lifecycle.code) == ("INACTIVE", "DISABLED")
    run = await harness.run(conn)
    assert run.deactivated == 1
    user = await EndUser.get(entra_object_id=leaver["id"])
    assert (user.active, user.inactive_reason) == (False, "DISABLED")
