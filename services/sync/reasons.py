"""Reason codes a sync records for every skipped or trimmed user (R8, S11)."""

from __future__ import annotations

from enum import StrEnum
from typing import NamedTuple


class SkipReason(StrEnum):
    """Why an Entra user was not created nor updated; `message` is the human text."""

    FILTERED_USER_TYPE = "FILTERED_USER_TYPE"
    FILTERED_GROUP = "FILTERED_GROUP"
    # Issue 6's opt-in filters, applied after W4 and W5.
    FILTERED_DISABLED = "FILTERED_DISABLED"
    FILTERED_UNLICENSED = "FILTERED_UNLICENSED"
    FILTERED_DOMAIN = "FILTERED_DOMAIN"
    FILTERED_PATTERN = "FILTERED_PATTERN"
    UNMAPPED = "UNMAPPED"
    NO_EMAIL = "NO_EMAIL"
    INVALID_EMAIL = "INVALID_EMAIL"
    DUPLICATE_EMAIL = "DUPLICATE_EMAIL"
    AMBIGUOUS_MATCH = "AMBIGUOUS_MATCH"
    EMAIL_CONFLICT = "EMAIL_CONFLICT"
    LINKED_TO_OTHER_TENANT = "LINKED_TO_OTHER_TENANT"
    INVALID_ID = "INVALID_ID"
    # An admin pinned the end user EXCLUDE: no sync touches it (issue 6).
    PINNED_EXCLUDE = "PINNED_EXCLUDE"
    # An admin resolved this Entra user's review item with IGNORE (review queue, issue 6).
    REVIEW_IGNORED = "REVIEW_IGNORED"

    @property
    def message(self) -> str:
        return _SKIP_MESSAGES[self]

    @property
    def is_filter(self) -> bool:
        """True for the W4/W5 filters and the connection's opt-in ones, counted apart from errors
        in a run's counters (R1)."""
        return self in _FILTERS


_FILTERS = frozenset(
    {
        SkipReason.FILTERED_USER_TYPE,
        SkipReason.FILTERED_GROUP,
        SkipReason.FILTERED_DISABLED,
        SkipReason.FILTERED_UNLICENSED,
        SkipReason.FILTERED_DOMAIN,
        SkipReason.FILTERED_PATTERN,
    }
)

_SKIP_MESSAGES: dict[SkipReason, str] = {
    SkipReason.FILTERED_USER_TYPE: "Its user type is not one the connection imports (W5).",
    SkipReason.FILTERED_GROUP: "It is not a member of the groups the connection imports (W4).",
    SkipReason.FILTERED_DISABLED: (
        "Its Entra account is disabled and the connection imports enabled accounts only (sync policies)."
    ),
    SkipReason.FILTERED_UNLICENSED: (
        "It holds no license in Entra and the connection imports licensed accounts only (sync policies)."
    ),
    SkipReason.FILTERED_DOMAIN: (
        "The domain of its email is not one the connection imports, or one it excludes (sync policies)."
    ),
    SkipReason.FILTERED_PATTERN: (
        "Its user principal name, mail or display name matches one of the connection's "
        "exclusion patterns, such as service accounts or rooms (sync policies)."
    ),
    SkipReason.UNMAPPED: "Its office or department is not mapped to a site (W3).",
    SkipReason.NO_EMAIL: (
        "It has no email: the match attribute is empty, or it is a guest whose #EXT# "
        "user principal name is not an address and whose mail is empty (S2)."
    ),
    SkipReason.INVALID_EMAIL: (
        "Its email is not a valid address (no single @, whitespace or control characters "
        "inside, or longer than 320 characters) (S11)."
    ),
    SkipReason.DUPLICATE_EMAIL: (
        "Another Entra user of this tenant has the same email, ignoring case, and is already "
        "synced to that end user or came first in this run (S11)."
    ),
    SkipReason.AMBIGUOUS_MATCH: (
        "Several end users of the account have this email in different sites, none of them "
        "in the site this user routes to, so none is updated (S2)."
    ),
    SkipReason.EMAIL_CONFLICT: (
        "Entra changed its email to one that another end user of its site already has (S7)."
    ),
    SkipReason.INVALID_ID: "Graph sent an object id that is empty or longer than 64 characters (S11).",
    SkipReason.LINKED_TO_OTHER_TENANT: (
        "The end user with this email in the target site is synced from another tenant (C5)."
    ),
    SkipReason.PINNED_EXCLUDE: (
        "An admin pinned this end user EXCLUDE: no sync changes it, whatever Entra says (issue 6)."
    ),
    SkipReason.REVIEW_IGNORED: (
        "An admin resolved its conflict review with IGNORE: syncs leave this Entra user out "
        "(review queue)."
    ),
}

# The review queue's cases (ReviewItem.kind), also the reason code of a REVIEW change-log row.
REVIEW_MESSAGES: dict[str, str] = {
    "SEVERAL_PRODUCT_MATCHES": (
        "Several end users of the connection's scope have this email; none was chosen, the "
        "case waits in the review queue."
    ),
    "SAME_EMAIL_IN_ENTRA": (
        "Another Entra user of this tenant has the same email, ignoring case; the case waits "
        "in the review queue."
    ),
    "SITE_DISAGREES": (
        "The end user with this email is in another site than the one routing picks; it was "
        "not linked, the case waits in the review queue."
    ),
}


class TrimReason(StrEnum):
    """How an Entra value was altered to fit the product (S11); the user is still imported."""

    TRUNCATED = "TRUNCATED"
    CONTROL_CHARACTERS = "CONTROL_CHARACTERS"

    @property
    def message(self) -> str:
        if self is TrimReason.TRUNCATED:
            return "The value was longer than the field allows and was cut (S11)."
        return "Control characters or invalid code points were removed (S11)."


class Trim(NamedTuple):
    """One altered field: which, why, and the length Entra sent."""

    field: str
    reason: TrimReason
    original_length: int


_REMOVED = {
    "changed": "Deleted in Entra (restorable for 30 days); the product user is left untouched (S5).",
    "deleted": "Permanently deleted in Entra; the product user is left untouched (S5).",
}


# Lifecycle policy (issue 6): INACTIVE rows carry the cause, ACTIVE rows RETURNED, and SKIP
# rows MAILBOX_UNKNOWN when the shared-mailbox exemption could not be decided.
_LIFECYCLE = {
    "DISABLED": "Its Entra account is disabled: the end user was marked inactive (lifecycle policy).",
    "SOFT_DELETED": (
        "Deleted in Entra (restorable for 30 days): the end user was marked inactive "
        "(lifecycle policy)."
    ),
    "DELETED": (
        "Permanently deleted in Entra, or absent from a complete full round: the end user was "
        "marked inactive (lifecycle policy)."
    ),
    "OUT_OF_SCOPE": (
        "The connection's filters or mapping no longer include it: the end user was marked "
        "inactive (lifecycle policy)."
    ),
    "RETURNED": "Enabled and in scope in Entra again: the end user is active again.",
    "MAILBOX_UNKNOWN": (
        "Disabled in Entra, but whether it is a shared mailbox could not be read (the "
        "connection needs the MailboxSettings.Read application permission): left active."
    ),
}


def reason_text(code: str) -> str:
    """Plain words for a change-log reason code (skip reasons, removals); '' for none."""
    if not code:
        return ""
    if code in SkipReason.__members__:
        return SkipReason(code).message
    if code in REVIEW_MESSAGES:
        return REVIEW_MESSAGES[code]
    return _REMOVED.get(code) or _LIFECYCLE.get(code, code)
