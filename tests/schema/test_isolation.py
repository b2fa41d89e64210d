"""A4: with account B's ADMIN key, account A's objects behave exactly like missing ones."""

from __future__ import annotations

import httpx

from models import EndUser, Site
from schema.ids import encode_id
from tests.factories import gql, make_account, make_site, make_user

NODE = "query($id: ID!) { node(id: $id) { id ... on Site { name } ... on EndUser { email } } }"


async def test_other_accounts_objects_read_as_missing(client: httpx.AsyncClient) -> None:
    a = await make_account("A")
    b = await make_account("B")
    a_site = await make_site(a.account, "A-site")
    a_user = await make_user(a_site, email="secret@a.example")
    b_site = await make_site(b.account, "B-site")
    site_gid, user_gid = encode_id("Site", a_site.id), encode_id("EndUser", a_user.id)
    missing_site, missing_user = encode_id("Site", 10**6), encode_id("EndUser", 10**6)

    # node: A's ids and never-existing ids give the same null.
    for gid, missing in ((site_gid, missing_site), (user_gid, missing_user)):
        foreign = await gql(client, b.admin_key, NODE, {"id": gid})
        absent = await gql(client, b.admin_key, NODE, {"id": missing})
        assert foreign == absent == {"data": {"node": None}, "_status": 200}
    # The owner sees them.
    own = await gql(client, a.admin_key, NODE, {"id": user_gid})
    assert own["data"]["node"]["email"] == "secret@a.example"

    # Lists: B sees only its own site and no users, even when filtering on A's site.
    sites = await gql(client, b.admin_key, "{ sites { edges { node { name } } } }")
    assert [e["node"]["name"] for e in sites["data"]["sites"]["edges"]] == ["B-site"]
    users = await gql(
        client,
        b.admin_key,
        "query($f: EndUserFilterInput){ endUsers(filter: $f) { edges { node { id } } } }",
        {"f": {"siteId": site_gid}},
    )
    assert users["data"]["endUsers"]["edges"] == []
    searched = await gql(
        client, b.admin_key, '{ endUsers(filter: {search: "secret"}) { edges { node { id } } } }'
    )
    assert searched["data"]["endUsers"]["edges"] == []

    # Every mutation with A's ids answers NotFoundError, exactly as for a missing id.
    mutations = [
        (
            'mutation($id: ID!){ updateSite(input:{id:$id, name:"X"}) { __typename ... on Error { message } } }',
            site_gid,
            missing_site,
        ),
        (
            'mutation($id: ID!){ createEndUser(input:{siteId:$id, email:"x@b.example"}) { __typename ... on Error { message } } }',
            site_gid,
            missing_site,
        ),
        (
            'mutation($id: ID!){ updateEndUser(input:{id:$id, firstName:"X"}) { __typename ... on Error { message } } }',
            user_gid,
            missing_user,
        ),
        (
            "mutation($id: ID!){ deleteEndUser(input:{id:$id}) { __typename ... on Error { message } } }",
            user_gid,
            missing_user,
        ),
    ]
    for query, foreign_id, missing_id in mutations:
        foreign = await gql(client, b.admin_key, query, {"id": foreign_id})
        absent = await gql(client, b.admin_key, query, {"id": missing_id})
        assert foreign == absent
        assert next(iter(foreign["data"].values()))["__typename"] == "NotFoundError"

    # A's rows are unchanged.
    await a_site.refresh_from_db()
    await a_user.refresh_from_db()
    assert a_site.name == "A-site" and a_user.first_name != "X"
    assert await EndUser.filter(account_id=b.account.id).count() == 0
    assert await Site.filter(account_id=b.account.id).count() == 1
    _ = b_site


async def test_viewer_reports_account_and_role(client: httpx.AsyncClient) -> None:
    a = await make_account("Contoso MSP")
    q = "{ viewer { role account { name mode } } }"
    admin = await gql(client, a.admin_key, q)
    tech = await gql(client, a.tech_key, q)
    assert admin["data"]["viewer"] == {
        "role": "ADMIN",
        "account": {"name": "Contoso MSP", "mode": "IT_DEPARTMENT"},
    }
    assert tech["data"]["viewer"]["role"] == "TECHNICIAN"
