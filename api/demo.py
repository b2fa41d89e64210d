"""`entrasync demo`: the server on SQLite plus a simulated Microsoft tenant, one command, one process.

This module is the only part of api/ that imports the simulator, and only the demo command
loads it: `entrasync serve` talks to the real Microsoft endpoints.
"""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import uvicorn
from pydantic import SecretStr

from api.app import create_app, server_options
from api.db import close_database, migrate, open_database
from api.settings import Settings
from models import Account, AccountMode, EndUser, Role, Site, UserSource
from services.api_keys import create_api_key
from services.sync.rules import email_key
from simulator.registration import DEMO_APP, AppRegistration
from simulator.server import run_simulator
from simulator.tenant import generate_tenant

DEMO_ACCOUNT = "Demo IT department"
DEMO_DOMAIN = "contoso.example"
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
        if not await EndUser.exists(site_id=site.id, email_key=email_key(email)):
            await EndUser.create(
                account=account,
                site=site,
                email=email,
                email_key=email_key(email),
                first_name=first,
                last_name=last,
                job_title=title,
                source=UserSource.MANUAL,
            )
    issued = await create_api_key(account.id, Role.ADMIN, "demo")
    return issued.secret


def _guide(base: str, key: str, sim_url: str) -> str:
    auth = f"-H 'Authorization: Bearer {key}' -H 'Content-Type: application/json'"
    return f"""
  entrasync demo is running (SQLite under the data folder, a simulated Microsoft at {sim_url})

  Console:    {base}/console/  (sign in with the admin key below; it walks you through everything)
  GraphiQL:   {base}/graphql   (Headers pane: {{"Authorization": "Bearer {key}"}})
  Admin key:  {key}

  Or by hand, in GraphiQL:

  1. Connect the account to the simulated tenant:
       mutation {{ startConnect(input: {{scope: ACCOUNT}}) {{ ... on StartConnectPayload {{ signInUrl connection {{ id }} }} }} }}
     Open signInUrl in a browser and click Accept (the simulated Microsoft consent page).
  2. See what the tenant holds:
       query {{ directoryValues(connectionId: "<id>", classification: OFFICE) {{ ... on DirectoryValues {{ values {{ value userCount }} }} }} }}
  3. Map offices to sites and pick filters:
       mutation {{ configureImport(input: {{connectionId: "<id>", classification: OFFICE, userTypes: [MEMBER, GUEST],
         mappings: [{{value: "Paris", newSiteName: "Paris office"}}, {{value: "Undefined", newSiteName: "Unsorted"}}]}}) {{ __typename }} }}
  4. Import, and watch it live (GraphiQL runs subscriptions over graphql-transport-ws):
       mutation {{ startSync(input: {{connectionId: "<id>"}}) {{ ... on SyncRunPayload {{ run {{ id }} }} }} }}
       subscription {{ syncProgress(runId: "<run id>") {{ status phase created updated percent }} }}
  Change people in the simulated tenant with its admin API ({sim_url}/_sim/tenants) and sync again.

  From a script:  curl -s {base}/graphql {auth} -d '{{"query":"{{ viewer {{ role account {{ name }} }} }}"}}'
  Ctrl-C stops everything.
"""


async def _run(port: int, simulator_port: int, users: int, data_dir: Path) -> None:
    base = f"http://127.0.0.1:{port}"
    app_reg = AppRegistration(
        client_id=DEMO_APP.client_id,
        client_secret=DEMO_APP.client_secret,
        redirect_uris=[f"{base}/oauth/callback", f"http://localhost:{port}/oauth/callback"],
        display_name=DEMO_APP.display_name,
    )
    tenant = generate_tenant(seed=1, users=users, domain=DEMO_DOMAIN, name="Contoso (simulated)")
    async with run_simulator(tenants=[tenant], apps=[app_reg], port=simulator_port) as sim:
        settings = Settings(
            data_dir=data_dir,
            port=port,
            mode="development",
            public_url=base,
            entra_client_id=app_reg.client_id,
            entra_client_secret=SecretStr(app_reg.client_secret),
            entra_authority_host=sim.base_url,
            graph_url=sim.graph_url,
        )
        url = settings.resolved_database_url
        await migrate(url)
        await open_database(url)
        try:
            key = await seed()
        finally:
            await close_database()
        print(_guide(base, key, sim.base_url), flush=True)
        config = uvicorn.Config(
            create_app(settings), host="127.0.0.1", port=port, **server_options(settings)
        )
        server = uvicorn.Server(config)
        await server.serve()


def run_demo(*, port: int, simulator_port: int, users: int, data_dir: str) -> int:
    Path(data_dir).mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_run(port, simulator_port, users, Path(data_dir)))
    return 0
