"""The review queue and explainUser through the API: queries, resolveReviewItem, typed errors, A4."""

from __future__ import annotations

from typing import Any

import httpx

from models import EndUser, ReviewItem, ReviewKind, ReviewResolution, ReviewStatus, SyncRun
from schema.ids import encode_id
from services.runtime import Runtime
from services.wizard import ImportSettings, configure_import
from simulator.server import Simulator
from tests.factories import (
    Tenant,
    admin_caller,
    connect_tenant,
    gql,
    make_account,
    make_site,
    make_user,
)

ITEMS = """
query($c: ID!, $s: ReviewStatus, $f: Int, $a: String) {
  reviewItems(connectionId: $c, status: $s, first: $f, after: $a) {
    edges { node {
      id kind kindMessage status email entraObjectId resolution
      candidates { id email } routedSite { name } resolvedEndUser { id }
    } }
    pageInfo { hasNextPage endCursor }
  }
}"""
RESOLVE = """
mutation($input: ResolveReviewItemInput!) {
  resolveReviewItem(input: $input) {
    __typename
    ... on ReviewItemPayload { reviewItem { id status resolution resolvedEndUser { id email } } }
    ... on Error { message }
    ... on ValidationError { field }
  }
}"""
WAITING = """
query($c: ID!, $r: ID!) {
  c: node(id: $c) { ... on TenantConnection { reviewWaiting } }
  r: node(id: $r) { ... on SyncRun { reviewWaiting } }
}"""
EXPLAIN = """
query($c: ID!, $id: String, $email: String) {
  explainUser(connectionId: $c, entraUserId: $id, email: $email) {
    __typename
    ... on UserExplanation {
      entraUser { id userPrincipalName }
      filter { passed reason groupFilter }
      routing { scope mapped site { name } }
      match { email by endUser { id } candidates { id } }
      outcome { action reason reasonMessage changes { field old new } site { name } }
      reviewConflicts
    }
    ... on EntraUserNotFoundError { key }
    ... on ValidationError { field }
    ... on Error { message }
  }
}"""


async def queue(t: Tenant, rt: Runtime) -> tuple[Any, Any, list[ReviewItem], list[EndUser]]:
    """A configured SITE connection with two open review items, one with two candidates."""
    site = await make_site(t.account, "HQ")
    conn = await connect_tenant(rt, t, scope="SITE", site=site, login_hint="admin@contoso.example")
    conn = await configure_import(rt, await admin_caller(t), conn.id, ImportSettings())
    users = [await make_user(site, email="pat@contoso.example"), await make_user(site)]
    items = [
        await ReviewItem.create(
            account_id=t.account.id,
            connection_id=conn.id,
            kind=kind,
            entra_object_id=f"obj-{n}",
            email="Pat@contoso.example",
            candidate_ids=[u.id for u in users][: n + 1],
            routed_site_id=site.id,
        )
        for n, kind in enumerate((ReviewKind.SEVERAL_PRODUCT_MATCHES, ReviewKind.SITE_DISAGREES))
    ]
    return site, conn, items, users


async def test_review_items_are_listed_paged_and_counted(
    sim_client: httpx.AsyncClient, runtime: Runtime
) -> None:
    t = await make_account()
    _, conn, _items, users = await queue(t, runtime)
    cid = encode_id("TenantConnection", conn.id)
    run = await SyncRun.create(account_id=t.account.id, connection_id=conn.id, review_waiting=2)

    page = await gql(sim_client, t.tech_key, ITEMS, {"c": cid, "f": 1})
    listed = page["data"]["reviewItems"]
    [first] = listed["edges"]
    assert first["node"]["kind"] == "SEVERAL_PRODUCT_MATCHES"
    assert first["node"]["kindMessage"].startswith("Several end users")
    assert [c["id"] for c in first["node"]["candidates"]] == [encode_id("EndUser", users[0].id)]
    assert first["node"]["routedSite"] == {"name": "HQ"}
    assert listed["pageInfo"]["hasNextPage"]
    rest = await gql(
        sim_client, t.tech_key, ITEMS, {"c": cid, "a": listed["pageInfo"]["endCursor"]}
    )
    assert [e["node"]["kind"] for e in rest["data"]["reviewItems"]["edges"]] == ["SITE_DISAGREES"]
    resolved = await gql(sim_client, t.tech_key, ITEMS, {"c": cid, "s": "RESOLVED"})
    assert resolved["data"]["reviewItems"]["edges"] == []
    waiting = await gql(
        sim_client, t.tech_key, WAITING, {"c": cid, "r": encode_id("SyncRun", run.id)}
    )
    assert waiting["data"] == {"c": {"reviewWaiting": 2}, "r": {"reviewWaiting": 2}}
    # A4: another account sees nothing of it.
    other = await make_account()
    foreign = await gql(sim_client, other.admin_key, ITEMS, {"c": cid})
    assert foreign["data"]["reviewItems"]["edges"] == []


