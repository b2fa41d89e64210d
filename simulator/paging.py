"""Snapshots behind `$skiptoken`: a listing fixes its id order on page one so later pages never skip."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from simulator.wire import b64url_json, unb64url_json, url_token


@dataclass
class Snapshot:
    """The ids a listing pages through, plus whatever the listing needs to render later pages."""

    ids: list[str]
    data: dict[str, Any] = field(default_factory=dict)


class SnapshotStore:
    """Bounded: the oldest snapshots go first, and their skiptokens then answer 400.

    A 100,000-user listing holds ~0.8 MB of ids, so the bound also bounds memory.
    """

    def __init__(self, limit: int = 128) -> None:
        self._limit = limit
        self._items: OrderedDict[str, Snapshot] = OrderedDict()

    def put(self, snapshot: Snapshot) -> str:
        key = url_token(9)
        self._items[key] = snapshot
        while len(self._items) > self._limit:
            self._items.popitem(last=False)
        return key

    def get(self, key: str) -> Snapshot | None:
        return self._items.get(key)


def make_skiptoken(key: str, offset: int) -> str:
    return b64url_json({"k": key, "o": offset})


def parse_skiptoken(token: str) -> tuple[str, int]:
    """(snapshot key, offset); raises ValueError when the token is not one of ours."""
    data = unb64url_json(token)
    if not isinstance(data, dict) or not isinstance(data.get("k"), str):
        raise ValueError("malformed skiptoken")
    offset = data.get("o")
    if not isinstance(offset, int) or offset < 0:
        raise ValueError("malformed skiptoken")
    return data["k"], offset
