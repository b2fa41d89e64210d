"""OWASP GraphQL cheat sheet attacks on the production-mode server over HTTP, each with the exact
answer a client gets."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from api.app import create_app
from api.settings import Settings
from tests.factories import Tenant, make_account

VIEWER = "{ viewer { role } }"


@pytest.fixture
async def tenant() -> Tenant:
    return await make_account()


async def _post(
    client: httpx.AsyncClient, tenant: Tenant, query: str, variables: dict[str, Any] | None = None
) -> tuple[int, Any]:
    r = await client.post(
        "/graphql",
        json={"query": query, "variables": variables or {}},
        headers={"Authorization": f"Bearer {tenant.admin_key}"},
    )
    return r.status_code, r.json()


def _refusal(message: str, code: str) -> dict[str, Any]:
    return {"errors": [{"message": message, "extensions": {"code": code}}]}


def _errors(*messages: str) -> list[str]:
    return list(messages)


def _messages(body: Any) -> list[str]:
    return [e["message"] for e in body["errors"]]


# -- introspection and schema discovery


async def test_introspection_schema_query_is_refused(
    prod_client: httpx.AsyncClient, tenant: Tenant
) -> None:
    status, body = await _post(prod_client, tenant, "{ __schema { queryType { name } } }")
    assert status == 200 and body["data"] is None
    assert _messages(body) == [
        "GraphQL introspection has been disabled, but the requested query contained the field '__schema'.",
        "GraphQL introspection has been disabled, but the requested query contained the field 'queryType'.",
    ]


async def test_introspection_type_query_is_refused(
    prod_client: httpx.AsyncClient, tenant: Tenant
) -> None:
    status, body = await _post(prod_client, tenant, '{ __type(name: "Site") { name } }')
    assert (status, body) == (
        200,
        {
            "data": None,
            "errors": [
                {
                    "message": "GraphQL introspection has been disabled, but the requested query contained the field '__type'.",
                    "locations": [{"line": 1, "column": 3}],
                }
            ],
        },
    )


# Each typo graphql-core would answer with "Did you mean ...?", and the message it gets instead.
SUGGESTION_BAIT = [
    ("{ sitez { edges { node { id } } } }", None, "Cannot query field 'sitez' on type 'Query'."),
    (
        "{ sites(firts: 2) { edges { node { id } } } }",
        None,
        "Unknown argument 'firts' on field 'Query.sites'.",
    ),
    ('{ node(id: "x") { ... on Sitee { id } } }', None, "Unknown type 'Sitee'."),
    (
        "{ tenantConnections(status: CONECTED) { edges { node { id } } } }",
        None,
        "Value 'CONECTED' does not exist in 'ConnectionStatus' enum.",
    ),
    (
        "query($s: ConnectionStatus) { tenantConnections(status: $s) { edges { node { id } } } }",
        {"s": "CONECTED"},
        "Variable '$s' has invalid value: Value 'CONECTED' does not exist in 'ConnectionStatus' enum.",
    ),
    (
        "query($f: EndUserFilterInput) { endUsers(filter: $f) { edges { node { id } } } }",
        {"f": {"sitId": "x"}},
        "Variable '$f' has invalid value: Expected value of type 'EndUserFilterInput' not to "
        "include unknown field 'sitId', found: {'sitId': 'x'}.",
    ),
    (
        '{ endUsers(filter: {sitId: "x"}) { edges { node { id } } } }',
        None,
        "Expected value of type 'EndUserFilterInput' not to include unknown field 'sitId', "
        'found: { sitId: "x" }.',
    ),
    (
        "mutation { createSit(input: {name: 1}) { __typename } }",
        None,
        "Cannot query field 'createSit' on type 'Mutation'.",
    ),
    (
        "{ viewer { rol } }",
        None,
        "Cannot query field 'rol' on type 'Viewer'.",
    ),
]


@pytest.mark.parametrize(("query", "variables", "message"), SUGGESTION_BAIT)
async def test_field_suggestions_are_off_in_production(
    prod_client: httpx.AsyncClient,
    tenant: Tenant,
    query: str,
    variables: dict[str, Any] | None,
    message: str,
) -> None:
    status, body = await _post(prod_client, tenant, query, variables)
    assert status == 200 and body["data"] is None
    assert _messages(body) == [message]
    assert "did you mean" not in json.dumps(body).lower()


async def test_field_suggestions_stay_on_in_development(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    """The bait really is bait: the development server does suggest."""
    _, body = await _post(client, tenant, "{ sitez { edges { node { id } } } }")
    assert _messages(body) == ["Cannot query field 'sitez' on type 'Query'. Did you mean 'sites'?"]


# -- the transport: GraphiQL, GET, content types (CSRF), batching


async def test_graphiql_is_not_served(prod_client: httpx.AsyncClient) -> None:
    r = await prod_client.get("/graphql", headers={"Accept": "text/html"})
    assert r.status_code == 405 and r.headers["allow"] == "POST"
    assert r.json() == _refusal(
        "GraphQL operations are accepted only as POST application/json", "METHOD_NOT_ALLOWED"
    )


@pytest.mark.parametrize(
    "query",
    [VIEWER, 'mutation { createSite(input: {name: "via GET"}) { __typename } }'],
    ids=["query", "mutation"],
)
async def test_operation_via_get_is_refused_with_405(
    prod_client: httpx.AsyncClient, tenant: Tenant, query: str
) -> None:
    r = await prod_client.get(
        "/graphql",
        params={"query": query},
        headers={"Authorization": f"Bearer {tenant.admin_key}"},
    )
    assert r.status_code == 405
    assert r.json() == _refusal(
        "GraphQL operations are accepted only as POST application/json", "METHOD_NOT_ALLOWED"
    )


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/x-www-form-urlencoded", b"query=%7B+viewer+%7B+role+%7D+%7D"),
        (
            "multipart/form-data; boundary=X",
            b'--X\r\nContent-Disposition: form-data; name="query"\r\n\r\n{ viewer { role } }\r\n--X--\r\n',
        ),
        ("text/plain", json.dumps({"query": VIEWER}).encode()),
        ("application/graphql", VIEWER.encode()),
        (None, json.dumps({"query": VIEWER}).encode()),
    ],
    ids=["form-urlencoded", "multipart", "text-plain", "application-graphql", "no-content-type"],
)
async def test_csrf_content_types_are_refused_with_415(
    prod_client: httpx.AsyncClient, tenant: Tenant, content_type: str | None, body: bytes
) -> None:
    headers = {"Authorization": f"Bearer {tenant.admin_key}"}
    if content_type:
        headers["Content-Type"] = content_type
    r = await prod_client.post("/graphql", content=body, headers=headers)
    assert r.status_code == 415
    assert r.json() == _refusal("Content-Type must be application/json", "UNSUPPORTED_MEDIA_TYPE")


async def test_json_with_charset_is_accepted(
    prod_client: httpx.AsyncClient, tenant: Tenant
) -> None:
    r = await prod_client.post(
        "/graphql",
        content=json.dumps({"query": VIEWER}),
        headers={
            "Authorization": f"Bearer {tenant.admin_key}",
            "Content-Type": "Application/JSON; charset=utf-8",
        },
    )
    assert r.json() == {"data": {"viewer": {"role": "ADMIN"}}}


async def test_batched_operations_are_refused_with_400(
    prod_client: httpx.AsyncClient, tenant: Tenant
) -> None:
    r = await prod_client.post(
        "/graphql",
        json=[{"query": VIEWER}] * 10,
        headers={"Authorization": f"Bearer {tenant.admin_key}"},
    )
    assert r.status_code == 400
    assert r.json() == _refusal(
        "batched operations are not supported; send one operation per request", "BAD_REQUEST"
    )


# -- query cost: aliases, directives, depth, cycles, tokens


async def test_alias_overloading_is_refused(prod_client: httpx.AsyncClient, tenant: Tenant) -> None:
    query = "{ " + " ".join(f"a{i}: viewer {{ role }}" for i in range(16)) + " }"
    assert await _post(prod_client, tenant, query) == (
        200,
        {"data": None, "errors": [{"message": "16 aliases found. Allowed: 15"}]},
    )


async def test_duplicated_directives_are_refused(
    prod_client: httpx.AsyncClient, tenant: Tenant
) -> None:
    """graphql-core's UniqueDirectivesPerLocationRule: @skip(if:false) x2 is not two skips."""
    query = "{ viewer @skip(if: false) @skip(if: false) { role } }"
    status, body = await _post(prod_client, tenant, query)
    assert status == 200 and body["data"] is None
    assert _messages(body) == ["The directive '@skip' can only be used once at this location."]
    many = "{ viewer " + "@include(if: true) " * 200 + "{ role } }"
    status, body = await _post(prod_client, tenant, many)
    # 199 duplicates, but validation stops at graphql-core's 100 errors.
    assert body["data"] is None
    assert _messages(body) == [
        "The directive '@include' can only be used once at this location."
    ] * 100 + ["Too many validation errors, error limit reached. Validation aborted."]


