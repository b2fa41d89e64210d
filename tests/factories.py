"""Async factories with keyword overrides; they write through the models, as the services do."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import httpx

from models import Account, AccountMode, EndUser, Role, Site, UserSource
from services.api_keys import create_api_key

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
        account_id=site.account_id, site=site, email=email, email_key=email.casefold(), **values
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
