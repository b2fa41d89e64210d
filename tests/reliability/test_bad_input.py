"""Bad input on the paths tests/security does not cover: the webhook mutations, configureImport
with huge lists and strings, setSyncSchedule with wrong types, changeLog filters with odd values,
the browser redirect routes with garbage, and the client CLI's files and key. Each gets a clear
error, and no stored row changes (every table compared before and after).

tests/security covers malformed JSON bodies, wrong variable types in general, huge strings on
createSite, invalid ids on node/updateSite/changeLog, forged cursors and broken websocket frames.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from strawberry import relay

from api.client import amain
from models import ChangeAction, ChangeLogEntry, Classification, ConnectionScope, RunStatus, SyncRun
from schema.ids import encode_id
from services.connections import start_connect
from services.runtime import Runtime
from services.scheduler import set_schedule
from services.wizard import ImportSettings, MappingInput, configure_import
from tests.conftest import LiveServer
from tests.factories import Tenant, admin_caller, connect_tenant, make_account, make_site, make_user
from tests.reliability.rows import snapshot

ERR = "__typename ... on ValidationError { field } ... on Error { message }"


async def _post(
    client: httpx.AsyncClient, key: str, query: str, variables: dict[str, Any] | None = None
) -> tuple[int, Any]:
    r = await client.post(
        "/graphql",
        json={"query": query, "variables": variables or {}},
        headers={"Authorization": f"Bearer {key}"},
    )
    return r.status_code, r.json()


def _typed(field: str, typename: str, message: str, invalid: str | None = None) -> Any:
    """The answer of a mutation that refused its input with a typed error."""
    result: dict[str, Any] = {"__typename": typename, "message": message}
    if invalid is not None:
        result["field"] = invalid
    return (200, {"data": {field: result}})


def _variable_error(message: str) -> Any:
    """A GraphQL error raised before any resolver ran (a variable of the wrong type)."""
    return lambda status, body: (
        status == 200
        and body.get("data") is None
        and [e["message"] for e in body["errors"]] == [message]
    )


def _coded(code: str, message: str) -> Any:
    """A resolver's refusal: one error with an extensions code, no data."""
    return lambda status, body: (
        status == 200
        and body.get("data") is None
        and [(e["message"], e.get("extensions")) for e in body["errors"]]
        == [(message, {"code": code})]
    )


async def _check_all(
    client: httpx.AsyncClient, key: str, cases: list[tuple[str, dict[str, Any], Any]]
) -> None:
    """Send each case; its answer must be the expected one and no stored row may change."""
    before = await snapshot()
    for query, variables, expected in cases:
        got = await _post(client, key, query, variables)
        shown = str(variables)[:200]
        if callable(expected):
            assert expected(*got), (shown, got)
        else:
            assert got == expected, (shown, got)
        assert "Internal server error" not in str(got[1]), (shown, got)
    assert await snapshot() == before


@pytest.fixture
async def tenant() -> Tenant:
    return await make_account()


# -- webhooks ----------------------------------------------------------------------------------

CREATE_WEBHOOK = (
    'mutation($u: String!, $e: [WebhookEvent!]!, $d: String! = "") {'
    f" createWebhook(input: {{url: $u, events: $e, description: $d}}) {{ {ERR} }} }}"
)
UPDATE_WEBHOOK = (
    "mutation($i: ID!, $u: String, $e: [WebhookEvent!], $d: String, $on: Boolean) {"
    " updateWebhook(input: {id: $i, url: $u, events: $e, description: $d, enabled: $on})"
    f" {{ {ERR} }} }}"
)
BY_ID = "mutation($i: ID!) {{ {name}(input: {{id: $i}}) {{ {err} }} }}"
DELIVERIES = (
    "query($i: ID!, $s: WebhookDeliveryStatus) { webhookDeliveries(webhookId: $i, status: $s)"
    " { edges { cursor } } }"
)
WEBHOOKS = "query($f: Int) { webhooks(first: $f) { edges { cursor } } }"
BAD_IDS = ["garbage", "", "x" * 5000, "V2ViaG9vazotMQ==", "V2ViaG9vazphYmM=", "U2l0ZTox"]


