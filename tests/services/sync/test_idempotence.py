"""S10: applying a run's decisions and planning again changes nothing, whatever the data."""

from __future__ import annotations

import random
from dataclasses import replace
from typing import Any

import pytest

from entra.types import EntraUser
from services.sync import (
    UNDEFINED,
    Decision,
    DecisionKind,
    ScopeIndex,
    StoredUser,
    SyncConfig,
    email_key,
)

from .data import (
    OTHER_TENANT,
    SITE,
    TENANT,
    account_config,
    apply_all,
    entra_user,
    linked,
    site_config,
    stored,
)
from .data import plan_all as _plan_all

WRITES = (DecisionKind.CREATE, DecisionKind.UPDATE)


def plan_all(
    users: list[EntraUser],
    config: SyncConfig,
    snapshot: list[StoredUser],
    groups: frozenset[str] | None = None,
) -> list[Decision]:
    return _plan_all(users, config, ScopeIndex.from_users(snapshot), groups)


def writes(decisions: list[Decision]) -> list[Decision]:
    return [decision for decision in decisions if decision.kind in WRITES]


def test_s10_replanning_after_apply_is_unchanged() -> None:
    config = account_config()
    synced = entra_user(user_principal_name="synced@x.com", office_location="Lyon")
    users = [
        entra_user(user_principal_name="new@x.com"),
        entra_user(user_principal_name="Manual@x.com", job_title="Countess"),
        entra_user(user_principal_name="renamed.in.entra@x.com"),
        entra_user(user_principal_name="edited@x.com"),
        entra_user(user_principal_name="DUP@x.com"),
        entra_user(user_principal_name="dup@x.com"),
        entra_user(user_principal_name="nophone@x.com", business_phone=None),
        entra_user(user_principal_name="long@x.com", given_name="n" * 300, job_title="a\x00b"),
        entra_user(user_principal_name="unmapped@x.com", office_location="Berlin"),
        entra_user(user_principal_name="disabled@x.com", account_enabled=False, given_name=None),
        synced,
    ]
    renamed, edited = users[2], users[3]
    snapshot = [
        stored("manual@x.com", id=1, site_id=2),
        linked(renamed, "renamed@x.com", id=2, site_id=1),
        replace(
            linked(edited, "edited@x.com", id=3, site_id=1),
            email="mine@y.com",
            email_key="mine@y.com",
        ),
        stored("nophone@x.com", id=4, site_id=1, phone="+33 1"),
        linked(synced, "synced@x.com", id=5, site_id=1, first_name="Old"),
    ]
    first = plan_all(users, config, snapshot)
    assert {d.kind for d in first} == {DecisionKind.CREATE, DecisionKind.UPDATE, DecisionKind.SKIP}
    after = apply_all(snapshot, first)
    second = plan_all(users, config, after)
    assert writes(second) == []
    assert [d.reason for d in second] == [d.reason for d in first]
    assert plan_all(list(reversed(users)), config, after) == list(reversed(second))


# --- property-style checks over random tenants (no new dependencies) --------------------------

LOCALS = ["ada", "ADA", "Ada", "bob", "Bob", "carol", "dan", "eve", "stra\u00dfe", "STRASSE"]
DOMAINS = ["x.com", "X.COM", "y.org"]
OFFICES = ["Paris", " paris", "PARIS", "Lyon", "Berlin", None, "", "  "]
NAMES = [None, "", "Ada", "  Ada ", "Jose\u0301", "x" * 150, "a\x00b\nc", "\ud800z", "King"]
PHONES = [None, "", "+1 555", "+1 555 ", "9" * 80]


def _email(rng: random.Random) -> str | None:
    roll = rng.random()
    if roll < 0.05:
        return None
    if roll < 0.08:
        return rng.choice(["not an email", "@x.com", "a@b@c"])
    return f"{rng.choice(LOCALS)}@{rng.choice(DOMAINS)}"


