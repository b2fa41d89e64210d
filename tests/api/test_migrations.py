"""Migrations: applied by `entrasync migrate`, required at startup, and in step with the models."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from aerich import Command
from tortoise import connections

from api import db
from api.db import DatabaseNotMigrated, close_database, migrate, open_database


async def test_unmigrated_database_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    url = f"sqlite://{tmp_path / 'fresh.db'}"
    with pytest.raises(DatabaseNotMigrated, match="entrasync migrate"):
        await open_database(url)
    applied = await migrate(url)
    assert applied
    await open_database(url)
    await close_database()
    assert await migrate(url) == []


@pytest.mark.parametrize("url", ["sqlite://:memory:", "postgres://postgres@127.0.0.1:5432/test"])
async def test_migrations_match_models(url: str, tmp_path: Path) -> None:
    """Generating a migration from the models must find nothing new (a model change needs one)."""
    location = tmp_path / "migrations"
    shutil.copytree(Path(db.migrations_location(url)), location)
    command = Command(tortoise_config=db.tortoise_config(url), app="models", location=str(location))
    try:
        await command.init(offline=True)
        generated = await command.migrate(name="check", no_input=True, offline=True)
    finally:
        await connections.close_all()
    assert not generated, (
        f"models changed without a migration: run `python -m api.db makemigrations` ({generated})"
    )
