"""Issue 6, lifecycle: the policy MARK_INACTIVE (default KEEP is S5) and pins, through full and delta rounds."""

from __future__ import annotations

from typing import Any

import httpx

from models import (
    AuthMode,
    ChangeAction,
    ChangeLogEntry,
    Classification,
    ConnectionStatus,
    EndUser,
    GroupFilter,
    InactiveReason,
    LifecyclePolicy,
    RunStatus,
    SyncMode,
    SyncRun,
    TenantConnection,
    UserPin,
)
from schema.ids import encode_id
from services.end_users import set_active, set_pin
from services.sync.delta import request_full_round
from services.sync.guard import approve_run, set_threshold
from services.sync.runs import cancel_sync
from services.wizard import ImportSettings, MappingInput, configure_import
from simulator.registration import DEMO_APP
from simulator.tenant import SimTenant
from tests.factories import gql

from .conftest import BOTH_TYPES, Harness, run_field, wait_until

# The generator plants S11 oddities (duplicate emails, long values) on the first six members.
PLANTED = 6
LIFECYCLE_ACTIONS = (ChangeAction.INACTIVE, ChangeAction.ACTIVE)


def people(tenant: SimTenant) -> list[dict[str, Any]]:
    """Enabled generated members with a name and a mail, past the planted oddities."""
    members = [
        user
        for user in list(tenant.users.values())[1:]
        if user["userType"] == "Member"
        and user["givenName"]
        and user["mail"]
        and user["accountEnabled"]
    ]
    return members[PLANTED:]


async def mark_inactive(conn: TenantConnection, *, exempt_shared: bool = False) -> None:
    """The connection's lifecycle policy MARK_INACTIVE (the columns the policies API saves)."""
    await TenantConnection.filter(id=conn.id).update(
        lifecycle_policy=LifecyclePolicy.MARK_INACTIVE, lifecycle_exempt_shared=exempt_shared
    )


async def linked(object_id: str) -> EndUser:
    return await EndUser.get(entra_object_id=object_id)


async def lifecycle_log(run: SyncRun) -> dict[str, ChangeLogEntry]:
    """The run's INACTIVE/ACTIVE rows by Entra object id."""
    rows = await ChangeLogEntry.filter(run_id=run.id, action__in=LIFECYCLE_ACTIONS)
    return {row.entra_object_id: row for row in rows}


async def assert_inactive(object_id: str, reason: InactiveReason) -> EndUser:
    user = await linked(object_id)
    assert (user.active, user.inactive_reason) == (False, reason)
    assert user.inactive_since is not None
    return user


async def assert_active(object_id: str) -> EndUser:
    user = await linked(object_id)
    assert (user.active, user.inactive_reason, user.inactive_since) == (True, None, None)
    return user


async def test_s5_default_keep_leaves_disabled_deleted_and_out_of_scope_users_untouched(
    harness: Harness,
) -> None:
    tenant = harness.tenant
    conn = await harness.connect()
    await harness.run(conn)
    assert (await TenantConnection.get(id=conn.id)).lifecycle_policy is LifecyclePolicy.KEEP
    disabled, soft, hard = people(tenant)[:3]
    tenant.update_user(disabled["id"], accountEnabled=False)
    tenant.delete_user(soft["id"])
    tenant.delete_user(hard["id"], hard=True)

    delta = await harness.run(conn)
    assert delta.mode is SyncMode.DELTA and delta.removed == 2
    # Guests out of scope (W5), the deleted users absent from a full round.
    await configure_import(harness.rt, harness.caller, conn.id, ImportSettings())
    full = await harness.run(conn)

    assert full.mode is SyncMode.FULL and full.skipped_filter > 0
    for run in (delta, full):
        assert (run.deactivated, run.reactivated) == (0, 0)
    assert not await EndUser.filter(active=False).exists()
    assert not await ChangeLogEntry.filter(action__in=LIFECYCLE_ACTIONS).exists()
    user = await assert_active(disabled["id"])
    assert user.account_enabled is False  # S8: synced like any other field, nothing more


