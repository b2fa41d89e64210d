"""The sync rules (S3-S11) end to end: simulated tenant, real database, the real run path."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from models import ChangeAction, ChangeLogEntry, Classification, EndUser, UserSource
from services.sync.reasons import SkipReason, TrimReason
from services.sync.writer import (
    MAX_LOG_DISPLAY_NAME,
    MAX_LOG_EMAIL,
    MAX_LOG_OBJECT_ID,
    MAX_LOG_REASON,
    MAX_USER_TYPE,
)
from services.wizard import ImportSettings, MappingInput
from tests.factories import make_site, make_user

from .conftest import BOTH_TYPES, Harness


def entra_email(user: dict[str, Any]) -> str:
    """The email S2 matches by (UPN mode): a guest's #EXT# UPN gives way to its mail."""
    upn = str(user["userPrincipalName"])
    return str(user["mail"]) if "#ext#" in upn.casefold() else upn


def pick(harness: Harness, **wanted: Any) -> dict[str, Any]:
    """A generated member with these property values, an ordinary name and a unique UPN."""
    ordinary = [
        user
        for user in list(harness.tenant.users.values())[1:]
        if user["userType"] == "Member" and user["givenName"] and user["mail"]
    ]
    # The generator plants its S11 oddities (duplicate emails, long values) on the first six.
    for user in ordinary[6:]:
        if all(user.get(k) == v for k, v in wanted.items()):
            return user
    raise LookupError(wanted)


async def test_s3_unmatched_user_is_created_in_routed_site_with_source_entra(
    harness: Harness,
) -> None:
    paris = await make_site(harness.account.account, "Paris office")
    london = await make_site(harness.account.account, "London office")
    settings = ImportSettings(
        classification=Classification.OFFICE,
        mappings=(MappingInput("Paris", paris.id), MappingInput("london", london.id)),
        user_types=BOTH_TYPES,
    )
    conn = await harness.connect(settings, scope="ACCOUNT")
    newcomer = harness.tenant.add_user(
        displayName="Zed Newcomer",
        givenName="Zed",
        surname="Newcomer",
        jobTitle="Baker",
        businessPhones=["+33 1 00 00 00 00"],
        officeLocation="Paris",
        mail="zed@contoso.example",
    )

    run = await harness.run(conn)

    user = await EndUser.get(entra_object_id=newcomer["id"])
    assert (user.site_id, user.source) == (paris.id, UserSource.ENTRA)
    assert (user.email, user.email_key) == (newcomer["userPrincipalName"], user.email.casefold())
    assert (user.first_name, user.last_name, user.job_title) == ("Zed", "Newcomer", "Baker")
    assert (user.phone, user.mobile) == ("+33 1 00 00 00 00", "")
    assert user.entra_tenant_id == harness.tenant.tenant_id
    assert user.entra_last_email == newcomer["userPrincipalName"]
    assert (user.user_type, user.account_enabled) == ("Member", True)
    assert user.last_synced_at is not None
    by_office = {"paris": paris.id, "london": london.id}
    stored = await harness.users()
    placed = {row["entra_object_id"]: row["site_id"] for row in stored.values()}
    skipped = await ChangeLogEntry.filter(run_id=run.id, action=ChangeAction.SKIP).values_list(
        "entra_object_id", flat=True
    )
    for entra in harness.tenant.users.values():
        office = (entra.get("officeLocation") or "").casefold()
        if office in by_office and entra["id"] not in skipped:
            assert placed[entra["id"]] == by_office[office]
        else:
            assert entra["id"] not in placed
    assert {row["site_id"] for row in stored.values()} == {paris.id, london.id}
    assert run.created == len(stored)


