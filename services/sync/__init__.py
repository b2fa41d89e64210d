"""The sync engine's pure decision core: configuration, snapshot index, rules and planner."""

from services.sync.config import (
    MAX_SELECTED_GROUPS,
    UNDEFINED,
    SyncConfig,
    classification_key,
)
from services.sync.planner import (
    Decision,
    DecisionKind,
    Match,
    match,
    plan_user,
    stored_user_after,
)
from services.sync.reasons import SkipReason, Trim, TrimReason
from services.sync.rules import (
    Fields,
    Link,
    apply_link,
    apply_s4,
    apply_s7_email,
    email_key,
    entra_email,
    filter_reason,
    normalize_email,
    route,
    sanitize,
    user_type_of,
)
from services.sync.snapshot import STORED_USER_COLUMNS, ScopeIndex, StoredUser

__all__ = [
    "MAX_SELECTED_GROUPS",
    "STORED_USER_COLUMNS",
    "UNDEFINED",
    "Decision",
    "DecisionKind",
    "Fields",
    "Link",
    "Match",
    "ScopeIndex",
    "SkipReason",
    "StoredUser",
    "SyncConfig",
    "Trim",
    "TrimReason",
    "apply_link",
    "apply_s4",
    "apply_s7_email",
    "classification_key",
    "email_key",
    "entra_email",
    "filter_reason",
    "match",
    "normalize_email",
    "plan_user",
    "route",
    "sanitize",
    "stored_user_after",
    "user_type_of",
]
