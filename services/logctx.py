"""Correlation ids carried through log records: the API request and the sync run being served."""

from __future__ import annotations

from contextvars import ContextVar

request_id: ContextVar[str | None] = ContextVar("entrasync_request_id", default=None)
run_id: ContextVar[int | None] = ContextVar("entrasync_run_id", default=None)
