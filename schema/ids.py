"""Global ids (Relay): base64 of "Type:pk"; a malformed or foreign id reads as a missing object."""

from __future__ import annotations

from strawberry import relay


def decode_id(value: str, type_name: str) -> int | None:
    """The pk inside a global id of `type_name`, or None for anything else (treated as not found)."""
    try:
        gid = relay.GlobalID.from_id(value)
    except (ValueError, TypeError):
        return None
    if gid.type_name != type_name:
        return None
    try:
        pk = int(gid.node_id)
    except ValueError:
        return None
    return pk if pk > 0 else None


def encode_id(type_name: str, pk: int) -> str:
    return str(relay.GlobalID(type_name, str(pk)))