async def test_deep_query_is_refused(prod_client: httpx.AsyncClient, tenant: Tenant) -> None:
    query = "{ " + "a { " * 20 + "b" + " }" * 20 + " }"
    _, body = await _post(prod_client, tenant, query)
    assert body["data"] is None
    assert _messages(body)[0] == "'anonymous' exceeds maximum operation depth of 12"


async def test_deep_valid_query_is_refused_under_a_lower_depth_limit(
    prod_settings: Settings, prod_runtime: Any, tenant: Tenant
) -> None:
    """Our schema has no cycle deeper than 12 levels, so the limit is proved with a lower one."""
    app = create_app(
        prod_settings.model_copy(update={"max_query_depth": 3}),
        runtime=prod_runtime,
        manage_database=False,
    )
    query = "{ endUsers { edges { node { site { name } } } } }"
    async with _client(app) as c:
        status, body = await _post(c, tenant, query)
        assert (status, body) == (
            200,
            {
                "data": None,
                "errors": [
                    {
                        "message": "'anonymous' exceeds maximum operation depth of 3",
                        "locations": [{"line": 1, "column": 36}],
                    }
                ],
            },
        )
        ok = await _post(c, tenant, "{ endUsers { edges { cursor } } }")
        assert ok == (200, {"data": {"endUsers": {"edges": []}}})


