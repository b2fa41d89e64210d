"""The simulated manager relationship: `$expand=manager` on /users, `manager@delta` on delta."""

from __future__ import annotations

from simulator.testing import GraphCaller

EXPAND = "$expand=manager($select=id,mail,userPrincipalName)"


async def test_generated_managers_form_a_deterministic_tree(graph: GraphCaller) -> None:
    tenant = graph.sim.tenant("contoso.example")
    users = list(tenant.users.values())
    staff = [u["id"] for u in users[1:] if u["userType"] == "Member" and u["givenName"]]
    assert tenant.managers[staff[0]] == users[0]["id"]
    assert tenant.managers[staff[9]] == staff[1]
    assert not any(tenant.managers.get(u["id"]) for u in users if u["userType"] == "Guest")
    assert set(tenant.managers) == set(staff)


async def test_expand_manager_pages_by_100_with_the_selected_properties(
    graph: GraphCaller,
) -> None:
    tenant = graph.sim.tenant("contoso.example")
    first = await graph.get(f"/users?$select=id,mail&$top=999&{EXPAND}")
    assert first.status == 200 and len(first.body["value"]) == 100
    assert "$expand=manager" in first.body["@odata.nextLink"]
    items, _ = await graph.all_pages(f"/users?$select=id,mail&$top=999&{EXPAND}")
    assert len(items) == 200
    for item in items:
        boss = tenant.managers.get(item["id"])
        if boss is None:
            assert "manager" not in item
        else:
            assert item["manager"] == {
                "@odata.type": "#microsoft.graph.user",
                "id": boss,
                "mail": tenant.users[boss]["mail"],
                "userPrincipalName": tenant.users[boss]["userPrincipalName"],
            }
    one = next(iter(tenant.managers))
    single = await graph.get(f"/users/{one}?$select=id&{EXPAND}")
    assert single.body["manager"]["id"] == tenant.managers[one]


async def test_expand_is_refused_where_graph_refuses_it(graph: GraphCaller) -> None:
    advanced = await graph.get(
        f"/users?$count=true&{EXPAND}", headers={"ConsistencyLevel": "eventual"}
    )
    assert advanced.status == 400
    two = await graph.get("/users?$expand=manager,memberOf")
    assert two.status == 400
    unknown = await graph.get("/users?$expand=photo")
    assert unknown.status == 400
    delta = await graph.get(f"/users/delta?{EXPAND}")
    assert delta.status == 400


async def test_delta_reports_manager_changes_as_manager_delta(graph: GraphCaller) -> None:
    tenant = graph.sim.tenant("contoso.example")
    items, last = await graph.all_pages("/users/delta?$select=id,displayName,manager")
    by_id = {item["id"]: item for item in items}
    report, boss = next(iter(tenant.managers.items()))
    assert by_id[report]["manager@delta"] == [{"@odata.type": "#microsoft.graph.user", "id": boss}]
    link = last.body["@odata.deltaLink"]

    other = next(i for i in tenant.users if i not in (report, boss))
    changed, removed = list(tenant.managers)[5:7]
    old = tenant.managers[removed]
    tenant.set_manager(changed, other)
    tenant.set_manager(removed, None)
    tenant.update_user(report, displayName="Renamed")  # the manager did not change
    items, _ = await graph.all_pages(link)
    by_id = {item["id"]: item for item in items}
    assert set(by_id) == {changed, removed, report}
    assert by_id[changed]["manager@delta"] == [
        {"@odata.type": "#microsoft.graph.user", "id": other}
    ]
    assert by_id[removed]["manager@delta"] == [
        {"@odata.type": "#microsoft.graph.user", "id": old, "@removed": {"reason": "deleted"}}
    ]
    assert "manager@delta" not in by_id[report]

    # Without `manager` in $select, manager changes are neither tracked nor reported.
    _, plain = await graph.all_pages("/users/delta?$select=id,displayName")
    tenant.set_manager(changed, None)
    quiet, _ = await graph.all_pages(plain.body["@odata.deltaLink"])
    assert quiet == []