async def test_resolve_review_item_link_writes_the_link_columns(
    sim_client: httpx.AsyncClient, runtime: Runtime
) -> None:
    t = await make_account()
    _, conn, items, users = await queue(t, runtime)
    item_id = encode_id("ReviewItem", items[0].id)

    done = await gql(
        sim_client,
        t.admin_key,
        RESOLVE,
        {
            "input": {
                "id": item_id,
                "resolution": "LINK",
                "endUserId": encode_id("EndUser", users[0].id),
            }
        },
    )

    payload = done["data"]["resolveReviewItem"]
    assert payload["__typename"] == "ReviewItemPayload"
    assert payload["reviewItem"]["status"] == "RESOLVED"
    assert payload["reviewItem"]["resolution"] == "LINK"
    assert payload["reviewItem"]["resolvedEndUser"]["email"] == "pat@contoso.example"
    linked = await EndUser.get(id=users[0].id)
    assert (linked.entra_object_id, linked.entra_tenant_id) == ("obj-0", conn.entra_tenant_id)
    assert linked.entra_last_email == "Pat@contoso.example"  # intact: same address up to case
    item = await ReviewItem.get(id=items[0].id)
    assert (item.status, item.resolution, item.resolved_end_user_id) == (
        ReviewStatus.RESOLVED,
        ReviewResolution.LINK,
        users[0].id,
    )
    # Chosen again as IGNORE: the link it wrote is removed.
    again = await gql(
        sim_client, t.admin_key, RESOLVE, {"input": {"id": item_id, "resolution": "IGNORE"}}
    )
    assert again["data"]["resolveReviewItem"]["reviewItem"]["resolution"] == "IGNORE"
    assert (await EndUser.get(id=users[0].id)).entra_object_id is None


async def test_resolve_review_item_typed_errors_change_nothing(
    sim_client: httpx.AsyncClient, runtime: Runtime
) -> None:
    t = await make_account()
    _, _conn, items, _users = await queue(t, runtime)
    item_id = encode_id("ReviewItem", items[0].id)
    elsewhere = await make_user(await make_site(t.account, "Elsewhere"))
    other = await make_account()
    foreign_user = await make_user(await make_site(other.account))

    async def resolve(key: str, **input: Any) -> dict[str, Any]:
        body = await gql(sim_client, key, RESOLVE, {"input": {"id": item_id, **input}})
        result: dict[str, Any] = body["data"]["resolveReviewItem"]
        return result

    denied = await resolve(t.tech_key, resolution="IGNORE")
    assert denied["__typename"] == "PermissionDeniedError"
    missing = await resolve(t.admin_key, resolution="LINK")
    assert (missing["__typename"], missing["field"]) == ("ValidationError", "endUserId")
    extra = await resolve(
        t.admin_key, resolution="CREATE", endUserId=encode_id("EndUser", elsewhere.id)
    )
    assert (extra["__typename"], extra["field"]) == ("ValidationError", "endUserId")
    out = await resolve(
        t.admin_key, resolution="LINK", endUserId=encode_id("EndUser", elsewhere.id)
    )
    assert out["__typename"] == "EndUserNotInScopeError"
    foreign = await resolve(
        t.admin_key, resolution="LINK", endUserId=encode_id("EndUser", foreign_user.id)
    )
    assert foreign["__typename"] == "NotFoundError"
    not_yours = await gql(
        sim_client, other.admin_key, RESOLVE, {"input": {"id": item_id, "resolution": "IGNORE"}}
    )
    assert not_yours["data"]["resolveReviewItem"]["__typename"] == "NotFoundError"
    item = await ReviewItem.get(id=items[0].id)
    assert (item.status, item.resolution) == (ReviewStatus.OPEN, None)
    assert not await EndUser.filter(entra_object_id__not_isnull=True).exists()


async def test_explain_user_through_the_api(
    sim_client: httpx.AsyncClient, runtime: Runtime, sim: Simulator
) -> None:
    t = await make_account()
    site, conn, _, _ = await queue(t, runtime)
    tenant = sim.tenant("contoso.example")
    entra = tenant.add_user(
        displayName="Pat Doe", givenName="Pat", userPrincipalName="pat@contoso.example"
    )
    cid = encode_id("TenantConnection", conn.id)

    body = await gql(sim_client, t.tech_key, EXPLAIN, {"c": cid, "id": entra["id"]})

    e = body["data"]["explainUser"]
    assert e["__typename"] == "UserExplanation"
    assert e["filter"] == {"passed": True, "reason": None, "groupFilter": "NONE"}
    assert e["routing"] == {"scope": "SITE", "mapped": True, "site": {"name": "HQ"}}
    assert e["match"]["by"] == "EMAIL" and e["match"]["email"] == "pat@contoso.example"
    assert e["outcome"]["action"] == "UPDATE"
    assert {"field": "first_name", "old": e["outcome"]["changes"][0]["old"], "new": "Pat"} in e[
        "outcome"
    ]["changes"]
    assert e["reviewConflicts"] is False
    unknown = await gql(sim_client, t.tech_key, EXPLAIN, {"c": cid, "email": "no@contoso.example"})
    assert unknown["data"]["explainUser"] == {
        "__typename": "EntraUserNotFoundError",
        "key": "no@contoso.example",
        "message": "no user 'no@contoso.example' in the connection's Entra tenant",
    }
    both = await gql(sim_client, t.tech_key, EXPLAIN, {"c": cid})
    assert both["data"]["explainUser"]["field"] == "entraUserId"
    other = await make_account()
    foreign = await gql(sim_client, other.admin_key, EXPLAIN, {"c": cid, "id": entra["id"]})
    assert foreign["data"]["explainUser"]["__typename"] == "NotFoundError"
    assert site.id
