"""Pins and manual (de)activation through the API (issue 6): ADMIN only, account-scoped, typed errors."""

from __future__ import annotations

from typing import Any

import httpx

from models import EndUser, InactiveReason, UserPin
from schema.ids import encode_id
from tests.factories import gql, make_account, make_site, make_user

PIN = """
mutation($input: SetEndUserPinInput!) {
  setEndUserPin(input: $input) {
    __typename
    ... on SetEndUserPinPayload { endUser { id pin active } }
    ... on Error { message }
  }
}"""
ACTIVE = """
mutation($input: SetEndUserActiveInput!) {
  setEndUserActive(input: $input) {
    __typename
    ... on SetEndUserActivePayload { endUser { id active inactiveReason inactiveSince } }
    ... on Error { message }
  }
}"""
LIST = """
query($filter: EndUserFilterInput) {
  endUsers(filter: $filter, first: 50) { edges { node { email active inactiveReason pin } } }
}"""


async def _emails(client: httpx.AsyncClient, key: str, active: bool | None) -> set[str]:
    body = await gql(client, key, LIST, {"filter": {"active": active}})
    return {e["node"]["email"] for e in body["data"]["endUsers"]["edges"]}


async def test_set_end_user_pin_sets_and_clears_the_pin(client: httpx.AsyncClient) -> None:
    t = await make_account()
    user = await make_user(await make_site(t.account))
    gid = encode_id("EndUser", user.id)
    for pin in ("EXCLUDE", "KEEP_ACTIVE", None):
        body = await gql(client, t.admin_key, PIN, {"input": {"endUserId": gid, "pin": pin}})
        result: dict[str, Any] = body["data"]["setEndUserPin"]
        assert result["__typename"] == "SetEndUserPinPayload", result
        assert result["endUser"] == {"id": gid, "pin": pin, "active": True}
        stored = await EndUser.get(id=user.id)
        assert stored.pin == (None if pin is None else UserPin(pin))
    # Omitting the pin removes it too.
    omitted = await gql(client, t.admin_key, PIN, {"input": {"endUserId": gid}})
    assert omitted["data"]["setEndUserPin"]["endUser"]["pin"] is None


async def test_set_end_user_active_marks_manual_and_endusers_filters_by_it(
    client: httpx.AsyncClient,
) -> None:
    t = await make_account()
    site = await make_site(t.account)
    kept = await make_user(site, email="kept@example.com")
    gone = await make_user(site, email="gone@example.com")
    gid = encode_id("EndUser", gone.id)

    body = await gql(client, t.admin_key, ACTIVE, {"input": {"endUserId": gid, "active": False}})

    result = body["data"]["setEndUserActive"]
    assert result["__typename"] == "SetEndUserActivePayload", result
    assert (result["endUser"]["active"], result["endUser"]["inactiveReason"]) == (False, "MANUAL")
    assert result["endUser"]["inactiveSince"]
    stored = await EndUser.get(id=gone.id)
    assert (stored.active, stored.inactive_reason) == (False, InactiveReason.MANUAL)
    assert await _emails(client, t.tech_key, False) == {gone.email}
    assert await _emails(client, t.tech_key, True) == {kept.email}
    assert await _emails(client, t.tech_key, None) == {kept.email, gone.email}

    back = await gql(client, t.admin_key, ACTIVE, {"input": {"endUserId": gid, "active": True}})
    node = back["data"]["setEndUserActive"]["endUser"]
    assert (node["active"], node["inactiveReason"], node["inactiveSince"]) == (True, None, None)


async def test_pins_and_activation_need_admin_and_stay_in_the_account(
    client: httpx.AsyncClient,
) -> None:
    t = await make_account()
    other = await make_account()
    mine = await make_user(await make_site(t.account))
    theirs = await make_user(await make_site(other.account))
    cases = [
        (t.tech_key, encode_id("EndUser", mine.id), "PermissionDeniedError"),
        (t.admin_key, encode_id("EndUser", theirs.id), "NotFoundError"),
        (t.admin_key, encode_id("Site", mine.id), "NotFoundError"),
        (t.admin_key, "not-an-id", "NotFoundError"),
    ]
    for key, gid, expected in cases:
        pin = await gql(client, key, PIN, {"input": {"endUserId": gid, "pin": "EXCLUDE"}})
        assert pin["data"]["setEndUserPin"]["__typename"] == expected
        active = await gql(client, key, ACTIVE, {"input": {"endUserId": gid, "active": False}})
        assert active["data"]["setEndUserActive"]["__typename"] == expected
    for user in (mine, theirs):
        stored = await EndUser.get(id=user.id)
        assert (stored.pin, stored.active) == (None, True)
