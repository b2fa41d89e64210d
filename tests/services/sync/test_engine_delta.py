"""Incremental sync (R9): delta rounds, their link, fallbacks to full rounds, and W4/S5/S6 under delta."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any, Literal
from urllib.parse import unquote

import httpx
import pytest

from entra.types import EntraUser, RemovedUser
from models import (
    ChangeAction,
    ChangeLogEntry,
    Classification,
    EndUser,
    GroupFilter,
    RunStatus,
    SyncMode,
    SyncRun,
    TenantConnection,
)
from schema.ids import encode_id
from services.end_users import EndUserPatch, update_end_user
from services.sync.batch import BatchApplier
from services.sync.delta import DELTA_REASON, EXPIRED_REASON, request_full_round
from services.sync.progress import RunProgress, snapshot
from services.sync.runs import cancel_sync
from services.sync.scope import load_index, load_touched, match_keys
from services.sync.snapshot import ScopeIndex, StoredUser
from services.wizard import ImportSettings, MappingInput, configure_import, sync_config
from simulator.faults import Fault
from simulator.tenant import SimTenant
from tests.factories import gql, make_site

from .conftest import BOTH_TYPES, Harness, run_field, wait_until
from .data import entra_user

FIRST_REASON = "no delta link yet: first run, or no full round completed"
# The generator plants S11 oddities (duplicate emails, long values) on the first six members.
PLANTED = 6


def ordinary(tenant: SimTenant) -> list[dict[str, Any]]:
    """Generated members with a name and a mail, past the planted oddities: all imported."""
    members = [
        user
        for user in list(tenant.users.values())[1:]
        if user["userType"] == "Member" and user["givenName"] and user["mail"]
    ]
    return members[PLANTED:]


async def saved(conn: TenantConnection) -> TenantConnection:
    return await TenantConnection.get(id=conn.id)


async def linked_user(object_id: str) -> EndUser:
    return await EndUser.get(entra_object_id=object_id)


def requested_paths(harness: Harness, since: int) -> list[str]:
    return [r.path for r in harness.sim.state.requests[since:]]


async def full_resync_changes_nothing(harness: Harness, conn: TenantConnection) -> None:
    """The invariant of delta rounds: a full round run now finds nothing left to do."""
    before = await harness.users()
    await request_full_round(conn.id)
    full = await harness.run(conn)
    assert full.mode is SyncMode.FULL
    assert (full.created, full.updated) == (0, 0)
    assert await harness.users() == before  # updated_at included: not one row written


async def test_r9_second_run_is_a_delta_round_and_applies_changes(harness: Harness) -> None:
    tenant = harness.tenant
    conn = await harness.connect()
    first = await harness.run(conn)
    assert (first.mode, first.mode_reason) == (SyncMode.FULL, FIRST_REASON)
    assert first.total == len(tenant.users)
    after_first = await saved(conn)
    assert after_first.delta_link and after_first.last_full_sync_at is not None
    assert after_first.delta_config_version == after_first.config_version
    people = ordinary(tenant)
    titled = next(u for u in people if u["jobTitle"])
    untitled = next(u for u in people if u["jobTitle"] is None and u["mobilePhone"] is None)
    old_title, old_surname = titled["jobTitle"], titled["surname"]
    tenant.update_user(titled["id"], jobTitle="Chief Delta Officer", surname="Deltaway")
    # jobTitle never set: absent from the delta item, which means blank as in a full round.
    tenant.update_user(untitled["id"], mobilePhone="+1 206 555 0199")
    newcomer = tenant.add_user(
        displayName="Nova Newcomer",
        givenName="Nova",
        surname="Newcomer",
        userPrincipalName="nova.newcomer@contoso.example",
        mail="nova.newcomer@contoso.example",
    )
    since = len(harness.sim.state.requests)

    second = await harness.run(conn)

    assert (second.mode, second.mode_reason) == (SyncMode.DELTA, DELTA_REASON)
    assert snapshot(second)["mode"] == "DELTA"
    assert (second.fetched, second.created, second.updated, second.unchanged) == (3, 1, 2, 0)
    assert second.total is None and second.removed == 0
    paths = requested_paths(harness, since)
    assert "/v1.0/users/delta" in paths and "/v1.0/users" not in paths
    changed = await linked_user(titled["id"])
    assert (changed.job_title, changed.last_name) == ("Chief Delta Officer", "Deltaway")
    phoned = await linked_user(untitled["id"])
    assert (phoned.mobile, phoned.job_title) == ("+1 206 555 0199", "")
    created = await linked_user(newcomer["id"])
    assert (created.email, created.first_name, created.site_id) == (
        "nova.newcomer@contoso.example",
        "Nova",
        harness.site.id,
    )
    log = {e.entra_object_id: e for e in await harness.changes(second)}
    assert log[titled["id"]].changes == {
        "last_name": [old_surname, "Deltaway"],
        "job_title": [old_title, "Chief Delta Officer"],
    }
    assert log[newcomer["id"]].action is ChangeAction.CREATE
    assert (await saved(conn)).delta_link != after_first.delta_link
    # The full round is not repeated: its time stays.
    assert (await saved(conn)).last_full_sync_at == after_first.last_full_sync_at

    before = await harness.users()
    third = await harness.run(conn)  # S10: nothing changed in Entra

    assert third.mode is SyncMode.DELTA
    assert (third.fetched, third.created, third.updated) == (0, 0, 0)
    assert await harness.users() == before
    await full_resync_changes_nothing(harness, conn)


async def test_r9_removed_users_are_logged_and_left_untouched(harness: Harness) -> None:
    tenant = harness.tenant
    conn = await harness.connect()
    await harness.run(conn)
    soft, hard, never = ordinary(tenant)[:3]
    tenant.delete_user(soft["id"])
    tenant.delete_user(hard["id"], hard=True)
    # A user deleted before any run saw it is reported too, with no end user to name.
    ghost = tenant.add_user(displayName="Ghost", mail="ghost@contoso.example")
    tenant.delete_user(ghost["id"], hard=True)
    before = await harness.users()

    run = await harness.run(conn)

    assert run.mode is SyncMode.DELTA
    assert (run.removed, run.fetched, run.created, run.updated) == (3, 0, 0, 0)
    assert await harness.users() == before  # S5: not one row written
    entries = {e.entra_object_id: e for e in await harness.changes(run)}
    assert {e.action for e in entries.values()} == {ChangeAction.REMOVED}
    for person, reason in ((soft, "changed"), (hard, "deleted")):
        user = await linked_user(person["id"])
        entry = entries[person["id"]]
        assert (entry.reason, entry.end_user_id, entry.site_id, entry.email) == (
            reason,
            user.id,
            user.site_id,
            user.email,
        )
    assert (entries[ghost["id"]].reason, entries[ghost["id"]].end_user_id) == ("deleted", None)
    assert never["id"] not in entries

    # Restored: back as an ordinary object, planned like any other (its user is unchanged).
    tenant.restore_user(soft["id"])
    restored = await harness.run(conn)
    assert (restored.fetched, restored.unchanged, restored.removed) == (1, 1, 0)
    await full_resync_changes_nothing(harness, conn)


async def _change_all(tenant: SimTenant, tag: str, last: str) -> None:
    """A new jobTitle for every user, `last` changed last (so it is in the round's last batch)."""
    for user_id in [u for u in tenant.users if u != last] + [last]:
        tenant.update_user(user_id, jobTitle=f"{tag} title {user_id[:8]}")


async def test_r9_delta_link_saved_only_after_the_round_commits_failing_batch(
    harness: Harness,
) -> None:
    tenant = harness.big_tenant()
    conn = await harness.connect(domain=tenant.domain)
    await harness.guard_off(conn)  # every user changes, on purpose
    await harness.run(conn)
    link = (await saved(conn)).delta_link
    linked = await EndUser.filter(entra_object_id__not_isnull=True).count()
    boom = ordinary(tenant)[-1]
    await _change_all(tenant, "Delta", boom["id"])
    db = EndUser._meta.db
    postgres = db.capabilities.dialect == "postgres"
    # The last batch fails in the database, after its end users were written (rolled back whole).
    if postgres:
        await db.execute_script(
            "CREATE FUNCTION boom() RETURNS trigger AS $$ BEGIN "
            f"IF NEW.entra_object_id = '{boom['id']}' THEN RAISE EXCEPTION 'boom'; END IF; "
            "RETURN NEW; END $$ LANGUAGE plpgsql; "
            "CREATE TRIGGER boom BEFORE INSERT ON change_log_entry "
            "FOR EACH ROW EXECUTE FUNCTION boom();"
        )
    else:
        await db.execute_script(
            "CREATE TRIGGER boom BEFORE INSERT ON change_log_entry "
            f"WHEN NEW.entra_object_id = '{boom['id']}' BEGIN SELECT RAISE(ABORT, 'boom'); END;"
        )
    try:
        failed = await harness.run(conn, status=RunStatus.FAILED)
    finally:
        await db.execute_script(
            "DROP TRIGGER boom ON change_log_entry; DROP FUNCTION boom();"
            if postgres
            else "DROP TRIGGER boom;"
        )

    assert failed.mode is SyncMode.DELTA and "that batch was rolled back" in failed.error_message
    assert 0 < failed.updated < linked
    assert (await saved(conn)).delta_link == link
    assert (await linked_user(boom["id"])).job_title != f"Delta title {boom['id'][:8]}"

    again = await harness.run(conn)  # the same round again, from the same link

    assert again.mode is SyncMode.DELTA and again.fetched == len(tenant.users)
    assert failed.updated + again.updated == linked  # what was committed is not redone
    assert (await linked_user(boom["id"])).job_title == f"Delta title {boom['id'][:8]}"
    assert (await saved(conn)).delta_link != link
    await full_resync_changes_nothing(harness, conn)


async def test_r9_delta_link_saved_only_after_the_round_commits_cancel(harness: Harness) -> None:
    tenant = harness.big_tenant()
    conn = await harness.connect(domain=tenant.domain)
    await harness.guard_off(conn)  # every user changes, on purpose
    await harness.run(conn)
    link = (await saved(conn)).delta_link
    linked = await EndUser.filter(entra_object_id__not_isnull=True).count()
    await _change_all(tenant, "Cancel", next(iter(tenant.users)))
    harness.sim.state.faults.page_delay = 0.15
    run = await harness.start(conn)
    await wait_until(lambda: _committed(run))

    await cancel_sync(harness.rt, harness.caller, run.id)
    cancelled = await harness.wait(run)

    assert cancelled.status is RunStatus.CANCELLED and cancelled.mode is SyncMode.DELTA
    assert 0 < cancelled.fetched < len(tenant.users)
    assert (await saved(conn)).delta_link == link
    harness.sim.state.faults.page_delay = 0.0

    again = await harness.run(conn)

    assert again.mode is SyncMode.DELTA and again.fetched == len(tenant.users)
    assert cancelled.updated + again.updated == linked
    assert (await saved(conn)).delta_link != link
    await full_resync_changes_nothing(harness, conn)


async def _committed(run: SyncRun) -> bool:
    return bool(await run_field(run, "fetched"))


@pytest.mark.parametrize("status", [400, 410])
async def test_r9_expired_delta_token_falls_back_to_a_full_round(
    harness: Harness, status: Literal[400, 410]
) -> None:
    tenant = harness.tenant
    harness.sim.state.config.delta_expired_status = status  # syncStateNotFound, or 410 Gone
    conn = await harness.connect()
    await harness.run(conn)
    expired = (await saved(conn)).delta_link
    person = ordinary(tenant)[0]
    tenant.update_user(person["id"], jobTitle="After expiry")
    harness.sim.state.expire_delta_tokens(tenant)
    await EndUser.filter(entra_object_id=ordinary(tenant)[1]["id"]).delete()  # a full round heals

    run = await harness.run(conn)

    assert (run.mode, run.mode_reason) == (SyncMode.FULL, EXPIRED_REASON)
    assert (run.fetched, run.created, run.updated) == (len(tenant.users), 1, 1)
    assert (await linked_user(person["id"])).job_title == "After expiry"
    after = await saved(conn)
    assert after.delta_link and after.delta_link != expired
    assert after.last_full_sync_at is not None and after.last_full_sync_at > run.created_at
    tenant.update_user(person["id"], jobTitle="Delta again")
    follow = await harness.run(conn)
    assert (follow.mode, follow.fetched, follow.updated) == (SyncMode.DELTA, 1, 1)


async def test_r9_configuration_change_forces_a_full_round(harness: Harness) -> None:
    tenant = harness.tenant
    conn = await harness.connect(ImportSettings(user_types=("MEMBER",)))
    first = await harness.run(conn)
    guests = {u["id"] for u in tenant.users.values() if u["userType"] == "Guest"}
    assert guests and first.skipped_filter >= len(guests)
    assert (await harness.run(conn)).mode is SyncMode.DELTA

    await configure_import(
        harness.rt, harness.caller, conn.id, ImportSettings(user_types=BOTH_TYPES)
    )
    run = await harness.run(conn)

    # The guests did not change in Entra: only a full round reaches them.
    assert run.mode is SyncMode.FULL
    assert run.mode_reason == "the import configuration changed since the last round"
    imported = set(
        await EndUser.filter(entra_object_id__in=guests).values_list("entra_object_id", flat=True)
    )
    assert imported and run.created == len(imported)
    after = await saved(conn)
    assert after.delta_config_version == after.config_version
    assert (await harness.run(conn)).mode is SyncMode.DELTA


async def test_r9_full_round_runs_again_after_the_period(harness: Harness) -> None:
    conn = await harness.connect()
    await harness.run(conn)
    assert (await harness.run(conn)).mode is SyncMode.DELTA
    first_full = (await saved(conn)).last_full_sync_at
    assert first_full is not None
    await TenantConnection.filter(id=conn.id).update(
        last_full_sync_at=datetime.now(UTC) - timedelta(hours=24, minutes=1)
    )

    due = await harness.run(conn)

    assert (due.mode, due.mode_reason) == (SyncMode.FULL, "a full round is due (every 24 h)")
    assert (await saved(conn)).last_full_sync_at > first_full  # type: ignore[operator]
    assert (await harness.run(conn)).mode is SyncMode.DELTA
    # The period is a setting (ENTRASYNC_FULL_SYNC_HOURS); 0 turns incremental rounds off.
    harness.rt.full_sync_every = timedelta(minutes=30)
    await TenantConnection.filter(id=conn.id).update(
        last_full_sync_at=datetime.now(UTC) - timedelta(minutes=31)
    )
    assert (await harness.run(conn)).mode_reason == "a full round is due (every 30 min)"
    harness.rt.full_sync_every = timedelta(0)
    off = await harness.run(conn)
    assert (off.mode, off.mode_reason) == (
        SyncMode.FULL,
        "incremental sync is off: every run is a full round",
    )


async def test_w4_user_joining_a_selected_group_is_imported_at_the_next_delta_run(
    harness: Harness,
) -> None:
    tenant = harness.tenant
    company = next(g for g in tenant.groups.values() if g["displayName"] == "All Company")
    members = set(tenant.member_ids(company["id"], transitive=True))
    outsiders = [u for u in ordinary(tenant) if u["id"] not in members]
    direct, nested = outsiders[:2]
    # A group nested in the selected one: joining it counts too (W4 is transitive).
    inner = next(g for g in tenant.member_ids(company["id"]) if g in tenant.groups)
    settings = ImportSettings(
        group_filter=GroupFilter.SELECTED,
        selected_group_ids=(company["id"],),
        user_types=BOTH_TYPES,
    )
    conn = await harness.connect(settings)
    first = await harness.run(conn)
    assert not await EndUser.filter(entra_object_id__in=[direct["id"], nested["id"]]).exists()
    assert first.skipped_filter > 0
    leaver = next(u for u in ordinary(tenant) if u["id"] in members)
    before_leaving = await linked_user(leaver["id"])
    tenant.add_member(company["id"], direct["id"])  # the user objects do not change
    tenant.add_member(inner, nested["id"])
    for group_id, group_members in tenant.members.items():  # a leaver is left as it is (S5)
        if leaver["id"] in group_members:
            tenant.remove_member(group_id, leaver["id"])
    since = len(harness.sim.state.requests)

    run = await harness.run(conn)

    assert run.mode is SyncMode.DELTA and run.created == 2
    for person in (direct, nested):
        user = await linked_user(person["id"])
        assert (user.email, user.site_id) == (person["userPrincipalName"], harness.site.id)
    assert await linked_user(leaver["id"]) == before_leaving
    # Fetched by id: `$filter=id in (...)`, since neither user object changed.
    lookups = [
        unquote(r.query)
        for r in harness.sim.state.requests[since:]
        if r.path == "/v1.0/users" and r.status == 200
    ]
    assert lookups and all("$filter=id in (" in query for query in lookups)
    assert all(person["id"] in " ".join(lookups) for person in (direct, nested))
    await full_resync_changes_nothing(harness, conn)


async def test_s6_s7_product_edits_are_overwritten_by_a_delta_round(harness: Harness) -> None:
    tenant = harness.tenant
    conn = await harness.connect()
    await harness.run(conn)
    edited, renamed = ordinary(tenant)[:2]
    user = await linked_user(edited["id"])
    await update_end_user(harness.caller, user.id, EndUserPatch(values={"job_title": "Made up"}))
    moved = await linked_user(renamed["id"])
    await update_end_user(harness.caller, moved.id, EndUserPatch(email="moved@elsewhere.example"))

    run = await harness.run(conn)

    assert run.mode is SyncMode.DELTA
    assert (run.fetched, run.updated, run.created) == (2, 1, 1)
    assert (await EndUser.get(id=user.id)).job_title == (edited["jobTitle"] or "")
    assert (await EndUser.get(id=moved.id)).email == "moved@elsewhere.example"  # S7: kept
    fresh = await EndUser.get(email_key=renamed["userPrincipalName"].casefold())
    assert fresh.id != moved.id and fresh.entra_object_id == renamed["id"]
    # Looked up once: the next delta round has nothing to do.
    quiet = await harness.run(conn)
    assert (quiet.fetched, quiet.updated, quiet.created) == (0, 0, 0)
    await full_resync_changes_nothing(harness, conn)


async def test_r9_dry_runs_never_save_a_link(harness: Harness) -> None:
    tenant = harness.tenant
    conn = await harness.connect()
    dry_full = await harness.run(conn, dry_run=True)
    assert dry_full.mode is SyncMode.FULL and dry_full.created > 0
    assert (await saved(conn)).delta_link is None
    await harness.run(conn)
    link = (await saved(conn)).delta_link
    person = ordinary(tenant)[0]
    tenant.update_user(person["id"], jobTitle="Dry title")
    newcomer = tenant.add_user(displayName="Dry Newcomer", mail="dry.newcomer@contoso.example")
    before = await harness.users()

    dry = await harness.run(conn, dry_run=True)

    assert dry.mode is SyncMode.DELTA and (dry.created, dry.updated) == (1, 1)
    assert await harness.users() == before
    assert (await saved(conn)).delta_link == link
    actions = {e.entra_object_id: e.action for e in await harness.changes(dry)}
    assert actions == {person["id"]: ChangeAction.UPDATE, newcomer["id"]: ChangeAction.CREATE}
    # An expired link met by a dry run is not dropped either: dry runs write no connection state.
    harness.sim.state.expire_delta_tokens(tenant)
    dry_expired = await harness.run(conn, dry_run=True)
    assert (dry_expired.mode, dry_expired.mode_reason) == (SyncMode.FULL, EXPIRED_REASON)
    assert (await saved(conn)).delta_link == link

    real = await harness.run(conn)
    assert real.mode is SyncMode.FULL and (real.created, real.updated) == (1, 1)
    assert (await saved(conn)).delta_link not in (None, link)


async def test_r9_full_round_reads_a_fresh_delta_round_when_latest_is_refused(
    harness: Harness,
) -> None:
    tenant = harness.tenant
    conn = await harness.connect()
    refused = {"error": {"code": "Request_UnsupportedQuery", "message": "latest is not supported"}}
    harness.sim.state.faults.script("/v1.0/users/delta", [Fault(400, body=refused)])
    since = len(harness.sim.state.requests)

    run = await harness.run(conn)

    assert run.mode is SyncMode.FULL and run.fetched == len(tenant.users)
    assert "/v1.0/users" not in requested_paths(harness, since)
    assert (await saved(conn)).delta_link
    tenant.update_user(ordinary(tenant)[0]["id"], jobTitle="Fresh round title")
    follow = await harness.run(conn)
    assert (follow.mode, follow.fetched, follow.updated) == (SyncMode.DELTA, 1, 1)


# --- the invariant: a delta round leaves what a full round would ----------------------------


def _random_changes(tenant: SimTenant, rng: random.Random, count: int) -> None:
    """Entra-side changes of every kind a delta round reports, on users whose decisions do not
    depend on other users (the planted duplicate emails are left alone)."""
    pool = ordinary(tenant)
    rng.shuffle(pool)
    offices = ["Seattle", "London", "Paris", "Nowhere", None]
    soft_deleted: list[str] = []
    for n, user in enumerate(pool[:count]):
        uid = user["id"]
        roll = rng.randrange(10)
        if roll == 0:
            tenant.update_user(uid, jobTitle=rng.choice([None, f"Title {n}"]))
        elif roll == 1:
            tenant.update_user(
                uid,
                businessPhones=rng.choice([[], [f"+1 425 555 {n:04d}"]]),
                mobilePhone=rng.choice([None, f"+1 206 555 {n:04d}"]),
            )
        elif roll == 2:
            tenant.update_user(uid, givenName=rng.choice([None, f"Given{n}"]), surname=f"Sur{n}")
        elif roll == 3:
            tenant.update_user(uid, officeLocation=rng.choice(offices))
        elif roll == 4:
            address = f"renamed.{n}.{uid[:8]}@{tenant.domain}"
            tenant.update_user(uid, userPrincipalName=address, mail=address)
        elif roll == 5:
            tenant.update_user(uid, accountEnabled=not user["accountEnabled"])
        elif roll == 6:
            soft_deleted.append(uid)
            tenant.delete_user(uid)
        elif roll == 7:
            tenant.delete_user(uid, hard=True)
        elif roll == 8:
            tenant.update_user(uid, userType="Guest")
        else:
            tenant.add_user(
                displayName=f"New {n}",
                givenName=rng.choice([None, f"New{n}"]),
                mail=f"new.{n}@{tenant.domain}",
                userPrincipalName=f"new.{n}@{tenant.domain}",
                officeLocation=rng.choice(offices),
            )
    for uid in soft_deleted[::2]:
        tenant.restore_user(uid)


@pytest.mark.parametrize("seed", [1, 2])
async def test_r9_delta_result_equals_a_full_resync(harness: Harness, seed: int) -> None:
    tenant = harness.tenant
    paris = await make_site(harness.account.account, "Paris")
    settings = ImportSettings(
        classification=Classification.OFFICE,
        mappings=(
            MappingInput(value="Seattle", site_id=harness.site.id),
            MappingInput(value="London", site_id=paris.id),
            MappingInput(value="Paris", site_id=paris.id),
            MappingInput(value="Undefined", site_id=harness.site.id),
        ),
        user_types=BOTH_TYPES,
    )
    conn = await harness.connect(settings, scope="ACCOUNT")
    await harness.run(conn)
    rng = random.Random(seed)
    _random_changes(tenant, rng, count=60)
    # And a few product-side edits of synced users (S6), which a full round would overwrite.
    for user in await EndUser.filter(source="ENTRA").order_by("id").limit(3):
        await update_end_user(harness.caller, user.id, EndUserPatch(values={"first_name": "Edit"}))

    delta = await harness.run(conn)

    assert delta.mode is SyncMode.DELTA and delta.fetched > 0
    assert delta.created + delta.updated > 0 and delta.removed > 0
    after_delta = await harness.synced_state()
    await full_resync_changes_nothing(harness, conn)
    assert await harness.synced_state() == after_delta
    logged = await ChangeLogEntry.filter(run_id=delta.id, action=ChangeAction.REMOVED).count()
    assert logged == delta.removed


# --- replays: Graph may send a user more than once in a round -------------------------------


@pytest.mark.parametrize("dry_run", [False, True])
async def test_r9_a_user_sent_again_in_a_round_is_planned_as_the_real_run_would(
    harness: Harness, dry_run: bool
) -> None:
    conn = await harness.connect()
    await harness.run(conn)
    conn = await saved(conn)
    run = await SyncRun.create(
        account_id=conn.account_id, connection_id=conn.id, dry_run=dry_run, mode=SyncMode.DELTA
    )
    config = await sync_config(conn)

    async def touched(
        users: Sequence[EntraUser], removed: Sequence[RemovedUser]
    ) -> list[StoredUser]:
        ids = [u.id for u in users] + [r.id for r in removed]
        return await load_touched(conn, ids, match_keys(users, config.match_attribute))

    progress = RunProgress(run, harness.rt.bus)
    applier = BatchApplier(
        run, config, ScopeIndex(), None, progress, lambda: load_index(conn), touched=touched
    )
    new = entra_user(id="0badc0de-0000-4000-8000-000000000001", user_principal_name="re@p.la")
    retitled = replace(new, job_title="Replayed")

    await applier.apply([new])  # created
    await applier.apply([new, retitled])  # the same user twice: the last one wins
    await applier.apply([retitled])  # and once more in a later batch: nothing left to do

    entries = await ChangeLogEntry.filter(run_id=run.id).order_by("id")
    assert [(e.action, e.reason) for e in entries] == [
        (ChangeAction.CREATE, ""),
        (ChangeAction.UPDATE, ""),
    ]
    assert entries[1].changes == {"job_title": ["Engineer", "Replayed"]}
    run = await SyncRun.get(id=run.id)
    assert (run.fetched, run.created, run.updated, run.unchanged, run.errors) == (4, 1, 1, 1, 0)
    titles = [u.job_title for u in await EndUser.filter(entra_object_id=new.id)]
    assert titles == ([] if dry_run else ["Replayed"])


async def test_r9_mode_and_last_full_sync_are_exposed_over_graphql(
    harness: Harness, sim_client: httpx.AsyncClient
) -> None:
    conn = await harness.connect()
    await harness.run(conn)
    harness.sim.state.expire_delta_tokens(harness.tenant)
    harness.tenant.delete_user(ordinary(harness.tenant)[0]["id"])
    await harness.run(conn)  # FULL: the token expired (a full round reports no removals)
    harness.tenant.delete_user(ordinary(harness.tenant)[1]["id"])
    await harness.run(conn)  # DELTA, with one REMOVED
    query = """
      query($c: ID!) {
        node(id: $c) { ... on TenantConnection { lastFullSyncAt } }
        syncRuns(connectionId: $c, first: 10) {
          edges { node { mode modeReason removed } }
        }
      }
    """
    body = await gql(
        sim_client, harness.account.admin_key, query, {"c": encode_id("TenantConnection", conn.id)}
    )

    assert "errors" not in body, body
    assert body["data"]["node"]["lastFullSyncAt"] is not None
    runs = [e["node"] for e in body["data"]["syncRuns"]["edges"]]
    assert sorted((r["mode"], r["modeReason"], r["removed"]) for r in runs) == sorted(
        [
            ("FULL", FIRST_REASON, 0),
            ("FULL", EXPIRED_REASON, 0),
            ("DELTA", DELTA_REASON, 1),
        ]
    )
