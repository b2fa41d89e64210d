"""The import configuration a sync run applies (W1-W6), frozen and validated once per run."""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

from services.sync.fields import FieldPlan, UserFilters, compile_field_rules, compile_filters

Scope = Literal["ACCOUNT", "SITE"]
Classification = Literal["OFFICE", "DEPARTMENT"]
GroupFilter = Literal["NONE", "ALL_GROUPS", "SELECTED"]
UserType = Literal["MEMBER", "GUEST"]
MatchAttribute = Literal["UPN", "MAIL"]

# W2: users with no value for the classification field form this bucket, mapped like any value.
UNDEFINED = "Undefined"
# W4: Atera's documented limit; the API refuses more with a typed error before a config exists.
MAX_SELECTED_GROUPS = 999


def classification_key(value: str | None) -> str:
    """W2/W3: the key under which an office/department value is grouped and mapped.

    Entra values are free text typed by people, so "Paris", "paris " and "PARIS" are one office:
    the key is the NFC-normalised, trimmed, case-folded value. A missing or blank value is the
    `Undefined` bucket, and so is a literal "Undefined" (Atera shows blanks under that name too).
    The wizard must group its value counts with this same function so that what it lists is what
    routing maps.
    """
    text = value.strip() if value is not None else ""
    if not text:
        text = UNDEFINED
    elif not text.isascii():
        text = unicodedata.normalize("NFC", text)
    return text.casefold()


# Per-field rules (issue 6): how a sync writes each field of a matched user.
FieldRuleName = Literal["OVERWRITE", "CREATE_ONLY", "KEEP_WHEN_BLANK", "NOT_SYNCED"]
FIELD_RULES: tuple[FieldRuleName, ...] = (
    "OVERWRITE",
    "CREATE_ONLY",
    "KEEP_WHEN_BLANK",
    "NOT_SYNCED",
)
# The defaults reproduce S4 exactly: names and job title overwritten (a blank one included),
# phones never erased with a blank; the optional fields are not synced unless an admin says so.
DEFAULT_FIELD_RULES: Mapping[str, FieldRuleName] = MappingProxyType(
    {
        "first_name": "OVERWRITE",
        "last_name": "OVERWRITE",
        "job_title": "OVERWRITE",
        "phone": "KEEP_WHEN_BLANK",
        "mobile": "KEEP_WHEN_BLANK",
        "department": "NOT_SYNCED",
        "office": "NOT_SYNCED",
        "manager_email": "NOT_SYNCED",
        "display_name": "NOT_SYNCED",
    }
)
LifecycleName = Literal["KEEP", "MARK_INACTIVE"]