def _entra_users(rng: random.Random) -> list[EntraUser]:
    users = []
    for number in range(rng.randint(0, 30)):
        upn = _email(rng)
        mail = _email(rng)
        user_type = rng.choice(["Member", "Member", "Guest", None])
        if user_type == "Guest" and rng.random() < 0.5:
            upn = f"guest{number}_f.com#EXT#@contoso.onmicrosoft.com"
        users.append(
            entra_user(
                id=f"obj-{number}",
                user_principal_name=upn,
                mail=mail,
                given_name=rng.choice(NAMES),
                surname=rng.choice(NAMES),
                job_title=rng.choice(NAMES),
                business_phone=rng.choice(PHONES),
                mobile_phone=rng.choice(PHONES),
                office_location=rng.choice(OFFICES),
                department=rng.choice(OFFICES),
                user_type=user_type,
                account_enabled=rng.choice([True, False, None]),
            )
        )
    return users


def _config(rng: random.Random) -> tuple[SyncConfig, frozenset[str] | None]:
    types: Any = rng.choice([{"MEMBER"}, {"GUEST"}, {"MEMBER", "GUEST"}])
    common: dict[str, Any] = {
        "user_types": frozenset(types),
        "match_attribute": rng.choice(["UPN", "MAIL"]),
    }
    groups = None
    if rng.random() < 0.3:
        common["group_filter"] = "ALL_GROUPS"
        groups = frozenset(f"obj-{n}" for n in range(30) if rng.random() < 0.6)
    if rng.random() < 0.3:
        return site_config(**common), groups
    values = ["Paris", "Lyon", "Berlin", UNDEFINED]
    mappings = {value: rng.randint(1, 3) for value in values if rng.random() < 0.7}
    config = account_config(
        classification=rng.choice(["OFFICE", "DEPARTMENT"]), mappings=mappings, **common
    )
    return config, groups


def _stored_users(rng: random.Random, config: SyncConfig, with_links: bool) -> list[StoredUser]:
    users: list[StoredUser] = []
    taken: set[tuple[int, str]] = set()
    for number in range(1, rng.randint(0, 15) + 1):
        email = _email(rng) or "fallback@x.com"
        site_id = SITE if config.scope == "SITE" else rng.randint(1, 3)
        if (site_id, email_key(email)) in taken or "@" not in email[1:-1]:
            continue
        taken.add((site_id, email_key(email)))
        extra: dict[str, Any] = {}
        roll = rng.random()
        if with_links and roll < 0.6:
            last = email if roll < 0.4 else (_email(rng) or email)  # else: maybe edited in product
            extra = {
                "source": "ENTRA",
                "entra_object_id": f"obj-{rng.randint(0, 40)}",
                "entra_tenant_id": TENANT if rng.random() < 0.8 else OTHER_TENANT,
                "entra_last_email": last,
                "user_type": "Member",
                "account_enabled": True,
            }
        users.append(stored(email, id=number, site_id=site_id, email_key=email_key(email), **extra))
    return users


@pytest.mark.parametrize("seed", range(300))
def test_s10_property_fresh_connection_second_run_writes_nothing(seed: int) -> None:
    rng = random.Random(seed)
    config, groups = _config(rng)
    users = _entra_users(rng)
    snapshot = _stored_users(rng, config, with_links=False)
    after = apply_all(snapshot, plan_all(users, config, snapshot, groups))
    rng.shuffle(users)  # Graph's page order is not a contract
    assert writes(plan_all(users, config, after, groups)) == []


@pytest.mark.parametrize("seed", range(300))
def test_s10_property_any_snapshot_converges_and_then_writes_nothing(seed: int) -> None:
    rng = random.Random(seed)
    config, groups = _config(rng)
    users = _entra_users(rng)
    snapshot = _stored_users(rng, config, with_links=True)
    # A stale snapshot (links to renamed or vanished objects) settles within a few runs.
    for _ in range(3):
        decisions = plan_all(users, config, snapshot, groups)
        if not writes(decisions):
            break
        snapshot = apply_all(snapshot, decisions)
    else:
        pytest.fail("did not converge in 3 runs")
    rng.shuffle(users)
    assert writes(plan_all(users, config, snapshot, groups)) == []
