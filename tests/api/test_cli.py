"""The `entrasync` command as an operator uses it: migrate, accounts, api-keys, serve refusing an unmigrated DB."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


def _run(args: list[str], data: Path, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ENTRASYNC_")}
    env["ENTRASYNC_DATA_DIR"] = str(data)
    return subprocess.run(
        [sys.executable, "-m", "api.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
        check=False,
    )


@pytest.mark.filterwarnings("ignore::ResourceWarning")
def test_cli_migrate_create_account_and_key(tmp_path: Path) -> None:
    refused = _run(["serve"], tmp_path)
    assert refused.returncode == 2
    assert "entrasync migrate" in refused.stderr
    migrated = _run(["migrate"], tmp_path)
    assert migrated.returncode == 0 and "applied" in migrated.stdout
    again = _run(["migrate"], tmp_path)
    assert "applied 0 migration" in again.stdout
    account = _run(["accounts", "create", "--name", "Contoso MSP", "--mode", "MSP"], tmp_path)
    assert account.returncode == 0
    account_id = account.stdout.strip()
    key = _run(["api-keys", "create", "--account", account_id, "--role", "TECHNICIAN"], tmp_path)
    assert key.returncode == 0 and key.stdout.startswith("es_")
    missing = _run(["api-keys", "create", "--account", "999"], tmp_path)
    assert missing.returncode == 2 and "not found" in missing.stderr
    bad_mode = _run(["accounts", "create", "--name", "x", "--mode", "NOPE"], tmp_path)
    assert bad_mode.returncode == 2 and "invalid choice" in bad_mode.stderr


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.filterwarnings("ignore::ResourceWarning")
def test_serve_answers_authenticated_queries_and_readiness(tmp_path: Path) -> None:
    """`entrasync serve` as a process: the lifespan's database is visible to request tasks."""
    import time

    import httpx

    assert _run(["migrate"], tmp_path).returncode == 0
    account_id = _run(["accounts", "create", "--name", "Served"], tmp_path).stdout.strip()
    key = _run(["api-keys", "create", "--account", account_id], tmp_path).stdout.strip()
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ENTRASYNC_")}
    env |= {"ENTRASYNC_DATA_DIR": str(tmp_path), "ENTRASYNC_PORT": str(port)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "api.cli", "serve"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                ready = httpx.get(f"{base}/readyz", timeout=1)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "server did not start"
                time.sleep(0.2)
        assert ready.status_code == 200 and ready.json()["database"] == "up"
        r = httpx.post(
            f"{base}/graphql",
            json={"query": "{ viewer { role account { name } } }"},
            headers={"Authorization": f"Bearer {key}"},
        )
        assert r.json() == {"data": {"viewer": {"role": "ADMIN", "account": {"name": "Served"}}}}
    finally:
        proc.terminate()
        proc.wait(timeout=15)
        if proc.stderr is not None:
            proc.stderr.close()
