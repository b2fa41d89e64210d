"""The Microsoft simulator as its own process for the import benchmark, and its `/_sim/` admin API."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
# Generating 100,000 users takes a few seconds on a 2-vCPU box; 500,000 would take ~30.
READY_TIMEOUT = 180.0


@dataclass(frozen=True, slots=True)
class SimProcess:
    base_url: str
    process: subprocess.Popen[bytes]


def _free_port() -> int:
    # The simulator binds its own socket: a port that was free a moment ago (loopback only).
    with socket.create_server((HOST, 0)) as sock:
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def simulator(users: int, *, page_delay: float = 0.0) -> Iterator[SimProcess]:
    """`python -m simulator` in a child process; terminated (then killed) however the block ends.

    Raises RuntimeError when it exits early or does not answer within READY_TIMEOUT.
    """
    port = _free_port()
    args = [
        sys.executable,
        "-m",
        "simulator",
        "--host",
        HOST,
        "--port",
        str(port),
        "--users",
        str(users),
        "--auto-accept",
        "--page-delay",
        str(page_delay),
    ]
    process = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.DEVNULL)
    sim = SimProcess(f"http://{HOST}:{port}", process)
    try:
        asyncio.run(_wait_ready(sim))
        yield sim
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


async def _wait_ready(sim: SimProcess) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    async with aiohttp.ClientSession() as http:
        while time.monotonic() < deadline:
            if sim.process.poll() is not None:
                raise RuntimeError(f"the simulator exited with status {sim.process.returncode}")
            with contextlib.suppress(aiohttp.ClientError):
                async with http.get(f"{sim.base_url}/_sim/tenants") as resp:
                    if resp.status == 200:
                        return
            await asyncio.sleep(0.2)
    raise RuntimeError(f"the simulator did not answer within {READY_TIMEOUT:.0f} s")


async def tenant_id(http: aiohttp.ClientSession, base_url: str) -> str:
    async with http.get(f"{base_url}/_sim/tenants") as resp:
        resp.raise_for_status()
        tenants = await resp.json()
    return str(tenants[0]["tenant_id"])


async def set_page_delay(http: aiohttp.ClientSession, base_url: str, seconds: float) -> None:
    async with http.post(f"{base_url}/_sim/faults", json={"page_delay": seconds}) as resp:
        resp.raise_for_status()


async def change_users(
    http: aiohttp.ClientSession, base_url: str, user_ids: Sequence[str], tag: str
) -> None:
    """Give each user a new jobTitle and business phone (two S4 fields) through the admin API.

    `tag` makes the values differ from any earlier call, so every user really changes.
    Raises aiohttp.ClientResponseError when the simulator refuses one.
    """
    tid = await tenant_id(http, base_url)
    gate = asyncio.Semaphore(8)

    async def one(n: int, uid: str) -> None:
        body = {"jobTitle": f"Bench {tag} title {n}", "businessPhones": [f"+1 555 {tag} {n:05d}"]}
        async with gate, http.patch(f"{base_url}/_sim/tenants/{tid}/users/{uid}", json=body) as r:
            r.raise_for_status()

    await asyncio.gather(*(one(n, uid) for n, uid in enumerate(user_ids)))
