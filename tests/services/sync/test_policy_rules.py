"""Issue 6's richer filters and per-field rules as pure rules: filter_reason and plan_user."""

from __future__ import annotations

from typing import Any

import pytest

from entra.types import NO_MANAGER, EntraUser, ManagerRef
from services.sync import DecisionKind, ScopeIndex, SkipReason, plan_user
from services.sync.batch import counter_for
from services.sync.config import DEFAULT_FIELD_RULES, DEFAULT_POLICIES, Policies, SyncConfig
from services.sync.fields import NO_EXTRA, Extra, compile_field_rules, compile_filters
from services.sync.planner import stored_user_after
from services.sync.rules import filter_reason, manager_address, policy_filter_reason

from .data import entra_user, linked, site_config


def with_policies(**values: Any) -> SyncConfig:
    return site_config(policies=Policies(**values))


def plan(user: EntraUser, config: SyncConfig, *stored: Any) -> Any:
    return plan_user(user, config, ScopeIndex.from_users(stored), None, set())


# --- defaults ------------------------------------------------------------------------------


def test_default_policies_compile_to_no_filter_and_the_s4_rules() -> None:
    config = site_config()
    assert config.policies == DEFAULT_POLICIES and not DEFAULT_POLICIES.filters_on
    assert config.user_filters is None
    plan_ = config.field_plan
    assert plan_.keep_when_blank == {"phone", "mobile"}
    assert plan_.fixed == frozenset() and plan_.not_created == () and plan_.extras == ()
    # Explicit default rules are the defaults: same plan, no optional field read.
    explicit = with_policies(field_rules=dict(DEFAULT_FIELD_RULES))
    assert explicit.field_plan == plan_ and explicit.user_filters is None


def test_default_policies_import_disabled_unlicensed_and_any_domain() -> None:
    user = entra_user(
        account_enabled=False,
        licensed=False,
        user_principal_name="svc-backup@other.example",
        mail="svc-backup@other.example",
    )
    assert filter_reason(user, site_config(), None) is None
    assert policy_filter_reason(user, site_config()) is None
    decision = plan(user, site_config())
    assert decision.kind is DecisionKind.CREATE and decision.extra is None
    assert set(decision.changes) == {
        "email",
        "first_name",
        "last_name",
        "job_title",
        "phone",
        "mobile",
    }


# --- filters -------------------------------------------------------------------------------


def test_enabled_only_skips_disabled_accounts_as_a_filter() -> None:
    config = with_policies(enabled_only=True)
    assert filter_reason(entra_user(account_enabled=False), config, None) is (
        SkipReason.FILTERED_DISABLED
    )
    assert filter_reason(entra_user(account_enabled=True), config, None) is None
    # Unknown (left out of a delta item) is not "false".
    assert filter_reason(entra_user(account_enabled=None), config, None) is None
    decision = plan(entra_user(account_enabled=False), config)
    assert decision.reason is SkipReason.FILTERED_DISABLED
    assert counter_for(decision) == "skipped_filter"


def test_licensed_only_skips_users_without_licenses_and_unknown_ones() -> None:
    config = with_policies(licensed_only=True)
    assert filter_reason(entra_user(licensed=True), config, None) is None
    for licensed in (False, None):
        reason = filter_reason(entra_user(licensed=licensed), config, None)
        assert reason is SkipReason.FILTERED_UNLICENSED


def test_include_domains_take_the_match_email_domain_case_insensitively() -> None:
    config = with_policies(include_domains=("contoso.com",))
    assert filter_reason(entra_user(user_principal_name="a@CONTOSO.com"), config, None) is None
    other = entra_user(user_principal_name="a@fabrikam.com", mail="a@contoso.com")
    assert filter_reason(other, config, None) is SkipReason.FILTERED_DOMAIN
    # MAIL matching reads the domain of mail instead.
    by_mail = site_config(
        match_attribute="MAIL", policies=Policies(include_domains=("contoso.com",))
    )
    assert filter_reason(other, by_mail, None) is None
    # A subdomain is another domain.
    sub = entra_user(user_principal_name="a@eu.contoso.com")
    assert filter_reason(sub, config, None) is SkipReason.FILTERED_DOMAIN
    # No email: left to the NO_EMAIL skip.
    assert filter_reason(entra_user(user_principal_name=None), config, None) is None