async def test_mark_inactive_disabled_user_through_delta_and_full_rounds(
    harness: Harness,
) -> None:
    tenant = harness.tenant
    conn = await harness.connect()
    await mark_inactive(conn)
    await harness.run(conn)
    first, second = people(tenant)[:2]
    tenant.update_user(first["id"], accountEnabled=False)

    delta = await harness.run(conn)

    assert delta.mode is SyncMode.DELTA
    assert (delta.deactivated, delta.reactivated, delta.updated) == (1, 0, 1)
    user = await assert_inactive(first["id"], InactiveReason.DISABLED)
    row = (await lifecycle_log(delta))[first["id"]]
    assert (row.action, row.reason, row.end_user_id, row.email) == (
        ChangeAction.INACTIVE,
        "DISABLED",
        user.id,
        user.email,
    )
    assert row.changes == {"active": ["true", "false"], "inactive_reason": ["", "DISABLED"]}
    quiet = await harness.run(conn)  # S10: nothing changed, nothing written
    assert (quiet.fetched, quiet.deactivated) == (0, 0)

    tenant.update_user(first["id"], accountEnabled=True)
    back = await harness.run(conn)

    assert (back.deactivated, back.reactivated) == (0, 1)
    await assert_active(first["id"])
    row = (await lifecycle_log(back))[first["id"]]
    assert (row.action, row.reason) == (ChangeAction.ACTIVE, "RETURNED")
    assert row.changes == {"active": ["false", "true"], "inactive_reason": ["DISABLED", ""]}

    tenant.update_user(second["id"], accountEnabled=False)
    await request_full_round(conn.id)
    full = await harness.run(conn)

    assert full.mode is SyncMode.FULL and (full.deactivated, full.reactivated) == (1, 0)
    await assert_inactive(second["id"], InactiveReason.DISABLED)
    await assert_active(first["id"])
    await request_full_round(conn.id)
    again = await harness.run(conn)
    assert (again.deactivated, again.reactivated, again.updated) == (0, 0, 0)


async def test_mark_inactive_creates_disabled_users_inactive_at_import(harness: Harness) -> None:
    tenant = harness.tenant
    conn = await harness.connect()
    await mark_inactive(conn)
    disabled = [u["id"] for u in tenant.users.values() if not u["accountEnabled"] and u["userType"]]

    run = await harness.run(conn)

    inactive = await EndUser.filter(active=False).values_list("entra_object_id", flat=True)
    assert disabled and set(inactive) == set(disabled)
    assert run.deactivated == len(disabled)
    log = await lifecycle_log(run)
    assert {row.reason for row in log.values()} == {"DISABLED"}
    assert all(row.end_user_id for row in log.values())  # the new rows' real ids


async def test_mark_inactive_deleted_users_through_a_delta_round_and_restore(
    harness: Harness,
) -> None:
    tenant = harness.tenant
    conn = await harness.connect()
    await harness.run(conn)
    await mark_inactive(conn)
    soft, hard = people(tenant)[:2]
    tenant.delete_user(soft["id"])
    tenant.delete_user(hard["id"], hard=True)

    run = await harness.run(conn)

    assert run.mode is SyncMode.DELTA
    assert (run.removed, run.deactivated) == (2, 2)
    await assert_inactive(soft["id"], InactiveReason.SOFT_DELETED)
    await assert_inactive(hard["id"], InactiveReason.DELETED)
    actions = await ChangeLogEntry.filter(run_id=run.id, entra_object_id=soft["id"]).values_list(
        "action", "reason"
    )
    assert sorted(actions) == [
        (ChangeAction.INACTIVE, "SOFT_DELETED"),
        (ChangeAction.REMOVED, "changed"),
    ]
    assert await EndUser.filter(entra_object_id=hard["id"]).exists()  # never deleted

    tenant.restore_user(soft["id"])
    restored = await harness.run(conn)

    assert (restored.reactivated, restored.deactivated) == (1, 0)
    await assert_active(soft["id"])
    await assert_inactive(hard["id"], InactiveReason.DELETED)


