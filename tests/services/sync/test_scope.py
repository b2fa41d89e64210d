"""The connection's scope as the engine loads it (services/sync/scope.py)."""

from __future__ import annotations

from dataclasses import astuple

from models import ConnectionScope, TenantConnection, UserSource
from services.sync.scope import load_index, scope_of
from services.sync.snapshot import STORED_USER_COLUMNS, StoredUser
from tests.factories import make_account, make_site, make_user


async def test_s2_the_loaded_index_holds_the_scope_exactly_as_the_orm_reads_it(
    database_url: str,
) -> None:
    tenant, other = await make_account(), await make_account()
    here, there = await make_site(tenant.account), await make_site(tenant.account)
    link = {"entra_tenant_id": "tenant-1", "user_type": "Member"}
    await make_user(
        here,
        email="ann@example.com",
        source=UserSource.ENTRA,
        entra_object_id="object-1",
        entra_last_email="ann@example.com",
        account_enabled=False,
        **link,
    )
    await make_user(
        here,
        email="bob@example.com",
        source=UserSource.ENTRA,
        entra_object_id="object-2",
        entra_last_email="Bob@Example.com",
        account_enabled=True,
        **link,
    )
    await make_user(there, email="cy@example.com", job_title="Chef", phone="+1 555")
    await make_user(await make_site(other.account), email="dee@example.com")

    for scope, site_id, size in (
        (ConnectionScope.ACCOUNT, None, 3),
        (ConnectionScope.SITE, here.id, 2),
    ):
        conn = TenantConnection(account_id=tenant.account.id, scope=scope, site_id=site_id)
        rows = await scope_of(conn).values_list(*STORED_USER_COLUMNS)
        expected = sorted((StoredUser(*row) for row in rows), key=lambda u: u.id)

        index = await load_index(conn)

        loaded = sorted(
            {u.id: u for e in expected for u in index.candidates(e.email_key)}.values(),
            key=lambda u: u.id,
        )
        assert len(index) == len(expected) == size
        assert loaded == expected
        for got, want in zip(loaded, expected, strict=True):  # bool stays bool, enum stays enum
            assert [type(v) for v in astuple(got)] == [type(v) for v in astuple(want)]
        assert index.linked("tenant-1", "object-2") is not None
