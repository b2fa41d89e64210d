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


class RunTrigger(StrEnum):
    MANUAL = "MANUAL"
    SCHEDULE = "SCHEDULE"


class ChangeAction(StrEnum):
    CREATE = "CREATE"
    UPDATE = "UPDATE"
    SKIP = "SKIP"
    REMOVED = "REMOVED"  # reported by a delta round; the product user is left untouched (S5)