def test_exclude_domains_skip_matching_emails_and_normalise_the_entries() -> None:
    config = with_policies(exclude_domains=(" @Fabrikam.COM ",))
    assert config.user_filters is not None
    assert config.user_filters.exclude_domains == {"fabrikam.com"}
    assert filter_reason(entra_user(user_principal_name="x@fabrikam.com"), config, None) is (
        SkipReason.FILTERED_DOMAIN
    )
    assert filter_reason(entra_user(user_principal_name="x@contoso.com"), config, None) is None


def test_guest_domain_is_that_of_its_mail_in_upn_mode() -> None:
    config = with_policies(exclude_domains=("gmail.com",))
    guest = entra_user(
        user_type="Guest",
        user_principal_name="bob_gmail.com#EXT#@contoso.com",
        mail="bob@gmail.com",
    )
    assert filter_reason(guest, config, None) is SkipReason.FILTERED_DOMAIN


@pytest.mark.parametrize(
    ("values", "excluded"),
    [
        ({"user_principal_name": "svc-backup@contoso.com"}, True),
        ({"user_principal_name": "SVC-Backup@contoso.com"}, True),
        ({"mail": "room-paris@contoso.com"}, True),
        ({"display_name": "Meeting Room Oslo"}, True),
        ({"display_name": "Ada Lovelace"}, False),
        ({"user_principal_name": "service@contoso.com"}, False),
    ],
)
def test_exclusion_patterns_are_case_insensitive_globs_on_upn_mail_and_display_name(
    values: dict[str, Any], excluded: bool
) -> None:
    config = with_policies(exclusion_patterns=("svc-*", "room-*@contoso.com", "*meeting room*"))
    reason = filter_reason(entra_user(**values), config, None)
    assert reason is (SkipReason.FILTERED_PATTERN if excluded else None)


def test_opt_in_filters_come_after_w5_and_w4() -> None:
    config = site_config(user_types=frozenset({"MEMBER"}), policies=Policies(enabled_only=True))
    guest = entra_user(user_type="Guest", account_enabled=False)
    assert filter_reason(guest, config, None) is SkipReason.FILTERED_USER_TYPE
    grouped = site_config(
        group_filter="SELECTED", selected_group_ids=("g",), policies=Policies(enabled_only=True)
    )
    outsider = entra_user(account_enabled=False)
    assert filter_reason(outsider, grouped, frozenset()) is SkipReason.FILTERED_GROUP


def test_filtered_matched_user_is_left_untouched() -> None:
    user = entra_user(account_enabled=False, job_title="New title")
    stored = linked(user, user.user_principal_name or "", job_title="Old title")
    decision = plan(user, with_policies(enabled_only=True), stored)
    assert decision.kind is DecisionKind.SKIP and decision.reason is SkipReason.FILTERED_DISABLED
    assert decision.changes == {}


def test_compile_filters_is_none_when_everything_is_off() -> None:
    off = compile_filters(
        enabled_only=False,
        licensed_only=False,
        include_domains=(),
        exclude_domains=(" ",),
        exclusion_patterns=("  ",),
    )
    assert off is None


# --- field rules ---------------------------------------------------------------------------


def test_rules_plan_sets_fixed_and_kept_fields() -> None:
    rules = dict(DEFAULT_FIELD_RULES)
    rules.update(
        first_name="KEEP_WHEN_BLANK",
        job_title="CREATE_ONLY",
        phone="NOT_SYNCED",
        mobile="OVERWRITE",
        department="OVERWRITE",
        office="KEEP_WHEN_BLANK",
        display_name="CREATE_ONLY",
    )
    plan_ = compile_field_rules(rules)
    assert plan_.keep_when_blank == {"first_name"}
    assert plan_.fixed == {"job_title", "phone"}
    assert plan_.not_created == ("phone",)
    assert plan_.extras == ("department", "office", "display_name")


