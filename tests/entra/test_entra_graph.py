"""GraphClient against the loopback simulator: paging, delta, groups, members, $batch."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from entra.errors import DeltaTokenExpired, GraphNotFound, GraphRequestError
from entra.graph import GraphClient
from entra.types import BatchRequest, DeltaPage, EntraUser
from simulator.server import run_simulator
from simulator.tenant import SimTenant, generate_tenant
from tests.entra.simflow import SimToken


@pytest.fixture
async def graph(
    sim: Any, tenant: SimTenant, http: aiohttp.ClientSession
) -> AsyncIterator[GraphClient]:
    async with GraphClient(http, graph_url=sim.graph_url, token=SimToken(sim, tenant)) as client:
        yield client


async def _delta_round(graph: GraphClient, link: str | None) -> list[DeltaPage]:
    return [page async for page in graph.delta_pages(link)]


async def test_pages_through_more_than_a_thousand_users(http: aiohttp.ClientSession) -> None:
    big = generate_tenant(seed=7, users=1_250, domain="big.example")
    async with run_simulator(tenants=[big]) as sim:
        token = SimToken(sim, big, app_only=True)
        async with GraphClient(http, graph_url=sim.graph_url, token=token) as graph:
            pages = [page async for page in graph.iter_user_pages()]
            count = await graph.count_users()
    users: list[EntraUser] = [u for page in pages for u in page]
    assert len(pages) == 2 and len(pages[0]) == 999
    assert {u.id for u in users} == set(big.users) and len(users) == len(big.users)
    assert count == len(big.users)
    requests = [r for r in sim.state.requests if r.path == "/v1.0/users"]
    assert len(requests) == 2 and "skiptoken" in requests[1].query.lower()


async def test_user_filter_and_page_size(graph: GraphClient, tenant: SimTenant) -> None:
    guests = [u for u in tenant.users.values() if u.get("userType") == "Guest"]
    pages = [p async for p in graph.iter_user_pages(top=10, filter="userType eq 'Guest'")]
    assert all(len(p) <= 10 for p in pages)
    assert {u.id for p in pages for u in p} == {g["id"] for g in guests}
    with pytest.raises(ValueError):
        [p async for p in graph.iter_user_pages(top=1000)]


async def test_organization(graph: GraphClient, tenant: SimTenant) -> None:
    org = await graph.organization()
    assert org.tenant_id == tenant.tenant_id and tenant.domain in org.verified_domains


async def test_delta_round_reports_adds_changes_and_deletes(
    graph: GraphClient, tenant: SimTenant
) -> None:
    first = await _delta_round(graph, None)
    assert all(p.delta_link is None for p in first[:-1]) and first[-1].delta_link
    assert {u.id for p in first for u in p.users} == set(tenant.users)

    ids = list(tenant.users)
    added = tenant.add_user(displayName="Ada Lovelace", givenName="Ada", surname="Lovelace")
    tenant.update_user(ids[1], jobTitle="Chief Tester")
    tenant.delete_user(ids[2])
    tenant.delete_user(ids[3], hard=True)

    second = await _delta_round(graph, first[-1].delta_link)
    changed = {u.id: u for p in second for u in p.users}
    removed = {r.id: r.reason for p in second for r in p.removed}
    assert changed.keys() == {added["id"], ids[1]}
    assert changed[ids[1]].job_title == "Chief Tester"
    assert changed[ids[1]].user_principal_name == tenant.users[ids[1]]["userPrincipalName"]
    assert removed == {ids[2]: "changed", ids[3]: "deleted"}
    assert second[-1].delta_link and second[-1].delta_link != first[-1].delta_link

    third = await _delta_round(graph, second[-1].delta_link)
    assert sum(len(p.users) + len(p.removed) for p in third) == 0


@pytest.mark.parametrize("status", [400, 410])
async def test_expired_delta_token_raises_delta_token_expired(
    graph: GraphClient, tenant: SimTenant, sim: Any, status: int
) -> None:
    sim.state.config.delta_expired_status = status
    link = (await _delta_round(graph, None))[-1].delta_link
    tenant.expire_delta_tokens()
    with pytest.raises(DeltaTokenExpired) as info:
        await _delta_round(graph, link)
    assert info.value.status == status
    if status == 410:
        assert info.value.location
    else:
        assert (info.value.code or "").lower() == "syncstatenotfound"
    assert await _delta_round(graph, None)  # a fresh round works


async def test_transitive_members_include_nested_groups_and_skip_non_users(
    graph: GraphClient, tenant: SimTenant
) -> None:
    ids = list(tenant.users)
    inner = tenant.add_group("Inner", members=ids[:3])
    outer = tenant.add_group("Outer", members=[ids[3], inner["id"]])
    other = tenant.add_group("Other", members=[ids[4], ids[0]])
    assert await graph.transitive_user_ids(outer["id"]) == set(ids[:4])
    union = await graph.transitive_user_ids_many([outer["id"], other["id"]], concurrency=2)
    assert union == set(ids[:5])
    with pytest.raises(GraphNotFound):
        await graph.transitive_user_ids("00000000-0000-0000-0000-000000000000")
    tolerant = await graph.transitive_user_ids_many(
        [inner["id"], "00000000-0000-0000-0000-000000000000"], ignore_missing=True
    )
    assert tolerant == set(ids[:3])


async def test_groups_pages_search_and_lookup(graph: GraphClient, tenant: SimTenant) -> None:
    tenant.add_group("Helpdesk Tier 1")
    seen: list[str] = []
    cursor: str | None = None
    while True:
        groups, cursor = await graph.groups_page(cursor=cursor, top=5)
        seen += [g.id for g in groups]
        if cursor is None:
            break
    assert sorted(seen) == sorted(tenant.groups)
    found = [g async for page in graph.iter_groups(search="Helpdesk") for g in page]
    assert "Helpdesk Tier 1" in {g.display_name for g in found}

    unknown = ["00000000-0000-0000-0000-000000000000", "not-a-guid/../users"]
    wanted = [*list(tenant.groups)[:25], *unknown]
    lookup = await graph.get_groups(wanted)
    assert [g.id for g in lookup.groups] == wanted[:-2]
    assert lookup.missing == unknown


async def test_cursor_pointing_elsewhere_is_refused_without_a_request(
    graph: GraphClient, sim: Any
) -> None:
    before = len(sim.state.requests)
    for cursor in [
        "https://evil.example/v1.0/groups?$skiptoken=x",
        sim.base_url + "/beta/groups",
        "/v1.0/groups",
    ]:
        with pytest.raises(GraphRequestError):
            await graph.groups_page(cursor=cursor)
    assert len(sim.state.requests) == before


async def test_batch_answers_in_request_order_across_chunks(
    graph: GraphClient, tenant: SimTenant
) -> None:
    ids = list(tenant.users)[:45]
    requests = [
        BatchRequest(id=f"r{n}", url=f"/users/{uid}?$select=id") for n, uid in enumerate(ids)
    ]
    responses = await graph.batch(requests)
    assert [r.id for r in responses] == [r.id for r in requests]
    assert [r.body["id"] for r in responses] == ids
    with pytest.raises(ValueError):
        await graph.batch([BatchRequest(id="a", url="/users"), BatchRequest(id="A", url="/users")])


async def test_closing_the_client_leaves_the_borrowed_session_open(
    sim: Any, tenant: SimTenant
) -> None:
    async with aiohttp.ClientSession(raise_for_status=True) as session:
        async with GraphClient(
            session, graph_url=sim.graph_url, token=SimToken(sim, tenant)
        ) as graph:
            with pytest.raises(GraphNotFound):  # our errors, not the session's ClientResponseError
                await graph.transitive_user_ids("00000000-0000-0000-0000-000000000000")
        assert not session.closed
        with pytest.raises(RuntimeError):
            await graph.organization()
