"""The import wizard through the API: directory look-ups from Graph and configureImport (W1-W7)."""

from __future__ import annotations

from collections import Counter
from typing import Any

import httpx

from models import GroupFilter, ImportMapping, Site, TenantConnection
from schema.ids import encode_id
from services.runtime import Runtime
from simulator.server import Simulator
from tests.factories import connect_tenant, gql, make_account, make_site

VALUES = """
query($c: ID!, $k: Classification!) {
  directoryValues(connectionId: $c, classification: $k) {
    __typename
    ... on DirectoryValues { values { value userCount } }
    ... on Error { message }
  }
}"""
TYPES = "query($c: ID!) { directoryUserTypes(connectionId: $c) { __typename ... on UserTypeCounts { members guests } ... on Error { message } } }"
GROUPS = """
query($c: ID!, $s: String, $f: Int!, $a: String) {
  directoryGroups(connectionId: $c, search: $s, first: $f, after: $a) {
    __typename
    ... on DirectoryGroups { groups { id displayName } nextCursor }
    ... on Error { message }
  }
}"""
CONFIGURE = """
mutation($input: ConfigureImportInput!) {
  configureImport(input: $input) {
    __typename
    ... on ConfigureImportPayload {
      configuration { classification groupFilter userTypes matchAttribute selectedGroupIds mappings { value site { name } } }
    }
    ... on Error { message }
    ... on ValidationError { field }
    ... on TooManyGroupsError { count limit }
    ... on UnknownGroupsError { groupIds }
  }
}"""


def _expected_counts(sim: Simulator, prop: str) -> Counter[str]:
    tenant = sim.tenant("contoso.example")
    counts: Counter[str] = Counter()
    for user in tenant.users.values():
        value = (user.get(prop) or "").strip()
        counts[value.casefold() if value else "undefined"] += 1
    return counts


async def test_w2_directory_values_count_users_with_blanks_as_undefined(
    sim_client: httpx.AsyncClient, runtime: Runtime, sim: Simulator
) -> None:
    t = await make_account()
    conn = await connect_tenant(runtime, t)
    cid = encode_id("TenantConnection", conn.id)
    for classification, prop in (("OFFICE", "officeLocation"), ("DEPARTMENT", "department")):
        body = await gql(sim_client, t.tech_key, VALUES, {"c": cid, "k": classification})
        values = body["data"]["directoryValues"]["values"]
        got = Counter({v["value"].casefold(): v["userCount"] for v in values})
        assert got == _expected_counts(sim, prop)
        assert "undefined" in got  # the generator leaves some blank
        assert sum(got.values()) == len(sim.tenant("contoso.example").users)


async def test_w5_user_type_counts(
    sim_client: httpx.AsyncClient, runtime: Runtime, sim: Simulator
) -> None:
    t = await make_account()
    conn = await connect_tenant(runtime, t)
    body = await gql(sim_client, t.tech_key, TYPES, {"c": encode_id("TenantConnection", conn.id)})
    users = sim.tenant("contoso.example").users.values()
    guests = sum(1 for u in users if u.get("userType") == "Guest")
    assert body["data"]["directoryUserTypes"] == {
        "__typename": "UserTypeCounts",
        "members": len(users) - guests,
        "guests": guests,
    }


async def test_w4_groups_are_listed_paged_and_searchable(
    sim_client: httpx.AsyncClient, runtime: Runtime, sim: Simulator
) -> None:
    t = await make_account()
    conn = await connect_tenant(runtime, t)
    cid = encode_id("TenantConnection", conn.id)
    names: list[str] = []
    after = None
    while True:
        page = (await gql(sim_client, t.tech_key, GROUPS, {"c": cid, "f": 5, "a": after}))["data"][
            "directoryGroups"
        ]
        assert page["__typename"] == "DirectoryGroups"
        names += [g["displayName"] for g in page["groups"]]
        after = page["nextCursor"]
        if after is None:
            break
    tenant_names = sorted(g["displayName"] for g in sim.tenant("contoso.example").groups.values())
    assert sorted(names) == tenant_names
    word = tenant_names[0].split()[0]
    found = (await gql(sim_client, t.tech_key, GROUPS, {"c": cid, "f": 50, "s": word}))["data"][
        "directoryGroups"
    ]["groups"]
    assert found and all(word.casefold() in g["displayName"].casefold() for g in found)
    bad = (await gql(sim_client, t.tech_key, GROUPS, {"c": cid, "f": 500}))["data"][
        "directoryGroups"
    ]
    assert bad["__typename"] == "ValidationError"


