"""The composition root: create_app() wires settings, database, schema and routes."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import hmac
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

from graphql import GraphQLError
from redis.asyncio import Redis
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route, WebSocketRoute
from strawberry.extensions import MaskErrors, SchemaExtension

from api.db import close_database, open_database
from api.graphql_view import GraphQLApp
from api.logs import RequestIdMiddleware
from api.oauth import admin_consent_callback, oauth_callback
from api.ratelimit import InProcessLimiter, Limit, RateLimiter, RedisLimiter
from api.runtime import open_runtime
from api.settings import Settings
from api.transport import Guards
from api.webconsole import console_routes
from schema import build_schema
from schema.context import Limits
from services.logctx import request_id
from services.metrics import render as render_metrics
from services.runtime import Runtime
from services.scheduler import run_scheduler
from services.webhooks.dispatcher import run_dispatcher

log = logging.getLogger("entrasync.api")


def _should_mask(error: GraphQLError) -> bool:
    """Mask unexpected exceptions; keep validation errors and the errors we raise on purpose."""
    original = error.original_error
    if original is None or isinstance(original, GraphQLError):
        return False
    log.error("unexpected error in resolver (request %s)", request_id.get(), exc_info=original)
    return True


async def _stop_task(stop: asyncio.Event, task: asyncio.Task[None]) -> None:
    stop.set()
    await task


def create_app(
    settings: Settings, *, runtime: Runtime | None = None, manage_database: bool = True
) -> Starlette:
    """The ASGI app; tests that open the database themselves pass manage_database=False."""
    extras: list[Callable[[], SchemaExtension]] = []
    if settings.production:
        extras.append(
            lambda: MaskErrors(
                should_mask_error=_should_mask, error_message="Internal server error."
            )
        )
    schema = build_schema(
        max_depth=settings.max_query_depth,
        max_aliases=settings.max_aliases,
        max_tokens=settings.max_query_tokens,
        hide_suggestions=settings.production,
        introspection=not settings.production,
        extra_extensions=extras,
    )
    limiter = build_limiter(settings)
    graphql_app = GraphQLApp(
        schema,
        graphql_ide=None if settings.production else "graphiql",
        allow_queries_via_get=False,
        limits=Limits(max_page_size=settings.max_page_size),
        services=runtime,
        guards=guards(settings),
        limiter=limiter,
        max_subscriptions_per_connection=settings.max_subscriptions_per_connection,
    )

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with contextlib.AsyncExitStack() as stack:
            if manage_database:
                await open_database(settings.resolved_database_url, shared=True)
                stack.push_async_callback(close_database)
            if runtime is None:
                rt = await stack.enter_async_context(open_runtime(settings))
            else:
                rt = runtime
            app.state.runtime = rt
            graphql_app.services = rt
            stack.push_async_callback(limiter.close)
            if settings.scheduler == "embedded" and manage_database:
                stop = asyncio.Event()
                task = asyncio.create_task(
                    run_scheduler(rt, every=settings.scheduler_interval_seconds, stop=stop)
                )
                stack.push_async_callback(_stop_task, stop, task)
            if manage_database:
                # Webhook deliveries survive restarts in the database; any process may send them.
                stop_hooks = asyncio.Event()
                hooks = asyncio.create_task(run_dispatcher(rt, stop=stop_hooks))
                stack.push_async_callback(_stop_task, stop_hooks, hooks)
            # What startup built (schema, models, settings) lives as long as the process: moved
            # out of the collector's generations, so that its full collections, which the
            # garbage of every request triggers, no longer walk it (bench/RESULTS.md).
            gc.collect()
            gc.freeze()
            yield

    async def healthz(_: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    async def readyz(request: Request) -> JSONResponse:
        from tortoise import connections

        checks: dict[str, str] = {}
        try:
            await connections.get("default").execute_query("SELECT 1")
            checks["database"] = "up"
        except Exception:
            log.exception("readiness check failed: database")
            checks["database"] = "down"
        bus = getattr(request.app.state, "runtime", None)
        redis = getattr(getattr(bus, "bus", None), "_redis", None)
        if redis is not None:
            try:
                await redis.ping()
                checks["redis"] = "up"
            except Exception:
                log.exception("readiness check failed: redis")
                checks["redis"] = "down"
        ok = all(v == "up" for v in checks.values())
        return JSONResponse(
            {"status": "ok" if ok else "unavailable", **checks}, status_code=200 if ok else 503
        )

    async def metrics(request: Request) -> Response:
        token = settings.metrics_token.get_secret_value() if settings.metrics_token else None
        if token is not None:
            presented = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
            if not hmac.compare_digest(presented.encode(), token.encode()):
                return PlainTextResponse("unauthorized\n", status_code=401)
        text = await render_metrics(request.app.state.runtime)
        return PlainTextResponse(text, media_type="text/plain; version=0.0.4")

    app = Starlette(
        routes=[
            Route("/graphql", graphql_app, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql_app),
            Route("/oauth/callback", oauth_callback),
            Route("/oauth/adminconsent", admin_consent_callback),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/metrics", metrics),
            *console_routes(),
        ],
        lifespan=lifespan,
        middleware=[Middleware(RequestIdMiddleware)],
    )
    if runtime is not None:
        app.state.runtime = runtime
    app.state.rate_limiter = limiter
    return app


def guards(settings: Settings) -> Guards:
    """The transport limits of /graphql (see api/graphql_view.py)."""
    return Guards(
        production=settings.production,
        max_bytes=settings.max_query_bytes,
        max_tokens=settings.max_query_tokens,
        body_timeout=settings.request_body_timeout_seconds,
        key_limit=Limit(per_minute=settings.rate_limit_per_minute, burst=settings.rate_limit_burst),
        anonymous_limit=Limit(
            per_minute=settings.rate_limit_unauthenticated_per_minute,
            burst=min(settings.rate_limit_burst, settings.rate_limit_unauthenticated_per_minute),
        ),
    )


def build_limiter(settings: Settings) -> RateLimiter:
    """In process by default; shared through Redis when several processes serve the API."""
    if settings.redis_url:
        return RedisLimiter(Redis.from_url(settings.redis_url), prefix=settings.redis_prefix)
    return InProcessLimiter()


def server_options(settings: Settings) -> dict[str, Any]:
    """uvicorn options that go with the app: a websocket frame is bounded like an HTTP body."""
    return {"ws": "websockets-sansio", "ws_max_size": settings.max_query_bytes}
