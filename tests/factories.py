"""Async factories with keyword overrides; they write through the models, as the services do."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import httpx

from models import Account, AccountMode, EndUser, Role, Site, UserSource
from services.api_keys import create_api_key
from services.sync.rules import email_key

_seq = itertools.count(1)


@dataclass
class Tenant:
    account: Account
    admin_key: str
    tech_key: str


async def make_account(
    name: str | None = None, mode: AccountMode = AccountMode.IT_DEPARTMENT
) -> Tenant:
    account = await Account.create(name=name or f"Account {next(_seq)}", mode=mode)
    admin = await create_api_key(account.id, Role.ADMIN, "admin")
    tech = await create_api_key(account.id, Role.TECHNICIAN, "tech")
    return Tenant(account=account, admin_key=admin.secret, tech_key=tech.secret)


async def make_site(account: Account, name: str | None = None) -> Site:
    return await Site.create(account=account, name=name or f"Site {next(_seq)}")


async def make_user(site: Site, **overrides: Any) -> EndUser:
    n = next(_seq)
    email = overrides.pop("email", f"user{n}@example.com")
    values: dict[str, Any] = {
        "first_name": f"First{n}",
        "last_name": f"Last{n}",
        "source": UserSource.MANUAL,
    }
    values.update(overrides)
    return await EndUser.create(
        account_id=site.account_id, site=site, email=email, email_key=email_key(email), **values
    )


async def gql(
    client: httpx.AsyncClient, key: str | None, query: str, variables: dict[str, Any] | None = None
) -> dict[str, Any]:
    """POST a GraphQL operation with a bearer key; returns the decoded JSON body."""
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    response = await client.post(
        "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
    )
    body: dict[str, Any] = response.json()
    body["_status"] = response.status_code
    return body


async def sign_in_params(url: str) -> dict[str, str]:
    """What a browser does with the simulator's auto-accept: GET the sign-in URL, read the redirect."""
    from urllib.parse import parse_qs, urlsplit

    import aiohttp

    async with aiohttp.ClientSession() as http, http.get(url, allow_redirects=False) as resp:
        assert resp.status in (302, 303), await resp.text()
        location = resp.headers["Location"]
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


async def connect_tenant(
    rt: Any,
    tenant: Tenant,
    *,
    scope: str = "ACCOUNT",
    site: Site | None = None,
    login_hint: str | None = None,
) -> Any:
    """A CONNECTED TenantConnection through the real sign-in flow (msal + simulator)."""
    from models import ConnectionScope
    from services.api_keys import authenticate
    from services.connections import complete_connect, start_connect

    caller = await authenticate(tenant.admin_key)
    assert caller is not None
    _, url = await start_connect(
        rt,
        caller,
        scope=ConnectionScope(scope),
        site_id=site.id if site else None,
        login_hint=login_hint,
    )
    conn, _ = await complete_connect(rt, caller, await sign_in_params(url))
    return conn


async def admin_caller(tenant: Tenant) -> Any:
    from services.api_keys import authenticate

    caller = await authenticate(tenant.admin_key)
    assert caller is not None
    return caller
