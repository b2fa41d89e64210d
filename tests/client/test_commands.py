"""`entrasync client` against a live server and the simulator: every command and its exit code."""

from __future__ import annotations

import io
import json
import socket
from pathlib import Path

import pytest

from models import (
    Classification,
    ConnectionStatus,
    EndUser,
    ImportMapping,
    RunStatus,
    Site,
    SyncRun,
    TenantConnection,
)
from schema.ids import encode_id
from services.wizard import ImportSettings, MappingInput, configure_import
from tests.client.conftest import CLIENT, ROOT, Cli, World, run_process
from tests.factories import admin_caller


async def test_connections_as_table_and_json(world: World, cli: Cli) -> None:
    table = await cli("connections")
    assert table.code == 0, table.err
    header, row = table.out.splitlines()[:2]
    assert header.split()[:5] == ["ID", "SCOPE", "SITE", "STATUS", "TENANT"]
    assert row.split()[:2] == [world.connection_id, "ACCOUNT"]
    assert "CONNECTED" in row and "Contoso" in row and "yes" in row and row.endswith("-")

    listed = await cli("connections", "--json")
    assert listed.code == 0
    (conn,) = json.loads(listed.out)
    assert conn["id"] == world.connection_id and conn["status"] == "CONNECTED"
    assert conn["configuration"]["classification"] == "OFFICE" and conn["lastRun"] is None


async def test_configure_from_yaml_resolving_site_names(world: World, cli: Cli) -> None:
    """examples/import.yaml: Seattle and Undefined to the existing Headquarters, London to a new site."""
    done = await cli("configure", world.connection_id, "--file", str(ROOT / "examples/import.yaml"))
    assert done.code == 0, done.err
    assert "Seattle → Headquarters" in done.out and "London → London" in done.out
    rows = await ImportMapping.filter(connection_id=world.conn_pk).order_by("value")
    london = await Site.get(account_id=world.tenant.account.id, name="London")
    assert [(m.value, m.site_id) for m in rows] == [
        ("London", london.id),
        ("Seattle", world.hq.id),
        ("Undefined", world.hq.id),
    ]
    conn = await TenantConnection.get(id=world.conn_pk)
    assert (
        sorted(conn.user_types) == ["GUEST", "MEMBER"] and "user types: GUEST, MEMBER" in done.out
    )


