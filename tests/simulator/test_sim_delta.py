"""The simulated `/users/delta`: rounds, changes, removals, minimal mode, expired tokens."""

from __future__ import annotations

from simulator.testing import GraphCaller

SELECT = "id,displayName,jobTitle,mobilePhone,accountEnabled"


async def _full_round(graph: GraphCaller) -> tuple[list[dict[str, object]], str]:
    items, last = await graph.all_pages(f"/users/delta?$select={SELECT}")
    return items, last.body["@odata.deltaLink"]


async def test_initial_round_pages_then_ends_with_a_delta_link(graph: GraphCaller) -> None:
    graph.sim.state.config.delta_page_size = 60
    first = await graph.get(f"/users/delta?$select={SELECT}")
    assert len(first.body["value"]) == 60
    assert first.body["@odata.nextLink"].startswith(
        graph.sim.graph_url + "/users/delta?$skiptoken="
    )
    assert "@odata.deltaLink" not in first.body
    items, delta_link = await _full_round(graph)
    assert len(items) == 200 and delta_link.startswith(
        graph.sim.graph_url + "/users/delta?$deltatoken="
    )
    assert set(items[0]) == set(SELECT.split(","))


async def test_later_rounds_report_exactly_what_changed(graph: GraphCaller) -> None:
    tenant = graph.sim.tenant("contoso.example")
    _, delta_link = await _full_round(graph)
    quiet, last = await graph.all_pages(delta_link)
    assert quiet == [] and "@odata.deltaLink" in last.body

    ids = [i for i, u in tenant.users.items() if u["mobilePhone"] and u["jobTitle"]]
    changed, soft, hard = ids[10], ids[11], ids[12]
    # A property set to null comes back as null; one never set would be absent.
    tenant.update_user(changed, jobTitle="Chief Tester", mobilePhone=None)
    tenant.update_user(ids[13], city="Nowhere")  # not selected: not tracked, not reported
    tenant.delete_user(soft)
    tenant.delete_user(hard, hard=True)
    added = tenant.add_user(displayName="New Person", jobTitle="Hire")
    items, last = await graph.all_pages(delta_link)
    by_id = {item["id"]: item for item in items}
    assert set(by_id) == {changed, soft, hard, added["id"]}
    assert by_id[changed]["jobTitle"] == "Chief Tester" and by_id[changed]["mobilePhone"] is None
    assert (
        by_id[changed]["displayName"] == tenant.users[changed]["displayName"]
    )  # full representation
    assert by_id[soft] == {"id": soft, "@removed": {"reason": "changed"}}
    assert by_id[hard] == {"id": hard, "@removed": {"reason": "deleted"}}
    assert by_id[added["id"]]["displayName"] == "New Person"

    tenant.restore_user(soft)
    again, _ = await graph.all_pages(last.body["@odata.deltaLink"])
    assert [item["id"] for item in again] == [soft] and "@removed" not in again[0]


async def test_prefer_minimal_returns_only_changed_properties(graph: GraphCaller) -> None:
    tenant = graph.sim.tenant("contoso.example")
    _, delta_link = await _full_round(graph)
    user_id = list(tenant.users)[20]
    tenant.update_user(user_id, jobTitle=None)
    minimal = await graph.get(delta_link, headers={"Prefer": "return=minimal"})
    assert minimal.body["value"] == [{"id": user_id, "jobTitle": None}]


async def test_deltatoken_latest_starts_from_now(graph: GraphCaller) -> None:
    tenant = graph.sim.tenant("contoso.example")
    latest = await graph.get(f"/users/delta?$deltatoken=latest&$select={SELECT}")
    assert latest.body["value"] == [] and "@odata.deltaLink" in latest.body
    tenant.update_user(list(tenant.users)[1], jobTitle="Moved")
    items, _ = await graph.all_pages(latest.body["@odata.deltaLink"])
    assert [item["jobTitle"] for item in items] == ["Moved"]


async def test_top_is_not_supported_on_delta(graph: GraphCaller) -> None:
    reply = await graph.get("/users/delta?$top=10")
    assert reply.status == 400 and reply.body["error"]["code"] == "Request_UnsupportedQuery"


async def test_expired_delta_token_answers_sync_state_not_found(graph: GraphCaller) -> None:
    _, delta_link = await _full_round(graph)
    graph.sim.state.expire_delta_tokens("contoso.example")
    reply = await graph.get(delta_link)
    assert reply.status == 400
    assert reply.body["error"]["code"] == "syncStateNotFound"
    assert reply.body["error"]["message"] == (
        "The sync state generation is not found. The delta token is expired and data must be "
        "synchronized again."
    )
    _, fresh_link = await _full_round(graph)
    assert (await graph.get(fresh_link)).status == 200


async def test_expired_delta_token_can_answer_410_with_location(graph: GraphCaller) -> None:
    graph.sim.state.config.delta_expired_status = 410
    graph.sim.state.config.delta_token_max_age = 0
    _, delta_link = await _full_round(graph)
    reply = await graph.get(delta_link)
    assert reply.status == 410
    assert reply.headers["Location"] == f"{graph.sim.graph_url}/users/delta?$select={SELECT}"