async def test_mark_inactive_users_absent_from_a_complete_full_round_are_deleted(
    harness: Harness,
) -> None:
    tenant = harness.tenant
    conn = await harness.connect()
    await mark_inactive(conn)
    await harness.run(conn)
    soft, hard = people(tenant)[:2]
    tenant.delete_user(soft["id"])  # /users omits soft-deleted users too
    tenant.delete_user(hard["id"], hard=True)
    await request_full_round(conn.id)

    full = await harness.run(conn)

    assert full.mode is SyncMode.FULL and full.deactivated == 2
    for person in (soft, hard):
        await assert_inactive(person["id"], InactiveReason.DELETED)
    log = await lifecycle_log(full)
    assert {(r.action, r.reason) for r in log.values()} == {(ChangeAction.INACTIVE, "DELETED")}
    assert log[hard["id"]].end_user_id == (await linked(hard["id"])).id

    tenant.restore_user(soft["id"])
    back = await harness.run(conn)  # a delta round: the restored user reappears
    assert back.reactivated == 1
    await assert_active(soft["id"])


async def test_a_cancelled_full_round_deactivates_nobody(harness: Harness) -> None:
    tenant = harness.big_tenant(users=4000)
    conn = await harness.connect(domain=tenant.domain)
    await mark_inactive(conn)
    await harness.run(conn)
    gone = people(tenant)[0]
    tenant.delete_user(gone["id"], hard=True)
    await request_full_round(conn.id)
    harness.sim.state.faults.page_delay = 0.3
    run = await harness.start(conn)
    # Cancelled while pages still come: in the guard's check (which plans every page before
    # writing any) or, without the guard, among the writes.
    await wait_until(lambda: _paging(run))

    await cancel_sync(harness.rt, harness.caller, run.id)
    cancelled = await harness.wait(run)

    assert cancelled.status is RunStatus.CANCELLED and cancelled.mode is SyncMode.FULL
    assert cancelled.deactivated == 0
    await assert_active(gone["id"])
    harness.sim.state.faults.page_delay = 0.0
    full = await harness.run(conn)
    assert (full.mode, full.deactivated) == (SyncMode.FULL, 1)
    await assert_inactive(gone["id"], InactiveReason.DELETED)


async def _paging(run: SyncRun) -> bool:
    return await run_field(run, "phase") in ("mass-change check", "users")


async def test_mark_inactive_out_of_scope_user_types_full_and_delta(harness: Harness) -> None:
    tenant = harness.tenant
    conn = await harness.connect()
    await mark_inactive(conn)
    await harness.run(conn)
    guests = set(
        await EndUser.filter(user_type="Guest", active=True).values_list(
            "entra_object_id", flat=True
        )
    )
    assert guests

    await configure_import(harness.rt, harness.caller, conn.id, ImportSettings())  # MEMBER only
    full = await harness.run(conn)

    assert full.mode is SyncMode.FULL and full.deactivated == len(guests)
    for object_id in guests:
        await assert_inactive(str(object_id), InactiveReason.OUT_OF_SCOPE)
    convert = people(tenant)[0]
    tenant.update_user(convert["id"], userType="Guest")
    delta = await harness.run(conn)
    assert (delta.mode, delta.deactivated, delta.skipped_filter) == (SyncMode.DELTA, 1, 1)
    await assert_inactive(convert["id"], InactiveReason.OUT_OF_SCOPE)

    await configure_import(
        harness.rt, harness.caller, conn.id, ImportSettings(user_types=BOTH_TYPES)
    )
    back = await harness.run(conn)

    assert back.reactivated == len(guests) + 1
    assert not await EndUser.filter(inactive_reason=InactiveReason.OUT_OF_SCOPE).exists()


