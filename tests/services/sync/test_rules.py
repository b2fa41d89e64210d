"""The pure rules one by one: emails (S2), filters (W4, W5), routing (W1-W3, W6), S4, S7, S11."""

from __future__ import annotations

import pytest

from models.end_user import EndUser
from services.sync import (
    Fields,
    Link,
    SkipReason,
    Trim,
    TrimReason,
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
from services.sync.rules import MAX_EMAIL, MAX_LENGTHS

from .data import TENANT, account_config, entra_user, site_config

# --- emails (S2, S11) ---------------------------------------------------------------------


def test_column_sizes_match_the_end_user_model() -> None:
    model_fields = EndUser._meta.fields_map
    for name, limit in MAX_LENGTHS.items():
        assert model_fields[name].max_length == limit  # type: ignore[attr-defined]
    assert model_fields["email"].max_length == MAX_EMAIL  # type: ignore[attr-defined]
    assert model_fields["email_key"].max_length == MAX_EMAIL  # type: ignore[attr-defined]


def test_s2_email_key_ignores_case_and_surrounding_space() -> None:
    assert email_key(" Ada.Lovelace@Contoso.COM ") == "ada.lovelace@contoso.com"


def test_s2_email_key_folds_beyond_lowercase() -> None:
    assert email_key("STRASSE@x.de") == email_key("straße@x.de")


def test_s11_email_key_ignores_unicode_normal_form() -> None:
    assert email_key("Jos\u00e9@x.es") == email_key("Jose\u0301@x.es")


def test_s2_normalize_email_keeps_case_and_drops_surrounding_space() -> None:
    assert normalize_email("  Ada@Contoso.com\n") == "Ada@Contoso.com"


def test_s11_normalize_email_composes_unicode() -> None:
    assert normalize_email("Jose\u0301@x.es") == "Jos\u00e9@x.es"


@pytest.mark.parametrize(
    "value",
    [
        None,
        "",
        "   ",
        "no-at-sign",
        "two@at@signs.com",
        "@contoso.com",
        "ada@",
        "ada lovelace@contoso.com",
        "ada\u00a0lovelace@contoso.com",
        "ada\t@contoso.com",
        "ada\x00@contoso.com",
        "ada\u200b@contoso.com",
        "a" * 310 + "@contoso.com",
    ],
)
def test_s11_obviously_invalid_emails_are_rejected(value: str | None) -> None:
    assert normalize_email(value) is None


def test_s11_email_of_exactly_320_characters_is_accepted() -> None:
    email = "a" * 308 + "@contoso.com"
    assert len(email) == 320
    assert normalize_email(email) == email


def test_s11_email_whose_key_outgrows_the_column_is_rejected() -> None:
    email = "\u00df" * 300 + "@x.de"  # casefold turns each ß into "ss"
    assert len(email) <= 320
    assert normalize_email(email) is None


def test_s2_upn_mode_uses_the_user_principal_name() -> None:
    user = entra_user(user_principal_name="ada@contoso.com", mail="ada.l@contoso.com")
    assert entra_email(user, "UPN") == "ada@contoso.com"


def test_s2_mail_mode_uses_mail() -> None:
    user = entra_user(user_principal_name="ada@contoso.com", mail="ada.l@contoso.com")
    assert entra_email(user, "MAIL") == "ada.l@contoso.com"


def test_s2_guest_ext_upn_falls_back_to_mail() -> None:
    user = entra_user(
        user_principal_name="alice_fabrikam.com#EXT#@contoso.onmicrosoft.com",
        mail="alice@fabrikam.com",
        user_type="Guest",
    )
    assert entra_email(user, "UPN") == "alice@fabrikam.com"


def test_s2_ext_marker_is_recognised_in_any_case() -> None:
    user = entra_user(user_principal_name="a_f.com#ext#@c.onmicrosoft.com", mail="a@f.com")
    assert entra_email(user, "UPN") == "a@f.com"


def test_s2_guest_ext_upn_without_mail_has_no_email() -> None:
    user = entra_user(user_principal_name="a_f.com#EXT#@c.onmicrosoft.com", mail=None)
    assert entra_email(user, "UPN") is None


@pytest.mark.parametrize("mail", [None, "", "  "])
def test_s2_missing_or_blank_mail_is_no_email(mail: str | None) -> None:
    assert entra_email(entra_user(mail=mail), "MAIL") is None


# --- filters (W4, W5) ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Member", "MEMBER"),
        ("Guest", "GUEST"),
        ("guest", "GUEST"),
        (None, "MEMBER"),
        ("", "MEMBER"),
    ],
)
def test_w5_user_types(raw: str | None, expected: str) -> None:
    assert user_type_of(entra_user(user_type=raw)) == expected


def test_w5_undocumented_user_type_is_never_imported() -> None:
    user = entra_user(user_type="Viral")
    assert user_type_of(user) is None
    assert filter_reason(user, site_config(), None) is SkipReason.FILTERED_USER_TYPE


