"""One batch's SQL helpers (services/sync/writer.py) on plain data."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from tortoise.transactions import in_transaction

from models import EndUser
from services.sync.rules import Fields, Link
from services.sync.writer import NewUser, UserUpdate, changes_json, insert_users, update_users
from tests.factories import make_account, make_site, make_user


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"email": ("", "ann@contoso.example"), "first_name": ("", "Ann")},
        {"job_title": ('Chef "de" cuisine', "Café\\Bar"), "trims": ["phone:TOO_LONG:70"]},
        {"last_name": ("Ünal\u200b", "\u4e2d\u6587 \U0001f600"), "mobile": ("\t\n", "\x7f\ud800")},
    ],
)
def test_r8_change_log_json_is_the_text_the_json_encoder_writes(
    changes: dict[str, tuple[str, ...] | list[str]],
) -> None:
    expected = json.dumps(changes, ensure_ascii=False, separators=(",", ":"))
    assert changes_json(changes) == expected
    assert json.loads(changes_json(changes)) == {k: list(v) for k, v in changes.items()}


def test_r8_change_log_json_of_values_that_are_not_text_falls_back_to_the_encoder() -> None:
    changes = {"active": [True, False], "pin": [None, "KEEP_ACTIVE"]}
    assert changes_json(changes) == '{"active":[true,false],"pin":[null,"KEEP_ACTIVE"]}'  # type: ignore[arg-type]


async def test_write_times_read_back_as_the_batch_time_and_in_the_orms_own_text(
    database_url: str,
) -> None:
    tenant = await make_account()
    site = await make_site(tenant.account)
    now = datetime(2026, 11, 28, 13, 5, 7, 123456, tzinfo=UTC)
    link = Link("object-1", "tenant-1", "ann@example.com", "Member", True)
    fields = Fields("Ann", "Lee", "", "", "")
    new = NewUser(site.id, "ann@example.com", "ann@example.com", fields, link)

    async with in_transaction() as db:
        ids = await insert_users(db, tenant.account.id, [new], now)
    [user_id] = ids.values()
    manual = await make_user(site, email="bob@example.com")
    later = now + timedelta(minutes=1)
    async with in_transaction() as db:
        update = UserUpdate(manual.id, None, None, (None,) * len(Fields._fields), link)
        await update_users(db, [update], later)

    created, updated = await EndUser.get(id=user_id), await EndUser.get(id=manual.id)
    assert created.last_synced_at == created.created_at == created.updated_at == now
    assert updated.last_synced_at == updated.updated_at == later
    # The same stored text as a save through the ORM (one format in the column, for sorting).
    created.last_synced_at = now
    await created.save(update_fields=["last_synced_at"])
    stored = await EndUser.filter(id=user_id).values_list("last_synced_at", "created_at")
    assert stored == [(now, now)]
    raw = await EndUser._meta.db.execute_query_dict(
        'SELECT "last_synced_at" = "created_at" AS same FROM "end_user" WHERE "id" = '
        + ("?" if EndUser._meta.db.capabilities.dialect == "sqlite" else "$1"),
        [user_id],
    )
    assert raw[0]["same"]
