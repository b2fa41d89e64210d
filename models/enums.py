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


class AuthMode(StrEnum):
    DELEGATED = "DELEGATED"  # an admin's sign-in; the refresh token is stored encrypted (C3)
    APP_ONLY = "APP_ONLY"  # admin consent + client credentials: no user token stored at all
