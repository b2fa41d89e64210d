"""The long-lived collaborators that use cases need, built once by api/ and passed down."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import aiohttp

from entra.auth import EntraAuth
from entra.cipher import TokenCipher
from services.events import EventBus, InProcessBus
from services.sync.liveness import Liveness, default_worker_name


@dataclass
class Runtime:
    """One per process. `auth` is None when no Entra app is configured (connect is then refused)."""

    cipher: TokenCipher = field(repr=False)
    http: aiohttp.ClientSession
    graph_url: str
    redirect_uri: str
    admin_consent_redirect_uri: str = ""
    auth: EntraAuth | None = None
    bus: EventBus = field(default_factory=InProcessBus)
    # R6: run heartbeats and staleness; the name this process records on the runs it executes.
    liveness: Liveness = field(default_factory=Liveness)
    worker_name: str = field(default_factory=default_worker_name)
    # R9: incremental (delta) rounds run between full ones; a full round runs when the last one
    # is this old (zero: every run is full).
    full_sync_every: timedelta = timedelta(hours=24)
    # The mass-change guard checks runs against at least this many imported users only.
    mass_change_min_users: int = 20
    # The sync engine, event bus and scheduler attach themselves here (services/sync, events).
    extras: dict[str, Any] = field(default_factory=dict)