async def test_webhook_mutations_refuse_bad_input_and_store_nothing(
    prod_client: httpx.AsyncClient, tenant: Tenant
) -> None:
    key = tenant.admin_key
    status, made = await _post(
        prod_client,
        key,
        CREATE_WEBHOOK.replace(ERR, "__typename ... on WebhookSecretPayload { webhook { id } }"),
        {"u": "https://hooks.example.com/entrasync", "e": ["RUN_FAILED"]},
    )
    assert status == 200, made
    hook = made["data"]["createWebhook"]["webhook"]["id"]
    url_error = "the URL must start with https:// and name a host"
    cases: list[tuple[str, dict[str, Any], Any]] = [
        (
            CREATE_WEBHOOK,
            {"u": "https://hooks.example.com/" + "a" * 3000, "e": ["RUN_FAILED"]},
            _typed(
                "createWebhook",
                "ValidationError",
                "a webhook URL needs 1 to 2048 characters",
                "url",
            ),
        ),
        (
            CREATE_WEBHOOK,
            {"u": "", "e": ["RUN_FAILED"]},
            _typed(
                "createWebhook",
                "ValidationError",
                "a webhook URL needs 1 to 2048 characters",
                "url",
            ),
        ),
        (
            CREATE_WEBHOOK,
            {"u": "https://user:pw@hooks.example.com/", "e": ["RUN_FAILED"]},
            _typed(
                "createWebhook",
                "ValidationError",
                "credentials in the URL are not allowed; verify the signature",
                "url",
            ),
        ),
        (
            CREATE_WEBHOOK,
            {"u": "javascript:alert(1)", "e": ["RUN_FAILED"]},
            _typed("createWebhook", "ValidationError", url_error, "url"),
        ),
        (
            CREATE_WEBHOOK,
            {"u": "https://[::1/x", "e": ["RUN_FAILED"]},
            _typed("createWebhook", "ValidationError", "not a valid URL", "url"),
        ),
        (
            CREATE_WEBHOOK,
            {"u": "https://hooks.example.com:99999/x", "e": ["RUN_FAILED"]},
            _typed("createWebhook", "ValidationError", "not a valid URL", "url"),
        ),
        (
            CREATE_WEBHOOK,
            {"u": "https://hooks.example.com/x", "e": ["RUN_FAILED"], "d": "d" * 501},
            _typed("createWebhook", "ValidationError", "at most 500 characters", "description"),
        ),
        (
            CREATE_WEBHOOK,
            {"u": "https://hooks.example.com/x", "e": []},
            _typed("createWebhook", "ValidationError", "choose at least one event", "events"),
        ),
        (
            CREATE_WEBHOOK,
            {"u": "https://hooks.example.com/x", "e": ["PING"]},
            _typed(
                "createWebhook",
                "ValidationError",
                "PING is sent by testWebhook only; it cannot be chosen",
                "events",
            ),
        ),
        (
            CREATE_WEBHOOK,
            {"u": 123, "e": ["RUN_FAILED"]},
            _variable_error(
                "Variable '$u' has invalid value: String cannot represent a non string value: 123"
            ),
        ),
        (
            CREATE_WEBHOOK,
            {"u": "https://hooks.example.com/x", "e": ["run_failed"]},
            _variable_error(
                "Variable '$e' has invalid value at [0]: Value 'run_failed' does not exist in"
                " 'WebhookEvent' enum."
            ),
        ),
        (
            CREATE_WEBHOOK,
            {"u": "https://hooks.example.com/x", "e": [1]},
            _variable_error(
                "Variable '$e' has invalid value at [0]: Enum 'WebhookEvent' cannot represent"
                " non-string value: 1."
            ),
        ),
        (
            UPDATE_WEBHOOK,
            {"i": hook, "u": "ftp://hooks.example.com/x"},
            _typed("updateWebhook", "ValidationError", url_error, "url"),
        ),
        (
            UPDATE_WEBHOOK,
            {"i": hook, "e": []},
            _typed("updateWebhook", "ValidationError", "choose at least one event", "events"),
        ),
        (
            UPDATE_WEBHOOK,
            {"i": hook, "d": "x" * 501},
            _typed("updateWebhook", "ValidationError", "at most 500 characters", "description"),
        ),
        (
            UPDATE_WEBHOOK,
            {"i": hook, "on": "yes"},
            _variable_error(
                "Variable '$on' has invalid value: Boolean cannot represent a non boolean value:"
                " 'yes'"
            ),
        ),
        (
            DELIVERIES,
            {"i": hook, "s": "NOPE"},
            _variable_error(
                "Variable '$s' has invalid value: Value 'NOPE' does not exist in"
                " 'WebhookDeliveryStatus' enum."
            ),
        ),
        *[
            (WEBHOOKS, {"f": first}, _coded("BAD_PAGE_SIZE", "`first` must be between 1 and 100"))
            for first in (0, -1, 101)
        ],
    ]
    for bad in BAD_IDS:
        cases.append(
            (
                UPDATE_WEBHOOK,
                {"i": bad, "d": "new"},
                _typed("updateWebhook", "NotFoundError", "webhook not found"),
            )
        )
        for name in ("deleteWebhook", "rotateWebhookSecret", "testWebhook"):
            cases.append(
                (
                    BY_ID.format(name=name, err="__typename ... on Error { message }"),
                    {"i": bad},
                    _typed(name, "NotFoundError", "webhook not found"),
                )
            )
        cases.append((DELIVERIES, {"i": bad}, _coded("NOT_FOUND", "webhook not found")))
    await _check_all(prod_client, key, cases)


