"""`entrasync demo`: the server on SQLite with a demo account, sites, users and a fresh admin key."""

from __future__ import annotations

import asyncio
from pathlib import Path

import uvicorn

from api.app import create_app
from api.db import close_database, migrate, open_database
from api.settings import Settings
from models import Account, AccountMode, EndUser, Role, Site, UserSource
from services.api_keys import create_api_key

DEMO_ACCOUNT = "Demo IT department"
DEMO_SITES = ("Head office", "Paris", "Remote")
DEMO_USERS = (
    ("Head office", "grace.hopper@demo.example", "Grace", "Hopper", "CTO"),
    ("Head office", "alan.turing@demo.example", "Alan", "Turing", "Analyst"),
    ("Paris", "marie.curie@demo.example", "Marie", "Curie", "Researcher"),
)


async def seed() -> str:
    """Create the demo data once (idempotent) and return a new ADMIN key for this run."""
    account = await Account.get_or_none(name=DEMO_ACCOUNT)
    if account is None:
        account = await Account.create(name=DEMO_ACCOUNT, mode=AccountMode.IT_DEPARTMENT)
    sites = {}
    for name in DEMO_SITES:
        sites[name], _ = await Site.get_or_create(account=account, name=name)
    for site_name, email, first, last, title in DEMO_USERS:
        site = sites[site_name]
        if not await EndUser.exists(site_id=site.id, email_key=email.casefold()):
            await EndUser.create(
                account=account,
                site=site,
                email=email,
                email_key=email.casefold(),
                first_name=first,
                last_name=last,
                job_title=title,
                source=UserSource.MANUAL,
            )
    issued = await create_api_key(account.id, Role.ADMIN, "demo")
    return issued.secret


async def _run(port: int, data_dir: str) -> None:
    settings = Settings(data_dir=Path(data_dir), port=port, mode="development")
    url = settings.resolved_database_url
    await migrate(url)
    await open_database(url)
    try:
        key = await seed()
    finally:
        await close_database()
    base = settings.resolved_public_url
    print(
        "\n  entrasync demo is running\n"
        f"  GraphiQL:  {base}/graphql\n"
        f"  Admin key: {key}\n"
        '  In GraphiQL, open "Headers" and paste: {"Authorization": "Bearer <the key>"}\n'
        f"  Or: curl -s {base}/graphql -H 'Authorization: Bearer {key}' "
        "-H 'Content-Type: application/json' -d '{\"query\":\"{ viewer { role account { name } } }\"}'\n",
        flush=True,
    )
    config = uvicorn.Config(
        create_app(settings), host=settings.host, port=port, ws="websockets-sansio"
    )
    await uvicorn.Server(config).serve()


def run_demo(*, port: int, simulator_port: int, users: int, data_dir: str) -> int:
    Path(data_dir).mkdir(parents=True, exist_ok=True)
    asyncio.run(_run(port, data_dir))
    return 0
