"""A real webhook receiver on a loopback port: records each request, answers as it is told."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from aiohttp import web


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float  # time.monotonic() on arrival


@dataclass
class Answer:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: str = "ok"
    delay: float = 0.0  # seconds before answering (timeouts, overlapping dispatchers)


class Receiver:
    def __init__(self) -> None:
        self.requests: list[Received] = []
        self.script: list[Answer] = []
        self.default = Answer()
        self.base_url = ""

    def url(self, path: str = "/hook") -> str:
        return f"{self.base_url}{path}"

    def then(self, *answers: Answer | int) -> None:
        """Answer the next requests with these, in order; then with `default`."""
        self.script.extend(a if isinstance(a, Answer) else Answer(status=a) for a in answers)

    def fail(self, times: int, status: int = 500) -> None:
        self.then(*([status] * times))

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        self.requests.append(
            Received(
                path=request.path,
                headers=dict(request.headers),
                body=body,
                at=time.monotonic(),
            )
        )
        answer = self.script.pop(0) if self.script else self.default
        if answer.delay:
            await asyncio.sleep(answer.delay)
        return web.Response(status=answer.status, headers=answer.headers, text=answer.body)


@asynccontextmanager
async def serve_receiver() -> AsyncIterator[Receiver]:
    receiver = Receiver()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", receiver._handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    receiver.base_url = f"http://{host}:{port}"
    try:
        yield receiver
    finally:
        await runner.cleanup()
