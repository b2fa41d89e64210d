"""The Graph route table and the aiohttp handler that feeds `/v1.0/...` requests to it."""

from __future__ import annotations

import re

from aiohttp import web
from multidict import CIMultiDict

from simulator.context import base_url_of, state_of
from simulator.graph_batch import run_batch
from simulator.graph_delta import users_delta
from simulator.graph_groups import (
    count_groups,
    get_group,
    list_groups,
    members,
    transitive_member_of,
)
from simulator.graph_http import GraphRequest, GraphResponse, Route, dispatch
from simulator.graph_users import (
    count_users,
    get_user,
    list_users,
    mailbox_settings,
    me,
    organization,
)

_ID = r"(?P<id>[^/]+)"


def _members(relation: str) -> re.Pattern[str]:
    return re.compile(
        r"/groups/" + _ID + rf"/(?P<relation>{relation})"
        r"(?:/microsoft\.graph\.(?P<cast>user|group))?(?P<count>/\$count)?"
    )


# Order matters: literal segments ($count, delta) before the `{id}` patterns. Resource unit
# costs follow Graph's identity throttling table (users 2, members 3, transitiveMembers 5).
ROUTES: list[Route] = [
    Route("GET", re.compile(r"/organization(?:/(?P<id>[^/]+))?"), organization),
    Route("GET", re.compile(r"/me"), me),
    Route("GET", re.compile(r"/users"), list_users, 2),
    Route("GET", re.compile(r"/users/\$count"), count_users),
    Route("GET", re.compile(r"/users/delta"), users_delta, 2),
    Route("GET", re.compile(r"/users/" + _ID + r"/(?i:mailboxSettings)"), mailbox_settings),
    Route("GET", re.compile(r"/users/" + _ID + r"/transitiveMemberOf"), transitive_member_of, 5),
    Route("GET", re.compile(r"/users/" + _ID), get_user),
    Route("GET", re.compile(r"/groups"), list_groups, 2),
    Route("GET", re.compile(r"/groups/\$count"), count_groups),
    Route("GET", _members("members"), members, 3),
    Route("GET", _members("transitiveMembers"), members, 5),
    Route("GET", re.compile(r"/groups/" + _ID), get_group),
]


async def graph_endpoint(request: web.Request) -> web.Response:
    state = state_of(request)
    graph_url = base_url_of(request) + "/v1.0"
    path = "/" + request.match_info["tail"]
    # raw_path keeps the query exactly as sent, so nextLinks can repeat it byte for byte.
    graph_request = GraphRequest(
        request.method,
        path,
        request.raw_path.partition("?")[2],
        CIMultiDict(request.headers),
        await request.read(),
    )
    if path.rstrip("/") == "/$batch":
        if request.method != "POST":
            response = GraphResponse(405, b"")
        else:
            response = await run_batch(state, ROUTES, graph_url, graph_request)
    else:
        response = await dispatch(state, ROUTES, graph_url, graph_request)
    return to_web(response)


def to_web(response: GraphResponse) -> web.Response:
    headers = dict(response.headers)
    headers["Content-Type"] = response.content_type
    if response.content_type.startswith("application/json"):
        headers.setdefault("OData-Version", "4.0")
    headers.setdefault("Cache-Control", "no-cache")
    return web.Response(status=response.status, body=response.body, headers=headers)
