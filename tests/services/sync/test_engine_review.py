"""The review queue through real runs (issue 6): cases queued in full and delta rounds, the
waiting count, the webhook, and resolutions followed by the next run."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import pytest

from models import (
    ChangeAction,
    ChangeLogEntry,
    Classification,
    EndUser,
    ReviewItem,
    ReviewKind,
    ReviewResolution,
    ReviewStatus,
    Site,
    SyncMode,
    SyncRun,
    TenantConnection,
    UserSource,
    Webhook,
    WebhookDelivery,
    WebhookEvent,
)
from services.review import resolve_review_item
from services.sync.delta import request_full_round
from services.sync.progress import snapshot
from services.wizard import ImportSettings, MappingInput
from tests.factories import make_site, make_user

from .conftest import BOTH_TYPES, Harness

Mode = Literal["FULL", "DELTA"]


@dataclass
class World:
    """An ACCOUNT connection routing office North and South; the cases' Entra users."""

    conn: TenantConnection
    north: Site
    south: Site
    east: Site
    entra: dict[str, dict[str, Any]]
    product: dict[str, EndUser]


def add_entra(harness: Harness, name: str, upn: str, office: str) -> dict[str, Any]:
    return harness.tenant.add_user(
        displayName=f"Review {name}",
        givenName=name.title(),
        surname="Case",
        jobTitle="Tester",
        userPrincipalName=upn,
        mail=upn,
        officeLocation=office,
    )


async def world(harness: Harness, *, review: bool, cases: bool = True) -> World:
    account = harness.account.account
    north = await make_site(account, "North")
    south = await make_site(account, "South")
    east = await make_site(account, "East")
    settings = ImportSettings(
        classification=Classification.OFFICE,
        mappings=(MappingInput("RevNorth", north.id), MappingInput("RevSouth", south.id)),
        user_types=BOTH_TYPES,
    )
    conn = await harness.connect(settings, scope="ACCOUNT")
    await harness.guard_off(conn)
    if review:
        await TenantConnection.filter(id=conn.id).update(review_conflicts=True)
    w = World(await TenantConnection.get(id=conn.id), north, south, east, {}, {})
    if cases:
        await add_cases(harness, w)
    return w


async def add_cases(harness: Harness, w: World) -> None:
    """Each ambiguous case once: several matches (one in the routed site, and none in it), a
    first match in another site than routing picks, and two Entra users with one email."""
    w.entra["several"] = add_entra(harness, "several", "several@contoso.example", "RevNorth")
    w.entra["ambiguous"] = add_entra(harness, "ambiguous", "ambiguous@contoso.example", "RevNorth")
    w.entra["moved"] = add_entra(harness, "moved", "moved@contoso.example", "RevSouth")
    w.entra["twin"] = add_entra(harness, "twin", "twin@contoso.example", "RevNorth")
    w.entra["twin2"] = add_entra(harness, "twinlater", "TWIN@contoso.example", "RevNorth")
    p = w.product
    p["several_north"] = await make_user(w.north, email="several@contoso.example")
    p["several_south"] = await make_user(w.south, email="Several@contoso.example")
    p["ambiguous_south"] = await make_user(w.south, email="ambiguous@contoso.example")
    p["ambiguous_east"] = await make_user(w.east, email="ambiguous@contoso.example")
    p["moved_north"] = await make_user(w.north, email="moved@contoso.example")


EXPECTED = {
    "several": ReviewKind.SEVERAL_PRODUCT_MATCHES,
    "ambiguous": ReviewKind.SEVERAL_PRODUCT_MATCHES,
    "moved": ReviewKind.SITE_DISAGREES,
    "twin2": ReviewKind.SAME_EMAIL_IN_ENTRA,
}


async def row(w: World, name: str, action: ChangeAction, run: SyncRun) -> ChangeLogEntry:
    return await ChangeLogEntry.get(
        run_id=run.id, action=action, entra_object_id=w.entra[name]["id"]
    )


async def untouched(w: World) -> None:
    for user in w.product.values():
        fresh = await EndUser.get(id=user.id)
        assert (fresh.first_name, fresh.source, fresh.entra_object_id) == (
            user.first_name,
            UserSource.MANUAL,
            None,
        )
        assert fresh.updated_at == user.updated_at


async def hook(harness: Harness) -> Webhook:
    return await Webhook.create(
        account_id=harness.account.account.id,
        url="https://hooks.example/entrasync",
        events=[WebhookEvent.REVIEW_QUEUE_WAITING.value, WebhookEvent.RUN_SUCCEEDED.value],
        signing_secret="not used: nothing is dispatched in these tests",
    )


