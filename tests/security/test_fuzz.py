"""Property-based fuzzing (hypothesis-graphql): thousands of valid and invalid queries and mutations
generated from schema/schema.graphql, sent to the production app with an ADMIN key. Whatever the
input: no 5xx, no unmasked exception, no secret in any response.

Reproducible and bounded for CI: derandomized (the examples are the same on every run), no
example database, no deadline per example, and a fixed number of examples per strategy."""

from __future__ import annotations

import asyncio
import builtins
import hashlib
import json
import re
import time
from collections import Counter
from collections.abc import Callable

import httpx
import pytest
from graphql import build_schema
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import Mode, mutations, queries

from models import SignInRequest, TenantConnection
from schema import SDL_PATH
from services.runtime import Runtime
from simulator.registration import DEMO_APP
from simulator.server import Simulator
from tests.security.conftest import ENCRYPTION_KEY
from tests.security.world import World, build_world

SDL = SDL_PATH.read_text()
SCHEMA = build_schema(SDL)
SCHEMA_TYPES = set(SCHEMA.type_map)


def _per_root_field(
    build: Callable[..., st.SearchStrategy[object]], fields: list[str]
) -> st.SearchStrategy[object]:
    """Valid documents of one root field each: every field is reached as often as the others,
    and the documents stay small (~200 bytes) and fast to generate."""
    return st.one_of([build(SDL, fields=[name], mode=Mode.POSITIVE) for name in fields])


assert SCHEMA.query_type is not None and SCHEMA.mutation_type is not None
# 2,000 valid and invalid documents, then 200 garbage requests; about 30 s here.
PLAN: list[tuple[str, st.SearchStrategy[object], int]] = [
    (
        "valid queries, one root field",
        _per_root_field(queries, list(SCHEMA.query_type.fields)),
        550,
    ),
    (
        "valid mutations, one root field",
        _per_root_field(mutations, list(SCHEMA.mutation_type.fields)),
        550,
    ),
    # Large documents over many root fields at once (~1 KB, slow to generate and validate).
    ("valid queries, whole schema", queries(SDL, mode=Mode.POSITIVE), 50),
    ("valid mutations, whole schema", mutations(SDL, mode=Mode.POSITIVE), 50),
    ("invalid queries", queries(SDL, mode=Mode.NEGATIVE), 400),
    ("invalid mutations", mutations(SDL, mode=Mode.NEGATIVE), 400),
]
GARBAGE_EXAMPLES = 200
PYTHON_EXCEPTIONS = {
    name
    for name, value in vars(builtins).items()
    if isinstance(value, type) and issubclass(value, BaseException)
} | {
    "IntegrityError",
    "OperationalError",
    "DoesNotExist",
    "MultipleObjectsReturned",
    "CipherError",
    "InvalidTag",
    "ClientError",
    "PostgresError",
    "GraphQLError",
}
_EXCEPTION_NAME = re.compile(r"\b([A-Z][A-Za-z0-9_]*(?:Error|Exception))\b")


async def _secrets(world: World, sim: Simulator) -> set[str]:
    keys = {world.a.admin_key, world.a.tech_key, world.b.admin_key, world.b.tech_key}
    caches = await TenantConnection.filter(token_cache__not_isnull=True).values_list(
        "token_cache", flat=True
    )
    flows = await SignInRequest.all().values_list("flow", flat=True)
    grants = sim.state.grants
    found = {
        *keys,
        *(hashlib.sha256(k.encode()).hexdigest() for k in keys),
        ENCRYPTION_KEY,
        DEMO_APP.client_secret,
        world.a_sign_in["code"],
        *(str(c) for c in caches),
        *(str(f) for f in flows),
        *grants.access,
        *grants.refresh,
    }
    assert len(found) > 10 and all(len(s) >= 16 for s in found)
    return found


def _leaks(text: str, secrets: set[str]) -> list[str]:
    problems = [f"secret {s[:6]}..." for s in secrets if s in text]
    if "Traceback" in text or 'File "' in text:
        problems.append("a stack trace")
    for name in _EXCEPTION_NAME.findall(text):
        if name in PYTHON_EXCEPTIONS or name not in SCHEMA_TYPES:
            problems.append(f"exception name {name}")
    return problems