async def test_configure_from_json_with_site_ids(world: World, cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "import.json"
    path.write_text(
        json.dumps(
            {
                "classification": "department",  # enum values are read case-insensitively
                "mappings": {
                    "Engineering": encode_id("Site", world.hq.id),
                    "Sales": {"newSiteName": "Sellers"},
                },
                "group_filter": "ALL_GROUPS",
                "userTypes": "MEMBER",
                "matchAttribute": "MAIL",
            }
        )
    )
    done = await cli("configure", world.connection_id, "-f", str(path), "--json")
    assert done.code == 0, done.err
    conf = json.loads(done.out)["configuration"]
    assert conf["classification"] == "DEPARTMENT" and conf["groupFilter"] == "ALL_GROUPS"
    assert conf["matchAttribute"] == "MAIL" and conf["userTypes"] == ["MEMBER"]
    assert {(m["value"], m["site"]["name"]) for m in conf["mappings"]} == {
        ("Engineering", "Headquarters"),
        ("Sales", "Sellers"),
    }
    # The example JSON file is valid too (its Headquarters exists in this world).
    example = await cli(
        "configure", world.connection_id, "--file", str(ROOT / "examples/import.json")
    )
    assert example.code == 0, example.err


@pytest.mark.parametrize(
    ("content", "suffix", "field"),
    [
        ("classification: CITY\n", ".yaml", "classification"),  # refused before any request
        (
            "classification: OFFICE\nmappings:\n  - {value: Paris, site: Nowhere}\n",
            ".yaml",
            "mappings[0].site",
        ),
        (
            '{"classification": "OFFICE", "groupFilter": "SELECTED"}',
            ".json",
            "selectedGroupIds",
        ),  # the API's ValidationError
        ("{userTypes: []}", ".yml", "userTypes"),  # ValidationError: at least one user type
        ("classification: OFFICE\ncolour: blue\n", ".yaml", "colour"),
        ("classification: [OFFICE\n", ".yaml", "invalid YAML at line"),
        ('{"classification": ', ".json", "invalid JSON"),
    ],
)
async def test_configure_a_bad_file_exits_2_naming_the_field(
    world: World, cli: Cli, tmp_path: Path, content: str, suffix: str, field: str
) -> None:
    path = tmp_path / f"import{suffix}"
    path.write_text(content)
    before = await ImportMapping.filter(connection_id=world.conn_pk).count()
    refused = await cli("configure", world.connection_id, "--file", str(path))
    assert refused.code == 2, refused
    assert field in refused.err and refused.out == ""
    assert await ImportMapping.filter(connection_id=world.conn_pk).count() == before


async def test_sync_dry_run_follows_progress_to_the_end(world: World, cli: Cli) -> None:
    done = await cli("sync", world.connection_id, "--dry-run")
    assert done.code == 0, done.err
    lines = done.out.splitlines()
    assert any(line.startswith("RUNNING ") for line in lines)  # a plain line per event (no TTY)
    run = await SyncRun.get(connection_id=world.conn_pk)
    assert run.status is RunStatus.SUCCEEDED and run.dry_run
    run_id = encode_id("SyncRun", run.id)
    assert f"run {run_id} SUCCEEDED (dry run)" in done.out
    assert f"created {run.created}, updated 0" in done.out and run.created > 0
    assert f"entrasync client changes {run_id}" in done.out
    assert await EndUser.filter(account_id=world.tenant.account.id).count() == 0  # R7

    as_json = await cli("sync", world.connection_id, "--dry-run", "--json")
    assert as_json.code == 0
    events = [json.loads(line) for line in as_json.out.splitlines()]
    assert events[0]["type"] == "started" and events[0]["run"]["dryRun"] is True
    assert events[-1]["type"] == "finished" and events[-1]["status"] == "SUCCEEDED"
    assert {e["type"] for e in events[1:-1]} == {"progress"}


async def test_real_sync_then_its_change_log_as_json_and_table(world: World, cli: Cli) -> None:
    done = await cli("sync", world.connection_id, "--json")
    assert done.code == 0, done.err
    final = json.loads(done.out.splitlines()[-1])
    assert final["status"] == "SUCCEEDED" and final["dryRun"] is False
    run_id = final["runId"]
    created = await EndUser.filter(account_id=world.tenant.account.id).count()
    assert final["created"] == created > 0

    log = await cli("changes", run_id, "--json")
    assert log.code == 0, log.err
    entries = json.loads(log.out)
    creates = [e for e in entries if e["action"] == "CREATE"]
    assert len(creates) == created
    assert (
        len(entries)
        == created + final["skippedUnmapped"] + final["skippedByFilter"] + final["errors"]
    )
    assert len(entries) > 100  # more than one page (the server's largest is 100)
    assert len({e["id"] for e in entries}) == len(entries)  # paged through, no page twice

    only_skips = await cli("changes", run_id, "--action", "skip", "--reason", "UNMAPPED", "--json")
    skipped = json.loads(only_skips.out)
    assert skipped and {(e["action"], e["reason"]) for e in skipped} == {("SKIP", "UNMAPPED")}

    table = await cli("changes", run_id, "--action", "CREATE")
    assert table.code == 0
    assert table.out.splitlines()[0].split() == ["ACTION", "EMAIL", "NAME", "REASON", "CHANGES"]
    sample = creates[0]
    field, (old, new) = next(iter((k, v) for k, v in sample["changes"].items() if v[1]))
    assert f"{field}: {old!r} → {new}" in table.out or f"{field}: (none) → {new}" in table.out
    assert sample["email"] in table.out

    runs = await cli("runs", "--connection", world.connection_id, "--json")
    assert [r["id"] for r in json.loads(runs.out)] == [run_id]
    listed = json.loads((await cli("connections", "--json")).out)
    assert listed[0]["lastRun"]["id"] == run_id
    runs_table = await cli("runs")
    assert run_id in runs_table.out and "SUCCEEDED" in runs_table.out


async def test_a_run_that_fails_exits_1(world: World, cli: Cli) -> None:
    conn = await TenantConnection.get(id=world.conn_pk)
    world.sim.state.withdraw_consent(conn.entra_tenant_id or "")  # Graph answers 403 from now on
    failed = await cli("sync", world.connection_id)
    assert failed.code == 1, failed
    assert "FAILED" in failed.out and "the run ended FAILED" in failed.err


async def test_a_refused_key_exits_3_and_is_never_printed(
    world: World, cli: Cli, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    bad = "es_this_is_not_a_key_0123456789"
    monkeypatch.setenv("ENTRASYNC_KEY", bad)
    refused = await cli("connections")
    assert refused.code == 3 and "401" in refused.err
    assert bad not in refused.err + refused.out
    key_file = tmp_path / "key"
    key_file.write_text(world.tenant.admin_key + "\n")
    key_file.chmod(0o600)
    assert (await cli("connections", "--key-file", str(key_file))).code == 0
    # A TECHNICIAN key may read but not start a sync: permission denied is 3 as well.
    monkeypatch.setenv("ENTRASYNC_KEY", world.tenant.tech_key)
    assert (await cli("runs")).code == 0
    denied = await cli("sync", world.connection_id)
    assert denied.code == 3 and "ADMIN" in denied.err
    monkeypatch.delenv("ENTRASYNC_KEY")
    missing = await cli("connections")
    assert missing.code == 2 and "ENTRASYNC_KEY" in missing.err


async def test_unknown_connection_or_run_exits_4(world: World, cli: Cli) -> None:
    other = encode_id("TenantConnection", 10**6)
    for argv in (
        ("sync", other),
        ("configure", other, "--file", str(ROOT / "examples/import.yaml")),
        ("disconnect", other, "--yes"),
        ("runs", "--connection", other),
        ("changes", encode_id("SyncRun", 10**6)),
        ("sync", "not-an-id"),
    ):
        result = await cli(*argv)
        assert result.code == 4, (argv, result)
        assert "not found" in result.err


async def test_server_down_exits_5(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("ENTRASYNC_KEY", "es_whatever")
    down = await cli("connections", "--url", f"http://127.0.0.1:{port}", "--timeout", "2")
    assert down.code == 5 and "cannot reach the server" in down.err


async def test_disconnect_asks_on_a_terminal_unless_yes(
    world: World, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(""))  # not a terminal: --yes is required
    refused = await cli("disconnect", world.connection_id)
    assert refused.code == 2 and "--yes" in refused.err

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr("sys.stdin", Terminal("n\n"))
    kept = await cli("disconnect", world.connection_id)
    assert kept.code == 2 and "Disconnect Contoso" in kept.err and "imported users stay" in kept.err
    assert (await TenantConnection.get(id=world.conn_pk)).status is ConnectionStatus.CONNECTED

    gone = await cli("disconnect", world.connection_id, "--yes")
    assert gone.code == 0 and "disconnected" in gone.out
    assert (await TenantConnection.get(id=world.conn_pk)).status is ConnectionStatus.DISCONNECTED


async def test_usage_errors_exit_2(cli: Cli) -> None:
    assert (await cli()).code == 2
    assert (await cli("changes", "x", "--action", "DELETE")).code == 2
    assert (await cli("--help")).code == 0


async def test_end_to_end_in_a_subprocess(world: World) -> None:
    """`entrasync client` as a process: dry run with JSON lines, then the help's exit codes."""
    done = await run_process(
        [*CLIENT, "sync", world.connection_id, "--dry-run", "--json"], world.env
    )
    assert done.code == 0, done.err
    assert json.loads(done.out.splitlines()[-1])["status"] == "SUCCEEDED"
    assert world.tenant.admin_key not in done.out + done.err
    helped = await run_process([*CLIENT, "--help"], world.env)
    assert helped.code == 0 and "exit codes:" in helped.out and "shell history" in helped.out


async def test_a_paused_run_stops_the_follow_and_is_approved_or_rejected(
    world: World, cli: Cli
) -> None:
    first = await cli("sync", world.connection_id)
    assert first.code == 0, first.err
    imported = await EndUser.filter(account_id=world.tenant.account.id).count()
    # Guests only from now on: every member would be skipped, far over the guard's threshold.
    await configure_import(
        world.server.runtime,
        await admin_caller(world.tenant),
        world.conn_pk,
        ImportSettings(
            classification=Classification.OFFICE,
            mappings=(MappingInput("Seattle", site_id=world.hq.id),),
            user_types=("GUEST",),
        ),
    )

    paused = await cli("sync", world.connection_id, "--json")
    assert paused.code == 1, paused.err
    event = json.loads(paused.out.splitlines()[-1])
    assert (event["type"], event["status"]) == ("paused", "AWAITING_APPROVAL")
    assert "waiting for an admin's approval" in paused.err
    rejected = await cli("reject", event["runId"])
    assert rejected.code == 0 and "rejected" in rejected.out
    runs = await SyncRun.filter(connection_id=world.conn_pk).order_by("id")
    assert runs[-1].status is RunStatus.CANCELLED

    again = await cli("sync", world.connection_id)
    assert again.code == 1 and "AWAITING_APPROVAL" in again.out
    latest = await SyncRun.filter(connection_id=world.conn_pk).order_by("-id").first()
    assert latest is not None and latest.status is RunStatus.AWAITING_APPROVAL
    run_id = encode_id("SyncRun", latest.id)
    assert f"entrasync client approve {run_id}" in again.out
    would = await cli("changes", run_id, "--action", "SKIP", "--json")
    reasons = {e["reason"] for e in json.loads(would.out)}
    assert would.code == 0 and "FILTERED_USER_TYPE" in reasons
    assert await EndUser.filter(account_id=world.tenant.account.id).count() == imported

    approved = await cli("approve", run_id, "--json")
    assert approved.code == 0, approved.err
    final = json.loads(approved.out.splitlines()[-1])
    assert (final["type"], final["status"]) == ("finished", "SUCCEEDED")
    await latest.refresh_from_db()
    assert latest.status is RunStatus.SUCCEEDED and latest.approved_at is not None


async def test_runs_last_shows_only_the_newest(world: World, cli: Cli) -> None:
    for dry in (True, False, True):
        done = await cli("sync", world.connection_id, *(["--dry-run"] if dry else []))
        assert done.code == 0, done.err
    every = json.loads((await cli("runs", "--json")).out)
    newest = await cli("runs", "--last", "2", "--json")
    assert newest.code == 0, newest.err
    assert [r["id"] for r in json.loads(newest.out)] == [r["id"] for r in every[-2:]]
    assert len(every) == 3
    bad = await cli("runs", "--last", "0")
    assert bad.code == 2 and "--last" in bad.err