def test_create_only_and_not_synced_on_creation() -> None:
    config = with_policies(
        field_rules={"job_title": "CREATE_ONLY", "phone": "NOT_SYNCED", "department": "OVERWRITE"}
    )
    decision = plan(entra_user(department=" R&D "), config)
    assert decision.kind is DecisionKind.CREATE
    assert decision.fields is not None
    assert (decision.fields.job_title, decision.fields.phone) == ("Engineer", "")
    assert decision.extra == Extra("R&D", "", "", "")
    assert "phone" not in decision.changes and decision.changes["department"] == ("", "R&D")
    after = stored_user_after(decision, user_id=-1)
    assert after.department == "R&D" and after.phone == ""


def test_update_follows_each_rule() -> None:
    user = entra_user(
        given_name="",
        surname="King",
        job_title="Countess",
        business_phone="+44 1",
        mobile_phone="",
        department="",
        office_location="London",
        display_name="Augusta King",
    )
    config = with_policies(
        field_rules={
            "first_name": "KEEP_WHEN_BLANK",  # blank: kept
            "last_name": "OVERWRITE",  # changed
            "job_title": "CREATE_ONLY",  # never updated
            "phone": "NOT_SYNCED",  # never written
            "mobile": "OVERWRITE",  # blank overwrites
            "department": "KEEP_WHEN_BLANK",  # blank: kept
            "office": "OVERWRITE",
            "display_name": "CREATE_ONLY",
        }
    )
    stored = linked(
        user,
        user.user_principal_name or "",
        first_name="Ada",
        last_name="Lovelace",
        job_title="Engineer",
        phone="+1 555",
        mobile="+1 556",
        department="Maths",
        office="Paris",
        display_name="Ada Lovelace",
    )
    decision = plan(user, config, stored)
    assert decision.kind is DecisionKind.UPDATE
    assert dict(decision.changes) == {
        "last_name": ("Lovelace", "King"),
        "mobile": ("+1 556", ""),
        "office": ("Paris", "London"),
    }
    assert decision.extra == Extra("Maths", "London", "Ada Lovelace", "")
    assert decision.fields is not None and decision.fields.job_title == "Engineer"


def test_rules_changing_nothing_leave_the_user_unchanged() -> None:
    user = entra_user(job_title="Countess", department="R&D")
    config = with_policies(field_rules={"job_title": "CREATE_ONLY", "department": "OVERWRITE"})
    stored = linked(user, user.user_principal_name or "", job_title="Engineer", department="R&D")
    assert plan(user, config, stored).kind is DecisionKind.UNCHANGED


def test_optional_fields_are_cut_to_their_columns() -> None:
    config = with_policies(field_rules={"display_name": "OVERWRITE"})
    decision = plan(entra_user(display_name="x" * 300), config)
    assert decision.extra is not None and len(decision.extra.display_name) == 256
    assert [t.field for t in decision.trims] == ["display_name"]


BOSS = ManagerRef("boss-1", "Boss.Mail@contoso.com", "boss.upn@contoso.com")


def test_manager_email_is_the_managers_match_attribute_on_creation() -> None:
    config = with_policies(field_rules={"manager_email": "OVERWRITE"})
    assert config.field_plan.extras == ("manager_email",)
    decision = plan(entra_user(manager=BOSS), config)
    assert decision.extra is not None and decision.extra.manager_email == "boss.upn@contoso.com"
    assert decision.changes["manager_email"] == ("", "boss.upn@contoso.com")
    by_mail = site_config(
        match_attribute="MAIL", policies=Policies(field_rules={"manager_email": "OVERWRITE"})
    )
    decision = plan(entra_user(manager=BOSS), by_mail)
    assert decision.extra is not None and decision.extra.manager_email == "Boss.Mail@contoso.com"
    # A guest manager's #EXT# UPN is no address: its mail, as for the guest's own end user.
    guest = ManagerRef("g", "ann@fabrikam.com", "ann_fabrikam.com#EXT#@contoso.com")
    assert manager_address(guest, "UPN") == "ann@fabrikam.com"
    # An organizational contact has no UPN; an unusable address is no address.
    assert manager_address(ManagerRef("c", "c@partner.com", None), "UPN") == "c@partner.com"
    assert manager_address(ManagerRef("x", "not an address", None), "MAIL") == ""
    assert manager_address(NO_MANAGER, "UPN") == ""