async def test_s4_fields_overwritten_empty_phone_keeps_existing(harness: Harness) -> None:
    bare = pick(harness)
    harness.tenant.update_user(bare["id"], businessPhones=[], mobilePhone=None, jobTitle=None)
    phoned = next(
        u
        for u in harness.tenant.users.values()
        if u["id"] != bare["id"] and u["businessPhones"] and u["mobilePhone"] and u["givenName"]
    )
    keep = await make_user(
        harness.site,
        email=bare["userPrincipalName"].upper(),
        first_name="Old",
        last_name="Name",
        job_title="Old title",
        phone="111",
        mobile="222",
    )
    overwrite = await make_user(
        harness.site, email=phoned["userPrincipalName"], phone="111", mobile="222"
    )
    conn = await harness.connect()

    await harness.run(conn)

    kept = await EndUser.get(id=keep.id)
    assert (kept.first_name, kept.last_name) == (bare["givenName"], bare["surname"])
    assert kept.job_title == ""  # a removed job title is removed
    assert (kept.phone, kept.mobile) == ("111", "222")  # empty phones never erase
    assert kept.email == bare["userPrincipalName"].upper()  # matched without case, kept as is
    replaced = await EndUser.get(id=overwrite.id)
    assert (replaced.phone, replaced.mobile) == (phoned["businessPhones"][0], phoned["mobilePhone"])


async def test_s5_users_missing_from_entra_or_filtered_are_untouched(harness: Harness) -> None:
    guest = next(u for u in harness.tenant.users.values() if u["userType"] == "Guest")
    absent = await make_user(harness.site, email="nobody@elsewhere.example", job_title="Keeper")
    filtered = await make_user(harness.site, email=entra_email(guest), job_title="Partner")
    before = {
        u.id: (u.updated_at, u.first_name, u.job_title, u.source)
        for u in (await EndUser.filter(id__in=[absent.id, filtered.id]))
    }
    conn = await harness.connect(ImportSettings(user_types=("MEMBER",)))

    run = await harness.run(conn)

    after = {
        u.id: (u.updated_at, u.first_name, u.job_title, u.source)
        for u in (await EndUser.filter(id__in=[absent.id, filtered.id]))
    }
    assert after == before
    assert run.skipped_filter == sum(
        1 for u in harness.tenant.users.values() if u["userType"] == "Guest"
    )
    skipped = await ChangeLogEntry.get(run_id=run.id, entra_object_id=guest["id"])
    assert (skipped.action, skipped.reason, skipped.end_user_id) == (
        ChangeAction.SKIP,
        "FILTERED_USER_TYPE",
        None,
    )


async def test_s6_product_edits_are_overwritten(harness: Harness) -> None:
    person = pick(harness)
    conn = await harness.connect()
    await harness.run(conn)
    key = person["userPrincipalName"].casefold()
    # As the product's own edits do, updated_at moves: the next (delta) round looks it up too.
    await EndUser.filter(email_key=key).update(
        first_name="Edited", job_title="Made up", updated_at=datetime.now(UTC)
    )

    run = await harness.run(conn)

    user = await EndUser.get(email_key=key)
    assert (user.first_name, user.job_title) == (person["givenName"], person["jobTitle"] or "")
    entry = await ChangeLogEntry.get(run_id=run.id, action=ChangeAction.UPDATE)
    assert entry.changes == {
        "first_name": ["Edited", person["givenName"]],
        "job_title": ["Made up", person["jobTitle"] or ""],
    }
    assert run.updated == 1


async def test_s7_email_changed_in_product_creates_new_user(harness: Harness) -> None:
    person = pick(harness)
    conn = await harness.connect()
    await harness.run(conn)
    original = await EndUser.get(entra_object_id=person["id"])
    await EndUser.filter(id=original.id).update(
        email="moved@elsewhere.example",
        email_key="moved@elsewhere.example",
        updated_at=datetime.now(UTC),
    )
    edited = await EndUser.get(id=original.id)

    run = await harness.run(conn)

    assert run.created == 1
    fresh = await EndUser.get(email_key=person["userPrincipalName"].casefold())
    assert fresh.id != original.id
    assert (fresh.entra_object_id, fresh.source) == (person["id"], UserSource.ENTRA)
    renamed = await EndUser.get(id=original.id)
    assert (renamed.email, renamed.updated_at) == (edited.email, edited.updated_at)