async def test_circular_fragments_are_refused(
    prod_client: httpx.AsyncClient, tenant: Tenant
) -> None:
    query = "query { ...A } fragment A on Query { ...B } fragment B on Query { ...A }"
    _, body = await _post(prod_client, tenant, query)
    assert body["data"] is None
    assert _messages(body) == ["Cannot spread fragment 'A' within itself via 'B'."]


async def test_token_flood_is_refused_while_parsing(
    prod_client: httpx.AsyncClient, tenant: Tenant
) -> None:
    query = "{ " + "a " * 2100 + "}"  # 2102 tokens in 4 KB: under the byte limit
    status, body = await _post(prod_client, tenant, query)
    assert (status, body["data"]) == (200, None)
    assert _messages(body) == [
        "Syntax Error: Document contains more than 2000 tokens. Parsing aborted."
    ]


# -- size limits


async def test_oversized_body_with_content_length_is_refused_with_413(
    prod_client: httpx.AsyncClient, tenant: Tenant
) -> None:
    r = await prod_client.post(
        "/graphql",
        json={"query": VIEWER + " " * 30_000},
        headers={"Authorization": f"Bearer {tenant.admin_key}"},
    )
    assert r.status_code == 413
    assert r.json() == _refusal("request body larger than 20000 bytes", "PAYLOAD_TOO_LARGE")


