"""The `/_sim/` JSON admin API, for the demo and scripts (tests call SimState/SimTenant directly)."""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from simulator.context import state_of
from simulator.faults import Fault
from simulator.tenant import SimTenant

_Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def _admin_errors(request: web.Request, handler: _Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except KeyError as exc:
        return web.json_response(
            {"error": f"not found: {exc.args[0] if exc.args else ''}"}, status=404
        )
    except (ValueError, TypeError) as exc:
        return web.json_response({"error": str(exc)}, status=400)


def _tenant(request: web.Request) -> SimTenant:
    return state_of(request).tenant(request.match_info["tenant"])


async def _json(request: web.Request) -> dict[str, Any]:
    if not request.can_read_body:
        return {}
    body = await request.json()
    if not isinstance(body, dict):
        raise ValueError("expected a JSON object")
    return body


def _summary(tenant: SimTenant) -> dict[str, Any]:
    return {
        "tenant_id": tenant.tenant_id,
        "domain": tenant.domain,
        "display_name": tenant.display_name,
        "users": len(tenant.users),
        "deleted_users": len(tenant.deleted_users),
        "groups": len(tenant.groups),
        "admin": tenant.admin["userPrincipalName"] if tenant.admin_user_id else None,
    }


async def list_tenants(request: web.Request) -> web.Response:
    return web.json_response([_summary(t) for t in state_of(request).tenants.values()])


async def get_user(request: web.Request) -> web.Response:
    tenant = _tenant(request)
    user_id = request.match_info["user"]
    user = tenant.users.get(user_id) or tenant.deleted_users[user_id]
    return web.json_response(user)


async def add_user(request: web.Request) -> web.Response:
    return web.json_response(_tenant(request).add_user(**await _json(request)), status=201)


async def update_user(request: web.Request) -> web.Response:
    return web.json_response(
        _tenant(request).update_user(request.match_info["user"], **await _json(request))
    )


async def delete_user(request: web.Request) -> web.Response:
    hard = request.query.get("hard", "false").lower() in ("1", "true", "yes")
    _tenant(request).delete_user(request.match_info["user"], hard=hard)
    return web.Response(status=204)


async def restore_user(request: web.Request) -> web.Response:
    return web.json_response(_tenant(request).restore_user(request.match_info["user"]))


async def add_group(request: web.Request) -> web.Response:
    body = await _json(request)
    name = body.pop("displayName")
    return web.json_response(_tenant(request).add_group(str(name), **body), status=201)


async def add_member(request: web.Request) -> web.Response:
    body = await _json(request)
    _tenant(request).add_member(request.match_info["group"], str(body["id"]))
    return web.Response(status=204)


async def remove_member(request: web.Request) -> web.Response:
    _tenant(request).remove_member(request.match_info["group"], request.match_info["member"])
    return web.Response(status=204)


async def tenant_action(request: web.Request) -> web.Response:
    """expire-delta-tokens, revoke-refresh-tokens, withdraw-consent, admin-consent."""
    state = state_of(request)
    tenant = _tenant(request)
    body = await _json(request)
    action = request.match_info["action"]
    if action == "expire-delta-tokens":
        state.expire_delta_tokens(tenant)
    elif action == "revoke-refresh-tokens":
        state.revoke_refresh_tokens(tenant)
    elif action == "withdraw-consent":
        state.withdraw_consent(tenant, body.get("client_id"))
    elif action == "admin-consent":
        state.grant_admin_consent(
            tenant, **({"client_id": body["client_id"]} if "client_id" in body else {})
        )
    else:
        raise KeyError(action)
    return web.Response(status=204)


async def expire_access_tokens(request: web.Request) -> web.Response:
    state_of(request).expire_access_tokens()
    return web.Response(status=204)


def _faults_view(request: web.Request) -> dict[str, Any]:
    plan = state_of(request).faults
    return {
        "script": [
            {"prefix": prefix, "faults": [dataclasses.asdict(f) for f in queue]}
            for prefix, queue in plan.scripted
            if queue
        ],
        "random": {
            "throttle_ratio": plan.throttle_ratio,
            "error_ratio": plan.error_ratio,
            "drop_ratio": plan.drop_ratio,
            "retry_after": list(plan.random_retry_after),
            "prefix": plan.random_prefix,
        },
        "page_delay": plan.page_delay,
    }


async def get_faults(request: web.Request) -> web.Response:
    return web.json_response(_faults_view(request))


async def set_faults(request: web.Request) -> web.Response:
    """Body: {"script": [{"prefix", "faults": [{status, retry_after, delay, drop, body}]}],
    "random": {throttle_ratio, error_ratio, drop_ratio, retry_after: [lo, hi], seed, prefix},
    "page_delay": seconds}; each part optional."""
    plan = state_of(request).faults
    body = await _json(request)
    for entry in body.get("script", []):
        plan.script(str(entry["prefix"]), [Fault.from_json(f) for f in entry["faults"]])
    if "random" in body:
        options = dict(body["random"])
        if "retry_after" in options:
            low, high = options["retry_after"]
            options["retry_after"] = (float(low), float(high))
        plan.set_random(**options)
    if "page_delay" in body:
        plan.page_delay = float(body["page_delay"])
    return web.json_response(_faults_view(request))


async def clear_faults(request: web.Request) -> web.Response:
    state_of(request).faults.clear()
    return web.Response(status=204)


async def get_config(request: web.Request) -> web.Response:
    state = state_of(request)
    return web.json_response({**dataclasses.asdict(state.config), "auto_accept": state.auto_accept})


async def set_config(request: web.Request) -> web.Response:
    state = state_of(request)
    body = await _json(request)
    if "auto_accept" in body:
        state.auto_accept = bool(body.pop("auto_accept"))
    fields = {f.name for f in dataclasses.fields(state.config)}
    unknown = set(body) - fields
    if unknown:
        raise ValueError(f"unknown config fields: {sorted(unknown)}")
    state.config = dataclasses.replace(state.config, **body)
    return await get_config(request)


async def get_requests(request: web.Request) -> web.Response:
    records = state_of(request).requests[int(request.query.get("since", "0")) :]
    return web.json_response([dataclasses.asdict(r) for r in records])


def admin_app() -> web.Application:
    """Mounted at `/_sim/`; its state comes from the parent app."""
    app = web.Application(middlewares=[_admin_errors])
    add = app.router
    add.add_get("/tenants", list_tenants)
    add.add_post("/tenants/{tenant}/users", add_user)
    add.add_get("/tenants/{tenant}/users/{user}", get_user)
    add.add_patch("/tenants/{tenant}/users/{user}", update_user)
    add.add_delete("/tenants/{tenant}/users/{user}", delete_user)
    add.add_post("/tenants/{tenant}/users/{user}/restore", restore_user)
    add.add_post("/tenants/{tenant}/groups", add_group)
    add.add_post("/tenants/{tenant}/groups/{group}/members", add_member)
    add.add_delete("/tenants/{tenant}/groups/{group}/members/{member}", remove_member)
    add.add_post("/tenants/{tenant}/{action}", tenant_action)
    add.add_post("/expire-access-tokens", expire_access_tokens)
    add.add_get("/faults", get_faults)
    add.add_post("/faults", set_faults)
    add.add_delete("/faults", clear_faults)
    add.add_get("/config", get_config)
    add.add_patch("/config", set_config)
    add.add_get("/requests", get_requests)
    return app
