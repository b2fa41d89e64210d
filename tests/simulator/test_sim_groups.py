"""The simulated `/groups` and group membership listings."""

from __future__ import annotations

import aiohttp

from simulator.server import run_simulator
from simulator.tenant import generate_tenant
from simulator.testing import GraphCaller


def _group_id(graph: GraphCaller, name: str) -> str:
    tenant = graph.sim.tenant("contoso.example")
    return next(i for i, g in tenant.groups.items() if g["displayName"] == name)


async def test_transitive_members_flatten_nested_groups_without_duplicates(
    graph: GraphCaller,
) -> None:
    tenant = graph.sim.tenant("contoso.example")
    engineering = _group_id(graph, "Engineering")
    backend = _group_id(graph, "Engineering - Backend")
    oncall = _group_id(graph, "Backend - On-call")
    direct, _ = await graph.all_pages(f"/groups/{engineering}/members?$select=id")
    assert backend in {m["id"] for m in direct} and oncall not in {m["id"] for m in direct}
    flat, _ = await graph.all_pages(
        f"/groups/{engineering}/transitiveMembers?$select=id,displayName"
    )
    ids = [m["id"] for m in flat]
    assert len(ids) == len(set(ids))
    assert {backend, oncall} <= set(ids)
    expected_users = {
        m for g in (engineering, backend, oncall) for m in tenant.members[g] if m in tenant.users
    }
    users = {m["id"] for m in flat if m["@odata.type"] == "#microsoft.graph.user"}
    assert users == expected_users
    groups = {m["id"] for m in flat if m["@odata.type"] == "#microsoft.graph.group"}
    assert groups == {backend, oncall}


async def test_three_level_nesting_reaches_users(graph: GraphCaller) -> None:
    company = _group_id(graph, "All Company")
    flat, _ = await graph.all_pages(f"/groups/{company}/transitiveMembers?$select=id")
    tenant = graph.sim.tenant("contoso.example")
    staff = {
        i
        for i, u in tenant.users.items()
        if u["userType"] == "Member" and u["givenName"] and u["officeLocation"]
    }
    assert staff <= {m["id"] for m in flat}


async def test_user_cast_needs_advanced_query_headers(graph: GraphCaller) -> None:
    engineering = _group_id(graph, "Engineering")
    refused = await graph.get(f"/groups/{engineering}/transitiveMembers/microsoft.graph.user")
    assert refused.status == 400 and refused.body["error"]["code"] == "Request_UnsupportedQuery"
    cast = await graph.get(
        f"/groups/{engineering}/transitiveMembers/microsoft.graph.user?$count=true&$select=id",
        headers={"ConsistencyLevel": "eventual"},
    )
    assert cast.status == 200 and cast.body["@odata.context"].endswith("#users(id)")
    assert all(m["@odata.type"] == "#microsoft.graph.user" for m in cast.body["value"])
    assert cast.body["@odata.count"] == len(cast.body["value"])


async def test_unknown_group_is_404(graph: GraphCaller) -> None:
    reply = await graph.get("/groups/00000000-0000-0000-0000-000000000000/members")
    assert reply.status == 404 and reply.body["error"]["code"] == "Request_ResourceNotFound"
    assert reply.body["error"]["message"].startswith(
        "Resource '00000000-0000-0000-0000-000000000000'"
    )


async def test_group_list_search_filter_and_select(graph: GraphCaller) -> None:
    page = await graph.get("/groups?$top=5&$select=id,displayName")
    assert len(page.body["value"]) == 5 and "@odata.nextLink" in page.body
    starts = await graph.get("/groups?$filter=startswith(displayName,'office')&$select=displayName")
    assert len(starts.body["value"]) == 8
    found = await graph.get(
        '/groups?$search="displayName:on-call"', headers={"ConsistencyLevel": "eventual"}
    )
    assert [g["displayName"] for g in found.body["value"]] == ["Backend - On-call"]
    assert (await graph.get('/groups?$search="displayName:x"')).status == 400
    single = await graph.get(f"/groups/{_group_id(graph, 'Sales')}")
    assert single.body["groupTypes"] == ["Unified"] and single.body["mailEnabled"] is True


async def test_members_need_a_group_permission(graph: GraphCaller) -> None:
    token = graph.sim.state.issue_access_token("contoso.example", scopes=("User.Read.All",))
    reply = await graph.get("/groups", token=token)
    assert reply.status == 403 and reply.body["error"]["code"] == "Authorization_RequestDenied"


async def test_large_profile_has_more_than_999_groups() -> None:
    tenant = generate_tenant(seed=4, users=300, profile="large")
    assert len(tenant.groups) > 999
    async with run_simulator(tenants=[tenant]) as sim, aiohttp.ClientSession() as session:
        graph = GraphCaller(sim, session, sim.state.issue_access_token(tenant, app_only=True))
        groups, _ = await graph.all_pages("/groups?$top=999&$select=id")
    assert len(groups) == len(tenant.groups)


async def test_user_transitive_member_of_lists_nested_groups_by_id_or_upn(
    graph: GraphCaller,
) -> None:
    tenant = graph.sim.tenant("contoso.example")
    oncall = _group_id(graph, "Backend - On-call")
    member = next(m for m in tenant.members[oncall] if m in tenant.users)
    expected = {g for g in tenant.groups if member in tenant.member_ids(g, transitive=True)}
    assert {oncall, _group_id(graph, "Engineering")} <= expected
    for key in (member, tenant.users[member]["userPrincipalName"].upper()):
        groups, _ = await graph.all_pages(f"/users/{key}/transitiveMemberOf?$select=id")
        assert {g["id"] for g in groups} == expected
        assert {g["@odata.type"] for g in groups} == {"#microsoft.graph.group"}
    missing = await graph.get("/users/00000000-0000-0000-0000-000000000000/transitiveMemberOf")
    assert missing.status == 404