@dataclass(frozen=True, slots=True)
class Policies:
    """A connection's opt-in sync policies beyond the SPEC (issue 6); the defaults change nothing.

    - lifecycle: what a sync does to an imported user whose Entra account is disabled, deleted or
      out of scope: KEEP (S5, default) or MARK_INACTIVE (never deleted; reactivated on return).
      `exempt_shared_mailboxes` leaves shared mailboxes active under MARK_INACTIVE.
    - review_conflicts: ambiguous matches go to the review queue instead of the SPEC's choice.
    - field_rules: the rule of every field (DEFAULT_FIELD_RULES, overridden by the saved ones).
    - enabled_only, licensed_only, include_domains, exclude_domains, exclusion_patterns: filters
      applied after W4 and W5. Domains are stored lower-case without "@"; patterns are
      case-insensitive shell-style globs matched against UPN, mail and display name.

    Raises ValueError on an unknown field or rule; the API validates first with typed errors.
    """

    lifecycle: LifecycleName = "KEEP"
    exempt_shared_mailboxes: bool = False
    review_conflicts: bool = False
    field_rules: Mapping[str, FieldRuleName] = field(default_factory=dict)
    enabled_only: bool = False
    licensed_only: bool = False
    include_domains: tuple[str, ...] = ()
    exclude_domains: tuple[str, ...] = ()
    exclusion_patterns: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.lifecycle not in ("KEEP", "MARK_INACTIVE"):
            raise ValueError(f"unknown lifecycle policy {self.lifecycle!r}")
        rules = dict(DEFAULT_FIELD_RULES)
        for name, rule in self.field_rules.items():
            if name not in DEFAULT_FIELD_RULES:
                raise ValueError(f"unknown field {name!r}")
            if rule not in FIELD_RULES:
                raise ValueError(f"unknown field rule {rule!r} for {name}")
            rules[name] = rule
        object.__setattr__(self, "field_rules", MappingProxyType(rules))

    @property
    def filters_on(self) -> bool:
        """True when any of the richer filters is set."""
        return bool(
            self.enabled_only
            or self.licensed_only
            or self.include_domains
            or self.exclude_domains
            or self.exclusion_patterns
        )

    def to_json(self) -> dict[str, object]:
        """The policies as stored in SyncRun.proposed_policies (a preview's settings)."""
        return {
            "lifecycle": self.lifecycle,
            "exempt_shared_mailboxes": self.exempt_shared_mailboxes,
            "review_conflicts": self.review_conflicts,
            "field_rules": dict(self.field_rules),
            "enabled_only": self.enabled_only,
            "licensed_only": self.licensed_only,
            "include_domains": list(self.include_domains),
            "exclude_domains": list(self.exclude_domains),
            "exclusion_patterns": list(self.exclusion_patterns),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> Policies:
        def strings(key: str) -> tuple[str, ...]:
            value = data.get(key) or ()
            return tuple(str(v) for v in value) if isinstance(value, list | tuple) else ()

        rules = data.get("field_rules") or {}
        return cls(
            lifecycle=str(data.get("lifecycle", "KEEP")),  # type: ignore[arg-type]
            exempt_shared_mailboxes=bool(data.get("exempt_shared_mailboxes", False)),
            review_conflicts=bool(data.get("review_conflicts", False)),
            field_rules=dict(rules) if isinstance(rules, dict) else {},
            enabled_only=bool(data.get("enabled_only", False)),
            licensed_only=bool(data.get("licensed_only", False)),
            include_domains=strings("include_domains"),
            exclude_domains=strings("exclude_domains"),
            exclusion_patterns=strings("exclusion_patterns"),
        )


DEFAULT_POLICIES = Policies()


@dataclass(frozen=True, slots=True)
class SyncConfig:
    """What one connection imports and how it matches (W1-W7, S2).

    Raises ValueError when the combination is impossible (the API validates first and returns
    typed errors; this guards the engine against a half-saved configuration).
    """

    scope: Scope
    tenant_id: str
    site_id: int | None = None
    classification: Classification | None = None
    mappings: Mapping[str, int] = field(default_factory=dict)
    group_filter: GroupFilter = "NONE"
    selected_group_ids: tuple[str, ...] = ()
    user_types: frozenset[UserType] = frozenset({"MEMBER", "GUEST"})
    match_attribute: MatchAttribute = "UPN"
    # Issue 6's opt-in policies (lifecycle, review, field rules, richer filters).
    policies: Policies = DEFAULT_POLICIES
    # classification_key(value) -> site id, derived from `mappings`.
    routes: Mapping[str, int] = field(init=False, repr=False, compare=False)
    # The policies' field rules and filters compiled for the planner (filters None when off).
    field_plan: FieldPlan = field(init=False, repr=False, compare=False)
    user_filters: UserFilters | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.tenant_id:
            raise ValueError("tenant_id is required")
        if self.scope == "SITE" and self.site_id is None:
            raise ValueError("a SITE-scoped connection needs site_id (W6)")
        if self.scope == "ACCOUNT" and self.classification is None:
            raise ValueError("an ACCOUNT-scoped connection needs a classification field (W1)")
        if not self.user_types:
            raise ValueError("at least one user type is required (W5)")
        if self.group_filter == "SELECTED" and not self.selected_group_ids:
            raise ValueError("a SELECTED group filter needs at least one group (W4)")
        if len(self.selected_group_ids) > MAX_SELECTED_GROUPS:
            raise ValueError(f"at most {MAX_SELECTED_GROUPS} groups can be selected (W4)")
        routes: dict[str, int] = {}
        for value, site_id in self.mappings.items():
            key = classification_key(value)
            if routes.setdefault(key, site_id) != site_id:
                raise ValueError(f"values equal to {value!r} are mapped to different sites (W3)")
        object.__setattr__(self, "routes", routes)
        p = self.policies
        object.__setattr__(self, "field_plan", _field_plan(p.field_rules))
        object.__setattr__(
            self,
            "user_filters",
            compile_filters(
                enabled_only=p.enabled_only,
                licensed_only=p.licensed_only,
                include_domains=p.include_domains,
                exclude_domains=p.exclude_domains,
                exclusion_patterns=p.exclusion_patterns,
            ),
        )


_DEFAULT_PLAN = compile_field_rules(DEFAULT_FIELD_RULES)


def _field_plan(rules: Mapping[str, FieldRuleName]) -> FieldPlan:
    return _DEFAULT_PLAN if rules == DEFAULT_FIELD_RULES else compile_field_rules(rules)