# -- configureImport -----------------------------------------------------------------------------

CONFIGURE = (
    f"mutation($input: ConfigureImportInput!) {{ configureImport(input: $input) {{ {ERR} }} }}"
)


async def test_configure_import_with_huge_lists_and_strings_changes_nothing(
    prod_client: httpx.AsyncClient, prod_runtime: Runtime, tenant: Tenant
) -> None:
    hq = await make_site(tenant.account, "Headquarters")
    conn = await connect_tenant(prod_runtime, tenant)
    await configure_import(
        prod_runtime,
        await admin_caller(tenant),
        conn.id,
        ImportSettings(
            classification=Classification.OFFICE, mappings=(MappingInput("Paris", site_id=hq.id),)
        ),
    )
    base = {
        "connectionId": encode_id("TenantConnection", conn.id),
        "classification": "OFFICE",
        "userTypes": ["MEMBER"],
    }
    name_error = "a site name needs 1 to 200 characters"

    def configure(**extra: Any) -> dict[str, Any]:
        return {"input": base | extra}

    cases: list[tuple[str, dict[str, Any], Any]] = [
        (
            CONFIGURE,
            configure(mappings=[{"value": "v" * 19_000, "newSiteName": "New"}]),
            _typed(
                "configureImport",
                "ValidationError",
                "values are at most 256 characters",
                "mappings",
            ),
        ),
        *[
            (
                CONFIGURE,
                configure(mappings=[{"value": "Paris", "newSiteName": name}]),
                _typed("configureImport", "ValidationError", name_error, "name"),
            )
            for name in ("n" * 201, "n" * 15_000, "   ", "")
        ],
        (
            CONFIGURE,
            configure(mappings=[{"value": f"v{i}", "newSiteName": f"s{i}"} for i in range(3000)]),
            (
                413,
                {
                    "errors": [
                        {
                            "message": "request body larger than 20000 bytes",
                            "extensions": {"code": "PAYLOAD_TOO_LARGE"},
                        }
                    ]
                },
            ),
        ),
        (
            CONFIGURE,
            configure(mappings=[{"value": "Paris", "siteId": "x" * 15_000}]),
            _typed("configureImport", "NotFoundError", "site not found"),
        ),
        (
            CONFIGURE,
            configure(
                mappings=[
                    {"value": "Paris", "siteId": encode_id("Site", hq.id), "newSiteName": "B"}
                ]
            ),
            _typed(
                "configureImport",
                "ValidationError",
                "map 'Paris' to an existing site or a new site name, not both",
                "mappings",
            ),
        ),
        (
            CONFIGURE,
            configure(groupFilter="SELECTED", selectedGroupIds=["g" * 15_000]),
            _typed(
                "configureImport",
                "ValidationError",
                "group ids are Entra object ids",
                "selectedGroupIds",
            ),
        ),
        (
            CONFIGURE,
            configure(groupFilter="ALL_GROUPS", selectedGroupIds=["g"] * 400),
            _typed(
                "configureImport",
                "ValidationError",
                "groups can only be selected with the SELECTED filter",
                "selectedGroupIds",
            ),
        ),
        (
            CONFIGURE,
            configure(groupFilter="SELECTED", selectedGroupIds=[f"{i:036d}" for i in range(400)]),
            lambda status, body: (
                body["data"]["configureImport"]["__typename"] == "UnknownGroupsError"
                and body["data"]["configureImport"]["message"].startswith(
                    "400 selected group(s) do not exist in the tenant: "
                )
                # the list is cut short, not 400 ids long
                and len(body["data"]["configureImport"]["message"]) < 500
            ),
        ),
        (
            CONFIGURE,
            configure(groupFilter="SOME"),
            _variable_error(
                "Variable '$input' has invalid value at .groupFilter: Value 'SOME' does not exist"
                " in 'GroupFilter' enum."
            ),
        ),
        (
            CONFIGURE,
            configure(mappings="Paris"),
            _variable_error(
                "Variable '$input' has invalid value at .mappings: Expected value of type"
                " 'MappingInput' to be an object, found: 'Paris'."
            ),
        ),
        (
            CONFIGURE,
            configure(userTypes=["MEMBER", 7]),
            _variable_error(
                "Variable '$input' has invalid value at .userTypes[1]: Enum 'UserType' cannot"
                " represent non-string value: 7."
            ),
        ),
        (
            CONFIGURE,
            configure(connectionId="x" * 15_000),
            _typed("configureImport", "NotFoundError", "connection not found"),
        ),
    ]
    await _check_all(prod_client, tenant.admin_key, cases)


