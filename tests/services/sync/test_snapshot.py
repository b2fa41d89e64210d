"""The scope index: loading rows, lookups by email key and by intact Entra link (S2, S7)."""

from __future__ import annotations

import dataclasses
from typing import Any

from services.sync import STORED_USER_COLUMNS, ScopeIndex, StoredUser

from .data import OTHER_TENANT, TENANT, stored


def _row(user: StoredUser) -> tuple[object, ...]:
    return tuple(getattr(user, column) for column in STORED_USER_COLUMNS)


def test_columns_are_the_stored_user_fields_in_order() -> None:
    names = tuple(field.name for field in dataclasses.fields(StoredUser))
    assert names == STORED_USER_COLUMNS


def test_from_rows_reads_the_documented_column_order() -> None:
    user = stored(
        "Ada@X.com",
        id=7,
        site_id=3,
        first_name="Ada",
        last_name="L",
        job_title="J",
        phone="1",
        mobile="2",
        source="ENTRA",
        entra_object_id="obj",
        entra_tenant_id=TENANT,
        entra_last_email="ada@x.com",
        user_type="Member",
        account_enabled=False,
    )
    index = ScopeIndex.from_rows([_row(user)])
    assert index.candidates("ada@x.com") == (user,)
    assert index.linked(TENANT, "obj") == user
    assert len(index) == 1


def test_s2_candidates_by_key_are_all_users_with_that_key() -> None:
    first, second = stored("a@x.com", id=1, site_id=1), stored("A@x.com", id=2, site_id=2)
    index = ScopeIndex.from_users([first, second, stored("b@x.com", id=3)])
    assert index.candidates("a@x.com") == (first, second)
    assert index.candidates("nobody@x.com") == ()


def test_s7_intact_link_is_indexed() -> None:
    user = stored(
        "a@x.com", entra_object_id="obj", entra_tenant_id=TENANT, entra_last_email="A@X.com"
    )
    assert user.intact_link_tenant() == TENANT
    assert ScopeIndex.from_users([user]).linked(TENANT, "obj") == user


def test_s7_link_broken_by_a_product_email_edit_is_not_indexed() -> None:
    user = stored(
        "b@x.com", entra_object_id="obj", entra_tenant_id=TENANT, entra_last_email="a@x.com"
    )
    assert user.intact_link_tenant() is None
    index = ScopeIndex.from_users([user])
    assert index.linked(TENANT, "obj") is None
    assert index.candidates("b@x.com") == (user,)


def test_s7_link_is_per_tenant() -> None:
    user = stored(
        "a@x.com", entra_object_id="obj", entra_tenant_id=OTHER_TENANT, entra_last_email="a@x.com"
    )
    index = ScopeIndex.from_users([user])
    assert index.linked(TENANT, "obj") is None
    assert index.linked(OTHER_TENANT, "obj") == user


def test_s10_two_intact_links_to_one_object_resolve_to_the_lowest_id_in_any_row_order() -> None:
    link: dict[str, Any] = {
        "entra_object_id": "obj",
        "entra_tenant_id": TENANT,
        "entra_last_email": "a@x.com",
    }
    low, high = (
        stored("a@x.com", id=4, site_id=1, **link),
        stored("a@x.com", id=9, site_id=2, **link),
    )
    assert ScopeIndex.from_users([low, high]).linked(TENANT, "obj") == low
    assert ScopeIndex.from_users([high, low]).linked(TENANT, "obj") == low


def test_add_makes_a_created_user_findable_without_displacing_loaded_links() -> None:
    link: dict[str, Any] = {
        "entra_object_id": "obj",
        "entra_tenant_id": TENANT,
        "entra_last_email": "a@x.com",
    }
    loaded = stored("a@x.com", id=4, site_id=1, **link)
    index = ScopeIndex.from_users([loaded])
    created = stored("a@x.com", id=-1, site_id=2, **link)
    index.add(created)
    assert index.candidates("a@x.com") == (loaded, created)
    assert index.linked(TENANT, "obj") == loaded
    assert len(index) == 2
