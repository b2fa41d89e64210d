"""Enumerations stored in the database and exposed through the API."""

from enum import StrEnum


class AccountMode(StrEnum):
    IT_DEPARTMENT = "IT_DEPARTMENT"
    MSP = "MSP"


class Role(StrEnum):
    ADMIN = "ADMIN"
    TECHNICIAN = "TECHNICIAN"


class UserSource(StrEnum):
    MANUAL = "MANUAL"
    ENTRA = "ENTRA"


class ConnectionScope(StrEnum):
    ACCOUNT = "ACCOUNT"  # users routed to many sites by office/department (W1-W3)
    SITE = "SITE"  # every imported user lands in one site (W6)


class ConnectionStatus(StrEnum):
    PENDING = "PENDING"  # sign-in started, not completed
    CONNECTED = "CONNECTED"
    NEEDS_REAUTH = "NEEDS_REAUTH"  # refresh token rejected (C6)
    NEEDS_CONSENT = "NEEDS_CONSENT"  # permissions missing or withdrawn (C6)
    DISCONNECTED = "DISCONNECTED"  # token deleted (C7)


class Classification(StrEnum):
    OFFICE = "OFFICE"  # Graph officeLocation (W1)
    DEPARTMENT = "DEPARTMENT"  # Graph department (W1)


class GroupFilter(StrEnum):
    NONE = "NONE"  # no filtering (W4)
    ALL_GROUPS = "ALL_GROUPS"  # users in at least one group
    SELECTED = "SELECTED"  # users in (transitively) one of up to 999 selected groups


class MatchAttribute(StrEnum):
    UPN = "UPN"  # userPrincipalName (S2 default)
    MAIL = "MAIL"  # the mail attribute


class RunStatus(StrEnum):
    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"
    # The mass-change guard stopped the run before it wrote anything; it holds its connection's
    # slot (R5) until an admin approves (it is queued again) or rejects it (CANCELLED).
    AWAITING_APPROVAL = "AWAITING_APPROVAL"


class RunTrigger(StrEnum):
    MANUAL = "MANUAL"
    SCHEDULE = "SCHEDULE"


class SyncMode(StrEnum):
    FULL = "FULL"  # every user of the tenant is listed and planned
    DELTA = "DELTA"  # only what changed in Entra since the last round (R9, /users/delta)


class ChangeAction(StrEnum):
    CREATE = "CREATE"
    UPDATE = "UPDATE"
    SKIP = "SKIP"
    REMOVED = "REMOVED"  # reported by a delta round; the product user is left untouched (S5)
    INACTIVE = "INACTIVE"  # a lifecycle policy marked the end user inactive
    ACTIVE = "ACTIVE"  # an inactive end user came back in scope and is active again
    REVIEW = "REVIEW"  # an ambiguous case sent to the review queue, not guessed


class AuthMode(StrEnum):
    DELEGATED = "DELEGATED"  # an admin's sign-in; the refresh token is stored encrypted (C3)
    APP_ONLY = "APP_ONLY"  # admin consent + client credentials: no user token stored at all


class LifecyclePolicy(StrEnum):
    """What a sync does to an imported user whose Entra account is disabled, deleted or out of
    the connection's scope."""

    KEEP = "KEEP"  # S5: left untouched (the default)
    MARK_INACTIVE = "MARK_INACTIVE"  # marked inactive, never deleted; reactivated on return


class InactiveReason(StrEnum):
    DISABLED = "DISABLED"  # accountEnabled is false in Entra
    SOFT_DELETED = "SOFT_DELETED"  # deleted in Entra, restorable for 30 days
    DELETED = "DELETED"  # permanently deleted, or absent from a full round
    OUT_OF_SCOPE = "OUT_OF_SCOPE"  # left the selected groups, mapped values or user types
    MANUAL = "MANUAL"  # marked inactive in the product


class UserPin(StrEnum):
    """An admin's pin on one end user, which every sync respects."""

    KEEP_ACTIVE = "KEEP_ACTIVE"  # never marked inactive by a lifecycle policy
    EXCLUDE = "EXCLUDE"  # never touched by a sync at all


class FieldRule(StrEnum):
    """How a sync treats one field of a matched user (per connection)."""

    OVERWRITE = "OVERWRITE"  # Entra's value wins, a blank one included (S4 names, job title)
    CREATE_ONLY = "CREATE_ONLY"  # set when the user is created, never updated after
    KEEP_WHEN_BLANK = "KEEP_WHEN_BLANK"  # overwritten, but never erased with a blank (S4 phones)
    NOT_SYNCED = "NOT_SYNCED"  # never written by a sync


class ReviewKind(StrEnum):
    """An ambiguous case a sync did not guess about (when the connection asks for review)."""

    SEVERAL_PRODUCT_MATCHES = "SEVERAL_PRODUCT_MATCHES"  # two product users match one Entra user
    SAME_EMAIL_IN_ENTRA = "SAME_EMAIL_IN_ENTRA"  # two Entra users, one email in different case
    SITE_DISAGREES = "SITE_DISAGREES"  # the matched user is not in the site routing picks


class ReviewStatus(StrEnum):
    OPEN = "OPEN"
    RESOLVED = "RESOLVED"


class ReviewResolution(StrEnum):
    LINK = "LINK"  # sync the Entra user to the chosen product user
    CREATE = "CREATE"  # create a new product user for it in its routed site
    IGNORE = "IGNORE"  # leave it out of every sync of this connection
