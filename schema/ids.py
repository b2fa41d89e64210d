"""Global ids (Relay): base64 of "Type:pk"; a malformed or foreign id reads as a missing object."""

from __future__ import annotations

from collections.abc import Iterable

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