async def test_fuzzed_queries_and_mutations_never_fail_or_leak(
    prod_client: httpx.AsyncClient, prod_runtime: Runtime, sim: Simulator
) -> None:
    world = await build_world(prod_runtime)
    secrets = await _secrets(world, sim)
    loop = asyncio.get_running_loop()
    headers = {"Authorization": f"Bearer {world.a.admin_key}"}
    outcomes: Counter[str] = Counter()
    timings: dict[str, float] = {}
    messages: Counter[str] = Counter()
    failures: list[str] = []

    async def send(query: str | bytes) -> None:
        if isinstance(query, bytes):  # a raw body, not a query
            r = await prod_client.post(
                "/graphql", content=query, headers={**headers, "Content-Type": "application/json"}
            )
        else:
            r = await prod_client.post("/graphql", json={"query": query}, headers=headers)
        text = r.text
        if r.status_code >= 500:
            failures.append(f"{r.status_code} for {query[:300]!r}: {text[:300]}")
        try:
            body = json.loads(text)
        except ValueError:
            failures.append(f"non-JSON answer for {query[:300]!r}: {text[:300]}")
            return
        if problems := _leaks(text, secrets):
            failures.append(f"{problems} for {query[:300]!r}: {text[:500]}")
        outcomes[f"{r.status_code} {'errors' if body.get('errors') else 'data'}"] += 1
        for error in body.get("errors") or []:
            code = (error.get("extensions") or {}).get("code")
            messages[code or re.sub(r"'[^']*'|\d+", "_", str(error.get("message")))[:70]] += 1

    def post(query: object) -> None:
        document = query if isinstance(query, bytes) else str(query)
        asyncio.run_coroutine_threadsafe(send(document), loop).result(timeout=30)

    def fuzz() -> None:
        common = settings(
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )

        def run(strategy: st.SearchStrategy[object], examples: int) -> None:
            def example(query: object) -> None:
                post(query)

            given(strategy)(settings(common, max_examples=examples)(example))()

        for name, strategy, examples in PLAN:
            started = time.monotonic()
            run(strategy, examples)
            timings[name] = round(time.monotonic() - started, 1)
        # Garbage: any text as a query, any bytes as the request body.
        run(st.text(max_size=300) | st.binary(max_size=300), GARBAGE_EXAMPLES)

    # hypothesis drives a worker thread; each example runs on this test's event loop.
    await asyncio.to_thread(fuzz)
    runner = prod_runtime.extras.get("runner")
    if runner is not None:
        await runner.shutdown()
    total = sum(outcomes.values())
    print(f"\nfuzzed {total} requests: {dict(outcomes)}; seconds: {timings}")
    print("errors:", dict(messages.most_common(12)))
    assert not failures, "\n".join(failures[:20])
    # Stronger than "masked": no input reached an unexpected exception at all.
    assert messages["Internal server error."] == 0
    assert sum(n for *_, n in PLAN) == 2000
    assert total == 2000 + GARBAGE_EXAMPLES
    assert outcomes["200 data"] > 500  # many valid documents really executed


@pytest.mark.parametrize(
    ("text", "flagged"),
    [
        ('{"errors":[{"message":"KeyError: 3"}]}', True),
        ('{"errors":[{"message":"Traceback (most recent call last):"}]}', True),
        ('{"data":{"x":{"__typename":"NotFoundError"}}}', False),
        ('{"errors":[{"message":"Syntax Error: Unexpected Name"}]}', False),
        ('{"errors":[{"message":"boom IntegrityError"}]}', True),
    ],
)
def test_leak_detector_flags_exception_names_and_traces(text: str, flagged: bool) -> None:
    assert bool(_leaks(text, {"s" * 16})) is flagged


def test_leak_detector_flags_secrets() -> None:
    assert _leaks('{"data":{"x":"es_abc_very-secret-key"}}', {"es_abc_very-secret-key"})