# -- setSyncSchedule -----------------------------------------------------------------------------

SCHEDULE = (
    "mutation($c: ID!, $m: Int) { setSyncSchedule(input: {connectionId: $c, intervalMinutes: $m})"
    f" {{ {ERR} }} }}"
)


async def test_set_sync_schedule_with_wrong_types_changes_nothing(
    prod_client: httpx.AsyncClient, prod_runtime: Runtime, tenant: Tenant
) -> None:
    conn = await connect_tenant(prod_runtime, tenant)
    await set_schedule(await admin_caller(tenant), conn.id, 60)
    cid = encode_id("TenantConnection", conn.id)
    range_error = _typed(
        "setSyncSchedule",
        "ValidationError",
        "between 5 and 10080 minutes, or null for off",
        "intervalMinutes",
    )
    not_an_int = "Variable '$m' has invalid value: Int cannot represent non-integer value: {}"
    cases: list[tuple[str, dict[str, Any], Any]] = [
        *[(SCHEDULE, {"c": cid, "m": m}, range_error) for m in (-5, 0, 4, 10_081, 10**6)],
        *[
            (SCHEDULE, {"c": cid, "m": m}, _variable_error(not_an_int.format(shown)))
            for m, shown in (
                ("abc", "'abc'"),
                ("60", "'60'"),
                (1.5, "1.5"),
                (True, "True"),
                ([60], "[60]"),
                ({"minutes": 60}, "{'minutes': 60}"),
            )
        ],
        (
            SCHEDULE,
            {"c": cid, "m": 2**31},
            _variable_error(
                "Variable '$m' has invalid value: Int cannot represent non 32-bit signed integer"
                " value: 2147483648"
            ),
        ),
        *[
            (
                SCHEDULE,
                {"c": bad, "m": 60},
                _typed("setSyncSchedule", "NotFoundError", "connection not found"),
            )
            for bad in ("garbage", "", "x" * 5000, encode_id("Site", conn.id))
        ],
    ]
    await _check_all(prod_client, tenant.admin_key, cases)


# -- changeLog filters -----------------------------------------------------------------------------

CHANGE_LOG = (
    "query($r: ID!, $a: ChangeAction, $re: String, $f: Int, $af: String) {"
    " changeLog(runId: $r, action: $a, reason: $re, first: $f, after: $af)"
    " { edges { node { entraObjectId reason } } } }"
)