def test_w5_guests_filtered_when_only_members_are_imported() -> None:
    config = site_config(user_types=frozenset({"MEMBER"}))
    assert (
        filter_reason(entra_user(user_type="Guest"), config, None) is SkipReason.FILTERED_USER_TYPE
    )
    assert filter_reason(entra_user(user_type="Member"), config, None) is None


def test_w5_missing_user_type_counts_as_member() -> None:
    config = site_config(user_types=frozenset({"GUEST"}))
    assert filter_reason(entra_user(user_type=None), config, None) is SkipReason.FILTERED_USER_TYPE


def test_w4_no_group_filter_ignores_membership() -> None:
    assert filter_reason(entra_user(), site_config(), frozenset()) is None
    assert filter_reason(entra_user(), site_config(), None) is None


@pytest.mark.parametrize("group_filter", ["ALL_GROUPS", "SELECTED"])
def test_w4_group_filter_keeps_only_members(group_filter: str) -> None:
    config = site_config(group_filter=group_filter, selected_group_ids=("g1",))
    member, outsider = entra_user(), entra_user()
    members = frozenset({member.id})
    assert filter_reason(member, config, members) is None
    assert filter_reason(outsider, config, members) is SkipReason.FILTERED_GROUP


def test_w4_group_filter_without_member_set_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="member id set"):
        filter_reason(entra_user(), site_config(group_filter="ALL_GROUPS"), None)


def test_w5_user_type_is_reported_before_group() -> None:
    config = site_config(group_filter="ALL_GROUPS", user_types=frozenset({"MEMBER"}))
    reason = filter_reason(entra_user(user_type="Guest"), config, frozenset())
    assert reason is SkipReason.FILTERED_USER_TYPE


def test_s8_disabled_accounts_pass_the_filters() -> None:
    assert filter_reason(entra_user(account_enabled=False), site_config(), None) is None


# --- routing (W1-W3, W6) ------------------------------------------------------------------


def test_w6_site_scope_routes_everyone_to_its_site() -> None:
    config = site_config(site_id=42)
    assert route(entra_user(office_location="Nowhere"), config) == 42
    assert route(entra_user(office_location=None), config) == 42


def test_w1_office_classification_routes_by_office_location() -> None:
    user = entra_user(office_location="Lyon", department="Paris")
    assert route(user, account_config()) == 2


def test_w1_department_classification_routes_by_department() -> None:
    user = entra_user(office_location="Lyon", department="Paris")
    assert route(user, account_config(classification="DEPARTMENT")) == 1


@pytest.mark.parametrize("office", [None, "", "   "])
def test_w2_blank_office_routes_as_undefined(office: str | None) -> None:
    assert route(entra_user(office_location=office), account_config()) == 3


def test_w3_unmapped_value_is_not_imported() -> None:
    assert route(entra_user(office_location="Berlin"), account_config()) is SkipReason.UNMAPPED


def test_w3_unmapped_undefined_is_not_imported() -> None:
    config = account_config(mappings={"Paris": 1})
    assert route(entra_user(office_location=None), config) is SkipReason.UNMAPPED


def test_w3_values_route_case_insensitively_after_trimming() -> None:
    assert route(entra_user(office_location="  pARIS "), account_config()) == 1


# --- sanitize (S11) -----------------------------------------------------------------------


def test_s11_clean_values_pass_unchanged() -> None:
    fields, trims = sanitize(entra_user())
    assert fields == Fields("Ada", "Lovelace", "Engineer", "+1 555 0100", "+1 555 0199")
    assert trims == ()


def test_s8_missing_names_stay_blank() -> None:
    mailbox = entra_user(given_name=None, surname=None, display_name="Support", job_title=None)
    fields, trims = sanitize(mailbox)
    assert (fields.first_name, fields.last_name, fields.job_title) == ("", "", "")
    assert trims == ()


def test_s11_surrounding_whitespace_is_stripped_silently() -> None:
    fields, trims = sanitize(entra_user(given_name="  Ada ", surname="\u00a0Lovelace"))
    assert (fields.first_name, fields.last_name) == ("Ada", "Lovelace")
    assert trims == ()


def test_s11_unicode_is_nfc_normalised_silently() -> None:
    fields, trims = sanitize(entra_user(given_name="Jose\u0301"))
    assert fields.first_name == "Jos\u00e9"
    assert trims == ()


def test_s11_control_characters_are_removed_and_recorded() -> None:
    raw = "Chief\x00 Engineer\x07"
    fields, trims = sanitize(entra_user(job_title=raw))
    assert fields.job_title == "Chief Engineer"
    assert trims == (Trim("job_title", TrimReason.CONTROL_CHARACTERS, len(raw)),)


def test_s11_line_breaks_become_spaces() -> None:
    fields, _ = sanitize(entra_user(job_title="Head of\nSales\r\nEMEA"))
    assert fields.job_title == "Head of Sales  EMEA"