async def test_mark_inactive_w3_unmapped_office_is_out_of_scope_in_delta_and_full_rounds(
    harness: Harness,
) -> None:
    tenant = harness.tenant
    offices = {u["officeLocation"] or "Undefined" for u in tenant.users.values()}
    settings = ImportSettings(
        classification=Classification.OFFICE,
        mappings=tuple(MappingInput(office, harness.site.id) for office in sorted(offices)),
        user_types=BOTH_TYPES,
    )
    conn = await harness.connect(settings, scope="ACCOUNT")
    await mark_inactive(conn)
    await harness.run(conn)
    mover, stayer = people(tenant)[:2]
    home = mover["officeLocation"]
    tenant.update_user(mover["id"], officeLocation="Atlantis")  # mapped to no site

    delta = await harness.run(conn)

    assert (delta.mode, delta.skipped_unmapped, delta.deactivated) == (SyncMode.DELTA, 1, 1)
    await assert_inactive(mover["id"], InactiveReason.OUT_OF_SCOPE)
    tenant.update_user(mover["id"], officeLocation=home)
    tenant.update_user(stayer["id"], officeLocation="Atlantis")
    await request_full_round(conn.id)
    full = await harness.run(conn)
    assert (full.mode, full.deactivated, full.reactivated) == (SyncMode.FULL, 1, 1)
    await assert_active(mover["id"])
    await assert_inactive(stayer["id"], InactiveReason.OUT_OF_SCOPE)


async def test_mark_inactive_group_leaver_is_out_of_scope_in_a_delta_round_and_returns(
    harness: Harness,
) -> None:
    tenant = harness.tenant
    company = next(g for g in tenant.groups.values() if g["displayName"] == "All Company")
    settings = ImportSettings(
        group_filter=GroupFilter.SELECTED,
        selected_group_ids=(company["id"],),
        user_types=BOTH_TYPES,
    )
    conn = await harness.connect(settings)
    await mark_inactive(conn)
    await harness.run(conn)
    members = set(tenant.member_ids(company["id"], transitive=True))
    leaver = next(u for u in people(tenant) if u["id"] in members)
    left_in = {g: list(m) for g, m in tenant.members.items() if leaver["id"] in m}
    for group_id in left_in:  # the user object does not change: delta does not list it
        tenant.remove_member(group_id, leaver["id"])

    run = await harness.run(conn)

    assert run.mode is SyncMode.DELTA and run.deactivated == 1
    await assert_inactive(leaver["id"], InactiveReason.OUT_OF_SCOPE)
    quiet = await harness.run(conn)  # an inactive leaver is not looked up again
    assert not await ChangeLogEntry.filter(run_id=quiet.id, entra_object_id=leaver["id"]).exists()
    for group_id in left_in:
        tenant.add_member(group_id, leaver["id"])
    back = await harness.run(conn)
    assert (back.mode, back.reactivated) == (SyncMode.DELTA, 1)
    await assert_active(leaver["id"])


async def test_a_person_s_manual_deactivation_is_never_undone_by_a_sync(harness: Harness) -> None:
    tenant = harness.tenant
    conn = await harness.connect()
    await mark_inactive(conn)
    await harness.run(conn)
    by_hand, was_disabled = people(tenant)[:2]
    user = await linked(by_hand["id"])
    await set_active(harness.caller, user.id, False)
    tenant.update_user(was_disabled["id"], accountEnabled=False)
    await harness.run(conn)
    await assert_inactive(was_disabled["id"], InactiveReason.DISABLED)
    # A person takes over the deactivation: it now stays whatever Entra says.
    await set_active(harness.caller, (await linked(was_disabled["id"])).id, False)
    tenant.update_user(was_disabled["id"], accountEnabled=True)

    delta = await harness.run(conn)
    await request_full_round(conn.id)
    full = await harness.run(conn)

    for run in (delta, full):
        assert run.reactivated == 0
    for person in (by_hand, was_disabled):
        await assert_inactive(person["id"], InactiveReason.MANUAL)
    await set_active(harness.caller, user.id, True)
    await assert_active(by_hand["id"])
    assert (await harness.run(conn)).deactivated == 0


