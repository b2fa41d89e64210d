"""Two accounts for the isolation attacks: A, the victim, built through the real services
(a connection signed in through the simulator, a saved import configuration, a run with its
change log, a sign-in left half done), and B, the attacker, with its own connection and site."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tortoise.models import Model

from models import (
    Account,
    ApiKey,
    ChangeAction,
    ChangeLogEntry,
    Classification,
    ConnectionScope,
    EndUser,
    ImportMapping,
    RunStatus,
    SignInRequest,
    Site,
    SyncRun,
    TenantConnection,
    UserSource,
)
from services.connections import start_connect
from services.runtime import Runtime
from services.wizard import ImportSettings, MappingInput, configure_import
from tests.factories import (
    Tenant,
    admin_caller,
    connect_tenant,
    make_account,
    make_site,
    make_user,
    sign_in_params,
)

MODELS: tuple[type[Model], ...] = (
    Account,
    ApiKey,
    Site,
    EndUser,
    TenantConnection,
    SignInRequest,
    ImportMapping,
    SyncRun,
    ChangeLogEntry,
)


@dataclass
class World:
    a: Tenant
    b: Tenant
    a_site: Site
    a_user: EndUser
    a_conn: TenantConnection
    a_run: SyncRun
    a_sign_in: dict[str, str]  # code and state of A's re-authorisation, started, not completed
    b_site: Site
    b_user: EndUser
    b_conn: TenantConnection


async def build_world(rt: Runtime) -> World:
    a = await make_account("Victim A")
    b = await make_account("Attacker B")
    a_site = await make_site(a.account, "A headquarters")
    a_branch = await make_site(a.account, "A branch")
    a_user = await make_user(
        a_site, email="ceo@victim-a.example", source=UserSource.ENTRA, entra_object_id="a-oid-1"
    )
    a_conn = await connect_tenant(rt, a)
    await configure_import(
        rt,
        await admin_caller(a),
        a_conn.id,
        ImportSettings(
            classification=Classification.OFFICE,
            mappings=(
                MappingInput(value="Paris", site_id=a_site.id),
                MappingInput(value="Undefined", site_id=a_branch.id),
            ),
        ),
    )
    a_conn = await TenantConnection.get(id=a_conn.id)
    a_run = await SyncRun.create(
        account_id=a.account.id,
        connection=a_conn,
        status=RunStatus.SUCCEEDED,
        phase="done",
        fetched=2,
        created=1,
        skipped_unmapped=1,
    )
    await ChangeLogEntry.create(
        run=a_run,
        account_id=a.account.id,
        action=ChangeAction.CREATE,
        entra_object_id="a-oid-1",
        email="ceo@victim-a.example",
        end_user_id=a_user.id,
        site_id=a_site.id,
        changes={"email": ["", "ceo@victim-a.example"]},
    )
    await ChangeLogEntry.create(
        run=a_run,
        account_id=a.account.id,
        action=ChangeAction.SKIP,
        entra_object_id="a-oid-2",
        email="nomap@victim-a.example",
        reason="UNMAPPED",
    )
    # A re-authorisation of A's connection, signed in at Microsoft and never completed.
    _, url = await start_connect(
        rt, await admin_caller(a), scope=ConnectionScope.ACCOUNT, connection_id=a_conn.id
    )
    a_sign_in = await sign_in_params(url)

    b_site = await make_site(b.account, "B office")
    b_user = await make_user(b_site, email="me@attacker-b.example")
    b_conn = await connect_tenant(rt, b)
    return World(
        a=a,
        b=b,
        a_site=a_site,
        a_user=a_user,
        a_conn=a_conn,
        a_run=a_run,
        a_sign_in=a_sign_in,
        b_site=b_site,
        b_user=b_user,
        b_conn=b_conn,
    )


async def snapshot() -> dict[str, list[dict[str, Any]]]:
    """Every row of every table, in id order."""
    return {model._meta.db_table: await model.all().order_by("id").values() for model in MODELS}
