"""Global ids (Relay): base64 of "Type:pk"; a malformed or foreign id reads as a missing object."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from strawberry import relay

# Primary keys are 32-bit on PostgreSQL; anything larger names no row and must not reach SQL.
MAX_PK = 2**31 - 1


def parse_pk(raw: str) -> int | None:
    """A positive database id written in ASCII digits, or None (e.g. "²" or 2**63)."""
    if not raw.isascii() or not raw.isdigit() or len(raw) > 10:
        return None
    pk = int(raw)
    return pk if 0 < pk <= MAX_PK else None


def parse_pks(raw_ids: Iterable[str]) -> list[int | None]:
    return [parse_pk(raw) for raw in raw_ids]


def decode_id(value: str, type_name: str) -> int | None:
    """The pk inside a global id of `type_name`, or None for anything else (treated as not found)."""
    try:
        gid = relay.GlobalID.from_id(value)
    except (ValueError, TypeError):
        return None
    if gid.type_name != type_name:
        return None
    return parse_pk(gid.node_id)


def encode_id(type_name: str, pk: int) -> str:
    return str(relay.GlobalID(type_name, str(pk)))


async def account_rows(model: Any, node_ids: Iterable[str], account_id: int) -> list[Any]:
    """Relay `resolve_nodes`: the rows of `model` for `node_ids` (their pks), in order, with
    None for a malformed id, a missing row, or another account's row (A4). One query."""
    pks = parse_pks(node_ids)
    wanted = [pk for pk in pks if pk is not None]
    rows = await model.filter(id__in=wanted, account_id=account_id)
    by_id = {row.id: row for row in rows}
    return [by_id.get(pk) if pk is not None else None for pk in pks]
