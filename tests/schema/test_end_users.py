"""End users through the API: manual edits between syncs (S5-S7), filters, pagination, typed errors."""

from __future__ import annotations

import httpx

from models import EndUser, UserSource
from schema.ids import encode_id
from tests.factories import gql, make_account, make_site, make_user

CREATE = """
mutation($input: CreateEndUserInput!) {
  createEndUser(input: $input) {
    __typename
    ... on EndUserPayload { endUser { id email firstName source site { name } } }
    ... on Error { message }
    ... on ValidationError { field }
  }
}"""
UPDATE = """
mutation($input: UpdateEndUserInput!) {
  updateEndUser(input: $input) {
    __typename
    ... on EndUserPayload { endUser { id email firstName jobTitle phone } }
    ... on Error { message }
    ... on ValidationError { field }
  }
}"""
DELETE = """
mutation($id: ID!) {
  deleteEndUser(input: {id: $id}) {
    __typename
    ... on DeleteEndUserPayload { deletedId }
    ... on Error { message }
  }
}"""
LIST = """
query($filter: EndUserFilterInput, $first: Int, $after: String) {
  endUsers(filter: $filter, first: $first, after: $after) {
    edges { cursor node { id email source site { id name } } }
    pageInfo { hasNextPage hasPreviousPage endCursor }
  }
}"""


async def test_create_end_user_and_email_unique_case_insensitively(
    client: httpx.AsyncClient,
) -> None:
    t = await make_account()
    site = await make_site(t.account, "HQ")
    site_id = encode_id("Site", site.id)
    ok = await gql(
        client,
        t.admin_key,
        CREATE,
        {"input": {"siteId": site_id, "email": "Ann@Example.com", "firstName": "Ann"}},
    )
    created = ok["data"]["createEndUser"]
    assert created["__typename"] == "EndUserPayload"
    assert created["endUser"]["source"] == "MANUAL"
    assert created["endUser"]["site"]["name"] == "HQ"
    dup = (
        await gql(
            client, t.admin_key, CREATE, {"input": {"siteId": site_id, "email": "ann@EXAMPLE.com"}}
        )
    )["data"]["createEndUser"]
    assert dup["__typename"] == "EmailTakenError"
    assert await EndUser.filter(site_id=site.id).count() == 1


async def test_create_end_user_typed_errors_change_nothing(client: httpx.AsyncClient) -> None:
    t = await make_account()
    site = await make_site(t.account)
    site_id = encode_id("Site", site.id)
    bad_email = (
        await gql(
            client, t.admin_key, CREATE, {"input": {"siteId": site_id, "email": "not-an-email"}}
        )
    )["data"]["createEndUser"]
    assert bad_email["__typename"] == "ValidationError" and bad_email["field"] == "email"
    too_long = (
        await gql(
            client,
            t.admin_key,
            CREATE,
            {"input": {"siteId": site_id, "email": "a@b.c", "jobTitle": "x" * 201}},
        )
    )["data"]["createEndUser"]
    assert too_long["__typename"] == "ValidationError" and too_long["field"] == "job_title"
    no_site = (
        await gql(
            client,
            t.admin_key,
            CREATE,
            {"input": {"siteId": encode_id("Site", 999), "email": "a@b.c"}},
        )
    )["data"]["createEndUser"]
    assert no_site["__typename"] == "NotFoundError"
    garbage_id = (
        await gql(client, t.admin_key, CREATE, {"input": {"siteId": "%%%", "email": "a@b.c"}})
    )["data"]["createEndUser"]
    assert garbage_id["__typename"] == "NotFoundError"
    tech = (
        await gql(client, t.tech_key, CREATE, {"input": {"siteId": site_id, "email": "a@b.c"}})
    )["data"]["createEndUser"]
    assert tech["__typename"] == "PermissionDeniedError"
    assert await EndUser.all().count() == 0


async def test_update_end_user_changes_only_given_fields(client: httpx.AsyncClient) -> None:
    t = await make_account()
    site = await make_site(t.account)
    user = await make_user(site, email="bob@example.com", job_title="Clerk", phone="+1 555")
    uid = encode_id("EndUser", user.id)
    res = (await gql(client, t.admin_key, UPDATE, {"input": {"id": uid, "jobTitle": "Manager"}}))[
        "data"
    ]["updateEndUser"]
    assert res["endUser"]["jobTitle"] == "Manager"
    assert res["endUser"]["phone"] == "+1 555"
    await user.refresh_from_db()
    assert (user.job_title, user.phone, user.email) == ("Manager", "+1 555", "bob@example.com")


