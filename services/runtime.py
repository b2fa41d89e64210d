"""The long-lived collaborators that use cases need, built once by api/ and passed down."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import aiohttp

from entra.auth import EntraAuth
from entra.cipher import TokenCipher
from services.events import EventBus, InProcessBus


@dataclass
class Runtime:
    """One per process. `auth` is None when no Entra app is configured (connect is then refused)."""

    cipher: TokenCipher = field(repr=False)
    http: aiohttp.ClientSession
    graph_url: str
    redirect_uri: str
    auth: EntraAuth | None = None
    bus: EventBus = field(default_factory=InProcessBus)
    # The sync engine, event bus and scheduler attach themselves here (services/sync, events).
    extras: dict[str, Any] = field(default_factory=dict)
