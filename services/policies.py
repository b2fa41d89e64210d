"""Sync policies (issue 6): validate, preview by dry run, and save a connection's policies.

Filters and field rules change what a sync writes to many users at once, so they are an
admin's explicit choice, previewed before they are saved: `preview_policies` starts a dry run of
the proposed policies (its change log shows exactly what they would change), and
`update_policies` saves them only with a succeeded preview of exactly the same policies.
Lifecycle and review settings need no preview.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from models import ConnectionStatus, LifecyclePolicy, RunStatus, SyncRun, TenantConnection
from services.caller import Caller
from services.connections import get_connection
from services.errors import (
    InvalidInput,
    NotFound,
    PreviewRequired,
    RunInProgress,
    refuse_nul,
)
from services.runtime import Runtime
from services.sync.config import DEFAULT_FIELD_RULES, FIELD_RULES, Policies
from services.sync.fields import glob_regex, normalize_domain
from services.sync.runs import start_sync
from services.wizard import saved_policies

# Entries per list (domains, patterns): enough for any real tenant, small enough to check fast.
MAX_ENTRIES = 100
MAX_PATTERN = 256
MAX_DOMAIN = 253
# Labels of letters, digits and inner hyphens (IDNs in their Unicode form too), at least two.
_DOMAIN = re.compile(r"(?:[^\W_](?:[\w-]{0,61}[^\W_])?\.)+[^\W_](?:[\w-]{0,61}[^\W_])?")
# The API's names of the fields (camelCase) and the engine's.
FIELD_NAMES: dict[str, str] = {
    "firstName": "first_name",
    "lastName": "last_name",
    "jobTitle": "job_title",
    "phone": "phone",
    "mobile": "mobile",
    "department": "department",
    "office": "office",
    "displayName": "display_name",
    "managerEmail": "manager_email",
}
API_NAMES = {engine: api for api, engine in FIELD_NAMES.items()}


@dataclass(frozen=True, slots=True)
class PolicyChanges:
    """What an admin asks to change; None keeps the saved value. `field_rules` names only the
    fields to change, by their API names (firstName, ..., managerEmail)."""

    lifecycle: str | None = None
    exempt_shared_mailboxes: bool | None = None
    review_conflicts: bool | None = None
    field_rules: Sequence[tuple[str, str]] | None = None
    enabled_only: bool | None = None
    licensed_only: bool | None = None
    include_domains: Sequence[str] | None = None
    exclude_domains: Sequence[str] | None = None
    exclusion_patterns: Sequence[str] | None = None


def _domains(field: str, values: Sequence[str]) -> tuple[str, ...]:
    if len(values) > MAX_ENTRIES:
        raise InvalidInput(field, f"at most {MAX_ENTRIES} domains")
    out: dict[str, None] = {}
    for value in values:
        refuse_nul(field, value)
        domain = normalize_domain(value)
        if not domain.isascii():
            domain = unicodedata.normalize("NFC", domain)
        if not domain or len(domain) > MAX_DOMAIN or not _DOMAIN.fullmatch(domain):
            raise InvalidInput(field, f"{value[:100]!r} is not a domain (e.g. contoso.com)")
        out[domain] = None
    return tuple(out)


def _patterns(values: Sequence[str]) -> tuple[str, ...]:
    field = "exclusionPatterns"
    if len(values) > MAX_ENTRIES:
        raise InvalidInput(field, f"at most {MAX_ENTRIES} patterns")
    out: dict[str, None] = {}
    for value in values:
        refuse_nul(field, value)
        pattern = value.strip()
        if not pattern:
            raise InvalidInput(field, "a pattern cannot be empty")
        if len(pattern) > MAX_PATTERN:
            raise InvalidInput(field, f"a pattern is at most {MAX_PATTERN} characters")
        if not pattern.isprintable():
            raise InvalidInput(field, "a pattern cannot contain control characters")
        if not pattern.strip("*?"):
            raise InvalidInput(field, f"{pattern!r} would exclude every user")
        out[pattern] = None
    try:
        glob_regex(out)
    except re.error as exc:  # fnmatch escapes everything it cannot translate; a guard only
        raise InvalidInput(field, f"not a valid pattern: {exc}") from None
    return tuple(out)


def _rules(saved: Mapping[str, str], changes: Sequence[tuple[str, str]]) -> dict[str, str]:
    if len(changes) > len(FIELD_NAMES):
        raise InvalidInput("fieldRules", f"at most {len(FIELD_NAMES)} field rules")
    rules = dict(saved)
    named: set[str] = set()
    for api_name, rule in changes:
        name = FIELD_NAMES.get(api_name)
        if name is None:
            known = ", ".join(FIELD_NAMES)
            raise InvalidInput("fieldRules", f"unknown field {api_name[:64]!r}; fields: {known}")
        if name in named:
            raise InvalidInput("fieldRules", f"{api_name} is given twice")
        if rule not in FIELD_RULES:
            raise InvalidInput("fieldRules", f"unknown rule {rule[:32]!r} for {api_name}")
        named.add(name)
        rules[name] = rule
    return rules


def merge(saved: Policies, changes: PolicyChanges) -> Policies:
    """The policies after `changes`, validated; raises InvalidInput naming the first bad field."""
    new = saved
    if changes.lifecycle is not None:
        if changes.lifecycle not in LifecyclePolicy.__members__:
            raise InvalidInput("lifecycle", "KEEP or MARK_INACTIVE")
        new = replace(new, lifecycle=changes.lifecycle)  # type: ignore[arg-type]
    if changes.exempt_shared_mailboxes is not None:
        new = replace(new, exempt_shared_mailboxes=changes.exempt_shared_mailboxes)
    if changes.review_conflicts is not None:
        new = replace(new, review_conflicts=changes.review_conflicts)
    if changes.field_rules is not None:
        rules = _rules(new.field_rules, changes.field_rules)
        new = replace(new, field_rules=rules)  # type: ignore[arg-type]
    if changes.enabled_only is not None:
        new = replace(new, enabled_only=changes.enabled_only)
    if changes.licensed_only is not None:
        new = replace(new, licensed_only=changes.licensed_only)
    if changes.include_domains is not None:
        new = replace(new, include_domains=_domains("includeDomains", changes.include_domains))
    if changes.exclude_domains is not None:
        new = replace(new, exclude_domains=_domains("excludeDomains", changes.exclude_domains))
    both = set(new.include_domains) & set(new.exclude_domains)
    if both:
        raise InvalidInput("excludeDomains", f"{sorted(both)[0]!r} is both included and excluded")
    if changes.exclusion_patterns is not None:
        new = replace(new, exclusion_patterns=_patterns(changes.exclusion_patterns))
    return new


def needs_preview(saved: Policies, new: Policies) -> bool:
    """Filters and field rules change what a sync writes: they are saved only after a preview."""
    return _previewed(saved) != _previewed(new)


def _previewed(p: Policies) -> tuple[object, ...]:
    return (
        dict(p.field_rules),
        p.enabled_only,
        p.licensed_only,
        p.include_domains,
        p.exclude_domains,
        p.exclusion_patterns,
    )


async def _usable(caller: Caller, connection_id: int) -> TenantConnection:
    caller.require_admin()
    conn = await get_connection(caller, connection_id)
    if conn.status is ConnectionStatus.DISCONNECTED:
        raise InvalidInput(
            "connectionId", "this connection is disconnected; connect it again first"
        )
    return conn


def current_policies(conn: TenantConnection) -> Policies:
    """The saved policies; the SPEC defaults for a row that no longer validates."""
    try:
        return saved_policies(conn)
    except ValueError:  # a corrupt row: start again from the SPEC defaults
        return Policies()


async def preview_policies(
    rt: Runtime, caller: Caller, connection_id: int, changes: PolicyChanges
) -> SyncRun:
    """Start a dry run (R7) of the saved configuration with the proposed policies; its change
    log shows what they would change. Nothing is saved. Raises PermissionDenied, NotFound,
    InvalidInput, ConnectionNotReady, RunInProgress."""
    conn = await _usable(caller, connection_id)
    proposed = merge(current_policies(conn), changes)
    run, created = await start_sync(
        rt, caller, conn, dry_run=True, proposed_policies=proposed.to_json()
    )
    if not created:
        raise RunInProgress(run.id)
    return run


async def update_policies(
    caller: Caller, connection_id: int, changes: PolicyChanges, preview_run_id: int | None
) -> TenantConnection:
    """Save the connection's policies; all or nothing.

    When filters or field rules change, `preview_run_id` must name a SUCCEEDED preview
    (`preview_policies`) of this connection, of exactly these policies, started after the import
    configuration was last saved; otherwise PreviewRequired. A change of filters or field rules
    bumps config_version, so the next run is a full round (R9): a delta round only sees users
    that changed in Entra; so does a change of the lifecycle or review settings. Raises PermissionDenied, NotFound, InvalidInput, PreviewRequired.
    """
    conn = await _usable(caller, connection_id)
    saved = current_policies(conn)
    new = merge(saved, changes)
    previewed = needs_preview(saved, new)
    if previewed:
        await _check_preview(caller, conn, new, preview_run_id)
    conn.lifecycle_policy = LifecyclePolicy(new.lifecycle)
    conn.lifecycle_exempt_shared = new.exempt_shared_mailboxes
    conn.review_conflicts = new.review_conflicts
    conn.field_rules = {
        name: rule for name, rule in new.field_rules.items() if DEFAULT_FIELD_RULES[name] != rule
    }
    conn.filter_enabled_only = new.enabled_only
    conn.filter_licensed_only = new.licensed_only
    conn.include_domains = list(new.include_domains)
    conn.exclude_domains = list(new.exclude_domains)
    conn.exclusion_patterns = list(new.exclusion_patterns)
    fields = [
        "lifecycle_policy",
        "lifecycle_exempt_shared",
        "review_conflicts",
        "field_rules",
        "filter_enabled_only",
        "filter_licensed_only",
        "include_domains",
        "exclude_domains",
        "exclusion_patterns",
        "updated_at",
    ]
    # The lifecycle and review settings reach users Entra did not change too: the next run is a
    # full round as well (the mass-change guard still stops a mass deactivation).
    reaches_all = (saved.lifecycle, saved.exempt_shared_mailboxes, saved.review_conflicts) != (
        new.lifecycle,
        new.exempt_shared_mailboxes,
        new.review_conflicts,
    )
    if previewed or reaches_all:
        conn.config_version += 1
        fields.append("config_version")
    await conn.save(update_fields=fields)
    return conn


async def _check_preview(
    caller: Caller, conn: TenantConnection, new: Policies, preview_run_id: int | None
) -> None:
    if preview_run_id is None:
        raise PreviewRequired(
            "filters and field rules are saved after a preview: run previewSyncPolicies with "
            "these policies and pass its run as previewRunId"
        )
    run = await SyncRun.get_or_none(id=preview_run_id, account_id=caller.account_id)
    if run is None:
        raise NotFound("sync run")
    if run.connection_id != conn.id or not run.dry_run or run.proposed_policies is None:
        raise PreviewRequired("previewRunId is not a preview of this connection's policies")
    if run.status is not RunStatus.SUCCEEDED:
        raise PreviewRequired(
            f"the preview is {run.status.value}; only a SUCCEEDED preview can be saved"
        )
    try:
        previewed = Policies.from_json(run.proposed_policies)
    except ValueError:
        previewed = None
    if previewed is None or previewed.to_json() != new.to_json():
        raise PreviewRequired(
            "the preview was of other policies; preview these policies, then save them"
        )
    if conn.configured_at is not None and run.created_at < conn.configured_at:
        raise PreviewRequired(
            "the import configuration changed since the preview; preview the policies again"
        )