def test_default_rules_never_read_the_manager() -> None:
    decision = plan(entra_user(manager=BOSS), site_config())
    assert decision.extra is None and "manager_email" not in decision.changes
    assert NO_EXTRA.manager_email == ""


@pytest.mark.parametrize(
    ("rule", "manager", "expected"),
    [
        ("OVERWRITE", BOSS, "boss.upn@contoso.com"),
        ("OVERWRITE", NO_MANAGER, ""),
        ("KEEP_WHEN_BLANK", BOSS, "boss.upn@contoso.com"),
        ("KEEP_WHEN_BLANK", NO_MANAGER, "old@contoso.com"),
        ("CREATE_ONLY", BOSS, "old@contoso.com"),
        # Not reported (a delta round where it did not change) or not resolved: kept.
        ("OVERWRITE", None, "old@contoso.com"),
        ("OVERWRITE", ManagerRef("boss-1", resolved=False), "old@contoso.com"),
    ],
)
def test_manager_email_rules_on_update(rule: str, manager: Any, expected: str) -> None:
    config = with_policies(field_rules={"manager_email": rule})
    user = entra_user(manager=manager)
    stored = linked(user, user.user_principal_name or "", manager_email="old@contoso.com")
    decision = plan(user, config, stored)
    if expected == "old@contoso.com":
        assert decision.kind is DecisionKind.UNCHANGED
    else:
        assert decision.kind is DecisionKind.UPDATE
        assert decision.changes == {"manager_email": ("old@contoso.com", expected)}
        assert stored_user_after(decision).manager_email == expected


def test_unknown_manager_on_creation_is_blank() -> None:
    config = with_policies(field_rules={"manager_email": "OVERWRITE"})
    decision = plan(entra_user(manager=ManagerRef("boss-1", resolved=False)), config)
    assert decision.extra is not None and decision.extra.manager_email == ""
    assert "manager_email" not in decision.changes


def test_unknown_field_or_rule_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown field"):
        Policies(field_rules={"nickname": "OVERWRITE"})
    with pytest.raises(ValueError, match="unknown field rule"):
        Policies(field_rules={"phone": "SOMETIMES"})  # type: ignore[dict-item]


def test_values_a_rule_does_not_write_report_no_trim() -> None:
    long_title = entra_user(job_title="t" * 250, business_phone="p" * 70)
    config = with_policies(field_rules={"job_title": "CREATE_ONLY", "phone": "NOT_SYNCED"})
    created = plan(long_title, config)
    assert [t.field for t in created.trims] == ["job_title"]  # written on creation, cut
    stored = linked(long_title, long_title.user_principal_name or "", job_title="Old")
    updated = plan(long_title, config, stored)
    assert updated.trims == () and "job_title" not in updated.changes


def test_optional_fields_are_the_last_stored_columns_so_core_rows_read_positionally() -> None:
    from dataclasses import fields as dataclass_fields

    from services.sync.fields import OPTIONAL_FIELDS
    from services.sync.snapshot import CORE_USER_COLUMNS, STORED_USER_COLUMNS, StoredUser

    names = tuple(f.name for f in dataclass_fields(StoredUser))
    assert names == STORED_USER_COLUMNS
    assert STORED_USER_COLUMNS == (*CORE_USER_COLUMNS, *OPTIONAL_FIELDS)
    row: list[Any] = list(range(len(CORE_USER_COLUMNS)))
    assert StoredUser(*row).extra() == NO_EXTRA  # a core row leaves them blank