async def review_deliveries() -> list[WebhookDelivery]:
    return await WebhookDelivery.filter(event=WebhookEvent.REVIEW_QUEUE_WAITING).order_by("id")


# --- the default: SPEC behaviour -------------------------------------------------------------


async def test_review_off_keeps_the_spec_choices_and_queues_nothing(harness: Harness) -> None:
    w = await world(harness, review=False)
    await hook(harness)

    run = await harness.run(w.conn)

    assert (await row(w, "several", ChangeAction.UPDATE, run)).end_user_id == w.product[
        "several_north"
    ].id
    assert (await row(w, "ambiguous", ChangeAction.SKIP, run)).reason == "AMBIGUOUS_MATCH"
    assert (await row(w, "moved", ChangeAction.UPDATE, run)).end_user_id == w.product[
        "moved_north"
    ].id
    assert (await row(w, "twin", ChangeAction.CREATE, run)).site_id == w.north.id
    assert (await row(w, "twin2", ChangeAction.SKIP, run)).reason == "DUPLICATE_EMAIL"
    assert not await ChangeLogEntry.filter(run_id=run.id, action=ChangeAction.REVIEW).exists()
    assert not await ReviewItem.exists()
    assert run.review_waiting == 0
    assert await review_deliveries() == []


# --- cases land in the queue, full and delta -------------------------------------------------


@pytest.mark.parametrize("mode", ["FULL", "DELTA"])
async def test_each_ambiguous_case_lands_in_the_queue(harness: Harness, mode: Mode) -> None:
    w = await world(harness, review=True, cases=mode == "FULL")
    await hook(harness)
    if mode == "DELTA":
        first = await harness.run(w.conn)
        assert first.review_waiting == 0
        await add_cases(harness, w)

    run = await harness.run(w.conn)

    assert run.mode is SyncMode(mode)
    items = {i.entra_object_id: i for i in await ReviewItem.filter(connection_id=w.conn.id)}
    assert {o: i.kind for o, i in items.items()} == {
        w.entra[name]["id"]: kind for name, kind in EXPECTED.items()
    }
    several = items[w.entra["several"]["id"]]
    assert several.candidate_ids == sorted(
        [w.product["several_north"].id, w.product["several_south"].id]
    )
    assert (several.routed_site_id, several.status) == (w.north.id, ReviewStatus.OPEN)
    assert (several.first_run_id, several.last_run_id) == (run.id, run.id)
    assert several.email == "several@contoso.example"
    moved = items[w.entra["moved"]["id"]]
    assert (moved.candidate_ids, moved.routed_site_id) == (
        [w.product["moved_north"].id],
        w.south.id,
    )
    twin = await EndUser.get(entra_object_id=w.entra["twin"]["id"])
    assert items[w.entra["twin2"]["id"]].candidate_ids == [twin.id]
    for name, kind in EXPECTED.items():
        logged = await row(w, name, ChangeAction.REVIEW, run)
        assert logged.reason == kind.value
        assert logged.end_user_id is None
    await untouched(w)
    assert run.review_waiting == 4
    assert snapshot(run)["review_waiting"] == 4  # what progress events carry (R2)
    assert run.errors == 0  # a case for review is not bad data
    [delivery] = await review_deliveries()
    assert '"waiting":4,"new":4' in delivery.body and "REVIEW_QUEUE_WAITING" in delivery.body
    # The same cases met again (a scheduled sync) queue nothing new: no second notification.
    await request_full_round(w.conn.id)
    again = await harness.run(w.conn)
    assert again.review_waiting == 4
    assert len(await review_deliveries()) == 1


async def test_a_run_meeting_the_cases_again_keeps_one_item_each(harness: Harness) -> None:
    w = await world(harness, review=True)
    first = await harness.run(w.conn)
    await request_full_round(w.conn.id)

    again = await harness.run(w.conn)

    assert again.mode is SyncMode.FULL and again.review_waiting == 4
    items = await ReviewItem.filter(connection_id=w.conn.id)
    assert len(items) == 4
    assert {(i.first_run_id, i.last_run_id) for i in items} == {(first.id, again.id)}
    await untouched(w)
    # A delta round that meets none of them still reports them waiting.
    quiet = await harness.run(w.conn)
    assert (quiet.mode, quiet.review_waiting) == (SyncMode.DELTA, 4)


