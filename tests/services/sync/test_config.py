"""SyncConfig validation and the W2/W3 value key."""

from __future__ import annotations

import pytest

from services.sync import MAX_SELECTED_GROUPS, UNDEFINED, SyncConfig, classification_key

from .data import TENANT, account_config, site_config


def test_w2_blank_and_missing_values_share_the_undefined_key() -> None:
    assert classification_key(None) == classification_key("") == classification_key("  \t")
    assert classification_key(None) == classification_key(UNDEFINED)


def test_w3_values_match_trimmed_and_case_insensitive() -> None:
    assert classification_key("  Paris ") == classification_key("PARIS") == "paris"


def test_w3_values_match_across_unicode_normal_forms() -> None:
    composed, decomposed = "Z\u00fcrich", "Zu\u0308rich"
    assert classification_key(composed) == classification_key(decomposed)


def test_w3_inner_whitespace_is_significant() -> None:
    assert classification_key("New York") != classification_key("New  York")


def test_w3_mappings_are_indexed_by_key() -> None:
    config = account_config(mappings={" Paris ": 1, "undefined": 3})
    assert config.routes == {"paris": 1, "undefined": 3}


def test_w3_equal_values_mapped_to_different_sites_are_refused() -> None:
    with pytest.raises(ValueError, match="different sites"):
        account_config(mappings={"Paris": 1, "PARIS": 2})


def test_w3_equal_values_mapped_to_one_site_are_accepted() -> None:
    assert account_config(mappings={"Paris": 1, "paris": 1}).routes == {"paris": 1}


def test_w6_site_scope_needs_a_site() -> None:
    with pytest.raises(ValueError, match="W6"):
        SyncConfig(scope="SITE", tenant_id=TENANT)


def test_w1_account_scope_needs_a_classification() -> None:
    with pytest.raises(ValueError, match="W1"):
        SyncConfig(scope="ACCOUNT", tenant_id=TENANT)


def test_w5_at_least_one_user_type() -> None:
    with pytest.raises(ValueError, match="W5"):
        site_config(user_types=frozenset())


def test_w4_selected_filter_needs_groups() -> None:
    with pytest.raises(ValueError, match="W4"):
        site_config(group_filter="SELECTED")


def test_w4_at_most_999_selected_groups() -> None:
    groups = tuple(f"g{i}" for i in range(MAX_SELECTED_GROUPS))
    assert (
        len(site_config(group_filter="SELECTED", selected_group_ids=groups).selected_group_ids)
        == 999
    )
    with pytest.raises(ValueError, match="999"):
        site_config(group_filter="SELECTED", selected_group_ids=(*groups, "one-more"))


def test_tenant_is_required() -> None:
    with pytest.raises(ValueError, match="tenant_id"):
        site_config(tenant_id="")


def test_config_is_frozen() -> None:
    config = site_config()
    with pytest.raises(AttributeError):
        config.site_id = 2  # type: ignore[misc]
