"""The committed schema/schema.graphql must equal the schema the code builds."""

from __future__ import annotations

from schema import SDL_PATH, export_sdl


def test_committed_sdl_is_current() -> None:
    assert SDL_PATH.exists(), "run `python -m schema` to write schema/schema.graphql"
    assert SDL_PATH.read_text() == export_sdl(), "schema.graphql is stale: run `python -m schema`"
