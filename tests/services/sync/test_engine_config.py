"""The import configuration applied by runs (W2-W6): routing, group and user-type filters."""

from __future__ import annotations

from collections import Counter

from models import ChangeLogEntry, Classification, EndUser, GroupFilter, RunStatus, Site
from services.wizard import ImportSettings, MappingInput, configure_import
from tests.factories import make_site, make_user

from .conftest import BOTH_TYPES, Harness


async def _imported_ids(harness: Harness) -> set[str]:
    ids = await EndUser.filter(account_id=harness.account.account.id).values_list(
        "entra_object_id", flat=True
    )
    return {str(i) for i in ids if i is not None}


async def _reasons(harness: Harness, run_id: int) -> dict[str, str]:
    rows = await ChangeLogEntry.filter(run_id=run_id).values_list("entra_object_id", "reason")
    return {str(object_id): str(reason) for object_id, reason in rows}


async def test_w2_w3_unmapped_values_are_not_imported(harness: Harness) -> None:
    sales = await make_site(harness.account.account, "Sales team")
    settings = ImportSettings(
        classification=Classification.DEPARTMENT,
        mappings=(
            MappingInput(" SALES ", sales.id),
            MappingInput("Undefined", new_site_name="No department"),
        ),
        user_types=BOTH_TYPES,
    )
    conn = await harness.connect(settings, scope="ACCOUNT")
    undefined = await Site.get(account_id=harness.account.account.id, name="No department")

    run = await harness.run(conn)

    users = harness.tenant.users.values()
    departments = Counter((u.get("department") or "").strip().casefold() for u in users)
    reasons = await _reasons(harness, run.id)
    stored = {
        str(u.entra_object_id): u.site_id
        for u in await EndUser.filter(account_id=harness.account.account.id)
    }
    for user in users:
        department = (user.get("department") or "").strip().casefold()
        if department == "sales":
            assert stored.get(user["id"], sales.id) == sales.id
        elif department == "":
            assert stored.get(user["id"], undefined.id) == undefined.id
        else:
            assert user["id"] not in stored
            assert reasons[user["id"]] == "UNMAPPED"
    assert run.skipped_unmapped == len(users) - departments["sales"] - departments[""]
    assert set(stored.values()) == {sales.id, undefined.id}


async def test_w4_group_filter_is_transitive(harness: Harness) -> None:
    tenant = harness.tenant
    company = next(g for g in tenant.groups.values() if g["displayName"] == "All Company")
    members = {m for m in tenant.member_ids(company["id"], transitive=True) if m in tenant.users}
    direct = set(tenant.member_ids(company["id"]))
    assert members - direct  # reached only through All Staff > Office - X
    deleted_group = "00000000-0000-4000-8000-000000000000"
    settings = ImportSettings(
        group_filter=GroupFilter.SELECTED,
        selected_group_ids=(company["id"],),
        user_types=BOTH_TYPES,
    )
    conn = await harness.connect(settings)
    # A selected group deleted after configuration counts as empty rather than failing runs.
    conn.selected_group_ids = [company["id"], deleted_group]
    await conn.save(update_fields=["selected_group_ids"])

    run = await harness.run(conn)

    imported = await _imported_ids(harness)
    reasons = await _reasons(harness, run.id)
    assert imported and imported <= members
    assert all(reasons[m] not in ("FILTERED_GROUP", "") for m in members - imported)
    outsiders = set(tenant.users) - members
    assert outsiders and all(reasons[o] == "FILTERED_GROUP" for o in outsiders)
    assert run.skipped_filter == len(outsiders)


async def test_w4_all_groups(harness: Harness) -> None:
    tenant = harness.tenant
    in_a_group = {
        m
        for group_id in tenant.groups
        for m in tenant.member_ids(group_id, transitive=True)
        if m in tenant.users
    }
    loner = tenant.add_user(displayName="No Groups", mail="loner@contoso.example")
    settings = ImportSettings(group_filter=GroupFilter.ALL_GROUPS, user_types=BOTH_TYPES)
    conn = await harness.connect(settings)

    run = await harness.run(conn)

    imported = await _imported_ids(harness)
    reasons = await _reasons(harness, run.id)
    assert imported and imported <= in_a_group
    outsiders = set(tenant.users) - in_a_group
    assert loner["id"] in outsiders
    assert all(reasons[o] == "FILTERED_GROUP" for o in outsiders)
    assert run.skipped_filter == len(outsiders)
    assert run.created == len(imported)


async def test_w5_user_types(harness: Harness) -> None:
    users = harness.tenant.users.values()
    guests = {u["id"] for u in users if u["userType"] == "Guest"}
    conn = await harness.connect(ImportSettings(user_types=("GUEST",)))

    run = await harness.run(conn)

    assert await _imported_ids(harness) == guests
    assert run.skipped_filter == len(users) - len(guests)
    reasons = await _reasons(harness, run.id)
    assert {reasons[u["id"]] for u in users if u["id"] not in guests} == {"FILTERED_USER_TYPE"}

    # W7: the saved configuration can change; the next run imports the members as well.
    await configure_import(
        harness.rt, harness.caller, conn.id, ImportSettings(user_types=BOTH_TYPES)
    )
    both = await harness.run(conn)
    skipped = await ChangeLogEntry.filter(run_id=both.id, action="SKIP").values_list(
        "entra_object_id", flat=True
    )
    assert await _imported_ids(harness) == {u["id"] for u in users} - set(skipped)
    assert (both.unchanged, both.skipped_filter) == (len(guests), 0)


async def test_w6_site_connection_imports_into_its_site(harness: Harness) -> None:
    person = next(u for u in list(harness.tenant.users.values())[20:] if u["userType"] == "Member")
    other = await make_site(harness.account.account, "Another site")
    outside = await make_user(other, email=person["userPrincipalName"], job_title="Elsewhere")
    conn = await harness.connect()

    run = await harness.run(conn)

    sites = Counter(
        await EndUser.filter(account_id=harness.account.account.id).values_list(
            "site_id", flat=True
        )
    )
    assert sites == {harness.site.id: run.created, other.id: 1}
    # The scope is the connection's site (S2): a user of another site is neither matched nor touched.
    untouched = await EndUser.get(id=outside.id)
    assert (untouched.job_title, untouched.updated_at) == ("Elsewhere", outside.updated_at)
    created = await EndUser.get(site_id=harness.site.id, email_key=outside.email_key)
    assert created.entra_object_id == person["id"]


async def test_w7_a_half_saved_configuration_fails_the_run_with_a_clear_message(
    harness: Harness,
) -> None:
    settings = ImportSettings(
        classification=Classification.OFFICE,
        mappings=(MappingInput("Paris", harness.site.id),),
        user_types=BOTH_TYPES,
    )
    conn = await harness.connect(settings, scope="ACCOUNT")
    conn.classification = None  # type: ignore[assignment]
    await conn.save(update_fields=["classification"])

    run = await harness.run(conn, status=RunStatus.FAILED)

    assert run.error_message.startswith("the saved import configuration cannot be applied")
    assert "configure the import again" in run.error_message
    assert not await EndUser.filter(account_id=harness.account.account.id).exists()
