"""Issue 6's richer filters and per-field rules through full and delta runs, and their preview."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

import pytest

from models import (
    ChangeAction,
    ChangeLogEntry,
    EndUser,
    RunStatus,
    SyncMode,
    SyncRun,
    TenantConnection,
)
from services.errors import NotFound, PreviewRequired
from services.policies import PolicyChanges, preview_policies, update_policies
from services.sync.config import DEFAULT_FIELD_RULES, Policies
from services.sync.delta import request_full_round
from services.sync.engine import PREVIEW_REASON
from services.sync.fields import OPTIONAL_FIELDS
from services.wizard import ImportSettings, configure_import
from simulator.tenant import SimTenant

from .conftest import BOTH_TYPES, Harness

CONFIG_CHANGED = "the import configuration changed since the last round"
S4_NAMES = {"email", "source", "first_name", "last_name", "job_title", "phone", "mobile"}
POLICY_COLUMNS = (
    "config_version",
    "delta_link",
    "field_rules",
    "filter_enabled_only",
    "filter_licensed_only",
    "include_domains",
    "exclude_domains",
    "exclusion_patterns",
    "lifecycle_policy",
    "review_conflicts",
)


async def preview(harness: Harness, conn: TenantConnection, changes: PolicyChanges) -> SyncRun:
    run = await preview_policies(harness.rt, harness.caller, conn.id, changes)
    done = await harness.wait(run)
    assert done.status is RunStatus.SUCCEEDED, done.error_message
    return done


async def save(harness: Harness, conn: TenantConnection, **values: Any) -> SyncRun:
    """Preview the policies, then save them with that preview; returns the preview."""
    changes = PolicyChanges(**values)
    run = await preview(harness, conn, changes)
    await update_policies(harness.caller, conn.id, changes, run.id)
    return run


async def row(conn: TenantConnection) -> dict[str, Any]:
    values = await TenantConnection.filter(id=conn.id).values(*POLICY_COLUMNS)
    return values[0]


async def by_object(object_id: str) -> EndUser:
    return await EndUser.get(entra_object_id=object_id)


async def log_of(run: SyncRun) -> dict[str, ChangeLogEntry]:
    return {e.entra_object_id: e for e in await ChangeLogEntry.filter(run_id=run.id)}


def people(tenant: SimTenant) -> list[dict[str, Any]]:
    """Generated members with a name and a mail, past the planted S11 oddities."""
    return [
        u
        for u in list(tenant.users.values())[1:]
        if u["userType"] == "Member" and u["givenName"] and u["mail"]
    ][6:]


def count(tenant: SimTenant, predicate: Any) -> int:
    return sum(1 for u in tenant.users.values() if predicate(u))


async def full_round_changes_nothing(harness: Harness, conn: TenantConnection) -> None:
    before = await harness.users()
    await request_full_round(conn.id)
    full = await harness.run(conn)
    assert full.mode is SyncMode.FULL and (full.created, full.updated) == (0, 0)
    assert await harness.users() == before


# --- defaults ------------------------------------------------------------------------------


async def test_default_policies_run_is_the_spec_run_and_explicit_defaults_change_nothing(
    harness: Harness,
) -> None:
    conn = await harness.connect()
    first = await harness.run(conn)
    state = await harness.synced_state()
    # Nothing more is read from Graph either (assignedLicenses only for licensed-only).
    queries = [
        unquote(r.query) for r in harness.sim.state.requests if r.path.startswith("/v1.0/users")
    ]
    assert queries and not any("assignedLicenses" in q for q in queries)
    # S4 fields only: the optional columns are never written by default.
    for entry in await harness.changes(first):
        assert set(entry.changes) - {"trims"} <= S4_NAMES
    assert not await EndUser.filter(
        account_id=harness.account.account.id, department__not=""
    ).exists()
    assert first.skipped_filter == 0  # disabled, unlicensed, shared: all imported (S8)

    # Every default named explicitly: nothing to preview, nothing would change.
    explicit = PolicyChanges(
        field_rules=[(name, rule) for name, rule in _api_rules(DEFAULT_FIELD_RULES).items()],
        enabled_only=False,
        licensed_only=False,
        include_domains=[],
        exclude_domains=[],
        exclusion_patterns=[],
    )
    before = await row(conn)
    await update_policies(harness.caller, conn.id, explicit, None)
    assert await row(conn) == before  # no config_version bump: no full round forced
    dry = await preview(harness, conn, explicit)
    assert (dry.created, dry.updated, dry.skipped_filter) == (0, 0, 0)
    again = await harness.run(conn)
    assert again.mode is SyncMode.DELTA and (again.created, again.updated) == (0, 0)
    assert await harness.synced_state() == state
    await full_round_changes_nothing(harness, conn)


def _api_rules(rules: Any) -> dict[str, str]:
    from services.policies import API_NAMES

    return {API_NAMES[name]: rule for name, rule in rules.items()}


# --- the preview ---------------------------------------------------------------------------


async def test_preview_writes_nothing_but_its_run_and_change_log(harness: Harness) -> None:
    tenant = harness.tenant
    conn = await harness.connect()
    await harness.run(conn)
    users_before, conn_before = await harness.users(), await row(conn)
    assert conn_before["delta_link"]  # the next run of the saved configuration is a delta round
    changes = PolicyChanges(enabled_only=True, field_rules=[("department", "OVERWRITE")])

    run = await preview(harness, conn, changes)

    assert run.dry_run and run.mode is SyncMode.FULL and run.mode_reason == PREVIEW_REASON
    assert (
        run.proposed_policies
        == Policies(enabled_only=True, field_rules={"department": "OVERWRITE"}).to_json()
    )
    assert await harness.users() == users_before  # updated_at included
    assert await row(conn) == conn_before
    disabled = count(tenant, lambda u: u["accountEnabled"] is False)
    assert run.skipped_filter == disabled
    log = await log_of(run)
    skipped = [e for e in log.values() if e.reason == "FILTERED_DISABLED"]
    assert len(skipped) == disabled and all(e.action is ChangeAction.SKIP for e in skipped)
    person = next(u for u in people(tenant) if u["department"] and u["accountEnabled"])
    assert log[person["id"]].action is ChangeAction.UPDATE
    assert log[person["id"]].changes == {"department": ["", person["department"]]}
    # The saved configuration runs as before: a delta round with nothing to do.
    after = await harness.run(conn)
    assert after.mode is SyncMode.DELTA and (after.updated, after.skipped_filter) == (0, 0)


async def test_save_is_refused_without_a_matching_succeeded_preview(harness: Harness) -> None:
    conn = await harness.connect()
    other = await harness.connect(domain="fabrikam.example", site=await _site(harness))
    wanted = PolicyChanges(exclusion_patterns=["svc-*"])
    before = await row(conn)

    with pytest.raises(PreviewRequired, match="previewSyncPolicies"):
        await update_policies(harness.caller, conn.id, wanted, None)
    other_policies = await preview(harness, conn, PolicyChanges(exclusion_patterns=["room-*"]))
    with pytest.raises(PreviewRequired, match="other policies"):
        await update_policies(harness.caller, conn.id, wanted, other_policies.id)
    plain = await harness.run(conn, dry_run=True)  # a dry run of the saved policies
    with pytest.raises(PreviewRequired, match="not a preview"):
        await update_policies(harness.caller, conn.id, wanted, plain.id)
    elsewhere = await preview(harness, other, wanted)
    with pytest.raises(PreviewRequired, match="not a preview"):
        await update_policies(harness.caller, conn.id, wanted, elsewhere.id)
    failed = await SyncRun.create(
        account_id=conn.account_id,
        connection_id=conn.id,
        dry_run=True,
        status=RunStatus.FAILED,
        proposed_policies=Policies(exclusion_patterns=("svc-*",)).to_json(),
    )
    with pytest.raises(PreviewRequired, match="FAILED"):
        await update_policies(harness.caller, conn.id, wanted, failed.id)
    with pytest.raises(NotFound):
        await update_policies(harness.caller, conn.id, wanted, 2**31 - 1)
    good = await preview(harness, conn, wanted)
    await configure_import(
        harness.rt, harness.caller, conn.id, ImportSettings(user_types=BOTH_TYPES)
    )
    with pytest.raises(PreviewRequired, match="configuration changed"):
        await update_policies(harness.caller, conn.id, wanted, good.id)
    assert {k: v for k, v in (await row(conn)).items() if k != "config_version"} == {
        k: v for k, v in before.items() if k != "config_version"
    }

    # Lifecycle and review settings need no preview; the next run is a full round, so that
    # they reach users Entra did not change.
    version = (await row(conn))["config_version"]
    await update_policies(
        harness.caller,
        conn.id,
        PolicyChanges(lifecycle="MARK_INACTIVE", review_conflicts=True),
        None,
    )
    saved = await row(conn)
    assert (saved["lifecycle_policy"], saved["review_conflicts"]) == ("MARK_INACTIVE", True)
    assert saved["config_version"] == version + 1

    # A preview of exactly the new policies (lifecycle included) is what saves them.
    good = await preview(harness, conn, wanted)
    await update_policies(harness.caller, conn.id, wanted, good.id)
    saved = await row(conn)
    assert saved["exclusion_patterns"] == ["svc-*"] and saved["config_version"] == version + 2


async def _site(harness: Harness) -> Any:
    from tests.factories import make_site

    return await make_site(harness.account.account, "Branch")


# --- filters through full and delta runs ---------------------------------------------------


async def test_enabled_only_filter_through_full_and_delta_runs(harness: Harness) -> None:
    tenant = harness.tenant
    conn = await harness.connect()
    await harness.guard_off(conn)
    await harness.run(conn)  # everyone imported, disabled accounts too (S8)
    disabled = [u for u in tenant.users.values() if u["accountEnabled"] is False]
    await save(harness, conn, enabled_only=True)
    frozen = {u["id"]: (await by_object(u["id"])).updated_at for u in disabled[:3]}
    for user in disabled[:3]:
        tenant.update_user(user["id"], jobTitle="Changed while disabled")

    full = await harness.run(conn)

    assert (full.mode, full.mode_reason) == (SyncMode.FULL, CONFIG_CHANGED)
    assert full.skipped_filter == len(disabled)
    log = await log_of(full)
    for user in disabled[:3]:
        assert log[user["id"]].reason == "FILTERED_DISABLED"
        stored = await by_object(user["id"])  # S5: left as it was
        assert stored.updated_at == frozen[user["id"]]
        assert stored.job_title != "Changed while disabled"

    leaver = next(u for u in people(tenant) if u["accountEnabled"])
    returner = disabled[0]
    tenant.update_user(leaver["id"], accountEnabled=False, jobTitle="Gone")
    tenant.update_user(returner["id"], accountEnabled=True)

    delta = await harness.run(conn)

    assert delta.mode is SyncMode.DELTA
    assert (delta.skipped_filter, delta.updated) == (1, 1)
    log = await log_of(delta)
    assert log[leaver["id"]].reason == "FILTERED_DISABLED"
    assert (await by_object(leaver["id"])).job_title != "Gone"
    assert log[returner["id"]].action is ChangeAction.UPDATE
    assert (await by_object(returner["id"])).job_title == "Changed while disabled"
    await full_round_changes_nothing(harness, conn)


async def test_licensed_only_filter_through_full_and_delta_runs(harness: Harness) -> None:
    tenant = harness.tenant
    conn = await harness.connect()
    since = len(harness.sim.state.requests)
    preview_run = await save(harness, conn, licensed_only=True)
    unlicensed = [u for u in tenant.users.values() if not u["assignedLicenses"]]
    assert preview_run.skipped_filter == len(unlicensed) > 0
    selects = [
        unquote(r.query)
        for r in harness.sim.state.requests[since:]
        if r.path in ("/v1.0/users", "/v1.0/users/delta") and "$select" in unquote(r.query)
    ]
    assert selects and all("assignedLicenses" in q for q in selects)

    first = await harness.run(conn)

    assert first.skipped_filter == len(unlicensed)
    assert first.created == len(tenant.users) - len(unlicensed) - first.errors
    for user in unlicensed:
        assert not await EndUser.exists(entra_object_id=user["id"])
    lapsed = next(u for u in people(tenant) if u["assignedLicenses"])
    newly = next(u for u in unlicensed if u["userType"] == "Member" and u["givenName"])
    tenant.update_user(lapsed["id"], assignedLicenses=[], jobTitle="Lapsed")
    tenant.update_user(newly["id"], assignedLicenses=[{"disabledPlans": [], "skuId": "sku-1"}])

    delta = await harness.run(conn)

    assert delta.mode is SyncMode.DELTA
    log = await log_of(delta)
    assert log[lapsed["id"]].reason == "FILTERED_UNLICENSED"
    assert (await by_object(lapsed["id"])).job_title != "Lapsed"
    assert log[newly["id"]].action is ChangeAction.CREATE
    assert await EndUser.exists(entra_object_id=newly["id"])
    # A license change alone is enough for delta to report the user ($select tracks it).
    tenant.update_user(lapsed["id"], assignedLicenses=[{"disabledPlans": [], "skuId": "sku-1"}])
    back = await harness.run(conn)
    assert back.mode is SyncMode.DELTA and (back.fetched, back.updated) == (1, 1)
    assert (await by_object(lapsed["id"])).job_title == "Lapsed"
    await full_round_changes_nothing(harness, conn)


async def test_domain_filters_through_full_and_delta_runs(harness: Harness) -> None:
    tenant = harness.tenant
    partner = tenant.add_user(
        displayName="Pat Partner",
        givenName="Pat",
        userPrincipalName="pat@Partner.example",
        mail="pat@partner.example",
    )
    conn = await harness.connect()
    await harness.guard_off(conn)
    await save(harness, conn, include_domains=["@CONTOSO.example"], exclude_domains=["gmail.com"])
    assert (await row(conn))["include_domains"] == ["contoso.example"]

    first = await harness.run(conn)

    # Guests are matched by their own mail (UPN mode): their home domains are not included.
    outside = count(
        tenant,
        lambda u: u["userType"] == "Guest" or u["userPrincipalName"].endswith("@Partner.example"),
    )
    assert first.skipped_filter == outside
    assert (await log_of(first))[partner["id"]].reason == "FILTERED_DOMAIN"
    assert not await EndUser.exists(entra_object_id=partner["id"])

    newcomer = tenant.add_user(
        displayName="Nia New", givenName="Nia", userPrincipalName="nia@partner.example"
    )
    insider = tenant.add_user(
        displayName="Ian In", givenName="Ian", userPrincipalName="ian@contoso.example"
    )
    delta = await harness.run(conn)
    assert delta.mode is SyncMode.DELTA
    log = await log_of(delta)
    assert log[newcomer["id"]].reason == "FILTERED_DOMAIN"
    assert log[insider["id"]].action is ChangeAction.CREATE
    await full_round_changes_nothing(harness, conn)


async def test_exclusion_patterns_through_full_and_delta_runs(harness: Harness) -> None:
    tenant = harness.tenant
    service = tenant.add_user(
        displayName="Backup service",
        userPrincipalName="svc-backup@contoso.example",
        mail="svc-backup@contoso.example",
    )
    room = tenant.add_user(
        displayName="Room Oslo 4.12",
        userPrincipalName="oslo412@contoso.example",
        mail="oslo412@contoso.example",
    )
    conn = await harness.connect()
    preview_run = await save(harness, conn, exclusion_patterns=["SVC-*", "room *"])
    assert preview_run.skipped_filter == 2

    first = await harness.run(conn)

    log = await log_of(first)
    assert (log[service["id"]].reason, log[room["id"]].reason) == (
        "FILTERED_PATTERN",
        "FILTERED_PATTERN",
    )
    assert first.skipped_filter == 2
    renamed = people(tenant)[0]
    stored = await by_object(renamed["id"])
    tenant.update_user(renamed["id"], displayName="Room Paris", jobTitle="Meeting room")
    newcomer = tenant.add_user(displayName="Svc", userPrincipalName="svc-mail@contoso.example")

    delta = await harness.run(conn)

    assert delta.mode is SyncMode.DELTA and delta.skipped_filter == 2
    log = await log_of(delta)
    assert log[renamed["id"]].reason == "FILTERED_PATTERN"
    assert log[newcomer["id"]].reason == "FILTERED_PATTERN"
    assert (await by_object(renamed["id"])).job_title == stored.job_title
    await full_round_changes_nothing(harness, conn)


# --- field rules through full and delta runs -----------------------------------------------


async def test_field_rules_through_full_and_delta_runs(harness: Harness) -> None:
    tenant = harness.tenant
    conn = await harness.connect()
    await save(
        harness,
        conn,
        field_rules=[
            ("department", "OVERWRITE"),
            ("office", "KEEP_WHEN_BLANK"),
            ("displayName", "CREATE_ONLY"),
            ("jobTitle", "CREATE_ONLY"),
            ("phone", "NOT_SYNCED"),
            ("mobile", "OVERWRITE"),
        ],
    )
    assert (await row(conn))["field_rules"] == {
        "department": "OVERWRITE",
        "office": "KEEP_WHEN_BLANK",
        "display_name": "CREATE_ONLY",
        "job_title": "CREATE_ONLY",
        "phone": "NOT_SYNCED",
        "mobile": "OVERWRITE",
    }

    await harness.run(conn)

    person = next(
        u
        for u in people(tenant)
        if u["department"]
        and u["officeLocation"]
        and u["jobTitle"]
        and u["businessPhones"]
        and u["mobilePhone"]
    )
    created = await by_object(person["id"])
    assert (created.department, created.office, created.display_name) == (
        person["department"],
        person["officeLocation"],
        person["displayName"],
    )
    assert (created.job_title, created.phone, created.manager_email) == (
        person["jobTitle"],
        "",
        "",
    )
    assert not await EndUser.filter(account_id=conn.account_id, phone__not="").exists()
    person = dict(person)  # the simulator updates its own dict
    tenant.update_user(
        person["id"],
        department="Delta Department",
        officeLocation=None,
        displayName="Renamed Person",
        jobTitle="Renamed Title",
        businessPhones=["+1 999"],
        mobilePhone=None,
    )

    delta = await harness.run(conn)

    assert delta.mode is SyncMode.DELTA and delta.updated == 1
    after = await by_object(person["id"])
    assert (after.department, after.office, after.display_name) == (
        "Delta Department",
        person["officeLocation"],
        person["displayName"],
    )
    assert (after.job_title, after.phone, after.mobile) == (person["jobTitle"], "", "")
    assert (await log_of(delta))[person["id"]].changes == {
        "department": [person["department"], "Delta Department"],
        "mobile": [person["mobilePhone"], ""],
    }
    await full_round_changes_nothing(harness, conn)


async def test_a_new_field_rule_reaches_imported_users_in_the_next_full_round(
    harness: Harness,
) -> None:
    tenant = harness.tenant
    conn = await harness.connect()
    await harness.guard_off(conn)
    await harness.run(conn)
    with_office = count(tenant, lambda u: bool(u["officeLocation"]))
    preview_run = await save(harness, conn, field_rules=[("office", "OVERWRITE")])
    assert preview_run.updated >= with_office - 10  # the planted duplicates are skipped

    run = await harness.run(conn)

    assert (run.mode, run.mode_reason) == (SyncMode.FULL, CONFIG_CHANGED)
    assert run.updated == preview_run.updated  # the preview showed exactly this
    for entry in await harness.changes(run):
        if entry.action is ChangeAction.UPDATE:
            assert set(entry.changes) - {"trims"} == {"office"}
    person = next(u for u in people(tenant) if u["officeLocation"])
    assert (await by_object(person["id"])).office == person["officeLocation"]
    # Back to NOT_SYNCED: the values stay (never erased), nothing more is written.
    await save(harness, conn, field_rules=[("office", "NOT_SYNCED")])
    again = await harness.run(conn)
    assert (again.updated, again.created) == (0, 0)
    assert (await by_object(person["id"])).office == person["officeLocation"]
    assert set(OPTIONAL_FIELDS) == {"department", "office", "display_name", "manager_email"}