async def test_s7_email_changed_in_entra_updates_linked_user(harness: Harness) -> None:
    person = pick(harness)
    conn = await harness.connect()
    await harness.run(conn)
    original = await EndUser.get(entra_object_id=person["id"])
    count = await EndUser.all().count()
    harness.tenant.update_user(person["id"], userPrincipalName="renamed.person@contoso.example")

    run = await harness.run(conn)

    user = await EndUser.get(id=original.id)
    assert (user.email, user.email_key) == (
        "renamed.person@contoso.example",
        "renamed.person@contoso.example",
    )
    assert user.entra_last_email == "renamed.person@contoso.example"
    assert await EndUser.all().count() == count
    entry = await ChangeLogEntry.get(run_id=run.id, action=ChangeAction.UPDATE)
    assert entry.changes == {"email": [original.email, "renamed.person@contoso.example"]}
    assert entry.end_user_id == original.id


async def test_s8_shared_mailboxes_are_imported(harness: Harness) -> None:
    mailboxes = [
        u for u in harness.tenant.users.values() if str(u["displayName"]).endswith(" mailbox")
    ]
    assert mailboxes and any(not u["accountEnabled"] for u in mailboxes)
    conn = await harness.connect()

    await harness.run(conn)

    stored = await harness.users()
    for mailbox in mailboxes:
        row = stored[mailbox["mail"].casefold()]
        assert (row["first_name"], row["last_name"]) == ("", "")
        assert row["account_enabled"] is mailbox["accountEnabled"]
        assert row["source"] == UserSource.ENTRA


async def test_s9_matched_user_keeps_its_site(harness: Harness) -> None:
    person = pick(harness, officeLocation="Paris")
    paris = await make_site(harness.account.account, "Paris office")
    elsewhere = await make_site(harness.account.account, "Branch")
    manual = await make_user(elsewhere, email=person["userPrincipalName"], job_title="Old")
    settings = ImportSettings(
        classification=Classification.OFFICE,
        mappings=(MappingInput("Paris", paris.id),),
        user_types=BOTH_TYPES,
    )
    conn = await harness.connect(settings, scope="ACCOUNT")

    await harness.run(conn)

    user = await EndUser.get(id=manual.id)
    assert (user.site_id, user.source) == (elsewhere.id, UserSource.ENTRA)
    assert user.job_title == (person["jobTitle"] or "")
    assert await EndUser.filter(email_key=user.email_key).count() == 1


async def test_s10_second_run_changes_nothing(harness: Harness) -> None:
    harness.rt.full_sync_every = timedelta(0)  # two full rounds (delta rounds: test_engine_delta)
    conn = await harness.connect()
    first = await harness.run(conn)
    before = await harness.users()

    second = await harness.run(conn)

    assert first.total == second.total == len(harness.tenant.users)  # R2: percent is knowable
    assert await harness.users() == before  # updated_at included: not one row written
    assert (second.created, second.updated) == (0, 0)
    assert second.unchanged == first.created + first.updated
    assert second.errors == first.errors and second.fetched == first.fetched
    logged = await harness.changes(second)
    assert {entry.action for entry in logged} <= {ChangeAction.SKIP}
    assert len(logged) == second.errors + second.skipped_filter + second.skipped_unmapped