async def test_w1_w3_w7_configuration_is_saved_with_new_and_existing_sites(
    sim_client: httpx.AsyncClient, runtime: Runtime, sim: Simulator
) -> None:
    t = await make_account()
    hq = await make_site(t.account, "HQ")
    conn = await connect_tenant(runtime, t)
    group_id = next(iter(sim.tenant("contoso.example").groups))
    res = (
        await gql(
            sim_client,
            t.admin_key,
            CONFIGURE,
            {
                "input": {
                    "connectionId": encode_id("TenantConnection", conn.id),
                    "classification": "OFFICE",
                    "mappings": [
                        {"value": "Paris", "siteId": encode_id("Site", hq.id)},
                        {"value": "Undefined", "newSiteName": "Unsorted"},
                    ],
                    "groupFilter": "SELECTED",
                    "selectedGroupIds": [group_id],
                    "userTypes": ["MEMBER", "GUEST"],
                    "matchAttribute": "MAIL",
                }
            },
        )
    )["data"]["configureImport"]
    assert res["__typename"] == "ConfigureImportPayload", res
    config = res["configuration"]
    assert config["classification"] == "OFFICE" and config["groupFilter"] == "SELECTED"
    assert sorted(config["userTypes"]) == ["GUEST", "MEMBER"] and config["matchAttribute"] == "MAIL"
    assert {(m["value"], m["site"]["name"]) for m in config["mappings"]} == {
        ("Paris", "HQ"),
        ("Undefined", "Unsorted"),
    }
    assert await Site.exists(account_id=t.account.id, name="Unsorted")
    # Editable at any time (W7): a second configuration replaces the first.
    again = (
        await gql(
            sim_client,
            t.admin_key,
            CONFIGURE,
            {
                "input": {
                    "connectionId": encode_id("TenantConnection", conn.id),
                    "classification": "DEPARTMENT",
                    "mappings": [{"value": "Sales", "siteId": encode_id("Site", hq.id)}],
                    "userTypes": ["MEMBER"],
                }
            },
        )
    )["data"]["configureImport"]
    assert again["configuration"]["groupFilter"] == "NONE"
    assert [m["value"] for m in again["configuration"]["mappings"]] == ["Sales"]
    row = await TenantConnection.get(id=conn.id)
    assert row.config_version == 2 and row.group_filter is GroupFilter.NONE


async def _snapshot(conn_id: int) -> tuple[Any, ...]:
    row = await TenantConnection.get(id=conn_id)
    maps = sorted(await ImportMapping.filter(connection_id=conn_id).values_list("value", "site_id"))
    return (
        row.classification,
        row.group_filter,
        row.user_types,
        row.config_version,
        maps,
        await Site.all().count(),
    )


async def test_configure_import_typed_errors_change_nothing(
    sim_client: httpx.AsyncClient, runtime: Runtime, sim: Simulator
) -> None:
    t, other = await make_account(), await make_account()
    mine = await make_site(t.account, "Mine")
    theirs = await make_site(other.account, "Theirs")
    fed = await make_site(t.account, "Fed")
    conn = await connect_tenant(runtime, t)
    await connect_tenant(runtime, t, scope="SITE", site=fed)
    cid = encode_id("TenantConnection", conn.id)
    base = {"connectionId": cid, "classification": "OFFICE", "userTypes": ["MEMBER"]}
    ok = (
        await gql(
            sim_client,
            t.admin_key,
            CONFIGURE,
            {
                "input": base
                | {"mappings": [{"value": "Paris", "siteId": encode_id("Site", mine.id)}]}
            },
        )
    )["data"]["configureImport"]
    assert ok["__typename"] == "ConfigureImportPayload"
    before = await _snapshot(conn.id)
    cases: list[tuple[dict[str, Any], str]] = [
        (base | {"userTypes": []}, "ValidationError"),
        (base | {"classification": None}, "ValidationError"),
        (
            base | {"mappings": [{"value": "X", "siteId": encode_id("Site", theirs.id)}]},
            "NotFoundError",
        ),
        (
            base | {"mappings": [{"value": "X", "siteId": encode_id("Site", fed.id)}]},
            "SiteAlreadyConnectedError",
        ),
        (base | {"mappings": [{"value": "X", "newSiteName": "Mine"}]}, "SiteNameTakenError"),
        (base | {"mappings": [{"value": "X"}]}, "ValidationError"),
        (
            base
            | {
                "mappings": [
                    {"value": "X", "newSiteName": "A"},
                    {"value": " x ", "newSiteName": "B"},
                ]
            },
            "ValidationError",
        ),
        (
            base | {"groupFilter": "SELECTED", "selectedGroupIds": [f"g{i}" for i in range(1000)]},
            "TooManyGroupsError",
        ),
        (base | {"groupFilter": "SELECTED", "selectedGroupIds": []}, "ValidationError"),
        (
            base
            | {
                "groupFilter": "SELECTED",
                "selectedGroupIds": ["00000000-0000-0000-0000-00000000dead"],
            },
            "UnknownGroupsError",
        ),
    ]
    for payload, expected in cases:
        res = (await gql(sim_client, t.admin_key, CONFIGURE, {"input": payload}))["data"][
            "configureImport"
        ]
        assert res["__typename"] == expected, (payload, res)
        assert await _snapshot(conn.id) == before
    denied = (await gql(sim_client, t.tech_key, CONFIGURE, {"input": base}))["data"][
        "configureImport"
    ]
    assert denied["__typename"] == "PermissionDeniedError"
    foreign = (await gql(sim_client, other.admin_key, CONFIGURE, {"input": base}))["data"][
        "configureImport"
    ]
    assert foreign["__typename"] == "NotFoundError"
    assert await _snapshot(conn.id) == before


async def test_w6_site_connection_takes_only_filters(
    sim_client: httpx.AsyncClient, runtime: Runtime
) -> None:
    t = await make_account()
    site = await make_site(t.account, "Branch")
    conn = await connect_tenant(runtime, t, scope="SITE", site=site)
    cid = encode_id("TenantConnection", conn.id)
    refused = (
        await gql(
            sim_client,
            t.admin_key,
            CONFIGURE,
            {"input": {"connectionId": cid, "classification": "OFFICE", "userTypes": ["MEMBER"]}},
        )
    )["data"]["configureImport"]
    assert refused["__typename"] == "ValidationError"
    ok = (
        await gql(
            sim_client,
            t.admin_key,
            CONFIGURE,
            {"input": {"connectionId": cid, "groupFilter": "ALL_GROUPS", "userTypes": ["GUEST"]}},
        )
    )["data"]["configureImport"]
    assert (
        ok["configuration"]["groupFilter"] == "ALL_GROUPS" and ok["configuration"]["mappings"] == []
    )