async def test_change_log_filters_with_odd_values(
    prod_client: httpx.AsyncClient, prod_runtime: Runtime, tenant: Tenant
) -> None:
    conn = await connect_tenant(prod_runtime, tenant)
    run = await SyncRun.create(
        account_id=tenant.account.id, connection=conn, status=RunStatus.SUCCEEDED
    )
    for oid, action, reason in (
        ("o-1", ChangeAction.SKIP, "UNMAPPED"),
        ("o-2", ChangeAction.SKIP, "NO_EMAIL"),
        ("o-3", ChangeAction.CREATE, ""),
    ):
        await ChangeLogEntry.create(
            run=run, account_id=tenant.account.id, action=action, entra_object_id=oid, reason=reason
        )
    rid = encode_id("SyncRun", run.id)

    def found(*ids: tuple[str, str]) -> Any:
        edges = [{"node": {"entraObjectId": o, "reason": r}} for o, r in ids]
        return (200, {"data": {"changeLog": {"edges": edges}}})

    unmapped, no_email, created = ("o-1", "UNMAPPED"), ("o-2", "NO_EMAIL"), ("o-3", "")
    cases: list[tuple[str, dict[str, Any], Any]] = [
        (CHANGE_LOG, {"r": rid, "re": "UNMAPPED"}, found(unmapped)),
        (CHANGE_LOG, {"r": rid, "re": ""}, found(unmapped, no_email, created)),  # no filter
        (CHANGE_LOG, {"r": rid, "a": "SKIP", "re": "NO_EMAIL"}, found(no_email)),
        # A code is matched exactly: no LIKE wildcards, no SQL, no case folding, bounded.
        *[
            (CHANGE_LOG, {"r": rid, "re": reason}, found())
            for reason in (
                "%",
                "_NMAPPED",
                "UNMAPPED%",
                "unmapped",
                "UNMAPPED' OR '1'='1",
                '") OR 1=1 --',
                "\u202eUNMAPPED",
                "UNMAPPED" + "x" * 15_000,
                "x" * 15_000,
            )
        ],
        (
            CHANGE_LOG,
            {"r": rid, "a": "NOPE"},
            _variable_error(
                "Variable '$a' has invalid value: Value 'NOPE' does not exist in 'ChangeAction'"
                " enum."
            ),
        ),
        (
            CHANGE_LOG,
            {"r": rid, "re": 42},
            _variable_error(
                "Variable '$re' has invalid value: String cannot represent a non string value: 42"
            ),
        ),
        *[
            (
                CHANGE_LOG,
                {"r": rid, "f": first},
                _coded("BAD_PAGE_SIZE", "`first` must be between 1 and 100"),
            )
            for first in (0, -1, 10**6)
        ],
        *[
            (CHANGE_LOG, {"r": rid, "af": after}, _coded("BAD_CURSOR", "invalid cursor"))
            for after in ("garbage", "=" * 50, "x" * 5000)
        ],
    ]
    await _check_all(prod_client, tenant.admin_key, cases)


# -- the browser redirect routes -------------------------------------------------------------------

NO_STATE = "the sign-in response has no state"
NO_CONSENT_STATE = "the admin-consent response has no state"
UNKNOWN = "this sign-in is unknown, was already used, or has expired; start again"
GARBAGE_QUERIES: list[tuple[str, str, str]] = [
    ("", NO_STATE, NO_CONSENT_STATE),
    ("?foo=bar&&&=&x", NO_STATE, NO_CONSENT_STATE),
    ("?code=abc", NO_STATE, NO_CONSENT_STATE),
    ("?state=garbage", UNKNOWN, UNKNOWN),
    ("?code=x&state=" + "s" * 10_000, UNKNOWN, UNKNOWN),
    ("?state=%ff%fe%00&code=%00%ff", UNKNOWN, UNKNOWN),
    ("?state=a&state=b&code=1&code=2", UNKNOWN, UNKNOWN),
    ("?admin_consent=True&tenant=" + "t" * 5000 + "&state=%E2%80%AE", UNKNOWN, UNKNOWN),
    (
        "?error=access_denied&error_description=%3Cscript%3Ealert(1)%3C/script%3E&state=x",
        UNKNOWN,
        UNKNOWN,
    ),
    ("?error=%3Cscript%3E&state=", NO_STATE, NO_CONSENT_STATE),
]


