"""Graph `/users/delta`: full rounds, change rounds, `@removed`, `$deltatoken=latest`, expired tokens."""

from __future__ import annotations

import re
import time
from typing import Any

from simulator.directory_schema import USER_PROPERTIES
from simulator.graph_filter import compile_filter
from simulator.graph_http import USERS_READ, GraphContext, GraphError, GraphRequest, GraphResponse
from simulator.graph_query import collection, context_url, page, parse_select
from simulator.graph_users import RELATIONS, USER
from simulator.tenant import SimTenant
from simulator.wire import b64url_json, dumps, unb64url_json

SYNC_STATE_NOT_FOUND = (
    "The sync state generation is not found. The delta token is expired and data must be "
    "synchronized again."
)


def _reject_unsupported(request: GraphRequest) -> None:
    for name in ("$top", "$orderby", "$expand", "$search", "$skip", "$count"):
        if name in request.params:
            raise GraphError(
                400,
                "Request_UnsupportedQuery",
                f"The query option '{name}' is not supported with delta queries.",
            )


def _delta_link(
    context: GraphContext, seq: int, select: tuple[str, ...] | None, filter_text: str | None
) -> str:
    token = b64url_json(
        {
            "t": context.tenant.tenant_id,
            "g": context.tenant.delta_generation,
            "s": seq,
            "sel": list(select) if select else None,
            "f": filter_text,
            "iat": int(time.time()),
        }
    )
    return f"{context.graph_url}/users/delta?$deltatoken={token}"


def _expired(context: GraphContext, data: dict[str, Any]) -> GraphError:
    """400 syncStateNotFound (Graph's answer for users), or 410 + Location when so configured."""
    if context.state.config.delta_expired_status == 410:
        location = f"{context.graph_url}/users/delta"
        if data.get("sel"):
            location += "?$select=" + ",".join(data["sel"])
        return GraphError(
            410,
            "resyncRequired",
            "The delta token is no longer valid, and the app must reset the sync state.",
            {"Location": location},
        )
    return GraphError(400, "syncStateNotFound", SYNC_STATE_NOT_FOUND)


def _read_token(context: GraphContext, token: str) -> dict[str, Any]:
    try:
        data = unb64url_json(token)
    except ValueError:
        data = None
    if not isinstance(data, dict) or not isinstance(data.get("s"), int):
        raise GraphError(400, "syncStateInvalid", "The delta token is invalid.")
    tenant = context.tenant
    max_age = context.state.config.delta_token_max_age
    too_old = max_age is not None and time.time() - float(data.get("iat", 0)) > max_age
    if data.get("t") != tenant.tenant_id or data.get("g") != tenant.delta_generation or too_old:
        raise _expired(context, data)
    return data


def _id_filter(filter_text: str | None) -> Any:
    # Delta accepts only `id eq '…'` clauses joined by `or` (reference section 2).
    if not filter_text:
        return None
    return compile_filter(filter_text, "User", {"id": False}, advanced=False)


async def users_delta(
    context: GraphContext, request: GraphRequest, match: re.Match[str]
) -> GraphResponse:
    context.require(USERS_READ)
    _reject_unsupported(request)
    tenant = context.tenant
    params = request.params
    if "$skiptoken" in params:
        return _render(context, request, {})
    delta_token = params.get("$deltatoken")
    if delta_token == "latest":
        select = parse_select(request, [USER], RELATIONS)
        link = _delta_link(context, tenant.seq, select, params.get("$filter"))
        return GraphResponse(200, collection(context_url("users", select), [], delta_link=link))
    if delta_token:
        data = _read_token(context, delta_token)
        select = tuple(data["sel"]) if data.get("sel") else None
        filter_text = data.get("f")
        since: int | None = data["s"]
        tracked = frozenset(select) if select else None
        id_filter = _id_filter(filter_text)
        ids = [
            i
            for i in tenant.changed_since(data["s"], tracked)
            if id_filter is None or id_filter({"id": i})
        ]
    else:
        select = parse_select(request, [USER], RELATIONS)
        filter_text = params.get("$filter")
        id_filter = _id_filter(filter_text)
        since = None
        ids = [i for i in tenant.users if id_filter is None or id_filter({"id": i})]
    round_data = {"since": since, "upto": tenant.seq, "select": select, "filter": filter_text}
    return _render(context, request, round_data, ids)


