"""A2/#2: a query text is parsed and validated once per process, whatever the request's rules."""

from __future__ import annotations

import strawberry

from schema import build_schema
from schema.guards import CachedDocuments, DocumentCache


def _cache(schema: strawberry.Schema) -> DocumentCache:
    for factory in schema.extensions:
        extension = factory() if callable(factory) else factory
        if isinstance(extension, CachedDocuments):
            return extension._cache
    raise AssertionError("the schema has no document cache")


async def test_repeated_query_text_is_parsed_and_validated_once() -> None:
    schema = build_schema(introspection=False, hide_suggestions=True)
    cache = _cache(schema)
    for _ in range(5):
        result = await schema.execute("query Ping { __typename }")
        assert result.errors is None and result.data == {"__typename": "Query"}
    info = cache.check.cache_info()  # type: ignore[attr-defined]
    assert (info.misses, info.hits) == (1, 4)


async def test_cached_documents_keep_every_rule_of_production() -> None:
    # The rules are part of the cached result: a document refused once is refused every time.
    schema = build_schema(introspection=False, hide_suggestions=True)
    deep = "query { viewer { account { id name } } __schema { types { name } } }"
    for _ in range(3):
        result = await schema.execute(deep)
        assert result.errors is not None
        assert any("introspection" in e.message for e in result.errors)
    development = build_schema(introspection=True)
    result = await development.execute("query { __schema { queryType { name } } }")
    assert result.errors is None