async def test_update_end_user_email_conflict_and_errors(client: httpx.AsyncClient) -> None:
    t = await make_account()
    site = await make_site(t.account)
    await make_user(site, email="taken@example.com")
    user = await make_user(site, email="me@example.com")
    uid = encode_id("EndUser", user.id)
    taken = (
        await gql(client, t.admin_key, UPDATE, {"input": {"id": uid, "email": "TAKEN@example.com"}})
    )["data"]["updateEndUser"]
    assert taken["__typename"] == "EmailTakenError"
    invalid = (await gql(client, t.admin_key, UPDATE, {"input": {"id": uid, "email": "nope"}}))[
        "data"
    ]["updateEndUser"]
    assert invalid["__typename"] == "ValidationError"
    missing = (
        await gql(
            client,
            t.admin_key,
            UPDATE,
            {"input": {"id": encode_id("EndUser", 10**6), "firstName": "x"}},
        )
    )["data"]["updateEndUser"]
    assert missing["__typename"] == "NotFoundError"
    denied = (await gql(client, t.tech_key, UPDATE, {"input": {"id": uid, "firstName": "x"}}))[
        "data"
    ]["updateEndUser"]
    assert denied["__typename"] == "PermissionDeniedError"
    # Changing only the case of one's own email is allowed (same key).
    ok = (
        await gql(client, t.admin_key, UPDATE, {"input": {"id": uid, "email": "ME@example.com"}})
    )["data"]["updateEndUser"]
    assert ok["endUser"]["email"] == "ME@example.com"
    await user.refresh_from_db()
    assert user.email_key == "me@example.com"


async def test_delete_end_user(client: httpx.AsyncClient) -> None:
    t = await make_account()
    site = await make_site(t.account)
    user = await make_user(site)
    uid = encode_id("EndUser", user.id)
    denied = (await gql(client, t.tech_key, DELETE, {"id": uid}))["data"]["deleteEndUser"]
    assert denied["__typename"] == "PermissionDeniedError"
    ok = (await gql(client, t.admin_key, DELETE, {"id": uid}))["data"]["deleteEndUser"]
    assert ok == {"__typename": "DeleteEndUserPayload", "deletedId": uid}
    again = (await gql(client, t.admin_key, DELETE, {"id": uid}))["data"]["deleteEndUser"]
    assert again["__typename"] == "NotFoundError"
    assert not await EndUser.exists(id=user.id)


async def test_end_users_filters_by_site_source_and_search(client: httpx.AsyncClient) -> None:
    t = await make_account()
    a, b = await make_site(t.account, "A"), await make_site(t.account, "B")
    await make_user(a, email="zoe@example.com", first_name="Zoé")
    await make_user(a, email="max@example.com", source=UserSource.ENTRA, entra_object_id="oid-1")
    await make_user(b, email="ann@example.com", last_name="Zorro")

    async def emails(flt: dict[str, object]) -> list[str]:
        body = await gql(client, t.tech_key, LIST, {"filter": flt})
        return sorted(e["node"]["email"] for e in body["data"]["endUsers"]["edges"])

    assert await emails({"siteId": encode_id("Site", a.id)}) == [
        "max@example.com",
        "zoe@example.com",
    ]
    assert await emails({"source": "ENTRA"}) == ["max@example.com"]
    assert await emails({"entraObjectId": "oid-1"}) == ["max@example.com"]
    assert await emails({"search": "ZO"}) == ["ann@example.com", "zoe@example.com"]
    assert await emails({"search": "MAX@"}) == ["max@example.com"]
    assert await emails({"siteId": "bogus"}) == []


async def test_end_users_pagination_walks_every_user_once(client: httpx.AsyncClient) -> None:
    t = await make_account()
    site = await make_site(t.account)
    for i in range(23):
        await make_user(site, email=f"p{i:02d}@example.com")
    seen: list[str] = []
    after = None
    pages = 0
    while True:
        body = await gql(client, t.tech_key, LIST, {"first": 10, "after": after})
        conn = body["data"]["endUsers"]
        seen += [e["node"]["email"] for e in conn["edges"]]
        pages += 1
        assert conn["pageInfo"]["hasPreviousPage"] == (after is not None)
        if not conn["pageInfo"]["hasNextPage"]:
            break
        after = conn["pageInfo"]["endCursor"]
    assert pages == 3
    assert seen == [f"p{i:02d}@example.com" for i in range(23)]


async def test_page_size_and_cursor_are_validated(client: httpx.AsyncClient) -> None:
    t = await make_account()
    too_big = await gql(client, t.tech_key, LIST, {"first": 101})
    assert too_big["data"] is None
    assert "between 1 and 100" in too_big["errors"][0]["message"]
    zero = await gql(client, t.tech_key, LIST, {"first": 0})
    assert zero["errors"][0]["extensions"]["code"] == "BAD_PAGE_SIZE"
    forged = await gql(client, t.tech_key, LIST, {"after": "bm9wZQ=="})
    assert forged["errors"][0]["extensions"]["code"] == "BAD_CURSOR"
