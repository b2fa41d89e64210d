"""The GraphQL schema: types, queries, mutations and subscriptions over services/."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import strawberry
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.extensions import MaxAliasesLimiter, QueryDepthLimiter, SchemaExtension
from strawberry.schema.config import StrawberryConfig

from schema.connections import TenantConnection
from schema.guards import CachedDocuments, DocumentCache, SuggestionFreeExecutionContext
from schema.mutations import Mutation
from schema.queries import Query
from schema.review import ReviewItem
from schema.sync import Subscription, SyncRun
from schema.types import EndUser, Site

ExtensionFactory = Callable[[], SchemaExtension]
SDL_PATH = Path(__file__).with_name("schema.graphql")


def build_schema(
    *,
    max_depth: int = 12,
    max_aliases: int = 15,
    max_tokens: int = 2000,
    hide_suggestions: bool = False,
    introspection: bool = True,
    extra_extensions: list[ExtensionFactory] | None = None,
) -> strawberry.Schema:
    """The schema with its guards; api/ adds the production-only extensions.

    `introspection=False` (production) refuses `__schema` and `__type`. `hide_suggestions`
    (production) leaves graphql-core's "Did you mean ...?" hints, which name
    fields, arguments and enum values, out of every error (see schema/guards.py).
    """
    # Parsing (token limit) and validation (depth and alias limits, suggestions) in one extension
    # with one cache per schema, keyed by query text (schema/guards.py). The rule classes are
    # built once: a new class per request would make every request a new key.
    documents = DocumentCache(
        rules=[
            *QueryDepthLimiter(max_depth=max_depth).validation_rules,
            *MaxAliasesLimiter(max_alias_count=max_aliases).validation_rules,
            *(() if introspection else (NoSchemaIntrospectionCustomRule,)),
        ],
        max_tokens=max_tokens,
        hide_suggestions=hide_suggestions,
    )
    # Factories: a fresh extension per request, sharing the schema's cache.
    extensions: list[ExtensionFactory] = [
        lambda: CachedDocuments(documents),
        *(extra_extensions or []),
    ]
    return strawberry.Schema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=[Site, EndUser, TenantConnection, SyncRun, ReviewItem],
        extensions=extensions,
        config=StrawberryConfig(auto_camel_case=True),
        execution_context_class=SuggestionFreeExecutionContext if hide_suggestions else None,
    )


def export_sdl() -> str:
    return build_schema().as_str() + "\n"