async def test_oversized_chunked_body_is_refused_with_413(
    prod_client: httpx.AsyncClient, tenant: Tenant
) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"query": "{ viewer { role } }", "variables": {"x": "'
        for _ in range(100):
            yield b"x" * 1000
        yield b'"}}'

    r = await prod_client.post(
        "/graphql",
        content=chunks(),
        headers={"Authorization": f"Bearer {tenant.admin_key}", "Content-Type": "application/json"},
    )
    assert "content-length" not in r.request.headers
    assert r.status_code == 413
    assert r.json() == _refusal("request body larger than 20000 bytes", "PAYLOAD_TOO_LARGE")


async def test_lying_content_length_is_refused_with_413(
    prod_client: httpx.AsyncClient, tenant: Tenant
) -> None:
    for declared in ("99999999999", "-1", "12abc"):
        r = await prod_client.post(
            "/graphql",
            content=json.dumps({"query": VIEWER}),
            headers={
                "Authorization": f"Bearer {tenant.admin_key}",
                "Content-Type": "application/json",
                "Content-Length": declared,
            },
        )
        assert r.status_code == 413, declared


async def test_huge_string_variable_within_the_limit_gets_a_validation_error(
    prod_client: httpx.AsyncClient, tenant: Tenant
) -> None:
    query = "mutation($n: String!) { createSite(input: {name: $n}) { __typename ... on Error { message } } }"
    assert await _post(prod_client, tenant, query, {"n": "x" * 19_000}) == (
        200,
        {
            "data": {
                "createSite": {
                    "__typename": "ValidationError",
                    "message": "a site name needs 1 to 200 characters",
                }
            }
        },
    )
    status, body = await _post(prod_client, tenant, query, {"n": "x" * 30_000})
    assert (status, body) == (
        413,
        _refusal("request body larger than 20000 bytes", "PAYLOAD_TOO_LARGE"),
    )


# -- malformed requests


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{not json", "the request body is not valid JSON"),
        (b"", "the request body is not valid JSON"),
        (b"[" * 15_000, "the request body is not valid JSON"),
        (b"42", "the request must be a JSON object with a `query`"),
        (b'"{ viewer { role } }"', "the request must be a JSON object with a `query`"),
        (b"{}", "`query` must be a string"),
        (b'{"query": 42}', "`query` must be a string"),
        (
            b'{"query": "{ viewer { role } }", "variables": [1]}',
            "`variables` must be an object or null",
        ),
        (
            b'{"query": "{ viewer { role } }", "operationName": 1}',
            "`operationName` must be a string or null",
        ),
        (
            b'{"query": "{ viewer { role } }", "extensions": "x"}',
            "`extensions` must be an object or null",
        ),
    ],
    ids=[
        "invalid-json",
        "empty-body",
        "deeply-nested-json",
        "json-number",
        "json-string",
        "no-query",
        "query-not-a-string",
        "variables-not-an-object",
        "operation-name-not-a-string",
        "extensions-not-an-object",
    ],
)
async def test_malformed_request_is_refused_with_400(
    prod_client: httpx.AsyncClient, tenant: Tenant, body: bytes, message: str
) -> None:
    r = await prod_client.post(
        "/graphql",
        content=body,
        headers={"Authorization": f"Bearer {tenant.admin_key}", "Content-Type": "application/json"},
    )
    assert r.status_code == 400
    assert r.json() == _refusal(message, "BAD_REQUEST")


async def test_unknown_operation_name_is_refused_with_400(
    prod_client: httpx.AsyncClient, tenant: Tenant
) -> None:
    r = await prod_client.post(
        "/graphql",
        json={"query": "query A { viewer { role } }", "operationName": "B"},
        headers={"Authorization": f"Bearer {tenant.admin_key}"},
    )
    assert r.status_code == 400
    assert r.json() == _refusal('Unknown operation named "B".', "BAD_REQUEST")


async def test_empty_query_is_refused_with_400(
    prod_client: httpx.AsyncClient, tenant: Tenant
) -> None:
    assert await _post(prod_client, tenant, "") == (
        400,
        _refusal("No GraphQL query found in the request", "BAD_REQUEST"),
    )


async def test_wrong_variable_types_are_refused(
    prod_client: httpx.AsyncClient, tenant: Tenant
) -> None:
    cases: list[tuple[str, dict[str, Any], str]] = [
        (
            "query($n: Int) { sites(first: $n) { edges { node { id } } } }",
            {"n": "abc"},
            "Variable '$n' has invalid value: Int cannot represent non-integer value: 'abc'",
        ),
        (
            "query($n: Int!) { sites(first: $n) { edges { node { id } } } }",
            {},
            "Variable '$n' has invalid value: Expected a value of non-null type 'Int!' to be provided.",
        ),
        (
            "query($n: Int) { sites(first: $n) { edges { node { id } } } }",
            {"n": 2**40},
            "Variable '$n' has invalid value: Int cannot represent non 32-bit signed integer value: 1099511627776",
        ),
    ]
    for query, variables, message in cases:
        status, body = await _post(prod_client, tenant, query, variables)
        assert (status, body["data"], _messages(body)) == (200, None, [message])


