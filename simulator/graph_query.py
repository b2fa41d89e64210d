"""OData list options ($select, $top, $filter, $search, $count, $orderby) and nextLink paging."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from simulator.graph_filter import Predicate, compile_filter, compile_search
from simulator.graph_http import CONTEXT_BASE, GraphContext, GraphError, GraphRequest, bad_request
from simulator.paging import Snapshot, make_skiptoken, parse_skiptoken
from simulator.wire import dumps

MAX_PAGE = 999
# Graph's page size when $expand is used on directory objects, whatever $top asks (known issue:
# "$expand on directory objects returns a maximum of 100 objects").
EXPAND_PAGE = 100


@dataclass(frozen=True)
class Entity:
    """What list options need to know about one resource type."""

    name: str  # "User", as in Graph's filter errors
    type_name: str  # "microsoft.graph.user"
    catalogue: dict[str, Any]
    default_select: tuple[str, ...]
    filterable: dict[str, bool]
    searchable: frozenset[str]
    single_only: frozenset[str] = frozenset()


@dataclass(frozen=True)
class ListOptions:
    select: tuple[str, ...]
    explicit_select: bool
    top: int
    count: bool  # $count=true honoured: only with ConsistencyLevel: eventual
    predicate: Predicate | None
    order: tuple[str, bool] | None  # (property, descending)


def parse_select(
    request: GraphRequest, entities: Iterable[Entity], relations: Iterable[str] = ()
) -> tuple[str, ...] | None:
    """The $select list in Graph's spelling (names are case-insensitive), or None. `relations`
    are navigation properties this request may select too (`manager` on /users/delta)."""
    raw = request.params.get("$select")
    if raw is None:
        return None
    entities = list(entities)
    relations = tuple(relations)
    names: list[str] = []
    for item in (part.strip() for part in raw.split(",")):
        if not item:
            continue
        canonical = next(
            (known for e in entities for known in e.catalogue if known.lower() == item.lower()),
            None,
        ) or next((r for r in relations if r.lower() == item.lower()), None)
        if canonical is None:
            if any(item.lower() in {s.lower() for s in e.single_only} for e in entities):
                raise GraphError(
                    501, "NotImplemented", "This operation target is not yet supported."
                )
            raise bad_request(
                f"Could not find a property named '{item}' on type '{entities[0].type_name}'."
            )
        if canonical not in names:
            names.append(canonical)
    return tuple(names)


def parse_top(request: GraphRequest, default: int = 100) -> int:
    raw = request.params.get("$top")
    if raw is None:
        return default
    if not raw.strip().lstrip("-").isdigit() or not 1 <= int(raw) <= MAX_PAGE:
        raise bad_request(
            f"Invalid page size specified: '{raw}'. Must be between 1 and {MAX_PAGE} inclusive."
        )
    return int(raw)


def reject_unsupported(request: GraphRequest, *names: str) -> None:
    for name in names:
        if name in request.params:
            raise bad_request(
                f"'{name}' is not supported by the service.", "Request_UnsupportedQuery"
            )


@dataclass(frozen=True)
class Expand:
    """A parsed `$expand=name($select=...)` of one navigation property."""

    name: str
    select: tuple[str, ...] | None


def parse_expand(request: GraphRequest, entity: Entity, relations: Iterable[str]) -> Expand | None:
    """`$expand` of one of `relations` (Graph expands one relationship per request on users), with
    an optional `$select` inside; None without `$expand`. Refused in advanced queries."""
    raw = request.params.get("$expand")
    if raw is None:
        return None
    if request.eventual and request.params.get("$count", "").lower() == "true":
        raise GraphError(
            400, "Request_UnsupportedQuery", "$expand is not supported with advanced queries."
        )
    text = raw.strip()
    name, _, rest = text.partition("(")
    name = name.strip()
    if "," in name:
        raise bad_request(
            "The result of parsing $expand contained at least 2 items, but the maximum allowed is 1."
        )
    canonical = next((r for r in relations if r.lower() == name.lower()), None)
    if canonical is None:
        raise bad_request(f"Could not find a property named '{name}' on type '{entity.type_name}'.")
    select: tuple[str, ...] | None = None
    if rest:
        if not rest.endswith(")"):
            raise bad_request(f"Syntax error in $expand: '{raw}'.")
        for option in rest[:-1].split(";"):
            key, _, value = option.partition("=")
            if key.strip().lower() != "$select":
                raise bad_request(f"Query option '{key.strip()}' is not supported in $expand.")
            names: list[str] = []
            for item in (v.strip() for v in value.split(",")):
                known = next((k for k in entity.catalogue if k.lower() == item.lower()), None)
                if known is None:
                    raise bad_request(
                        f"Could not find a property named '{item}' on type '{entity.type_name}'."
                    )
                names.append(known)
            select = tuple(names)
    return Expand(canonical, select)


def list_options(
    request: GraphRequest, entity: Entity, *, advanced_only: bool = False, expand: bool = False
) -> ListOptions:
    """Parse a collection request. `advanced_only`: $filter/$search need ConsistencyLevel (members).
    `expand`: the caller handles $expand (see `parse_expand`)."""
    reject_unsupported(request, "$skip", *(() if expand else ("$expand",)))
    select = parse_select(request, [entity])
    top = parse_top(request)
    count_asked = request.params.get("$count", "").lower() == "true"
    advanced = request.eventual and count_asked
    predicates: list[Predicate] = []
    if "$filter" in request.params:
        if advanced_only and not advanced:
            raise GraphError(
                400,
                "Request_UnsupportedQuery",
                "Filter is not supported on this collection without ConsistencyLevel:eventual and $count=true.",
            )
        predicates.append(
            compile_filter(request.params["$filter"], entity.name, entity.filterable, advanced)
        )
    if "$search" in request.params:
        if not request.eventual:
            raise GraphError(
                400,
                "Request_UnsupportedQuery",
                "Request with $search query parameter only works through MSGraph with a special "
                "request header: 'ConsistencyLevel: eventual'",
            )
        predicates.append(compile_search(request.params["$search"], entity.searchable))
    order = _parse_orderby(request, advanced, bool(predicates))
    predicate: Predicate | None = None
    if len(predicates) == 1:
        predicate = predicates[0]
    elif predicates:
        predicate = _all_of(predicates)
    return ListOptions(
        select=select or entity.default_select,
        explicit_select=select is not None,
        top=top,
        count=request.eventual and count_asked,
        predicate=predicate,
        order=order,
    )


def _all_of(predicates: list[Predicate]) -> Predicate:
    return lambda obj: all(p(obj) for p in predicates)


def _parse_orderby(
    request: GraphRequest, advanced: bool, filtered: bool
) -> tuple[str, bool] | None:
    raw = request.params.get("$orderby")
    if raw is None:
        return None
    prop, _, direction = raw.strip().partition(" ")
    canonical = {"displayname": "displayName", "userprincipalname": "userPrincipalName"}.get(
        prop.lower()
    )
    if canonical is None or direction.strip().lower() not in ("", "asc", "desc"):
        raise GraphError(
            400, "Request_UnsupportedQuery", "Sorting not supported for current query."
        )
    if filtered and not advanced:
        raise GraphError(
            400, "Request_UnsupportedQuery", "Sorting not supported for current query."
        )
    return canonical, direction.strip().lower() == "desc"


def matching_ids(
    objects: dict[str, dict[str, Any]], options: ListOptions, ids: Iterable[str] | None = None
) -> list[str]:
    """Ids of `objects` (in `ids` order when given) passing the filter, in the requested order."""
    source = objects if ids is None else ids
    predicate = options.predicate
    result = [i for i in source if i in objects and (predicate is None or predicate(objects[i]))]
    if options.order is not None:
        prop, descending = options.order
        result.sort(key=lambda i: str(objects[i].get(prop) or "").casefold(), reverse=descending)
    return result


def next_link(graph_url: str, request: GraphRequest, skiptoken: str) -> str:
    """The request's own URL with a new $skiptoken; other parameters repeated as sent."""
    kept = [
        part
        for part in request.raw_query.split("&")
        if part and unquote(part.split("=", 1)[0]).lower() != "$skiptoken"
    ]
    kept.append(f"$skiptoken={skiptoken}")
    return f"{graph_url}{request.path}?{'&'.join(kept)}"


