"""The typed per-request context that every resolver receives."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.dataloader import DataLoader
from tortoise.functions import Max

from models import EndUser, Site, SyncRun
from services.caller import Caller
from services.errors import PermissionDenied
from services.review import waiting_counts


@dataclass(slots=True)
class Limits:
    max_page_size: int = 100


@dataclass
class Context:
    request: Request | WebSocket
    response: Response | WebSocket | None
    limits: Limits
    services: Any = None  # the service container wired by api/ (sync engine, event bus, ...)
    caller: Caller | None = None
    connection_params: dict[str, Any] | None = None
    _site_loader: DataLoader[int, Site | None] | None = field(default=None, init=False)
    _last_run_loader: DataLoader[int, SyncRun | None] | None = field(default=None, init=False)
    _end_user_loader: DataLoader[int, EndUser | None] | None = field(default=None, init=False)
    _review_waiting_loader: DataLoader[int, int] | None = field(default=None, init=False)

    # The loaders are made on first use: most requests never need one.
    @property
    def site_loader(self) -> DataLoader[int, Site | None]:
        if self._site_loader is None:
            self._site_loader = DataLoader(load_fn=self.load_sites)
        return self._site_loader

    @property
    def last_run_loader(self) -> DataLoader[int, SyncRun | None]:
        if self._last_run_loader is None:
            self._last_run_loader = DataLoader(load_fn=self._load_last_runs)
        return self._last_run_loader

    @property
    def end_user_loader(self) -> DataLoader[int, EndUser | None]:
        if self._end_user_loader is None:
            self._end_user_loader = DataLoader(load_fn=self._load_end_users)
        return self._end_user_loader

    @property
    def review_waiting_loader(self) -> DataLoader[int, int]:
        if self._review_waiting_loader is None:
            self._review_waiting_loader = DataLoader(load_fn=self._load_review_waiting)
        return self._review_waiting_loader

    @property
    def who(self) -> Caller:
        """The authenticated caller; the transport refuses requests without one."""
        if self.caller is None:
            raise PermissionDenied("authentication required")
        return self.caller

    async def _load_last_runs(self, connection_ids: list[int]) -> list[SyncRun | None]:
        """The newest run of each connection, in two queries whatever the number of connections."""
        account = self.who.account_id
        newest = (
            await SyncRun.filter(account_id=account, connection_id__in=connection_ids)
            .annotate(newest=Max("id"))
            .group_by("connection_id")
            .values_list("newest", flat=True)
        )
        rows = await SyncRun.filter(account_id=account, id__in=[int(str(n)) for n in newest])
        by_connection = {row.connection_id: row for row in rows}
        return [by_connection.get(i) for i in connection_ids]

    async def _load_end_users(self, ids: list[int]) -> list[EndUser | None]:
        """End users by id in one query, scoped to the caller's account (A4)."""
        rows = await EndUser.filter(id__in=ids, account_id=self.who.account_id)
        by_id = {row.id: row for row in rows}
        return [by_id.get(i) for i in ids]

    async def _load_review_waiting(self, connection_ids: list[int]) -> list[int]:
        """Open review items per connection, in one query."""
        return await waiting_counts(self.who.account_id, connection_ids)

    async def load_sites(self, ids: list[int]) -> list[Site | None]:
        """The sites of `ids`, in order (None where missing), in one query; the loader's batch."""
        # Scoped to the caller's account, so a loader can never leak another account's site (A4).
        rows = await Site.filter(id__in=ids, account_id=self.who.account_id)
        by_id = {row.id: row for row in rows}
        return [by_id.get(i) for i in ids]