async def test_redirect_routes_answer_garbage_with_a_clear_page_and_change_nothing(
    prod_client: httpx.AsyncClient, prod_runtime: Runtime, tenant: Tenant
) -> None:
    # A sign-in in progress: garbage must neither complete nor consume it.
    await start_connect(prod_runtime, await admin_caller(tenant), scope=ConnectionScope.ACCOUNT)
    before = await snapshot()
    for query, callback_message, consent_message in GARBAGE_QUERIES:
        for path, message in (
            ("/oauth/callback", callback_message),
            ("/oauth/adminconsent", consent_message),
        ):
            r = await prod_client.get(path + query)
            shown = (path + query)[:120]
            assert r.status_code == 400, shown
            assert r.headers["content-type"] == "text/html; charset=utf-8", shown
            assert r.headers["cache-control"] == "no-store", shown
            text = re.sub(r"<style>.*?</style>", "", r.text, flags=re.S)
            assert f'<h1 class="err">Not connected</h1><p>{message}</p>' in text, (shown, text)
            assert "<script" not in r.text.lower(), shown
    assert await snapshot() == before


# -- the client CLI's files and key ----------------------------------------------------------------

NESTED_JSON = b"[" * 100_000 + b"]" * 100_000
BAD_FILES: list[tuple[str, bytes, str]] = [
    ("deep.json", NESTED_JSON, "nested too deeply or holds a number too long"),
    ("deep.yaml", b"[" * 5000 + b"]" * 5000, "nested too deeply or holds a number too long"),
    (
        "long-number.yaml",
        b"userTypes: [" + b"9" * 5000 + b"]\n",
        "nested too deeply or holds a number too long",
    ),
    ("latin1.yaml", "classification: Bür\n".encode("latin-1"), "is not UTF-8 text"),
    ("binary.json", b"\xff\xfe\x00\x01\x02garbage", "is not UTF-8 text"),
    (
        "python.yaml",
        b"classification: !!python/object/apply:os.system ['true']\n",
        "could not determine a constructor",
    ),
    ("list.yaml", b"- OFFICE\n- DEPARTMENT\n", "expected a mapping of fields"),
    ("empty.yaml", b"", "expected a mapping of fields"),
    ("null.json", b"null", "expected a mapping of fields"),
    ("nul.yaml", b"classification: \x00OFFICE\n", "invalid YAML"),
    (
        "nan.json",
        b'{"classification": NaN}',
        "classification: nan is not one of OFFICE, DEPARTMENT",
    ),
    ("unhashable.yaml", b"mappings: {[1, 2]: x}\n", "found unhashable key"),
    (
        "aliases.yaml",
        b"a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
        b"mappings: [*b, *b, *b, *b, *b, *b, *b, *b, *b]\n",
        "a: unknown field",
    ),
    (
        "deep-mapping.yaml",
        b"mappings: {Paris: {newSiteName: {a: {b: 1}}}}\n",
        "mappings[0].newSiteName: expected a string",
    ),
    ("huge.json", b'{"classification": "' + b"x" * 5_000_001 + b'"}', "larger than 5000000 bytes"),
]


@pytest.mark.parametrize(("name", "content", "message"), BAD_FILES, ids=[f[0] for f in BAD_FILES])
async def test_cli_refuses_a_bad_import_file_with_exit_2_and_changes_nothing(
    live_server: LiveServer,
    tenant: Tenant,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    name: str,
    content: bytes,
    message: str,
) -> None:
    conn = await connect_tenant(live_server.runtime, tenant)
    path = tmp_path / name
    path.write_bytes(content)
    monkeypatch.setenv("ENTRASYNC_KEY", tenant.admin_key)
    before = await snapshot()
    capsys.readouterr()
    code = await amain(
        [
            "--url",
            live_server.url,
            "configure",
            encode_id("TenantConnection", conn.id),
            "--file",
            str(path),
        ]
    )
    captured = capsys.readouterr()
    assert code == 2, captured
    assert captured.out == "" and message in captured.err, captured.err[:500]
    assert captured.err.startswith("entrasync client: ") and "Traceback" not in captured.err
    assert await snapshot() == before


