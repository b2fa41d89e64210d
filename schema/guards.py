"""Production-only schema guards: no "Did you mean ...?" field, argument or value suggestions.

graphql-core appends suggestions built from the schema's names to validation errors and to
variable coercion errors, which lets a client map a schema whose introspection is off (OWASP
GraphQL cheat sheet). graphql-core can leave them out (`hide_suggestions`), but strawberry does not
pass that option, so production validates with this extension instead of strawberry's
ValidationCache and executes with an executor class that sets it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import lru_cache
from typing import Any

from graphql import DocumentNode, GraphQLError, GraphQLSchema
from graphql.validation import ASTValidationRule, validate
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.validation_rules.maybe_null import MaybeNullValidationRule
from strawberry.schema.validation_rules.one_of import OneOfInputValidationRule

Rules = tuple[type[ASTValidationRule], ...]


def _validate_without_suggestions(
    schema: GraphQLSchema, document: DocumentNode, rules: Rules
) -> list[GraphQLError]:
    # The two rules strawberry adds in its own validate_document.
    rules = (*rules, MaybeNullValidationRule, OneOfInputValidationRule)
    return validate(schema, document, rules, hide_suggestions=True)


_CACHES: dict[int, Callable[[GraphQLSchema, DocumentNode, Rules], list[GraphQLError]]] = {}


def _cached(maxsize: int) -> Callable[[GraphQLSchema, DocumentNode, Rules], list[GraphQLError]]:
    # One LRU per size at module level, shared by the per-request extension instances.
    if maxsize not in _CACHES:
        _CACHES[maxsize] = lru_cache(maxsize=maxsize)(_validate_without_suggestions)
    return _CACHES[maxsize]


class SuggestionFreeValidation(SchemaExtension):
    """Strawberry's ValidationCache, validating with graphql-core's `hide_suggestions`."""

    def __init__(self, maxsize: int = 256) -> None:
        self._validate = _cached(maxsize)

    def on_validate(self) -> Iterator[None]:
        ctx = self.execution_context
        assert ctx.graphql_document is not None
        ctx.pre_execution_errors = self._validate(
            ctx.schema._schema, ctx.graphql_document, tuple(ctx.validation_rules)
        )
        yield


class SuggestionFreeExecutionContext(StrawberryGraphQLCoreExecutionContext):
    """Coerces variables (an enum value, an input field) without naming the schema's choices."""

    @classmethod
    def build(cls, *args: Any, **kwargs: Any) -> Any:
        kwargs["hide_suggestions"] = True
        return super().build(*args, **kwargs)