async def test_a_case_that_went_away_leaves_the_queue(harness: Harness) -> None:
    w = await world(harness, review=True)
    await harness.run(w.conn)
    await EndUser.filter(id=w.product["several_south"].id).delete()
    await request_full_round(w.conn.id)

    run = await harness.run(w.conn)

    assert (await row(w, "several", ChangeAction.UPDATE, run)).end_user_id == w.product[
        "several_north"
    ].id
    assert not await ReviewItem.exists(entra_object_id=w.entra["several"]["id"])
    assert run.review_waiting == 3


async def test_dry_run_counts_cases_and_writes_no_item(harness: Harness) -> None:
    w = await world(harness, review=True)
    await hook(harness)

    run = await harness.run(w.conn, dry_run=True)

    assert run.review_waiting == 4
    assert await ChangeLogEntry.filter(run_id=run.id, action=ChangeAction.REVIEW).count() == 4
    assert not await ReviewItem.exists()
    assert await review_deliveries() == []


# --- resolutions -----------------------------------------------------------------------------


async def resolve(
    harness: Harness,
    w: World,
    name: str,
    resolution: ReviewResolution,
    end_user: EndUser | None = None,
) -> ReviewItem:
    item = await ReviewItem.get(entra_object_id=w.entra[name]["id"])
    return await resolve_review_item(
        harness.caller, item.id, resolution, None if end_user is None else end_user.id
    )


@pytest.mark.parametrize("mode", ["FULL", "DELTA"])
async def test_each_resolution_takes_effect_on_the_next_run(harness: Harness, mode: Mode) -> None:
    w = await world(harness, review=True)
    await harness.run(w.conn)
    await resolve(harness, w, "several", ReviewResolution.LINK, w.product["several_south"])
    await resolve(harness, w, "ambiguous", ReviewResolution.CREATE)
    await resolve(harness, w, "moved", ReviewResolution.IGNORE)
    await resolve(harness, w, "twin2", ReviewResolution.CREATE)
    # Entra changes the ignored user, so that a delta round meets it too.
    harness.tenant.update_user(w.entra["moved"]["id"], jobTitle="Changed")
    if mode == "FULL":
        await request_full_round(w.conn.id)

    run = await harness.run(w.conn)

    assert run.mode is SyncMode(mode)
    linked = await EndUser.get(id=w.product["several_south"].id)
    assert (linked.source, linked.first_name, linked.site_id) == (
        UserSource.ENTRA,
        "Several",
        w.south.id,
    )
    assert linked.entra_object_id == w.entra["several"]["id"]
    assert linked.email == "Several@contoso.example"  # the product's spelling is kept (S7)
    created = await EndUser.get(entra_object_id=w.entra["ambiguous"]["id"])
    assert (created.site_id, created.source) == (w.north.id, UserSource.ENTRA)
    assert (await row(w, "moved", ChangeAction.SKIP, run)).reason == "REVIEW_IGNORED"
    moved = await EndUser.get(id=w.product["moved_north"].id)
    assert (moved.job_title, moved.source) == (
        w.product["moved_north"].job_title,
        UserSource.MANUAL,
    )
    # North holds twin@ already: CREATE cannot create it there.
    assert (await row(w, "twin2", ChangeAction.SKIP, run)).reason == "EMAIL_CONFLICT"
    assert run.review_waiting == 0
    assert await ReviewItem.filter(status=ReviewStatus.RESOLVED).count() == 4
    assert await review_deliveries() == []  # only the first run had items waiting
    # Both kinds of round agree afterwards: nothing left to do.
    await request_full_round(w.conn.id)
    full = await harness.run(w.conn)
    assert (full.created, full.updated, full.review_waiting) == (0, 0, 0)


async def test_ignore_counts_as_skipped_by_filter_not_as_an_error(harness: Harness) -> None:
    w = await world(harness, review=True)
    first = await harness.run(w.conn)
    await resolve(harness, w, "moved", ReviewResolution.IGNORE)
    await request_full_round(w.conn.id)

    run = await harness.run(w.conn)

    assert run.skipped_filter == first.skipped_filter + 1
    assert run.errors == first.errors
    assert run.review_waiting == 3


async def test_resolutions_are_not_followed_once_review_is_off(harness: Harness) -> None:
    w = await world(harness, review=True)
    await harness.run(w.conn)
    await resolve(harness, w, "ambiguous", ReviewResolution.CREATE)
    await TenantConnection.filter(id=w.conn.id).update(review_conflicts=False)
    await request_full_round(w.conn.id)

    run = await harness.run(w.conn)

    assert (await row(w, "ambiguous", ChangeAction.SKIP, run)).reason == "AMBIGUOUS_MATCH"
    assert run.review_waiting == 0
