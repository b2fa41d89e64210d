"""Keyset pagination over id-ordered querysets: stable under inserts, one query per page."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

from tortoise.models import Model
from tortoise.queryset import QuerySet

M = TypeVar("M", bound=Model)


@dataclass(frozen=True, slots=True)
class Page(Generic[M]):
    items: list[M]
    has_next: bool
    has_previous: bool


async def page_by_id(qs: QuerySet[M], *, first: int, after_id: int | None) -> Page[M]:
    """Rows with id > after_id in id order; fetches one extra row to know whether more follow."""
    if after_id is not None:
        qs = qs.filter(id__gt=after_id)
    rows = await qs.order_by("id").limit(first + 1)
    return Page(items=rows[:first], has_next=len(rows) > first, has_previous=after_id is not None)


async def last_page_by_id(qs: QuerySet[M], *, last: int, before_id: int | None) -> Page[M]:
    """The `last` rows with id < before_id (the newest without it), still in id order: Relay's
    backward paging, one query; fetches one extra row to know whether older ones precede."""
    if before_id is not None:
        qs = qs.filter(id__lt=before_id)
    rows = await qs.order_by("-id").limit(last + 1)
    items = rows[:last]
    items.reverse()
    return Page(items=items, has_next=before_id is not None, has_previous=len(rows) > last)