async def test_s11_bad_records_are_skipped_with_reasons(harness: Harness) -> None:
    tenant = harness.tenant
    long_title = tenant.add_user(
        displayName="Long Title", givenName="Long", jobTitle="Chief " * 80, mail="lt@x.example"
    )
    controls = tenant.add_user(
        displayName="Ctrl\x00 Char",
        givenName="Ada\x00\x07",
        surname="Love\tlace",
        mobilePhone="+1 555\n0100" + "9" * 80,
        mail="ctrl@x.example",
    )
    odd = tenant.add_user(
        displayName="Zoe\u0308 🚀", givenName="Zoe\u0308 🚀", surname="王" * 120, mail="z@x.example"
    )
    invalid = tenant.add_user(userPrincipalName="not an address@contoso.example")
    no_email = tenant.add_user(
        userPrincipalName="ext_fabrikam.com#EXT#@contoso.example", userType="Guest", mail=None
    )
    padded = tenant.add_user(
        displayName="Long " * 70,
        userPrincipalName="padded@contoso.example",
        userType="Member" + " " * 30,
    )
    conn = await harness.connect()

    run = await harness.run(conn)

    reasons = {e.entra_object_id: (e.action, e.reason) for e in await harness.changes(run)}
    assert reasons[invalid["id"]] == (ChangeAction.SKIP, "INVALID_EMAIL")
    assert reasons[no_email["id"]] == (ChangeAction.SKIP, "NO_EMAIL")
    assert reasons[long_title["id"]] == (ChangeAction.CREATE, "TRUNCATED")
    assert reasons[controls["id"]] == (ChangeAction.CREATE, "CONTROL_CHARACTERS,TRUNCATED")
    assert reasons[odd["id"]] == (ChangeAction.CREATE, "TRUNCATED")
    # The generated tenant plants two UPNs differing only by case: one of them is skipped.
    assert sum(1 for r in reasons.values() if r == (ChangeAction.SKIP, "DUPLICATE_EMAIL")) == 1
    assert run.errors == 3
    stored = {u.entra_object_id: u for u in await EndUser.filter(source=UserSource.ENTRA)}
    assert stored[long_title["id"]].job_title == ("Chief " * 80)[:200].rstrip()
    assert (stored[controls["id"]].first_name, stored[controls["id"]].last_name) == (
        "Ada",
        "Love lace",
    )
    assert stored[controls["id"]].mobile == ("+1 555 0100" + "9" * 80)[:64]
    assert stored[odd["id"]].first_name == "Zoë 🚀" and len(stored[odd["id"]].last_name) == 100
    entry = await ChangeLogEntry.get(run_id=run.id, entra_object_id=controls["id"])
    assert entry.display_name == "Ctrl Char"
    assert sorted(entry.changes["trims"]) == [
        "first_name:CONTROL_CHARACTERS:5",
        "last_name:CONTROL_CHARACTERS:9",
        "mobile:CONTROL_CHARACTERS:91",
        "mobile:TRUNCATED:91",
    ]
    assert invalid["id"] not in stored and no_email["id"] not in stored
    # A padded userType is stored as Graph spells it; the log's display name is cut to its column.
    assert stored[padded["id"]].user_type == "Member"
    entry = await ChangeLogEntry.get(run_id=run.id, entra_object_id=padded["id"])
    assert entry.display_name == ("Long " * 70)[:256]


def test_s11_columns_written_from_entra_values_have_the_sizes_the_engine_cuts_to() -> None:
    users = EndUser._meta.fields_map
    log = ChangeLogEntry._meta.fields_map
    assert users["user_type"].max_length == MAX_USER_TYPE  # type: ignore[attr-defined]
    assert log["entra_object_id"].max_length == MAX_LOG_OBJECT_ID  # type: ignore[attr-defined]
    assert log["email"].max_length == MAX_LOG_EMAIL  # type: ignore[attr-defined]
    assert log["display_name"].max_length == MAX_LOG_DISPLAY_NAME  # type: ignore[attr-defined]
    assert log["reason"].max_length == MAX_LOG_REASON  # type: ignore[attr-defined]
    longest_codes = ",".join(sorted(TrimReason))
    assert len(longest_codes) <= MAX_LOG_REASON
    assert max(len(reason) for reason in SkipReason) <= MAX_LOG_REASON