async def test_keep_active_pin_is_never_deactivated(harness: Harness) -> None:
    tenant = harness.tenant
    conn = await harness.connect()
    await mark_inactive(conn)
    await harness.run(conn)
    disabled, deleted = people(tenant)[:2]
    for person in (disabled, deleted):
        await set_pin(harness.caller, (await linked(person["id"])).id, UserPin.KEEP_ACTIVE)
    tenant.update_user(disabled["id"], accountEnabled=False, jobTitle="Pinned")
    tenant.delete_user(deleted["id"], hard=True)

    delta = await harness.run(conn)
    await request_full_round(conn.id)
    full = await harness.run(conn)

    for run in (delta, full):
        assert run.deactivated == 0
    for person in (disabled, deleted):
        await assert_active(person["id"])
    assert (await linked(disabled["id"])).job_title == "Pinned"  # still synced


async def test_exclude_pin_is_never_touched_by_any_sync_whatever_the_policy(
    harness: Harness,
) -> None:
    tenant = harness.tenant
    conn = await harness.connect()
    await harness.run(conn)
    kept, gone = people(tenant)[:2]
    pinned = await linked(kept["id"])
    for person in (kept, gone):
        await set_pin(harness.caller, (await linked(person["id"])).id, UserPin.EXCLUDE)
    tenant.update_user(kept["id"], jobTitle="Excluded title", accountEnabled=False)

    keep_run = await harness.run(conn)  # policy KEEP: the pin applies all the same

    assert keep_run.mode is SyncMode.DELTA
    assert (keep_run.updated, keep_run.skipped_filter) == (0, 2)  # edited (pinned): looked up
    row = await ChangeLogEntry.get(run_id=keep_run.id, entra_object_id=kept["id"])
    assert (row.action, row.reason, row.end_user_id) == (
        ChangeAction.SKIP,
        "PINNED_EXCLUDE",
        pinned.id,
    )
    await mark_inactive(conn)
    tenant.delete_user(gone["id"], hard=True)
    delta = await harness.run(conn)
    await request_full_round(conn.id)
    full = await harness.run(conn)

    for run in (delta, full):
        assert run.updated == 0
        assert not await ChangeLogEntry.filter(
            run_id=run.id,
            entra_object_id__in=[kept["id"], gone["id"]],
            action__in=LIFECYCLE_ACTIONS,
        ).exists()
    assert full.skipped_filter >= 1
    after = await EndUser.get(id=pinned.id)
    assert (after.job_title, after.account_enabled, after.active) == (
        pinned.job_title,
        pinned.account_enabled,
        True,
    )
    await assert_active(gone["id"])

    await set_pin(harness.caller, pinned.id, None)
    unpinned = await harness.run(conn)  # a delta round looks the unpinned user up at once
    assert unpinned.deactivated == 1
    after = await assert_inactive(kept["id"], InactiveReason.DISABLED)
    assert after.job_title == "Excluded title"


async def test_dry_run_reports_deactivations_and_writes_nothing(harness: Harness) -> None:
    tenant = harness.tenant
    conn = await harness.connect()
    await mark_inactive(conn)
    await harness.run(conn)
    disabled, deleted = people(tenant)[:2]
    tenant.update_user(disabled["id"], accountEnabled=False)
    tenant.delete_user(deleted["id"])
    before = await EndUser.all().order_by("id").values()

    dry_delta = await harness.run(conn, dry_run=True)
    await request_full_round(conn.id)
    dry_full = await harness.run(conn, dry_run=True)

    assert dry_delta.mode is SyncMode.DELTA and dry_full.mode is SyncMode.FULL
    for run in (dry_delta, dry_full):
        assert run.deactivated == 2
        assert set(await lifecycle_log(run)) == {disabled["id"], deleted["id"]}
    assert (await lifecycle_log(dry_full))[deleted["id"]].reason == "DELETED"
    assert await EndUser.all().order_by("id").values() == before
    real = await harness.run(conn)
    assert real.deactivated == 2


