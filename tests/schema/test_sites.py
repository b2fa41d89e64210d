"""Sites through the API: create, rename, list, typed errors (A2, C1)."""

from __future__ import annotations

import httpx

from tests.factories import gql, make_account, make_site

CREATE = """
mutation($name: String!) {
  createSite(input: {name: $name}) {
    __typename
    ... on SitePayload { site { id name } }
    ... on Error { message }
    ... on ValidationError { field }
    ... on SiteNameTakenError { name }
  }
}"""
UPDATE = """
mutation($id: ID!, $name: String!) {
  updateSite(input: {id: $id, name: $name}) {
    __typename
    ... on SitePayload { site { id name } }
    ... on Error { message }
  }
}"""
LIST = """
query($first: Int, $after: String) {
  sites(first: $first, after: $after) {
    edges { cursor node { id name } }
    pageInfo { hasNextPage endCursor }
  }
}"""


async def test_admin_creates_and_lists_site(client: httpx.AsyncClient) -> None:
    t = await make_account()
    body = await gql(client, t.admin_key, CREATE, {"name": "  Head   office "})
    result = body["data"]["createSite"]
    assert result["__typename"] == "SitePayload"
    assert result["site"]["name"] == "Head office"
    listed = await gql(client, t.tech_key, LIST)
    assert [e["node"]["name"] for e in listed["data"]["sites"]["edges"]] == ["Head office"]


async def test_create_site_typed_errors(client: httpx.AsyncClient) -> None:
    t = await make_account()
    await make_site(t.account, "Paris")
    taken = (await gql(client, t.admin_key, CREATE, {"name": "Paris"}))["data"]["createSite"]
    assert taken == {
        "__typename": "SiteNameTakenError",
        "message": "a site named 'Paris' already exists",
        "name": "Paris",
    }
    blank = (await gql(client, t.admin_key, CREATE, {"name": "   "}))["data"]["createSite"]
    assert blank["__typename"] == "ValidationError" and blank["field"] == "name"
    long = (await gql(client, t.admin_key, CREATE, {"name": "x" * 201}))["data"]["createSite"]
    assert long["__typename"] == "ValidationError"


async def test_technician_cannot_create_or_rename_site(client: httpx.AsyncClient) -> None:
    t = await make_account()
    site = await make_site(t.account, "Lyon")
    denied = (await gql(client, t.tech_key, CREATE, {"name": "New"}))["data"]["createSite"]
    assert denied["__typename"] == "PermissionDeniedError"
    listed = await gql(client, t.tech_key, LIST)
    site_id = listed["data"]["sites"]["edges"][0]["node"]["id"]
    renamed = (await gql(client, t.tech_key, UPDATE, {"id": site_id, "name": "X"}))["data"][
        "updateSite"
    ]
    assert renamed["__typename"] == "PermissionDeniedError"
    await site.refresh_from_db()
    assert site.name == "Lyon"


async def test_rename_site_and_rename_to_taken_name(client: httpx.AsyncClient) -> None:
    t = await make_account()
    await make_site(t.account, "A")
    await make_site(t.account, "B")
    edges = (await gql(client, t.admin_key, LIST))["data"]["sites"]["edges"]
    a_id = edges[0]["node"]["id"]
    ok = (await gql(client, t.admin_key, UPDATE, {"id": a_id, "name": "A2"}))["data"]["updateSite"]
    assert ok["site"]["name"] == "A2"
    taken = (await gql(client, t.admin_key, UPDATE, {"id": a_id, "name": "B"}))["data"][
        "updateSite"
    ]
    assert taken["__typename"] == "SiteNameTakenError"
    missing = (await gql(client, t.admin_key, UPDATE, {"id": "U2l0ZTo5OTk5", "name": "Z"}))["data"][
        "updateSite"
    ]
    assert missing["__typename"] == "NotFoundError"
