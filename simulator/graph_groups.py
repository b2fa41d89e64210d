"""Graph `/groups`, `/groups/{id}`, their `members` / `transitiveMembers` (with OData casts), and
a user's `transitiveMemberOf`."""

from __future__ import annotations

import re
from typing import Any

from simulator.directory_schema import (
    GROUP_DEFAULT_SELECT,
    GROUP_PROPERTIES,
    USER_DEFAULT_SELECT,
    USER_PROPERTIES,
    project,
)
from simulator.graph_filter import ADVANCED_HINT, GROUP_FILTERABLE, USER_FILTERABLE
from simulator.graph_http import (
    GROUPS_READ,
    GraphContext,
    GraphError,
    GraphRequest,
    GraphResponse,
    not_found,
)
from simulator.graph_query import (
    Entity,
    ListOptions,
    collection,
    context_url,
    list_options,
    matching_ids,
    page,
    parse_select,
)
from simulator.graph_users import USER, require_count_header
from simulator.tenant import SimTenant
from simulator.wire import dumps

GROUP = Entity(
    name="Group",
    type_name="microsoft.graph.group",
    catalogue=GROUP_PROPERTIES,
    default_select=GROUP_DEFAULT_SELECT,
    filterable=GROUP_FILTERABLE,
    searchable=frozenset({"displayName", "description", "mail", "mailNickname"}),
)
# Members are directoryObjects: users and groups share one $select, each keeping its own properties.
DIRECTORY_OBJECT = Entity(
    name="DirectoryObject",
    type_name="microsoft.graph.directoryObject",
    catalogue={**GROUP_PROPERTIES, **USER_PROPERTIES},
    default_select=(),
    filterable={**GROUP_FILTERABLE, **USER_FILTERABLE},
    searchable=USER.searchable | GROUP.searchable,
)
_USER_TYPE = b'{"@odata.type":"#microsoft.graph.user"'


def _group_json(group: dict[str, Any], select: tuple[str, ...], typed: bool) -> bytes:
    body: dict[str, Any] = {"@odata.type": "#microsoft.graph.group"} if typed else {}
    body.update(project(group, select, GROUP_PROPERTIES))
    return dumps(body)


async def list_groups(
    context: GraphContext, request: GraphRequest, match: re.Match[str]
) -> GraphResponse:
    context.require(GROUPS_READ)
    options = list_options(request, GROUP)
    groups = context.tenant.groups
    result = page(context, request, options.top, lambda: matching_ids(groups, options))
    items = [_group_json(groups[i], options.select, False) for i in result.ids if i in groups]
    body = collection(
        context_url("groups", options.select if options.explicit_select else None),
        items,
        count=result.total if options.count and "$skiptoken" not in request.params else None,
        next_link=result.next_link,
    )
    return GraphResponse(200, body)


async def count_groups(
    context: GraphContext, request: GraphRequest, match: re.Match[str]
) -> GraphResponse:
    context.require(GROUPS_READ)
    require_count_header(request)
    options = list_options(request, GROUP)
    return GraphResponse(
        200, str(len(matching_ids(context.tenant.groups, options))).encode(), "text/plain"
    )


async def get_group(
    context: GraphContext, request: GraphRequest, match: re.Match[str]
) -> GraphResponse:
    context.require(GROUPS_READ)
    group = context.tenant.groups.get(match["id"])
    if group is None:
        raise not_found(match["id"])
    select = parse_select(request, [GROUP])
    body = {"@odata.context": context_url("groups", select) + "/$entity"}
    body.update(project(group, select or GROUP_DEFAULT_SELECT, GROUP_PROPERTIES))
    return GraphResponse(200, dumps(body))


def _member_ids(tenant: SimTenant, group_id: str, transitive: bool, cast: str | None) -> list[str]:
    ids = tenant.member_ids(group_id, transitive=transitive)
    if cast == "user":
        return [i for i in ids if i in tenant.users]
    if cast == "group":
        return [i for i in ids if i in tenant.groups]
    return ids


def _member_options(request: GraphRequest, cast: str | None) -> ListOptions:
    if cast and not (request.eventual and request.params.get("$count", "").lower() == "true"):
        raise GraphError(
            400, "Request_UnsupportedQuery", f"OData cast is not supported {ADVANCED_HINT}"
        )
    entity = {"user": USER, "group": GROUP}.get(cast or "", DIRECTORY_OBJECT)
    return list_options(request, entity, advanced_only=True)


async def members(
    context: GraphContext, request: GraphRequest, match: re.Match[str]
) -> GraphResponse:
    """`/members` (direct) and `/transitiveMembers` (flattened, deduplicated), optionally cast."""
    context.require(GROUPS_READ)
    tenant = context.tenant
    group_id = match["id"]
    if group_id not in tenant.groups:
        raise not_found(group_id)
    cast = match["cast"]
    options = _member_options(request, cast)
    transitive = match["relation"] == "transitiveMembers"
    objects = {**tenant.groups, **tenant.users} if options.predicate or options.order else None

    def compute() -> list[str]:
        ids = _member_ids(tenant, group_id, transitive, cast)
        return matching_ids(objects, options, ids) if objects is not None else ids

    if match["count"]:
        require_count_header(request)
        return GraphResponse(200, str(len(compute())).encode(), "text/plain")
    result = page(context, request, options.top, compute)
    select = options.select if options.explicit_select else None
    user_select = select or USER_DEFAULT_SELECT
    group_select = select or GROUP_DEFAULT_SELECT
    items: list[bytes] = []
    for object_id in result.ids:
        if object_id in tenant.users:
            raw = tenant.user_json(object_id, user_select)
            items.append(_USER_TYPE + (b"," + raw[1:] if raw != b"{}" else b"}"))
        elif object_id in tenant.groups:
            items.append(_group_json(tenant.groups[object_id], group_select, True))
    entity_set = {"user": "users", "group": "groups"}.get(cast or "", "directoryObjects")
    body = collection(
        context_url(entity_set, select),
        items,
        count=result.total if options.count and "$skiptoken" not in request.params else None,
        next_link=result.next_link,
    )
    return GraphResponse(200, body)


async def transitive_member_of(
    context: GraphContext, request: GraphRequest, match: re.Match[str]
) -> GraphResponse:
    """`/users/{id or UPN}/transitiveMemberOf`: the groups a user is in, nested ones included
    (this tenant has no directory roles or administrative units to list beside them)."""
    context.require(GROUPS_READ)
    tenant = context.tenant
    user = tenant.find_user(match["id"])
    if user is None:
        raise not_found(match["id"])
    options = list_options(request, GROUP)
    user_id = user["id"]

    def compute() -> list[str]:
        return [g for g in tenant.groups if user_id in tenant.member_ids(g, transitive=True)]

    result = page(context, request, options.top, compute)
    select = options.select if options.explicit_select else None
    items = [
        _group_json(tenant.groups[g], select or GROUP_DEFAULT_SELECT, True)
        for g in result.ids
        if g in tenant.groups
    ]
    body = collection(context_url("directoryObjects", select), items, next_link=result.next_link)
    return GraphResponse(200, body)