async def test_shared_mailbox_exemption_reads_mailbox_purpose_of_the_few_disabled_users(
    harness: Harness,
) -> None:
    tenant = harness.tenant
    conn = await harness.connect()
    # App-only with MailboxSettings.Read, the one way to read other users' mailbox settings.
    harness.sim.state.grants.grant_consent(
        tenant.tenant_id,
        DEMO_APP.client_id,
        app_roles={"User.Read.All", "GroupMember.Read.All", "MailboxSettings.Read"},
    )
    await TenantConnection.filter(id=conn.id).update(
        auth_mode=AuthMode.APP_ONLY, token_cache=None, home_account_id=None
    )
    await mark_inactive(conn, exempt_shared=True)
    since = len(harness.sim.state.requests)

    first = await harness.run(conn)

    disabled = {u["id"] for u in tenant.users.values() if not u["accountEnabled"]}
    shared = disabled & set(tenant.mailboxes)
    assert shared and disabled - shared
    for object_id in shared:
        await assert_active(object_id)
    for object_id in disabled - shared:
        await assert_inactive(object_id, InactiveReason.DISABLED)
    assert first.deactivated == len(disabled - shared)
    looked_up = _mailbox_lookups(harness, since)
    assert sorted(looked_up) == sorted(disabled)  # only those about to be deactivated
    person, room = people(tenant)[:2]
    tenant.set_mailbox_purpose(room["id"], "room")
    for user in (person, room):
        tenant.update_user(user["id"], accountEnabled=False)
    since = len(harness.sim.state.requests)

    delta = await harness.run(conn)

    assert (delta.mode, delta.deactivated) == (SyncMode.DELTA, 1)
    await assert_inactive(person["id"], InactiveReason.DISABLED)
    await assert_active(room["id"])
    assert sorted(_mailbox_lookups(harness, since)) == sorted([person["id"], room["id"]])


def _mailbox_lookups(harness: Harness, since: int) -> list[str]:
    return [
        r.path.split("/")[3]
        for r in harness.sim.state.requests[since:]
        if r.path.endswith("/mailboxSettings")
    ]


async def test_shared_mailbox_exemption_without_permission_keeps_disabled_users_active(
    harness: Harness,
) -> None:
    tenant = harness.tenant
    conn = await harness.connect()  # delegated: reads no other user's mailbox settings
    await harness.run(conn)
    await mark_inactive(conn, exempt_shared=True)
    disabled, deleted = people(tenant)[:2]
    tenant.update_user(disabled["id"], accountEnabled=False)
    tenant.delete_user(deleted["id"])

    run = await harness.run(conn)

    assert run.status is RunStatus.SUCCEEDED and run.deactivated == 1
    await assert_active(disabled["id"])
    await assert_inactive(deleted["id"], InactiveReason.SOFT_DELETED)
    row = await ChangeLogEntry.get(run_id=run.id, entra_object_id=disabled["id"], action="SKIP")
    assert row.reason == "MAILBOX_UNKNOWN"
    assert (await TenantConnection.get(id=conn.id)).status is ConnectionStatus.CONNECTED


