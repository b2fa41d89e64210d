"""Issue 6's per-field rules and richer filters, compiled once per run for the planner's hot path.

Plain data only (no Tortoise, no Graph): `SyncConfig` compiles its `Policies` into a `FieldPlan`
and, when a filter is on, `UserFilters`; `rules.filter_reason` and `planner.plan_user` read them.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import NamedTuple

# The S4 fields, in rules.Fields order.
CORE_FIELDS: tuple[str, ...] = ("first_name", "last_name", "job_title", "phone", "mobile")
# Written only by connections whose field rules sync them (EndUser columns of the same names).
OPTIONAL_FIELDS: tuple[str, ...] = ("department", "office", "display_name", "manager_email")

OVERWRITE = "OVERWRITE"
CREATE_ONLY = "CREATE_ONLY"
KEEP_WHEN_BLANK = "KEEP_WHEN_BLANK"
NOT_SYNCED = "NOT_SYNCED"


class Extra(NamedTuple):
    """The optional fields as the product stores them ("" when empty or not synced)."""

    department: str
    office: str
    display_name: str
    manager_email: str


NO_EXTRA = Extra("", "", "", "")


@dataclass(frozen=True, slots=True)
class FieldPlan:
    """A connection's field rules, arranged for the planner.

    - keep_when_blank: S4 fields a blank Entra value never erases (KEEP_WHEN_BLANK).
    - fixed: S4 fields an update never writes (CREATE_ONLY, NOT_SYNCED).
    - not_created: S4 fields a creation leaves blank (NOT_SYNCED).
    - extras: optional fields with a rule other than NOT_SYNCED, and `extra_rules` their rules;
      empty for the defaults, and then no optional field is read, compared or written.
    """

    keep_when_blank: frozenset[str]
    fixed: frozenset[str]
    not_created: tuple[str, ...]
    extras: tuple[str, ...]
    extra_rules: Mapping[str, str]


def compile_field_rules(rules: Mapping[str, str]) -> FieldPlan:
    """The plan of a complete rule mapping (every field of CORE_FIELDS and OPTIONAL_FIELDS)."""
    extras = tuple(name for name in OPTIONAL_FIELDS if rules[name] != NOT_SYNCED)
    return FieldPlan(
        keep_when_blank=frozenset(n for n in CORE_FIELDS if rules[n] == KEEP_WHEN_BLANK),
        fixed=frozenset(n for n in CORE_FIELDS if rules[n] in (CREATE_ONLY, NOT_SYNCED)),
        not_created=tuple(n for n in CORE_FIELDS if rules[n] == NOT_SYNCED),
        extras=extras,
        extra_rules={name: rules[name] for name in extras},
    )


def field_changes(
    plan: FieldPlan, stored: Extra, incoming: Extra, changes: dict[str, tuple[str, str]]
) -> Extra:
    """The optional fields an update writes, added to `changes` as {field: (old, new)}; returns
    the values the row holds afterwards. Same rules as the S4 fields: OVERWRITE writes a blank
    too, KEEP_WHEN_BLANK never erases with a blank, CREATE_ONLY never updates."""
    after: dict[str, str] = {}
    for name in plan.extras:
        rule = plan.extra_rules[name]
        if rule == CREATE_ONLY:
            continue
        old, new = getattr(stored, name), getattr(incoming, name)
        if old != new and (new or rule != KEEP_WHEN_BLANK):
            changes[name] = (old, new)
            after[name] = new
    return stored._replace(**after) if after else stored


@dataclass(frozen=True, slots=True)
class UserFilters:
    """The richer filters (issue 6), applied after W4 and W5; None on a config when all are off.

    Domains are lower-case without "@"; `pattern` is the exclusion globs as one case-insensitive
    regular expression (None without patterns).
    """

    enabled_only: bool
    licensed_only: bool
    include_domains: frozenset[str]
    exclude_domains: frozenset[str]
    pattern: re.Pattern[str] | None


def normalize_domain(value: str) -> str:
    """A domain as filters compare it: trimmed, without a leading "@", case-folded."""
    return value.strip().lstrip("@").strip().casefold()


def glob_regex(patterns: Iterable[str]) -> re.Pattern[str] | None:
    """Shell-style globs (`*`, `?`, `[...]`) as one case-insensitive whole-value regex."""
    parts = [fnmatch.translate(p.strip().casefold()) for p in patterns if p.strip()]
    if not parts:
        return None
    return re.compile("|".join(f"(?:{part})" for part in parts), re.IGNORECASE)


def compile_filters(
    *,
    enabled_only: bool,
    licensed_only: bool,
    include_domains: Iterable[str],
    exclude_domains: Iterable[str],
    exclusion_patterns: Iterable[str],
) -> UserFilters | None:
    """The filters of a configuration, or None when none is on (the planner then checks nothing)."""
    include = frozenset(normalize_domain(d) for d in include_domains if normalize_domain(d))
    exclude = frozenset(normalize_domain(d) for d in exclude_domains if normalize_domain(d))
    pattern = glob_regex(exclusion_patterns)
    if not (enabled_only or licensed_only or include or exclude or pattern is not None):
        return None
    return UserFilters(enabled_only, licensed_only, include, exclude, pattern)
