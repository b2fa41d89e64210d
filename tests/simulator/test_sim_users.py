"""The simulated Graph `/users`: paging limits, query options, errors, auth."""

from __future__ import annotations

import aiohttp

from simulator.server import Simulator, run_simulator
from simulator.tenant import generate_tenant
from simulator.testing import GraphCaller


async def test_paging_follows_next_links_until_every_user_is_seen(graph: GraphCaller) -> None:
    tenant = graph.sim.tenant("contoso.example")
    first = await graph.get("/users?$top=50&$select=id,displayName")
    assert first.status == 200 and len(first.body["value"]) == 50
    next_link = first.body["@odata.nextLink"]
    assert next_link.startswith(
        graph.sim.graph_url + "/users?$top=50&$select=id,displayName&$skiptoken="
    )
    items, last = await graph.all_pages("/users?$top=50&$select=id,displayName")
    assert [u["id"] for u in items] == list(tenant.users)
    assert "@odata.nextLink" not in last.body
    assert set(items[0]) == {"id", "displayName"}


async def test_top_must_be_between_1_and_999(graph: GraphCaller) -> None:
    ok = await graph.get("/users?$top=999")
    assert ok.status == 200 and len(ok.body["value"]) == 200
    for bad in ("1000", "0", "-1", "many"):
        reply = await graph.get(f"/users?$top={bad}")
        assert reply.status == 400
        assert reply.body["error"]["code"] == "Request_BadRequest"
        assert reply.body["error"]["message"] == (
            f"Invalid page size specified: '{bad}'. Must be between 1 and 999 inclusive."
        )
        inner = reply.body["error"]["innerError"]
        assert inner["request-id"] == reply.headers["request-id"] and inner["date"]


async def test_999_user_pages_over_a_large_tenant() -> None:
    tenant = generate_tenant(seed=3, users=2500)
    async with run_simulator(tenants=[tenant]) as sim:
        async with aiohttp.ClientSession() as session:
            graph = GraphCaller(sim, session, sim.state.issue_access_token(tenant, app_only=True))
            first = await graph.get("/users?$top=999")
            items, _ = await graph.all_pages("/users?$top=999")
    assert len(first.body["value"]) == 999
    assert len(items) == 2500 and len({u["id"] for u in items}) == 2500


async def test_default_page_is_100_with_the_default_property_set(graph: GraphCaller) -> None:
    reply = await graph.get("/users")
    assert len(reply.body["value"]) == 100
    assert reply.body["@odata.context"] == "https://graph.microsoft.com/v1.0/$metadata#users"
    assert set(reply.body["value"][0]) == {
        "businessPhones", "displayName", "givenName", "jobTitle", "mail", "mobilePhone",
        "officeLocation", "preferredLanguage", "surname", "userPrincipalName", "id",
    }  # fmt: skip
    assert reply.headers["x-ms-resource-unit"] == "2"


async def test_select_validates_property_names(graph: GraphCaller) -> None:
    unknown = await graph.get("/users?$select=id,shoeSize")
    assert unknown.status == 400 and "shoeSize" in unknown.body["error"]["message"]
    single_only = await graph.get("/users?$select=id,birthday")
    assert single_only.status == 501 and single_only.body["error"]["code"] == "NotImplemented"
    folded = await graph.get("/users?$top=1&$select=ID,DisplayName,department")
    assert set(folded.body["value"][0]) == {"id", "displayName", "department"}


async def test_filter_subset(graph: GraphCaller) -> None:
    tenant = graph.sim.tenant("contoso.example")
    guests, _ = await graph.all_pages("/users?$filter=userType eq 'Guest'&$select=id,userType")
    assert {u["id"] for u in guests} == {
        i for i, u in tenant.users.items() if u["userType"] == "Guest"
    }
    disabled, _ = await graph.all_pages("/users?$filter=accountEnabled eq false&$select=id")
    assert {u["id"] for u in disabled} == {
        i for i, u in tenant.users.items() if not u["accountEnabled"]
    }
    some = list(tenant.users)[3:6]
    listed = ",".join(f"'{i}'" for i in some)
    by_id, _ = await graph.all_pages(f"/users?$filter=id in ({listed})&$select=id")
    assert [u["id"] for u in by_id] == some
    starts, _ = await graph.all_pages("/users?$filter=startswith(displayName,'contoso')&$select=id")
    assert [u["id"] for u in starts] == [tenant.admin_user_id]
    advanced = await graph.get("/users?$filter=userType ne 'Guest'")
    assert advanced.status == 400 and advanced.body["error"]["code"] == "Request_UnsupportedQuery"
    with_header = await graph.get(
        "/users?$filter=userType ne 'Guest'&$count=true", headers={"ConsistencyLevel": "eventual"}
    )
    assert with_header.status == 200 and with_header.body["@odata.count"] == sum(
        1 for u in tenant.users.values() if u["userType"] != "Guest"
    )


async def test_count_needs_consistency_level(graph: GraphCaller) -> None:
    ignored = await graph.get("/users?$count=true&$top=5")
    assert "@odata.count" not in ignored.body
    counted = await graph.get("/users?$count=true&$top=5", headers={"ConsistencyLevel": "eventual"})
    assert counted.body["@odata.count"] == 200
    second = await graph.get(
        counted.body["@odata.nextLink"], headers={"ConsistencyLevel": "eventual"}
    )
    assert "@odata.count" not in second.body
    refused = await graph.get("/users/$count")
    assert (
        refused.status == 400
        and refused.body["error"]["message"] == "$count is not currently supported."
    )
    plain = await graph.get("/users/$count", headers={"ConsistencyLevel": "eventual"})
    assert plain.status == 200 and plain.body == "200"
    assert plain.headers["Content-Type"].startswith("text/plain")


async def test_search_needs_consistency_level(graph: GraphCaller) -> None:
    refused = await graph.get('/users?$search="displayName:contoso"')
    assert refused.status == 400 and "ConsistencyLevel" in refused.body["error"]["message"]
    found = await graph.get(
        '/users?$search="displayName:administ"', headers={"ConsistencyLevel": "eventual"}
    )
    assert [u["userPrincipalName"] for u in found.body["value"]] == ["admin@contoso.example"]


async def test_tokens_are_checked(sim: Simulator, graph: GraphCaller) -> None:
    missing = await graph.get("/users", token="")
    assert missing.status == 401 and missing.body["error"]["code"] == "InvalidAuthenticationToken"
    assert missing.headers["WWW-Authenticate"].startswith('Bearer realm=""')
    bogus = await graph.get("/users", token="not-a-token")
    assert bogus.status == 401
    weak = sim.state.issue_access_token("contoso.example", scopes=("User.Read",))
    assert (await graph.get("/users", token=weak)).status == 403
    assert (await graph.get("/me", token=weak)).status == 200
    sim.state.expire_access_tokens()
    expired = await graph.get("/users")
    assert expired.status == 401
    assert expired.body["error"]["message"] == "Access token has expired or is not yet valid."


async def test_single_user_and_organization(graph: GraphCaller) -> None:
    tenant = graph.sim.tenant("contoso.example")
    user = await graph.get(f"/users/{tenant.admin_user_id}?$select=id,mail")
    assert user.body["mail"] == "admin@contoso.example"
    missing = await graph.get("/users/00000000-0000-0000-0000-000000000000")
    assert missing.status == 404 and missing.body["error"]["code"] == "Request_ResourceNotFound"
    org = await graph.get("/organization")
    assert org.body["value"][0]["id"] == tenant.tenant_id
    assert org.body["value"][0]["verifiedDomains"][0]["name"] == "contoso.example"
