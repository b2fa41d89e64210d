"""The client's transport and file parsing, against a stub server: retries, refusals, URLs."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from api.client.errors import AUTH, NOT_FOUND, SERVER, USAGE, ClientError
from api.client.importfile import FileError, parse
from api.client.transport import ApiClient, endpoint_urls


@pytest.fixture
async def stub() -> AsyncIterator[tuple[str, list[web.Response]]]:
    """A server that answers POST /graphql with the queued responses, in order."""
    answers: list[web.Response] = []

    async def graphql(request: web.Request) -> web.Response:
        assert request.headers["Authorization"] == "Bearer es_secret"
        return answers.pop(0)

    app = web.Application()
    app.router.add_post("/graphql", graphql)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"http://127.0.0.1:{port}", answers
    finally:
        await runner.cleanup()


async def _call(url: str) -> dict[str, object]:
    async with ApiClient(url, "es_secret", 5) as api:
        return await api.execute("{ viewer { role } }")


async def test_a_429_is_retried_after_retry_after(stub: tuple[str, list[web.Response]]) -> None:
    url, answers = stub
    answers += [
        web.json_response(
            {"errors": [{"message": "slow down"}]}, status=429, headers={"Retry-After": "0"}
        ),
        web.json_response({"data": {"viewer": {"role": "ADMIN"}}}),
    ]
    assert await _call(url) == {"viewer": {"role": "ADMIN"}}


@pytest.mark.parametrize(
    ("response", "exit_code"),
    [
        (
            web.json_response(
                {
                    "errors": [
                        {"message": "invalid API key", "extensions": {"code": "UNAUTHENTICATED"}}
                    ]
                },
                status=401,
            ),
            AUTH,
        ),
        (web.Response(status=502, text="bad gateway"), SERVER),
        (web.Response(status=200, text="<html>not graphql</html>"), SERVER),
        (
            web.json_response(
                {
                    "data": None,
                    "errors": [{"message": "run not found", "extensions": {"code": "NOT_FOUND"}}],
                }
            ),
            NOT_FOUND,
        ),
        (
            web.json_response(
                {"data": None, "errors": [{"message": "Variable '$id' got invalid value"}]}
            ),
            USAGE,
        ),
        (web.json_response({"errors": [{"message": "boom"}]}, status=400), USAGE),
    ],
)
async def test_refusals_map_to_exit_codes(
    stub: tuple[str, list[web.Response]], response: web.Response, exit_code: int
) -> None:
    url, answers = stub
    answers.append(response)
    with pytest.raises(ClientError) as failed:
        await _call(url)
    assert failed.value.exit_code == exit_code
    assert "es_secret" not in failed.value.message


def test_endpoint_urls_and_the_key_kept_out_of_sight(capsys: pytest.CaptureFixture[str]) -> None:
    assert endpoint_urls("http://h:8000") == ("http://h:8000/graphql", "ws://h:8000/graphql")
    assert endpoint_urls("https://h/x/graphql/") == ("https://h/x/graphql", "wss://h/x/graphql")
    with pytest.raises(ClientError) as bad:
        endpoint_urls("h:8000")
    assert bad.value.exit_code == USAGE
    client = ApiClient("http://helpdesk.example", "es_secret")
    assert "es_secret" not in repr(client)
    assert "over plain http" in capsys.readouterr().err  # a key sent in clear to another host


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"mappings": [{"value": "Paris"}]}, "mappings[0]"),
        ({"mappings": [{"value": "Paris", "site": "A", "newSiteName": "B"}]}, "mappings[0]"),
        ({"mappings": [{"value": "Oslo", "siteId": True}]}, "mappings[0].siteId"),
        ({"mappings": [{"value": "Oslo", "sitename": "x"}]}, "mappings[0].sitename"),
        ({"userTypes": ["MEMBER", "ROBOT"]}, "userTypes[1]"),
        ({"matchAttribute": "EMAIL"}, "matchAttribute"),
        ({"selectedGroupIds": {"a": 1}}, "selectedGroupIds"),
        ({"connectionId": "x"}, "connectionId"),
    ],
)
def test_file_problems_name_their_field(data: dict[str, object], field: str) -> None:
    with pytest.raises(FileError) as bad:
        parse(data)
    assert bad.value.field == field and bad.value.exit_code == USAGE


def test_file_shapes_that_are_accepted() -> None:
    fields, mappings = parse(
        {
            "classification": "office",
            "user_types": "guest",
            "mappings": {"Paris": "HQ", None: {"new_site_name": "Unsorted"}},
        }
    )
    assert fields == {"classification": "OFFICE", "userTypes": ["GUEST"]}
    assert [(m.value, m.target, m.ref) for m in mappings] == [
        ("Paris", "site", "HQ"),
        ("Undefined", "newSiteName", "Unsorted"),
    ]
