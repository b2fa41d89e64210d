"""The scripts under examples/ run as documented against a live server."""

from __future__ import annotations

import shutil
import sys

import pytest

from models import EndUser, RunStatus, SyncRun
from tests.client.conftest import ROOT, World, run_process


async def test_sync_py_previews_then_imports(world: World) -> None:
    done = await run_process(
        [sys.executable, str(ROOT / "examples/sync.py"), world.connection_id], world.env
    )
    assert done.code == 0, done.err
    lines = done.out.splitlines()
    assert lines[0].startswith("dry run SUCCEEDED: fetched 200, created ")
    assert any(line.startswith("  would create ") for line in lines)
    assert any(line.startswith("  would skip ") and "UNMAPPED" in line for line in lines)
    assert lines[-1].startswith("sync SUCCEEDED: ")
    runs = await SyncRun.filter(connection_id=world.conn_pk).order_by("id")
    assert [(r.dry_run, r.status) for r in runs] == [
        (True, RunStatus.SUCCEEDED),
        (False, RunStatus.SUCCEEDED),
    ]
    assert await EndUser.filter(account_id=world.tenant.account.id).count() == runs[1].created > 0


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
@pytest.mark.parametrize("reader", ["jq", "python3"])
async def test_sync_sh_starts_and_polls_until_finished(world: World, reader: str) -> None:
    env = world.env | {"POLL_SECONDS": "0.2"}
    if reader == "jq":
        if shutil.which("jq") is None:
            pytest.skip("jq is not installed")
    else:
        env["JQ"] = ""  # read JSON with python3 instead
    dry = await run_process(
        ["bash", str(ROOT / "examples/sync.sh"), world.connection_id, "--dry-run"], env
    )
    assert dry.code == 0, dry.err
    assert dry.out.startswith("run ") and "(dry run: true, already running: false)" in dry.out
    assert dry.out.splitlines()[-1] == "SUCCEEDED" and "created=" in dry.out
    real = await run_process(["bash", str(ROOT / "examples/sync.sh"), world.connection_id], env)
    assert real.code == 0, real.err
    created = await EndUser.filter(account_id=world.tenant.account.id).count()
    assert f"created={created} " in real.out and created > 0
    assert world.tenant.admin_key not in dry.out + dry.err + real.out + real.err


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
async def test_sync_sh_reports_a_typed_error(world: World) -> None:
    refused = await run_process(
        ["bash", str(ROOT / "examples/sync.sh"), "VGVuYW50Q29ubmVjdGlvbjo5OTk5"], world.env
    )
    assert refused.code == 2 and "not found" in refused.err
