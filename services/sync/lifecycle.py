"""Lifecycle policy and pins (issue 6): which end users a sync marks inactive or active again.

Pure decisions on plain data; `lifecycle_run` feeds them and writes the outcome. With the
default policy KEEP nothing here changes a user (S5); pins apply whatever the policy.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from entra.types import EntraUser
from services.sync.config import LifecycleName
from services.sync.planner import Decision, DecisionKind
from services.sync.reasons import SkipReason

DISABLED = "DISABLED"
SOFT_DELETED = "SOFT_DELETED"
DELETED = "DELETED"
OUT_OF_SCOPE = "OUT_OF_SCOPE"
MANUAL = "MANUAL"
# The change-log code of a reactivation, and of a disabled user left active because the
# shared-mailbox exemption could not be decided.
RETURNED = "RETURNED"
MAILBOX_UNKNOWN = "MAILBOX_UNKNOWN"
# The causes a sync sets, hence may clear when the user returns; MANUAL (a person's choice)
# and a reason-less inactive row are never undone by a sync.
SYNC_CAUSES = frozenset({DISABLED, SOFT_DELETED, DELETED, OUT_OF_SCOPE})
# `@removed` reasons of /users/delta (graph-and-msal.md section 2).
REMOVED_CAUSES = {"changed": SOFT_DELETED, "deleted": DELETED}
# mailboxSettings.userPurpose values exempted by `exempt_shared_mailboxes`.
EXEMPT_PURPOSES = frozenset({"shared", "room", "equipment"})

KEEP_ACTIVE = "KEEP_ACTIVE"
EXCLUDE = "EXCLUDE"

INACTIVE_ACTION = "INACTIVE"
ACTIVE_ACTION = "ACTIVE"
SKIP_ACTION = "SKIP"


class Activity(NamedTuple):
    """An end user's lifecycle columns (EndUser.active, inactive_reason, pin)."""

    active: bool = True
    reason: str | None = None
    pin: str | None = None


DEFAULT_ACTIVITY = Activity()


@dataclass(slots=True)
class Transition:
    """One lifecycle outcome for one end user, as logged and (INACTIVE/ACTIVE) written.

    `end_user_id` is provisional (negative) for a user created by the same batch until its
    insert gives the real id. `action` is INACTIVE or ACTIVE (a change, counted on the run), or
    SKIP for a deactivation that was not done (MAILBOX_UNKNOWN, logged only).
    """

    action: str
    code: str
    end_user_id: int
    entra_id: str
    email: str
    site_id: int | None
    display_name: str
    before: Activity

    @property
    def after(self) -> Activity:
        if self.action == INACTIVE_ACTION:
            return Activity(False, self.code, self.before.pin)
        if self.action == ACTIVE_ACTION:
            return Activity(True, None, self.before.pin)
        return self.before

    @property
    def changes(self) -> dict[str, list[str]]:
        """The change log's {"field": [old, new]} for this transition (R8)."""
        if self.action == SKIP_ACTION:
            return {}
        after = self.after
        return {
            "active": [_flag(self.before.active), _flag(after.active)],
            "inactive_reason": [self.before.reason or "", after.reason or ""],
        }


def _flag(value: bool) -> str:
    return "true" if value else "false"


def next_state(state: Activity, cause: str | None, policy: LifecycleName) -> tuple[str, str] | None:
    """What a sync does to an end user it holds a cause for: (action, code), or None for nothing.

    `cause` is DISABLED, SOFT_DELETED, DELETED or OUT_OF_SCOPE, or None for a user that is
    enabled and in scope. Under KEEP (S5) nothing changes. A pin EXCLUDE is never touched; a pin
    KEEP_ACTIVE is never deactivated. An active user with a cause turns inactive; an inactive
    one keeps the cause that deactivated it. A user a sync deactivated comes back when it
    returns; one a person marked inactive (MANUAL) stays inactive.
    """
    if policy != "MARK_INACTIVE" or state.pin == EXCLUDE:
        return None
    if cause is None:
        if not state.active and state.reason in SYNC_CAUSES:
            return ACTIVE_ACTION, RETURNED
        return None
    if state.pin == KEEP_ACTIVE or not state.active:
        return None
    return INACTIVE_ACTION, cause


def planned_cause(user: EntraUser, decision: Decision) -> tuple[bool, str | None]:
    """(whether the lifecycle policy applies, the cause) for a planned Entra user.

    Out of scope: skipped by a filter (W4, W5 and the richer filters: `is_filter`) or unmapped
    (W3). A user matched or created is DISABLED when Entra says accountEnabled false, else it
    is present (None: reactivated if a sync had deactivated it). Other skips (bad data,
    ambiguous matches, pins) decide nothing: the user is left as it is.
    """
    if decision.kind is DecisionKind.SKIP:
        reason = decision.reason
        if reason is not None and (reason.is_filter or reason is SkipReason.UNMAPPED):
            return True, OUT_OF_SCOPE
        return False, None
    return True, DISABLED if user.account_enabled is False else None


def excluded(decision: Decision) -> Decision:
    """The decision for a user pinned EXCLUDE: skipped with its own reason, nothing written."""
    return decision._replace(
        kind=DecisionKind.SKIP,
        reason=SkipReason.PINNED_EXCLUDE,
        fields=None,
        link=None,
        changes={},
        trims=(),
    )
