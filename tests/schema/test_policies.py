"""Sync policies through the API (issue 6): syncPolicies, previewSyncPolicies, updateSyncPolicies."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import httpx

from models import EndUser, RunStatus, SyncRun, TenantConnection
from schema.ids import encode_id
from services.runtime import Runtime
from services.sync.runs import SyncRunner
from services.wizard import ImportSettings, configure_import
from simulator.server import Simulator
from tests.factories import Tenant, admin_caller, connect_tenant, gql, make_account, make_site

POLICIES = """
lifecycle exemptSharedMailboxes reviewConflicts fieldRules { field rule }
enabledOnly licensedOnly includeDomains excludeDomains exclusionPatterns
"""
SHOW = f"""
query($id: ID!) {{ node(id: $id) {{ ... on TenantConnection {{ syncPolicies {{ {POLICIES} }} }} }} }}
"""
PREVIEW = f"""
mutation($input: PreviewSyncPoliciesInput!) {{
  previewSyncPolicies(input: $input) {{
    __typename
    ... on PreviewSyncPoliciesPayload {{ run {{ id dryRun status proposedPolicies {{ {POLICIES} }} }} }}
    ... on Error {{ message }}
    ... on ValidationError {{ field }}
    ... on RunInProgressError {{ runId }}
  }}
}}"""
UPDATE = f"""
mutation($input: UpdateSyncPoliciesInput!) {{
  updateSyncPolicies(input: $input) {{
    __typename
    ... on ConnectionPayload {{ connection {{ syncPolicies {{ {POLICIES} }} }} }}
    ... on Error {{ message }}
    ... on ValidationError {{ field }}
  }}
}}"""
RUN = """
query($id: ID!) { node(id: $id) { ... on SyncRun { status skippedByFilter proposedPolicies { enabledOnly } } } }
"""
LOG = """
query($run: ID!, $reason: String) {
  changeLog(runId: $run, reason: $reason, first: 1) { edges { node { reason reasonMessage } } }
}"""
END_USERS = """
query { endUsers(first: 100) { edges { node { email department office displayName managerEmail } } } }
"""


async def _connected(runtime: Runtime, t: Tenant) -> TenantConnection:
    site = await make_site(t.account, "HQ")
    conn = await connect_tenant(runtime, t, scope="SITE", site=site)
    return await configure_import(
        runtime, await admin_caller(t), conn.id, ImportSettings(user_types=("MEMBER", "GUEST"))
    )


async def _wait(runtime: Runtime, run_gid: str) -> None:
    from schema.ids import decode_id

    runner = runtime.extras["runner"]
    assert isinstance(runner, SyncRunner)
    pk = decode_id(run_gid, "SyncRun")
    assert pk is not None
    await asyncio.wait_for(runner.wait(pk), timeout=20)


async def _shown(client: httpx.AsyncClient, key: str, cid: str) -> dict[str, Any]:
    body = await gql(client, key, SHOW, {"id": cid})
    policies: dict[str, Any] = body["data"]["node"]["syncPolicies"]
    return policies


async def test_sync_policies_default_to_the_spec(
    sim_client: httpx.AsyncClient, runtime: Runtime, sim: Simulator
) -> None:
    t = await make_account()
    conn = await _connected(runtime, t)
    shown = await _shown(sim_client, t.tech_key, encode_id("TenantConnection", conn.id))
    assert shown == {
        "lifecycle": "KEEP",
        "exemptSharedMailboxes": False,
        "reviewConflicts": False,
        "fieldRules": [
            {"field": "firstName", "rule": "OVERWRITE"},
            {"field": "lastName", "rule": "OVERWRITE"},
            {"field": "jobTitle", "rule": "OVERWRITE"},
            {"field": "phone", "rule": "KEEP_WHEN_BLANK"},
            {"field": "mobile", "rule": "KEEP_WHEN_BLANK"},
            {"field": "department", "rule": "NOT_SYNCED"},
            {"field": "office", "rule": "NOT_SYNCED"},
            {"field": "managerEmail", "rule": "NOT_SYNCED"},
            {"field": "displayName", "rule": "NOT_SYNCED"},
        ],
        "enabledOnly": False,
        "licensedOnly": False,
        "includeDomains": [],
        "excludeDomains": [],
        "exclusionPatterns": [],
    }


async def test_preview_then_save_and_the_run_applies_the_saved_policies(
    sim_client: httpx.AsyncClient, runtime: Runtime, sim: Simulator
) -> None:
    t = await make_account()
    conn = await _connected(runtime, t)
    cid = encode_id("TenantConnection", conn.id)
    policies = {
        "enabledOnly": True,
        "excludeDomains": ["@Gmail.com"],
        "fieldRules": [{"field": "department", "rule": "OVERWRITE"}],
    }
    refused = await gql(
        sim_client, t.admin_key, UPDATE, {"input": {"connectionId": cid, "policies": policies}}
    )
    assert refused["data"]["updateSyncPolicies"]["__typename"] == "PreviewRequiredError"

    started = await gql(
        sim_client, t.admin_key, PREVIEW, {"input": {"connectionId": cid, "policies": policies}}
    )
    payload = started["data"]["previewSyncPolicies"]
    assert payload["__typename"] == "PreviewSyncPoliciesPayload", payload
    run = payload["run"]
    assert run["dryRun"] and run["proposedPolicies"]["excludeDomains"] == ["gmail.com"]
    await _wait(runtime, run["id"])
    done = (await gql(sim_client, t.tech_key, RUN, {"id": run["id"]}))["data"]["node"]
    assert done["status"] == "SUCCEEDED" and done["skippedByFilter"] > 0
    for reason, words in (
        ("FILTERED_DISABLED", "enabled accounts only"),
        ("FILTERED_DOMAIN", "domain of its email"),
    ):
        log = await gql(sim_client, t.tech_key, LOG, {"run": run["id"], "reason": reason})
        [entry] = log["data"]["changeLog"]["edges"]
        assert words in entry["node"]["reasonMessage"]
    assert not await EndUser.exists(account_id=t.account.id)  # a preview writes no user

    saved = await gql(
        sim_client,
        t.admin_key,
        UPDATE,
        {"input": {"connectionId": cid, "policies": policies, "previewRunId": run["id"]}},
    )
    result = saved["data"]["updateSyncPolicies"]
    assert result["__typename"] == "ConnectionPayload", result
    shown = result["connection"]["syncPolicies"]
    assert shown["enabledOnly"] and shown["excludeDomains"] == ["gmail.com"]
    assert {"field": "department", "rule": "OVERWRITE"} in shown["fieldRules"]
    assert await _shown(sim_client, t.tech_key, cid) == shown

    start = await gql(
        sim_client,
        t.admin_key,
        "mutation($c: ID!) { startSync(input: {connectionId: $c}) { ... on SyncRunPayload { run { id proposedPolicies { enabledOnly } } } } }",
        {"c": cid},
    )
    real = start["data"]["startSync"]["run"]
    assert real["proposedPolicies"] is None
    await _wait(runtime, real["id"])
    users = [
        e["node"]
        for e in (await gql(sim_client, t.tech_key, END_USERS))["data"]["endUsers"]["edges"]
    ]
    tenant = sim.tenant("contoso.example")
    assert users and not any(u["email"].endswith("@gmail.com") for u in users)
    by_upn: dict[str, set[str]] = {}
    for entra in tenant.users.values():
        for key in (entra["userPrincipalName"], entra["mail"]):  # guests: their mail (S2)
            if key:
                by_upn.setdefault(key.casefold(), set()).add(
                    (entra["department"] or "").strip()[:200].rstrip()
                )
    departments = [u for u in users if u["department"]]
    assert departments
    for user in departments:
        assert user["department"] in by_upn[user["email"].casefold()]
    assert all(u["managerEmail"] == "" and u["office"] == "" for u in users)


async def test_manager_email_previewed_then_saved_and_synced(
    sim_client: httpx.AsyncClient, runtime: Runtime, sim: Simulator
) -> None:
    t = await make_account()
    conn = await _connected(runtime, t)
    cid = encode_id("TenantConnection", conn.id)
    policies = {"fieldRules": [{"field": "managerEmail", "rule": "OVERWRITE"}]}
    started = await gql(
        sim_client, t.admin_key, PREVIEW, {"input": {"connectionId": cid, "policies": policies}}
    )
    run = started["data"]["previewSyncPolicies"]["run"]
    assert {"field": "managerEmail", "rule": "OVERWRITE"} in run["proposedPolicies"]["fieldRules"]
    await _wait(runtime, run["id"])
    assert not await EndUser.exists(account_id=t.account.id)
    saved = await gql(
        sim_client,
        t.admin_key,
        UPDATE,
        {"input": {"connectionId": cid, "policies": policies, "previewRunId": run["id"]}},
    )
    result = saved["data"]["updateSyncPolicies"]
    assert result["__typename"] == "ConnectionPayload", result
    assert {"field": "managerEmail", "rule": "OVERWRITE"} in result["connection"]["syncPolicies"][
        "fieldRules"
    ]
    start = await gql(
        sim_client,
        t.admin_key,
        "mutation($c: ID!) { startSync(input: {connectionId: $c}) { ... on SyncRunPayload { run { id } } } }",
        {"c": cid},
    )
    await _wait(runtime, start["data"]["startSync"]["run"]["id"])
    tenant = sim.tenant("contoso.example")
    upn = {u["id"]: u["userPrincipalName"].casefold() for u in tenant.users.values()}
    expected = {upn[report]: upn[boss] for report, boss in tenant.managers.items() if report in upn}
    users = [
        e["node"]
        for e in (await gql(sim_client, t.tech_key, END_USERS))["data"]["endUsers"]["edges"]
    ]
    with_manager = [u for u in users if u["managerEmail"]]
    assert with_manager
    for user in with_manager:
        assert user["managerEmail"].casefold() == expected[user["email"].casefold()]


async def _errors(
    client: httpx.AsyncClient, key: str, cid: str, policies: dict[str, Any]
) -> list[tuple[str, str | None]]:
    out: list[tuple[str, str | None]] = []
    for mutation, name in ((PREVIEW, "previewSyncPolicies"), (UPDATE, "updateSyncPolicies")):
        body = await gql(
            client, key, mutation, {"input": {"connectionId": cid, "policies": policies}}
        )
        result = body["data"][name]
        out.append((result["__typename"], result.get("field")))
    return out


async def test_invalid_policies_are_typed_errors_and_save_nothing(
    sim_client: httpx.AsyncClient, runtime: Runtime, sim: Simulator
) -> None:
    t = await make_account()
    conn = await _connected(runtime, t)
    cid = encode_id("TenantConnection", conn.id)
    before = await _shown(sim_client, t.tech_key, cid)
    cases: list[tuple[dict[str, Any], str]] = [
        ({"fieldRules": [{"field": "nickname", "rule": "OVERWRITE"}]}, "fieldRules"),
        (
            {
                "fieldRules": [
                    {"field": "phone", "rule": "OVERWRITE"},
                    {"field": "phone", "rule": "NOT_SYNCED"},
                ]
            },
            "fieldRules",
        ),
        ({"fieldRules": [{"field": "managerMail", "rule": "OVERWRITE"}]}, "fieldRules"),
        ({"includeDomains": ["not a domain"]}, "includeDomains"),
        ({"includeDomains": ["contoso"]}, "includeDomains"),
        ({"excludeDomains": ["a@b.com"]}, "excludeDomains"),
        ({"excludeDomains": ["-bad.com"]}, "excludeDomains"),
        ({"excludeDomains": [f"d{n}.example" for n in range(101)]}, "excludeDomains"),
        ({"includeDomains": ["contoso.com"], "excludeDomains": ["CONTOSO.com"]}, "excludeDomains"),
        ({"exclusionPatterns": ["  "]}, "exclusionPatterns"),
        ({"exclusionPatterns": ["x" * 257]}, "exclusionPatterns"),
        ({"exclusionPatterns": ["*"]}, "exclusionPatterns"),
        ({"exclusionPatterns": ["svc-\x00"]}, "exclusionPatterns"),
        ({"exclusionPatterns": [f"p{n}*" for n in range(101)]}, "exclusionPatterns"),
    ]
    for policies, field in cases:
        assert await _errors(sim_client, t.admin_key, cid, policies) == [
            ("ValidationError", field),
            ("ValidationError", field),
        ], policies
    # Roles and accounts: TECHNICIAN keys cannot change policies, other accounts see nothing.
    fine = {"exclusionPatterns": ["svc-*"]}
    assert await _errors(sim_client, t.tech_key, cid, fine) == [
        ("PermissionDeniedError", None),
        ("PermissionDeniedError", None),
    ]
    other = await make_account()
    assert await _errors(sim_client, other.admin_key, cid, fine) == [
        ("NotFoundError", None),
        ("NotFoundError", None),
    ]
    assert await _shown(sim_client, t.tech_key, cid) == before
    assert not await SyncRun.exists(connection_id=conn.id)  # no preview was started either


async def test_preview_while_a_run_is_in_progress_is_a_typed_error(
    sim_client: httpx.AsyncClient, runtime: Runtime, sim: Simulator
) -> None:
    t = await make_account()
    conn = await _connected(runtime, t)
    cid = encode_id("TenantConnection", conn.id)
    busy = await SyncRun.create(
        account_id=conn.account_id,
        connection_id=conn.id,
        active_connection_id=conn.id,
        status=RunStatus.RUNNING,
        heartbeat_at=datetime.now(UTC),
    )
    body = await gql(
        sim_client,
        t.admin_key,
        PREVIEW,
        {"input": {"connectionId": cid, "policies": {"enabledOnly": True}}},
    )
    result = body["data"]["previewSyncPolicies"]
    assert result["__typename"] == "RunInProgressError"
    assert result["runId"] == encode_id("SyncRun", busy.id)
    # A save whose previewRunId is not a preview is refused the same way as a missing one.
    saved = await gql(
        sim_client,
        t.admin_key,
        UPDATE,
        {
            "input": {
                "connectionId": cid,
                "policies": {"enabledOnly": True},
                "previewRunId": encode_id("SyncRun", busy.id),
            }
        },
    )
    assert saved["data"]["updateSyncPolicies"]["__typename"] == "PreviewRequiredError"
    missing = await gql(
        sim_client,
        t.admin_key,
        UPDATE,
        {
            "input": {
                "connectionId": cid,
                "policies": {"enabledOnly": True},
                "previewRunId": "bm9wZQ==",
            }
        },
    )
    assert missing["data"]["updateSyncPolicies"]["__typename"] == "NotFoundError"


def test_readme_policy_examples_are_valid_operations() -> None:
    import pathlib
    import re

    from graphql import parse, validate

    from schema import build_schema

    readme = (pathlib.Path(__file__).parents[2] / "README.md").read_text()
    section = readme.split("## Sync policies: filters and field rules", 1)[1].split("\n## ", 1)[0]
    examples = re.findall(r"```graphql\n(.*?)```", section, re.S)
    assert len(examples) == 3
    compiled = build_schema()._schema
    for example in examples:
        assert validate(compiled, parse(example)) == []
