"""Following a run: Ctrl-C detaches (or cancels), the progress bar, a refused websocket."""

from __future__ import annotations

import asyncio
import io
import signal

import pytest

from api.client import amain
from api.client.errors import AUTH, ClientError
from api.client.output import Progress
from api.client.transport import ApiClient
from models import RunStatus, SyncRun
from tests.client.conftest import CLIENT, ROOT, World


async def _interrupted(world: World, *extra: str) -> tuple[int, str, str]:
    """Start `client sync` as a process, Ctrl-C it after its first progress line."""
    world.sim.state.faults.page_delay = 0.6  # every Graph answer waits: the run takes seconds
    proc = await asyncio.create_subprocess_exec(
        *CLIENT,
        "sync",
        world.connection_id,
        *extra,
        env=world.env,
        cwd=ROOT,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    first = await asyncio.wait_for(proc.stdout.readline(), 20)
    assert first.startswith((b"QUEUED", b"RUNNING")), first
    proc.send_signal(signal.SIGINT)
    out, err = await asyncio.wait_for(proc.communicate(), 20)
    assert proc.returncode is not None
    return proc.returncode, (first + out).decode(), err.decode()


async def _final_run(world: World) -> SyncRun:
    for _ in range(200):
        run = await SyncRun.get(connection_id=world.conn_pk)
        if run.status in (RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.CANCELLED):
            return run
        await asyncio.sleep(0.05)
    raise AssertionError("the run did not end")


async def test_ctrl_c_detaches_and_the_run_goes_on(world: World) -> None:
    code, _, err = await _interrupted(world)
    assert code == 130 and "detached" in err
    assert (await SyncRun.get(connection_id=world.conn_pk)).status is RunStatus.RUNNING
    world.sim.state.faults.page_delay = 0.0
    assert (await _final_run(world)).status is RunStatus.SUCCEEDED


async def test_ctrl_c_with_cancel_on_interrupt_cancels_the_run(world: World) -> None:
    code, out, err = await _interrupted(world, "--cancel-on-interrupt")
    assert "cancelling" in err
    run = await _final_run(world)
    assert run.status is RunStatus.CANCELLED
    assert code == 1 and "CANCELLED" in out


def test_progress_bar_on_a_terminal_redraws_one_line() -> None:
    out = io.StringIO()
    bar = Progress(out, tty=True, json_lines=False)
    event = {
        "status": "RUNNING",
        "phase": "users",
        "fetched": 50,
        "total": 200,
        "created": 10,
        "updated": 2,
        "skippedByFilter": 1,
        "skippedUnmapped": 3,
        "errors": 0,
        "percent": 25.0,
    }
    bar.event(event)
    bar.event(event | {"percent": 100.0, "status": "SUCCEEDED", "fetched": 200})
    bar.done()
    text = out.getvalue()
    assert text.count("\r") == 2 and text.endswith("\n") and text.count("\n") == 1
    assert " 25.0% RUNNING users 50/200 created 10 updated 2 skipped 4" in text and "100.0%" in text


async def test_a_refused_key_on_the_websocket_is_an_auth_error(world: World) -> None:
    async with ApiClient(world.server.url, "es_not_a_key", 5) as api:
        with pytest.raises(ClientError) as refused:
            async for _ in api.subscribe("subscription { syncRuns { runId } }", {}):
                pass
    assert refused.value.exit_code == AUTH


async def test_sync_on_a_terminal_draws_a_bar_then_the_counts(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Terminal(io.StringIO):
        encoding = "utf-8"

        def isatty(self) -> bool:
            return True

    screen = Terminal()
    monkeypatch.setattr("sys.stdout", screen)
    assert await amain(["sync", world.connection_id, "--dry-run"]) == 0
    text = screen.getvalue()
    bar, summary = text.split("\n", 1)
    assert (
        bar.startswith("\r[")
        and "█" in bar
        and "100.0% SUCCEEDED done 200/200 created " in bar.rsplit("\r", 1)[1]
    )
    assert summary.startswith("run ") and "SUCCEEDED (dry run)" in summary and "\r" not in summary
