"""Child processes for the multi-process tests and benchmarks: workers, API servers, the simulator.

Every process started through `Processes` is stopped when its block ends, however it ends:
SIGTERM, then SIGKILL for one that does not exit in time. Each child's output goes to a log
file, whose tail is shown when a child fails to start. Also used by bench/scale_bench.py and
bench/event_lag.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parent.parent.parent
HOST = "127.0.0.1"


def free_port() -> int:
    """A loopback port that was free a moment ago (the child binds it itself)."""
    with socket.create_server((HOST, 0)) as sock:
        return int(sock.getsockname()[1])


def entrasync_env(**settings: Any) -> dict[str, str]:
    """This environment without any ENTRASYNC_* variable, plus `settings` as ENTRASYNC_<NAME>."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ENTRASYNC_")}
    env.update({f"ENTRASYNC_{k.upper()}": str(v) for k, v in settings.items() if v is not None})
    return env


@dataclass
class Child:
    name: str
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL: the process gets no chance to clean up (a crash, an OOM kill, a power cut)."""
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGKILL)

    def terminate(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGTERM)

    async def wait(self, within: float = 10.0) -> int:
        """The exit status; raises TimeoutError when still running after `within` seconds."""
        deadline = time.monotonic() + within
        while (code := self.process.poll()) is None:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.name} (pid {self.pid}) still running after {within}s")
            await asyncio.sleep(0.02)
        return code

    def output(self) -> str:
        try:
            return self.log.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def tail(self, lines: int = 40) -> str:
        return "\n".join(self.output().splitlines()[-lines:])


Ready = Callable[[Child], Awaitable[bool]]


def says(marker: str) -> Ready:
    """Ready once the child's output holds `marker`."""

    async def check(child: Child) -> bool:
        return marker in child.output()

    return check


def answers(url: str) -> Ready:
    """Ready once GET `url` answers 200."""

    async def check(_: Child) -> bool:
        try:
            async with (
                aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as http,
                http.get(url) as resp,
            ):
                return resp.status == 200
        except (aiohttp.ClientError, TimeoutError):
            return False

    return check


class Processes:
    """Starts children and stops every one of them when the block ends."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.children: list[Child] = []

    async def __aenter__(self) -> Processes:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop_all()

    def stop_all(self, grace: float = 5.0) -> None:
        for child in self.children:
            if child.alive():
                child.terminate()
        deadline = time.monotonic() + grace
        for child in self.children:
            try:
                child.process.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.kill()
                child.process.wait()

    async def start(
        self,
        name: str,
        args: list[str],
        env: Mapping[str, str],
        ready: Ready,
        *,
        within: float = 60.0,
    ) -> Child:
        """Start `args` and wait until `ready`; raises RuntimeError (with the child's output)
        when it exits first or is not ready `within` seconds."""
        log = self.log_dir / f"{name}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(  # noqa: ASYNC220 (a non-blocking spawn)
                args, cwd=ROOT, env=dict(env), stdout=out, stderr=subprocess.STDOUT
            )
        child = Child(name, process, log)
        self.children.append(child)
        deadline = time.monotonic() + within
        while not await ready(child):
            if not child.alive():
                raise RuntimeError(f"{name} exited with {process.returncode}:\n{child.tail()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"{name} not ready within {within}s:\n{child.tail()}")
            await asyncio.sleep(0.05)
        return child

    async def worker(self, name: str, env: Mapping[str, str], *, concurrency: int = 4) -> Child:
        """`entrasync worker`; ready once it listens to the run queue."""
        args = [sys.executable, "-m", "api.cli", "worker", "--concurrency", str(concurrency)]
        return await self.start(name, args, env, says("executing up to"))

    async def api(self, name: str, env: Mapping[str, str], port: int) -> Child:
        """`entrasync serve` on `port`; ready once /readyz answers 200."""
        env = {**env, "ENTRASYNC_HOST": HOST, "ENTRASYNC_PORT": str(port)}
        args = [sys.executable, "-m", "api.cli", "serve"]
        return await self.start(name, args, env, answers(f"http://{HOST}:{port}/readyz"))

    async def simulator(
        self,
        port: int,
        *,
        users: int,
        tenants: int = 1,
        page_delay: float = 0.0,
        within: float = 180.0,
    ) -> Child:
        """`python -m simulator` with auto-accepted consent; ready once its admin API answers."""
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
            "--tenants",
            str(tenants),
            "--auto-accept",
            "--page-delay",
            str(page_delay),
        ]
        env = entrasync_env()
        url = f"http://{HOST}:{port}/_sim/tenants"
        return await self.start("simulator", args, env, answers(url), within=within)
