"""Oversized and slow request bodies over real sockets: refused as soon as they pass the limit
(or their time), while the server keeps answering everyone else."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest
from pydantic import SecretStr

from api.settings import Settings
from tests.factories import Tenant, make_account
from tests.security.conftest import ENCRYPTION_KEY, Server

BODY_TIMEOUT = 1.0


@pytest.fixture
def prod_settings(sim_settings: Settings) -> Settings:  # overrides the package's fixture
    return sim_settings.model_copy(
        update={
            "mode": "production",
            "encryption_key": SecretStr(f"k1:{ENCRYPTION_KEY}"),
            "rate_limit_per_minute": 0,
            "rate_limit_unauthenticated_per_minute": 0,
            "request_body_timeout_seconds": BODY_TIMEOUT,
        }
    )


@pytest.fixture
async def tenant() -> Tenant:
    return await make_account()


def _head(tenant: Tenant, extra: str) -> bytes:
    return (
        "POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Authorization: Bearer {tenant.admin_key}\r\n{extra}\r\n"
    ).encode()


async def _status(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    return status, await reader.readexactly(length)


async def _timed_query(server: Server, tenant: Tenant) -> float:
    async with httpx.AsyncClient(base_url=server.url, timeout=5) as c:
        started = time.monotonic()
        r = await c.post(
            "/graphql",
            json={"query": "{ viewer { role } }"},
            headers={"Authorization": f"Bearer {tenant.admin_key}"},
        )
        assert r.json() == {"data": {"viewer": {"role": "ADMIN"}}}
        return time.monotonic() - started


async def test_huge_chunked_body_sent_slowly_is_refused_at_the_limit_without_blocking_others(
    prod_server: Server, tenant: Tenant
) -> None:
    reader, writer = await asyncio.open_connection(prod_server.host, prod_server.port)
    writer.write(_head(tenant, "Transfer-Encoding: chunked\r\n"))
    answer = asyncio.create_task(_status(reader))
    sent = 0
    latencies: list[float] = []
    try:
        # 2 KB every 20 ms: the whole 10 MB would take 100 s; the limit is 20 KB (and the
        # body timeout 1 s, which the next test is about).
        for i in range(5000):
            if answer.done():
                break
            chunk = b'{"query": "' if i == 0 else b" " * 2048
            writer.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            await writer.drain()
            sent += len(chunk)
            if i % 3 == 1:  # meanwhile, someone else asks something
                latencies.append(await _timed_query(prod_server, tenant))
            await asyncio.sleep(0.02)
    except (ConnectionResetError, BrokenPipeError):
        pass
    status, body = await asyncio.wait_for(answer, 5)
    writer.close()
    assert status == 413
    assert b"request body larger than 20000 bytes" in body
    assert 20_000 < sent < 30_000  # refused as soon as the limit was passed
    assert latencies and max(latencies) < 1.0, latencies


async def test_declared_huge_body_is_refused_before_it_is_sent(
    prod_server: Server, tenant: Tenant
) -> None:
    reader, writer = await asyncio.open_connection(prod_server.host, prod_server.port)
    started = time.monotonic()
    writer.write(_head(tenant, "Content-Length: 1073741824\r\n"))
    await writer.drain()
    status, body = await asyncio.wait_for(_status(reader), 5)
    writer.close()
    assert status == 413 and time.monotonic() - started < 1.0
    assert (
        body
        == b'{"errors":[{"message":"request body larger than 20000 bytes","extensions":{"code":"PAYLOAD_TOO_LARGE"}}]}'
    )


async def test_stalled_body_is_cut_off_with_408_without_blocking_others(
    prod_server: Server, tenant: Tenant
) -> None:
    reader, writer = await asyncio.open_connection(prod_server.host, prod_server.port)
    started = time.monotonic()
    writer.write(_head(tenant, "Content-Length: 500\r\n") + b'{"query": "{ vie')
    await writer.drain()
    answer = asyncio.create_task(_status(reader))
    assert await _timed_query(prod_server, tenant) < 1.0
    status, body = await asyncio.wait_for(answer, 5)
    elapsed = time.monotonic() - started
    writer.close()
    assert status == 408 and BODY_TIMEOUT <= elapsed < BODY_TIMEOUT + 1.5
    assert body == (
        b'{"errors":[{"message":"the request body was not received within 1 seconds",'
        b'"extensions":{"code":"REQUEST_TIMEOUT"}}]}'
    )


async def test_unauthenticated_huge_body_is_refused_without_reading_it(
    prod_server: Server,
) -> None:
    reader, writer = await asyncio.open_connection(prod_server.host, prod_server.port)
    writer.write(
        b"POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n"
    )
    await writer.drain()
    status, _ = await asyncio.wait_for(_status(reader), 5)
    writer.close()
    assert status == 401
