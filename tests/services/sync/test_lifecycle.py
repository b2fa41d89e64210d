"""Issue 6, lifecycle decisions on plain data: which state an end user moves to, and why."""

from __future__ import annotations

import pytest

from services.sync.lifecycle import (
    DEFAULT_ACTIVITY,
    Activity,
    excluded,
    next_state,
    planned_cause,
)
from services.sync.planner import Decision, DecisionKind
from services.sync.reasons import SkipReason

from .data import entra_user

CAUSES = ("DISABLED", "SOFT_DELETED", "DELETED", "OUT_OF_SCOPE")


@pytest.mark.parametrize("cause", [*CAUSES, None])
@pytest.mark.parametrize(
    "state",
    [
        DEFAULT_ACTIVITY,
        Activity(False, "DISABLED"),
        Activity(False, "MANUAL"),
        Activity(pin="EXCLUDE"),
    ],
)
def test_s5_keep_never_changes_anyone(state: Activity, cause: str | None) -> None:
    assert next_state(state, cause, "KEEP") is None


@pytest.mark.parametrize("cause", CAUSES)
def test_mark_inactive_deactivates_an_active_user_with_its_cause(cause: str) -> None:
    assert next_state(DEFAULT_ACTIVITY, cause, "MARK_INACTIVE") == ("INACTIVE", cause)


@pytest.mark.parametrize("cause", CAUSES)
def test_an_inactive_user_keeps_the_cause_that_deactivated_it(cause: str) -> None:
    assert next_state(Activity(False, "DISABLED"), cause, "MARK_INACTIVE") is None


@pytest.mark.parametrize("reason", CAUSES)
def test_a_returning_user_a_sync_deactivated_is_reactivated(reason: str) -> None:
    assert next_state(Activity(False, reason), None, "MARK_INACTIVE") == ("ACTIVE", "RETURNED")


@pytest.mark.parametrize("reason", ["MANUAL", None])
def test_a_user_a_person_deactivated_stays_inactive(reason: str | None) -> None:
    assert next_state(Activity(False, reason), None, "MARK_INACTIVE") is None
    assert next_state(Activity(False, reason), "DISABLED", "MARK_INACTIVE") is None


@pytest.mark.parametrize("cause", CAUSES)
def test_keep_active_pin_is_never_deactivated_but_exclude_is_never_touched(cause: str) -> None:
    assert next_state(Activity(pin="KEEP_ACTIVE"), cause, "MARK_INACTIVE") is None
    assert next_state(Activity(False, "DISABLED", "KEEP_ACTIVE"), None, "MARK_INACTIVE") == (
        "ACTIVE",
        "RETURNED",
    )
    assert next_state(Activity(pin="EXCLUDE"), cause, "MARK_INACTIVE") is None
    assert next_state(Activity(False, "DISABLED", "EXCLUDE"), None, "MARK_INACTIVE") is None


def _decision(kind: DecisionKind, reason: SkipReason | None = None) -> Decision:
    return Decision(kind, "obj-1", existing_id=7, email="a@contoso.com", reason=reason)


def test_planned_cause_out_of_scope_is_a_filter_or_an_unmapped_value() -> None:
    user = entra_user()
    for reason in (SkipReason.FILTERED_GROUP, SkipReason.FILTERED_USER_TYPE, SkipReason.UNMAPPED):
        assert planned_cause(user, _decision(DecisionKind.SKIP, reason)) == (True, "OUT_OF_SCOPE")
    # Bad data and ambiguity decide nothing about a user's life.
    for reason in (SkipReason.NO_EMAIL, SkipReason.AMBIGUOUS_MATCH, SkipReason.PINNED_EXCLUDE):
        assert planned_cause(user, _decision(DecisionKind.SKIP, reason)) == (False, None)


@pytest.mark.parametrize("kind", [DecisionKind.CREATE, DecisionKind.UPDATE, DecisionKind.UNCHANGED])
def test_planned_cause_of_a_synced_user_is_its_account_state(kind: DecisionKind) -> None:
    assert planned_cause(entra_user(account_enabled=False), _decision(kind)) == (True, "DISABLED")
    assert planned_cause(entra_user(account_enabled=True), _decision(kind)) == (True, None)
    # Graph left accountEnabled out: not a reason to deactivate anyone.
    assert planned_cause(entra_user(account_enabled=None), _decision(kind)) == (True, None)


def test_an_excluded_user_is_a_skip_that_writes_nothing() -> None:
    decision = _decision(DecisionKind.UPDATE)._replace(changes={"job_title": ("a", "b")})
    skipped = excluded(decision)
    assert (skipped.kind, skipped.reason, skipped.existing_id) == (
        DecisionKind.SKIP,
        SkipReason.PINNED_EXCLUDE,
        7,
    )
    assert (skipped.fields, skipped.link, dict(skipped.changes)) == (None, None, {})