async def test_mass_change_guard_counts_deactivations(harness: Harness) -> None:
    tenant = harness.big_tenant(users=50, domain="guarded.example")
    conn = await harness.connect(domain="guarded.example")
    await harness.run(conn)
    disabled = people(tenant)[:30]
    for person in disabled:
        tenant.update_user(person["id"], accountEnabled=False)
    await harness.guard_off(conn)
    await harness.run(conn)  # KEEP: only accountEnabled moves
    await set_threshold(harness.caller, conn.id, 0.5)
    await mark_inactive(conn)
    await request_full_round(conn.id)
    # Disabled now: the 30, and those (shared mailboxes) that were from the start.
    expected = await EndUser.filter(account_enabled=False).count()
    assert expected >= len(disabled)

    paused = await harness.run(conn, status=RunStatus.AWAITING_APPROVAL)

    # Nothing else changes: the deactivations alone trip the guard.
    assert paused.guard_affected == expected
    assert paused.deactivated == expected  # what it would have done
    assert not await EndUser.filter(active=False).exists()
    await approve_run(harness.rt, harness.caller, paused.id)
    done = await harness.wait(paused)
    assert done.status is RunStatus.SUCCEEDED and done.deactivated == expected
    assert await EndUser.filter(active=False).count() == expected


async def test_lifecycle_counters_and_fields_are_exposed_over_graphql(
    harness: Harness, sim_client: httpx.AsyncClient
) -> None:
    tenant = harness.tenant
    conn = await harness.connect()
    await harness.run(conn)
    await mark_inactive(conn)
    person = people(tenant)[0]
    tenant.update_user(person["id"], accountEnabled=False)
    run = await harness.run(conn)
    query = """
      query($r: ID!) {
        node(id: $r) { ... on SyncRun { deactivated reactivated } }
        changeLog(runId: $r, action: INACTIVE, first: 10) {
          edges { node { reason reasonMessage } }
        }
        endUsers(filter: {active: false}, first: 10) {
          edges { node { entraObjectId active inactiveReason inactiveSince pin } }
        }
      }
    """
    body = await gql(
        sim_client, harness.account.admin_key, query, {"r": encode_id("SyncRun", run.id)}
    )

    assert "errors" not in body, body
    data = body["data"]
    assert data["node"] == {"deactivated": 1, "reactivated": 0}
    (entry,) = [e["node"] for e in data["changeLog"]["edges"]]
    assert entry["reason"] == "DISABLED" and "disabled" in entry["reasonMessage"]
    (user,) = [e["node"] for e in data["endUsers"]["edges"]]
    assert user["entraObjectId"] == person["id"]
    assert (user["active"], user["inactiveReason"], user["pin"]) == (False, "DISABLED", None)
    assert user["inactiveSince"]


async def test_a_guarded_full_round_reactivates_unchanged_returning_users(
    harness: Harness,
) -> None:
    # The guard's check keeps only the users a round writes or logs: a returning user whose
    # fields did not change is such a user (its reactivation), and so is a deactivation.
    tenant = harness.big_tenant(users=60, domain="returning.example")
    conn = await harness.connect(domain="returning.example")
    await mark_inactive(conn)
    await harness.run(conn)
    leavers = people(tenant)[:3]
    guests = [u["id"] for u in tenant.users.values() if u["userType"] == "Guest"]
    leavers = [
        str(i)
        for i in await EndUser.filter(entra_object_id__in=guests).values_list(
            "entra_object_id", flat=True
        )
    ]
    assert 0 < len(leavers) < 20  # few enough to pass the guard
    await configure_import(harness.rt, harness.caller, conn.id, ImportSettings())  # MEMBER only
    out = await harness.run(conn)
    assert out.mode is SyncMode.FULL and out.guard_imported is not None  # the guard checked it
    for object_id in leavers:
        await assert_inactive(object_id, InactiveReason.OUT_OF_SCOPE)
    active_before = await EndUser.filter(active=True).count()

    # Guests again: they return unchanged (no field moved in Entra), only their activity does.
    await configure_import(
        harness.rt, harness.caller, conn.id, ImportSettings(user_types=BOTH_TYPES)
    )
    back = await harness.run(conn)

    assert back.mode is SyncMode.FULL and back.guard_imported is not None
    assert (back.reactivated, back.deactivated, back.updated) == (len(leavers), 0, 0)
    for object_id in leavers:
        await assert_active(object_id)
    assert await EndUser.filter(active=True).count() == active_before + len(leavers)