@dataclass
class Page:
    ids: list[str]
    next_link: str | None
    total: int
    snapshot: Snapshot


def page(
    context: GraphContext,
    request: GraphRequest,
    top: int,
    compute: Callable[[], list[str]],
    data: dict[str, Any] | None = None,
    link: Callable[[str], str] | None = None,
) -> Page:
    """One page: the first computes the id list and snapshots it; later ones read the snapshot."""
    token = request.params.get("$skiptoken")
    store = context.state.snapshots
    key: str | None = None
    if token:
        try:
            key, offset = parse_skiptoken(token)
        except ValueError:
            raise bad_request("Invalid skip token.") from None
        found = store.get(key)
        if found is None:
            raise bad_request("The skip token is expired or invalid.")
        snapshot = found
    else:
        snapshot, offset = Snapshot(compute(), data or {}), 0
    end = offset + top
    more = None
    if end < len(snapshot.ids):
        if key is None:
            key = store.put(snapshot)
        token = make_skiptoken(key, end)
        more = link(token) if link else next_link(context.graph_url, request, token)
    return Page(snapshot.ids[offset:end], more, len(snapshot.ids), snapshot)


def collection(
    context_url: str,
    items: Iterable[bytes],
    *,
    count: int | None = None,
    next_link: str | None = None,
    delta_link: str | None = None,
) -> bytes:
    """Assemble a collection body from pre-serialised items (the fast path for 999-user pages)."""
    head = b'{"@odata.context":' + dumps(context_url)
    if count is not None:
        head += b',"@odata.count":' + str(count).encode()
    if next_link is not None:
        head += b',"@odata.nextLink":' + dumps(next_link)
    tail = b"]"
    if delta_link is not None:
        tail += b',"@odata.deltaLink":' + dumps(delta_link)
    return head + b',"value":[' + b",".join(items) + tail + b"}"


def context_url(entity_set: str, select: tuple[str, ...] | None) -> str:
    return CONTEXT_BASE + entity_set + (f"({','.join(select)})" if select else "")
