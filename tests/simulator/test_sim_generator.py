"""The tenant generator: reproducible, and holding the awkward data real tenants hold."""

from __future__ import annotations

from simulator.tenant import generate_tenant


def test_same_seed_gives_the_same_tenant() -> None:
    a, b = generate_tenant(seed=5, users=300), generate_tenant(seed=5, users=300)
    assert a.tenant_id == b.tenant_id and a.domain == b.domain
    assert a.users == b.users and a.groups == b.groups and a.members == b.members
    c = generate_tenant(seed=6, users=300)
    assert c.tenant_id != a.tenant_id and list(c.users) != list(a.users)


def test_runtime_additions_are_reproducible_too() -> None:
    a, b = generate_tenant(seed=5, users=50), generate_tenant(seed=5, users=50)
    assert a.add_user(displayName="X")["id"] == b.add_user(displayName="X")["id"]


def test_generated_users_have_the_awkward_cases() -> None:
    tenant = generate_tenant(seed=1, users=1000)
    users = list(tenant.users.values())
    assert len(users) == 1000
    guests = [u for u in users if u["userType"] == "Guest"]
    assert 60 <= len(guests) <= 140
    assert all("#EXT#@contoso.example" in u["userPrincipalName"] and u["mail"] for u in guests)
    shared = [u for u in users if u["displayName"].endswith("mailbox")]
    assert shared and all(u["givenName"] is None and u["surname"] is None for u in shared)
    assert any(u["accountEnabled"] for u in shared) and any(not u["accountEnabled"] for u in shared)
    assert any(not u["accountEnabled"] for u in users if u["userType"] == "Member")
    assert any(u["jobTitle"] is None for u in users) and any(
        u["businessPhones"] == [] for u in users
    )
    assert any(u["mobilePhone"] is None for u in users) and any(u["mail"] is None for u in users)
    assert any(u["officeLocation"] is None for u in users) and any(
        u["department"] is None for u in users
    )
    assert any(len(u["jobTitle"] or "") >= 300 for u in users)
    names = "".join(u["displayName"] for u in users)
    assert all(ch in names for ch in "éüø") and any("\u4e00" <= ch <= "\u9fff" for ch in names)
    mails = [u["mail"].casefold() for u in users if u["mail"]]
    assert len(mails) > len(set(mails))
    upns = [u["userPrincipalName"].casefold() for u in users]
    assert len(upns) > len(set(upns))
    assert len({u["officeLocation"] for u in users}) == 9  # eight offices and blank
    departments = {u["department"] for u in users}
    assert len({d for d in departments if d is None or len(d) < 100}) == 11  # ten and blank
    assert any(d is not None and len(d) > 255 for d in departments)


def test_groups_nest_and_some_users_belong_to_none() -> None:
    tenant = generate_tenant(seed=1, users=200)
    assert 20 <= len(tenant.groups) <= 60
    nested = [g for g, m in tenant.members.items() if any(x in tenant.groups for x in m)]
    assert len(nested) >= 3
    members = {m for g in tenant.groups for m in tenant.member_ids(g, transitive=True)}
    assert set(tenant.users) - members
