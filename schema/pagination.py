"""Relay connections with opaque keyset cursors and a capped page size."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Iterable
from typing import Generic, TypeVar

import strawberry
from graphql import GraphQLError

from schema.ids import MAX_PK
from services.pagination import Page

T = TypeVar("T")
_CURSOR_PREFIX = "c1:"


def encode_cursor(row_id: int) -> str:
    return base64.urlsafe_b64encode(f"{_CURSOR_PREFIX}{row_id}".encode()).decode()


def decode_cursor(cursor: str | None) -> int | None:
    """Raises GraphQLError for a cursor that this server did not issue."""
    if cursor is None:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor.encode()).decode()
        if not raw.startswith(_CURSOR_PREFIX):
            raise ValueError(raw)
        digits = raw[len(_CURSOR_PREFIX) :]
        if not digits.isascii() or not digits.isdigit() or len(digits) > 10:
            raise ValueError(raw)
        value = int(digits)
        if value > MAX_PK:
            raise ValueError(raw)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise GraphQLError("invalid cursor", extensions={"code": "BAD_CURSOR"}) from None
    return value


def page_size(first: int | None, maximum: int, name: str = "first") -> int:
    """Raises GraphQLError when `first` (or `last`: `name`) is outside 1..maximum."""
    if first is None:
        return min(50, maximum)
    if first < 1 or first > maximum:
        raise GraphQLError(
            f"`{name}` must be between 1 and {maximum}", extensions={"code": "BAD_PAGE_SIZE"}
        )
    return first


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type
class Edge(Generic[T]):
    cursor: str
    node: T


@strawberry.type
class Connection(Generic[T]):
    edges: list[Edge[T]]
    page_info: PageInfo

    @strawberry.field
    def nodes(self) -> list[T]:
        return [edge.node for edge in self.edges]


def to_connection(page: Page, convert: Callable[[object], T]) -> Connection[T]:  # type: ignore[type-arg]
    edges = [Edge(cursor=encode_cursor(row.id), node=convert(row)) for row in page.items]
    return Connection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=page.has_next,
            has_previous_page=page.has_previous,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
        ),
    )


def ids(items: Iterable[object]) -> list[int]:
    return [int(getattr(item, "id")) for item in items]  # noqa: B009