async def test_subscription_over_http_is_refused(
    prod_client: httpx.AsyncClient, tenant: Tenant
) -> None:
    for accept in ("application/json", "text/event-stream", "multipart/mixed"):
        r = await prod_client.post(
            "/graphql",
            json={"query": "subscription { syncRuns { runId } }"},
            headers={"Authorization": f"Bearer {tenant.admin_key}", "Accept": accept},
        )
        assert r.status_code == 200, accept
        assert r.json() == {
            "data": None,
            "errors": [
                {
                    "message": "subscriptions are served over websockets (graphql-transport-ws) only",
                    "extensions": {"code": "BAD_REQUEST"},
                }
            ],
        }


# -- ids and cursors


async def test_invalid_global_ids_read_as_missing(
    prod_client: httpx.AsyncClient, tenant: Tenant
) -> None:
    bad_ids = ["!!!", "", "U2l0ZTotMQ==", "U2l0ZTphYmM=", "Tm9wZTox", "U2l0ZToxOjE=", "x" * 5000]
    for bad in bad_ids:
        node = await _post(
            prod_client, tenant, "query($id: ID!) { node(id: $id) { id } }", {"id": bad}
        )
        assert node == (200, {"data": {"node": None}}), bad
        update = await _post(
            prod_client,
            tenant,
            'mutation($id: ID!) { updateSite(input: {id: $id, name: "x"}) { __typename ... on Error { message } } }',
            {"id": bad},
        )
        assert update == (
            200,
            {"data": {"updateSite": {"__typename": "NotFoundError", "message": "site not found"}}},
        ), bad
        log = await _post(
            prod_client,
            tenant,
            "query($id: ID!) { changeLog(runId: $id) { edges { cursor } } }",
            {"id": bad},
        )
        assert log[1]["errors"][0]["extensions"] == {"code": "NOT_FOUND"}, bad


async def test_forged_cursors_are_refused(prod_client: httpx.AsyncClient, tenant: Tenant) -> None:
    for cursor in ("garbage!", "YzE6LTU=", "eDox", "YzE6YWJj", "=" * 10):
        status, body = await _post(
            prod_client,
            tenant,
            "query($a: String) { sites(after: $a) { edges { cursor } } }",
            {"a": cursor},
        )
        assert (status, body["data"]) == (200, None), cursor
        assert body["errors"][0]["message"] == "invalid cursor"
        assert body["errors"][0]["extensions"] == {"code": "BAD_CURSOR"}


# -- errors never show internals


async def test_internal_errors_are_masked_without_stack_or_message(
    prod_settings: Settings, tenant: Tenant, caplog: pytest.LogCaptureFixture
) -> None:
    """An app whose runtime is missing fails inside resolvers with an AssertionError."""
    app = create_app(prod_settings, runtime=None, manage_database=False)
    async with _client(app) as c:
        status, body = await _post(
            c,
            tenant,
            '{ directoryUserTypes(connectionId: "VGVuYW50Q29ubmVjdGlvbjox") { __typename } }',
        )
    assert (status, body) == (
        200,
        {
            "data": None,
            "errors": [
                {
                    "message": "Internal server error.",
                    "locations": [{"line": 1, "column": 3}],
                    "path": ["directoryUserTypes"],
                }
            ],
        },
    )
    assert "runtime" not in json.dumps(body) and "Traceback" not in json.dumps(body)
    assert any("unexpected error in resolver" in r.getMessage() for r in caplog.records)


async def test_unauthenticated_request_gets_401_before_any_parsing(
    prod_client: httpx.AsyncClient,
) -> None:
    r = await prod_client.post(
        "/graphql", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert r.status_code == 401 and r.headers["www-authenticate"] == 'Bearer realm="entrasync"'
    assert r.json() == _refusal("missing bearer API key", "UNAUTHENTICATED")


def _client(app: Starlette) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")
