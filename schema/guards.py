"""Schema guards run per operation: a token limit while parsing, validation with the depth and
alias limits, and (production) no "Did you mean ...?" field, argument or value suggestions.

graphql-core appends suggestions built from the schema's names to validation errors and to
variable coercion errors, which lets a client map a schema whose introspection is off (OWASP
GraphQL cheat sheet). graphql-core can leave them out (`hide_suggestions`), but strawberry does not
pass that option, so production validates with `hide_suggestions` here and executes with an
executor class that sets it.

Parsing and validation are cached together by query text (bench/RESULTS.md, "API throughput"):
one extension with one hook per operation instead of strawberry's MaxTokensLimiter, ParserCache,
ValidationCache and AddValidationRules (four extension objects and hooks per request, and a
validation cache keyed on the document, which hashes the whole syntax tree on every look-up).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from functools import lru_cache
from typing import Any

from graphql import DocumentNode, GraphQLError, GraphQLSchema, parse, specified_rules
from graphql.validation import ASTValidationRule, validate
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.validation_rules.maybe_null import MaybeNullValidationRule
from strawberry.schema.validation_rules.one_of import OneOfInputValidationRule

Rules = tuple[type[ASTValidationRule], ...]
_SPECIFIED: Rules = tuple(specified_rules)  # where strawberry starts every operation's rules
Checked = tuple[DocumentNode, list[GraphQLError]]


class DocumentCache:
    """Parsed and validated documents, by (schema, query text, validation rules).

    A text is parsed with the token limit, so an oversized document is refused while it is being
    parsed (a GraphQLSyntaxError, as strawberry's MaxTokensLimiter makes); only documents that
    parsed are kept, so a cached text was already checked. The rules of the key are those of the
    request (graphql-core's, and what other extensions add: introspection off in production);
    `rules` (depth, aliases) and strawberry's own two are added to them.
    """

    def __init__(
        self,
        *,
        rules: Sequence[type[ASTValidationRule]],
        max_tokens: int,
        hide_suggestions: bool,
        maxsize: int = 256,
    ) -> None:
        self._rules: Rules = tuple(rules)
        self._max_tokens = max_tokens
        self._hide_suggestions = hide_suggestions
        self.check: Callable[[GraphQLSchema, str, Rules], Checked] = lru_cache(maxsize=maxsize)(
            self._check
        )

    def _check(self, schema: GraphQLSchema, query: str, rules: Rules) -> Checked:
        document = parse(query, max_tokens=self._max_tokens)
        # Our rules right after graphql-core's, where AddValidationRules (the first extension)
        # put them, so that a document breaking several rules gets its errors in the same order.
        n = len(_SPECIFIED) if rules[: len(_SPECIFIED)] == _SPECIFIED else len(rules)
        ordered = (
            *rules[:n],
            *self._rules,
            *rules[n:],
            MaybeNullValidationRule,  # the two strawberry adds in its own validate_document
            OneOfInputValidationRule,
        )
        return document, validate(
            schema, document, ordered, hide_suggestions=self._hide_suggestions
        )


class CachedDocuments(SchemaExtension):
    """Hands strawberry the document and validation errors of a query text from the cache.

    Both are set while parsing, after every extension's on_operation has added its rules; with
    errors set, strawberry skips its own validation and reports them after its operation-type
    checks, as it would have. A syntax error (token limit included) is raised from the hook, as
    strawberry's ParserCache does.
    """

    def __init__(self, cache: DocumentCache) -> None:
        self._cache = cache

    def on_parse(self) -> Iterator[None]:
        ctx = self.execution_context
        if ctx.query:  # else strawberry reports the missing query
            ctx.graphql_document, ctx.pre_execution_errors = self._cache.check(
                ctx.schema._schema, ctx.query, tuple(ctx.validation_rules)
            )
        yield


class SuggestionFreeExecutionContext(StrawberryGraphQLCoreExecutionContext):
    """Coerces variables (an enum value, an input field) without naming the schema's choices."""

    @classmethod
    def build(cls, *args: Any, **kwargs: Any) -> Any:
        kwargs["hide_suggestions"] = True
        return super().build(*args, **kwargs)