def test_s11_lone_surrogates_are_removed() -> None:
    fields, trims = sanitize(entra_user(surname="Love\ud800lace"))
    assert fields.last_name == "Lovelace"
    assert trims[0].reason is TrimReason.CONTROL_CHARACTERS
    fields.last_name.encode()  # storable as UTF-8


def test_s11_format_characters_such_as_zero_width_joiners_are_kept() -> None:
    name = "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645"  # ZWNJ is meaningful in Persian
    fields, trims = sanitize(entra_user(given_name=name))
    assert fields.first_name == name
    assert trims == ()


@pytest.mark.parametrize(
    ("attribute", "field", "limit"),
    [
        ("given_name", "first_name", 100),
        ("surname", "last_name", 100),
        ("job_title", "job_title", 200),
        ("business_phone", "phone", 64),
        ("mobile_phone", "mobile", 64),
    ],
)
def test_s11_over_long_values_are_cut_to_the_column_and_recorded(
    attribute: str, field: str, limit: int
) -> None:
    fields, trims = sanitize(entra_user(**{attribute: "x" * (limit + 5)}))
    assert getattr(fields, field) == "x" * limit
    assert trims == (Trim(field, TrimReason.TRUNCATED, limit + 5),)


def test_s11_value_of_exactly_the_column_size_is_kept() -> None:
    fields, trims = sanitize(entra_user(given_name="y" * 100))
    assert fields.first_name == "y" * 100
    assert trims == ()


def test_s11_cut_does_not_leave_trailing_space() -> None:
    fields, _ = sanitize(entra_user(given_name="a" * 99 + " tail"))
    assert fields.first_name == "a" * 99


def test_s11_long_value_of_spaces_around_fits_without_trim() -> None:
    fields, trims = sanitize(entra_user(given_name=" " * 200 + "Ada"))
    assert fields.first_name == "Ada"
    assert trims == ()


def test_s11_sanitize_is_stable_on_its_own_output() -> None:
    user = entra_user(
        given_name="x\x01" * 80, job_title="Jose\u0301 \ud800", surname=" " + "z" * 120
    )
    fields, _ = sanitize(user)
    again, trims = sanitize(
        entra_user(
            given_name=fields.first_name, surname=fields.last_name, job_title=fields.job_title
        )
    )
    assert (again.first_name, again.last_name, again.job_title) == fields[:3]
    assert trims == ()


# --- S4, S7 and the silent metadata -------------------------------------------------------

STORED = Fields("Ada", "Lovelace", "Engineer", "+1 555 0100", "+1 555 0199")


def test_s4_identical_fields_change_nothing() -> None:
    assert apply_s4(STORED, STORED) == {}


def test_s4_entra_values_overwrite_product_values() -> None:
    incoming = Fields("Augusta", "King", "Countess", "+44 1", "+44 2")
    assert apply_s4(STORED, incoming) == {
        "first_name": ("Ada", "Augusta"),
        "last_name": ("Lovelace", "King"),
        "job_title": ("Engineer", "Countess"),
        "phone": ("+1 555 0100", "+44 1"),
        "mobile": ("+1 555 0199", "+44 2"),
    }


def test_s4_blank_names_and_job_title_in_entra_do_overwrite() -> None:
    incoming = STORED._replace(first_name="", last_name="", job_title="")
    assert apply_s4(STORED, incoming) == {
        "first_name": ("Ada", ""),
        "last_name": ("Lovelace", ""),
        "job_title": ("Engineer", ""),
    }


def test_s4_empty_phone_never_erases_existing() -> None:
    assert apply_s4(STORED, STORED._replace(phone="")) == {}


def test_s4_empty_mobile_never_erases_existing() -> None:
    assert apply_s4(STORED, STORED._replace(mobile="")) == {}


def test_s4_phone_fills_an_empty_product_value() -> None:
    assert apply_s4(STORED._replace(phone=""), STORED) == {"phone": ("", "+1 555 0100")}


def test_s6_product_edits_to_synced_fields_are_overwritten() -> None:
    edited = STORED._replace(job_title="Edited in the product")
    assert apply_s4(edited, STORED) == {"job_title": ("Edited in the product", "Engineer")}


def test_s7_entra_rename_wins() -> None:
    assert apply_s7_email("ada@old.com", "ada@old.com", "ada@new.com") == "ada@new.com"


def test_s7_entra_case_only_rename_wins() -> None:
    assert apply_s7_email("ada@x.com", "ada@x.com", "Ada@X.com") == "Ada@X.com"


def test_s7_product_case_edit_survives_when_entra_did_not_change() -> None:
    assert apply_s7_email("ADA@x.com", "ada@x.com", "ada@x.com") == "ADA@x.com"


def test_link_metadata_unchanged_is_none() -> None:
    link = Link("obj", TENANT, "ada@x.com", "Member", True)
    assert apply_link(link, link) is None


def test_link_metadata_change_returns_the_new_link() -> None:
    old = Link("obj", TENANT, "ada@x.com", "Member", True)
    new = old._replace(account_enabled=False)
    assert apply_link(old, new) == new
    assert apply_link(None, new) == new