async def test_cli_refuses_a_key_file_that_is_not_text(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key_file = tmp_path / "key"
    key_file.write_bytes(b"\xff\xfees_\x00\x01")
    key_file.chmod(0o600)
    code = await amain(["--url", "http://127.0.0.1:9", "--key-file", str(key_file), "connections"])
    captured = capsys.readouterr()
    assert (code, captured.out) == (2, "")
    assert captured.err == f"entrasync client: the key file {key_file} is not UTF-8 text\n"


# -- ids past the integer range and NUL characters (both were bugs: internal errors) ----------

# A global id whose number is past the database's integer range: 2**63 overflows SQLite's INTEGER
# and PostgreSQL's bigint, 2**31 PostgreSQL's integer (most primary and foreign keys).
HUGE_IDS = (2**63, 2**31)


async def test_ids_past_the_database_integer_range_read_as_missing(
    prod_client: httpx.AsyncClient, prod_runtime: Runtime, tenant: Tenant
) -> None:
    conn = await connect_tenant(prod_runtime, tenant)
    cid = encode_id("TenantConnection", conn.id)
    typed = "__typename ... on Error { message }"
    cases: list[tuple[str, dict[str, Any], Any]] = [
        # str.isdigit() holds for "²", int() refuses it (schema/connections.py, sync.py, webhooks.py)
        (
            "query($i: ID!) { node(id: $i) { id } }",
            {"i": str(relay.GlobalID(type_name, "\u00b2"))},
            (200, {"data": {"node": None}}),
        )
        for type_name in ("TenantConnection", "SyncRun", "Webhook")
    ]
    for pk in HUGE_IDS:
        for type_name in ("Site", "EndUser", "SyncRun", "TenantConnection", "Webhook"):
            cases.append(
                (
                    "query($i: ID!) { node(id: $i) { id } }",
                    {"i": encode_id(type_name, pk)},
                    (200, {"data": {"node": None}}),
                )
            )
        for query, variables, field, message in (
            (
                f'mutation($i: ID!) {{ updateSite(input: {{id: $i, name: "x"}}) {{ {typed} }} }}',
                {"i": encode_id("Site", pk)},
                "updateSite",
                "site not found",
            ),
            (
                f"mutation($i: ID!) {{ deleteEndUser(input: {{id: $i}}) {{ {typed} }} }}",
                {"i": encode_id("EndUser", pk)},
                "deleteEndUser",
                "end user not found",
            ),
            (
                f"mutation($i: ID!) {{ startSync(input: {{connectionId: $i}}) {{ {typed} }} }}",
                {"i": encode_id("TenantConnection", pk)},
                "startSync",
                "connection not found",
            ),
            (
                "mutation($i: ID!) { setSyncSchedule(input: {connectionId: $i, intervalMinutes: 60})"
                f" {{ {typed} }} }}",
                {"i": encode_id("TenantConnection", pk)},
                "setSyncSchedule",
                "connection not found",
            ),
            (
                'mutation($s: ID!) { createEndUser(input: {siteId: $s, email: "a@b.example"})'
                f" {{ {typed} }} }}",
                {"s": encode_id("Site", pk)},
                "createEndUser",
                "site not found",
            ),
            (
                "mutation($c: ID!, $s: ID!) { configureImport(input: {connectionId: $c, "
                f'classification: OFFICE, mappings: [{{value: "Paris", siteId: $s}}]}}) {{ {typed} }} }}',
                {"c": cid, "s": encode_id("Site", pk)},
                "configureImport",
                "site not found",
            ),
            (
                f'mutation($i: ID!) {{ updateWebhook(input: {{id: $i, description: "x"}}) {{ {typed} }} }}',
                {"i": encode_id("Webhook", pk)},
                "updateWebhook",
                "webhook not found",
            ),
        ):
            cases.append((query, variables, _typed(field, "NotFoundError", message)))
        for query, variables in (
            (
                "query($i: ID!) { changeLog(runId: $i) { edges { cursor } } }",
                {"i": encode_id("SyncRun", pk)},
            ),
            (
                "query($i: ID!) { webhookDeliveries(webhookId: $i) { edges { cursor } } }",
                {"i": encode_id("Webhook", pk)},
            ),
        ):
            cases.append(
                (
                    query,
                    variables,
                    lambda s, b: (
                        b.get("data") is None
                        and b["errors"][0]["extensions"] == {"code": "NOT_FOUND"}
                    ),
                )
            )
        for query, variables, field in (
            (
                "query($s: ID) { endUsers(filter: {siteId: $s}) { edges { cursor } } }",
                {"s": encode_id("Site", pk)},
                "endUsers",
            ),
            (
                "query($c: ID) { syncRuns(connectionId: $c) { edges { cursor } } }",
                {"c": encode_id("TenantConnection", pk)},
                "syncRuns",
            ),
        ):
            cases.append((query, variables, (200, {"data": {field: {"edges": []}}})))
    await _check_all(prod_client, tenant.admin_key, cases)


NUL = "a\u0000b"


async def test_nul_characters_in_strings_are_refused_everywhere(
    prod_client: httpx.AsyncClient, prod_runtime: Runtime, tenant: Tenant
) -> None:
    site = await make_site(tenant.account, "Headquarters")
    user = await make_user(site)
    conn = await connect_tenant(prod_runtime, tenant)
    run = await SyncRun.create(
        account_id=tenant.account.id, connection=conn, status=RunStatus.SUCCEEDED
    )
    typed = "__typename ... on Error { message }"
    refused = lambda s, b: (  # noqa: E731 - a ValidationError, whatever its wording
        s == 200
        and "errors" not in b
        and next(iter(b["data"].values()))["__typename"] == "ValidationError"
    )
    no_error = lambda s, b: s == 200 and "errors" not in b  # noqa: E731 - a read that finds nothing
    sid, uid = encode_id("Site", site.id), encode_id("EndUser", user.id)
    cases: list[tuple[str, dict[str, Any], Any]] = [
        (
            f"mutation($n: String!) {{ createSite(input: {{name: $n}}) {{ {typed} }} }}",
            {"n": NUL},
            refused,
        ),
        (
            f"mutation($i: ID!, $n: String!) {{ updateSite(input: {{id: $i, name: $n}}) {{ {typed} }} }}",
            {"i": sid, "n": NUL},
            refused,
        ),
        (
            "mutation($s: ID!, $n: String!) { createEndUser(input: {siteId: $s, "
            f'email: "nul@b.example", firstName: $n}}) {{ {typed} }} }}',
            {"s": sid, "n": NUL},
            refused,
        ),
        (
            f"mutation($i: ID!, $n: String!) {{ updateEndUser(input: {{id: $i, jobTitle: $n}}) {{ {typed} }} }}",
            {"i": uid, "n": NUL},
            refused,
        ),
        (
            'mutation($d: String!) { createWebhook(input: {url: "https://hooks.example.com/x", '
            f"events: [RUN_FAILED], description: $d}}) {{ {typed} }} }}",
            {"d": NUL},
            refused,
        ),
        (
            "mutation($c: ID!, $v: String!) { configureImport(input: {connectionId: $c, "
            f'classification: OFFICE, mappings: [{{value: $v, newSiteName: "N"}}]}}) {{ {typed} }} }}',
            {"c": encode_id("TenantConnection", conn.id), "v": NUL},
            refused,
        ),
        (
            "query($s: String) { endUsers(filter: {search: $s}) { edges { cursor } } }",
            {"s": NUL},
            no_error,
        ),
        ("query($s: String) { sites(search: $s) { edges { cursor } } }", {"s": NUL}, no_error),
        (
            "query($r: ID!, $re: String) { changeLog(runId: $r, reason: $re) { edges { cursor } } }",
            {"r": encode_id("SyncRun", run.id), "re": NUL},
            no_error,
        ),
    ]
    await _check_all(prod_client, tenant.admin_key, cases)
