"""The composition root: create_app() wires settings, database, schema and routes."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

from graphql import GraphQLError
from graphql.validation import NoSchemaIntrospectionCustomRule
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route, WebSocketRoute
from strawberry.extensions import AddValidationRules, MaskErrors, SchemaExtension

from api.db import close_database, open_database
from api.graphql_view import GraphQLApp
from api.settings import Settings
from schema import build_schema
from schema.context import Limits

log = logging.getLogger("entrasync.api")


def _should_mask(error: GraphQLError) -> bool:
    """Mask unexpected exceptions; keep validation errors and the errors we raise on purpose."""
    original = error.original_error
    if original is None or isinstance(original, GraphQLError):
        return False
    log.error("unexpected error in resolver", exc_info=original)
    return True


def create_app(
    settings: Settings, *, services: Any = None, manage_database: bool = True
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
        services=services,
        max_bytes=settings.max_query_bytes,
    )

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if not manage_database:
            yield
            return
        await open_database(settings.resolved_database_url)
        try:
            yield
        finally:
            await close_database()

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

    return Starlette(
        routes=[
            Route("/graphql", graphql_app, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql_app),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
        ],
        lifespan=lifespan,
    )