def _render(
    context: GraphContext,
    request: GraphRequest,
    round_data: dict[str, Any],
    ids: list[str] | None = None,
) -> GraphResponse:
    size = context.state.config.delta_page_size
    result = page(
        context,
        request,
        size,
        lambda: ids or [],
        round_data,
        link=lambda token: f"{context.graph_url}/users/delta?$skiptoken={token}",
    )
    data = result.snapshot.data
    select: tuple[str, ...] | None = data["select"]
    # `manager` is a relationship: tracked when selected, answered as `manager@delta`.
    manager = select is not None and "manager" in select
    shown = tuple(n for n in select or USER.default_select if n not in RELATIONS)
    if "id" not in shown:
        shown = (*shown, "id")  # delta always returns id
    minimal = "return=minimal" in request.headers.get("Prefer", "").replace(" ", "").lower()
    tenant = context.tenant
    items = [_entry(tenant, i, shown, data["since"], minimal, manager) for i in result.ids]
    delta_link = None
    if result.next_link is None:
        delta_link = _delta_link(context, data["upto"], select, data["filter"])
    body = collection(
        context_url("users", select), items, next_link=result.next_link, delta_link=delta_link
    )
    headers = {"Preference-Applied": "return=minimal"} if minimal else {}
    return GraphResponse(200, body, headers=headers)


def _manager_delta(
    tenant: SimTenant, user_id: str, changed: set[str] | None
) -> list[dict[str, Any]] | None:
    """`manager@delta` of one entry: the current manager's id in a fresh round or for a user
    that appeared or whose manager changed; the former one with `@removed` when it was taken
    away; None (left out) when the manager did not change or there never was one."""
    if changed is not None and "manager" not in changed:
        return None
    current = tenant.managers.get(user_id)
    if current is not None:
        return [{"@odata.type": "#microsoft.graph.user", "id": current}]
    former = tenant.former_manager(user_id)
    if changed is None or former is None:
        return None
    return [
        {"@odata.type": "#microsoft.graph.user", "id": former, "@removed": {"reason": "deleted"}}
    ]


def _entry(
    tenant: SimTenant,
    user_id: str,
    shown: tuple[str, ...],
    since: int | None,
    minimal: bool,
    manager: bool = False,
) -> bytes:
    reason = tenant.removal_reason(user_id)
    if reason is not None:
        return dumps({"id": user_id, "@removed": {"reason": reason}})
    if since is None:
        raw = tenant.user_json(user_id, shown)
        boss = _manager_delta(tenant, user_id, None) if manager else None
        if boss is None:
            return raw
        return raw[:-1] + b',"manager@delta":' + dumps(boss) + b"}"
    user = tenant.users[user_id]
    changed = tenant.changed_properties(user_id, since)
    out: dict[str, Any]
    if minimal and changed is not None:
        # Only what changed, set-to-null included.
        out = {name: user.get(name) for name in shown if name in changed or name == "id"}
    else:
        # Full representation; a property never set is left out entirely (absent is not null).
        out = {}
        for name in shown:
            value = user.get(name, USER_PROPERTIES.get(name))
            if value not in (None, [], ()) or tenant.ever_changed(user_id, name) or name == "id":
                out[name] = list(value) if isinstance(value, tuple) else value
    if manager:
        boss = _manager_delta(tenant, user_id, changed)
        if boss is not None:
            out["manager@delta"] = boss
    return dumps(out)
