"""`entrasync client policies`: show, preview and save a connection's sync policies (issue 6)."""

from __future__ import annotations

import json
from pathlib import Path

from models import EndUser, SyncRun, TenantConnection
from schema.ids import encode_id
from tests.client.conftest import ROOT, Cli, World


async def test_policies_shows_the_saved_ones(world: World, cli: Cli) -> None:
    shown = await cli("policies", world.connection_id)
    assert shown.code == 0, shown.err
    assert "enabled accounts only: no" in shown.out
    assert "firstName OVERWRITE" in shown.out and "phone KEEP_WHEN_BLANK" in shown.out
    as_json = await cli("policies", world.connection_id, "--json")
    assert json.loads(as_json.out)["exclusionPatterns"] == []


async def test_policies_file_is_previewed_then_saved_with_save(world: World, cli: Cli) -> None:
    example = str(ROOT / "examples/policies.yaml")
    previewed = await cli("policies", world.connection_id, "--file", example)
    assert previewed.code == 0, previewed.err
    run = await SyncRun.get(connection_id=world.conn_pk)
    run_id = encode_id("SyncRun", run.id)
    assert run.dry_run and run.proposed_policies is not None
    assert f"preview {run_id}: " in previewed.out and "not saved" in previewed.out
    assert f"entrasync client changes {run_id}" in previewed.out
    conn = await TenantConnection.get(id=world.conn_pk)
    assert not conn.filter_enabled_only and conn.exclusion_patterns == []
    assert await EndUser.filter(account_id=world.tenant.account.id).count() == 0

    saved = await cli("policies", world.connection_id, "--file", example, "--save")
    assert saved.code == 0, saved.err
    assert "saved the sync policies" in saved.out and "svc-*, room-*" in saved.out
    conn = await TenantConnection.get(id=world.conn_pk)
    assert conn.filter_enabled_only and conn.exclusion_patterns == ["svc-*", "room-*"]
    assert conn.field_rules == {"department": "OVERWRITE", "job_title": "CREATE_ONLY"}


async def test_invalid_policies_file_exits_2_naming_the_field(
    world: World, cli: Cli, tmp_path: Path
) -> None:
    bad = tmp_path / "policies.json"
    bad.write_text(json.dumps({"exclude_domains": ["not a domain"]}))
    done = await cli("policies", world.connection_id, "--file", str(bad), "--save")
    assert done.code == 2 and "excludeDomains:" in done.err
    assert not await SyncRun.exists(connection_id=world.conn_pk)
    assert (await cli("policies", world.connection_id, "--save")).code == 2
