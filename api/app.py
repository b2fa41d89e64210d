"""The composition root: create_app() wires settings, database, schema and routes."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable

from graphql import GraphQLError
from graphql.validation import NoSchemaIntrospectionCustomRule
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route, WebSocketRoute
from strawberry.extensions import AddValidationRules, MaskErrors, SchemaExtension

from api.db import close_database, open_database
from api.graphql_view import GraphQLApp
from api.oauth import oauth_callback
from api.runtime import open_runtime
from api.settings import Settings
from schema import build_schema
from schema.context import Limits
from services.runtime import Runtime
from services.scheduler import run_scheduler

log = logging.getLogger("entrasync.api")


def _should_mask(error: GraphQLError) -> bool:
    """Mask unexpected exceptions; keep validation errors and the errors we raise on purpose."""
    original = error.original_error
    if original is None or isinstance(original, GraphQLError):
        return False
    log.error("unexpected error in resolver", exc_info=original)
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
        extras += [
            lambda: AddValidationRules([NoSchemaIntrospectionCustomRule]),
            lambda: MaskErrors(
                should_mask_error=_should_mask, error_message="Internal server error."
            ),
        ]
    schema = build_schema(
        max_depth=settings.max_query_depth,
        max_aliases=settings.max_aliases,
        max_tokens=settings.max_query_tokens,
        extra_extensions=extras,
    )
    graphql_app = GraphQLApp(
        schema,
        graphql_ide=None if settings.production else "graphiql",
        allow_queries_via_get=False,
        limits=Limits(max_page_size=settings.max_page_size),
        services=runtime,
        max_bytes=settings.max_query_bytes,
    )

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with contextlib.AsyncExitStack() as stack:
            if manage_database:
                await open_database(settings.resolved_database_url)
                stack.push_async_callback(close_database)
            if runtime is None:
                rt = await stack.enter_async_context(open_runtime(settings))
            else:
                rt = runtime
            app.state.runtime = rt
            graphql_app.services = rt
            if settings.scheduler == "embedded" and manage_database:
                stop = asyncio.Event()
                task = asyncio.create_task(
                    run_scheduler(rt, every=settings.scheduler_interval_seconds, stop=stop)
                )
                stack.push_async_callback(_stop_task, stop, task)
            yield

    async def healthz(_: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    async def readyz(_: Request) -> JSONResponse:
        from tortoise import connections

        try:
            await connections.get("default").execute_query("SELECT 1")
        except Exception:
            log.exception("readiness check failed")
            return JSONResponse({"status": "unavailable", "database": "down"}, status_code=503)
        return JSONResponse({"status": "ok", "database": "up"})

    app = Starlette(
        routes=[
            Route("/graphql", graphql_app, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql_app),
            Route("/oauth/callback", oauth_callback),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
        ],
        lifespan=lifespan,
    )
    if runtime is not None:
        app.state.runtime = runtime
    return app
