"""Parsing a user's manager from Graph answers: `$expand=manager` and `manager@delta`."""

from __future__ import annotations

from entra.types import NO_MANAGER, ManagerRef, parse_manager

USER = "#microsoft.graph.user"


def test_expanded_manager_or_none() -> None:
    item = {"id": "u", "manager": {"@odata.type": USER, "id": "m", "mail": "m@x.com"}}
    assert parse_manager(item, expanded=True, fresh=True) == ManagerRef("m", "m@x.com", None)
    assert parse_manager({"id": "u"}, expanded=True, fresh=True) is NO_MANAGER
    assert parse_manager({"id": "u", "manager": None}, expanded=True, fresh=True) is NO_MANAGER


def test_manager_delta_ids_removals_and_absence() -> None:
    added = {"id": "u", "manager@delta": [{"@odata.type": USER, "id": "m"}]}
    assert parse_manager(added, expanded=False, fresh=False) == ManagerRef("m", resolved=False)
    gone = {"id": "u", "manager@delta": [{"id": "m", "@removed": {"reason": "deleted"}}]}
    assert parse_manager(gone, expanded=False, fresh=False) is NO_MANAGER
    # Absent: unchanged in a change round, no manager in a fresh round.
    assert parse_manager({"id": "u"}, expanded=False, fresh=False) is None
    assert parse_manager({"id": "u"}, expanded=False, fresh=True) is NO_MANAGER
