"""plan_user and match on plain data: one scenario per rule (S2-S11, W3-W6)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from entra.types import EntraUser
from services.sync import (
    Decision,
    DecisionKind,
    Fields,
    Link,
    ScopeIndex,
    SkipReason,
    StoredUser,
    SyncConfig,
    Trim,
    TrimReason,
    match,
    plan_user,
    stored_user_after,
)

from .data import (
    OTHER_TENANT,
    SITE,
    TENANT,
    account_config,
    entra_user,
    linked,
    plan_all,
    site_config,
    stored,
)

CREATE, UPDATE, UNCHANGED, SKIP = (
    DecisionKind.CREATE,
    DecisionKind.UPDATE,
    DecisionKind.UNCHANGED,
    DecisionKind.SKIP,
)


def plan(
    user: EntraUser,
    *stored_users: StoredUser,
    config: SyncConfig | None = None,
    groups: frozenset[str] | None = None,
) -> Decision:
    index = ScopeIndex.from_users(stored_users)
    return plan_user(user, config or site_config(), index, groups, set())


# --- S3: creation ---------------------------------------------------------------------------


def test_s3_unmatched_user_is_created_in_the_connection_site() -> None:
    user = entra_user(user_principal_name="Ada@Contoso.com")
    decision = plan(user)
    assert decision.kind is CREATE
    assert decision.site_id == SITE
    assert decision.email == "Ada@Contoso.com"
    assert decision.email_key == "ada@contoso.com"
    assert decision.fields == Fields("Ada", "Lovelace", "Engineer", "+1 555 0100", "+1 555 0199")
    assert decision.link == Link(user.id, TENANT, "Ada@Contoso.com", "Member", True)
    assert decision.existing_id is None and decision.reason is None


def test_s3_created_user_gets_source_entra() -> None:
    created = stored_user_after(plan(entra_user()), user_id=5)
    assert created.source == "ENTRA"
    assert created.id == 5


def test_r8_creation_lists_every_non_blank_value() -> None:
    decision = plan(entra_user(user_principal_name="a@x.com", job_title=None, mobile_phone=""))
    assert decision.changes == {
        "email": ("", "a@x.com"),
        "first_name": ("", "Ada"),
        "last_name": ("", "Lovelace"),
        "phone": ("", "+1 555 0100"),
    }


def test_w3_user_is_created_in_the_site_its_office_maps_to() -> None:
    decision = plan(entra_user(office_location="Lyon"), config=account_config())
    assert (decision.kind, decision.site_id) == (CREATE, 2)


def test_w2_user_without_office_is_created_in_the_undefined_site() -> None:
    decision = plan(entra_user(office_location=None), config=account_config())
    assert (decision.kind, decision.site_id) == (CREATE, 3)


# --- S2: matching by email ------------------------------------------------------------------


def test_s2_existing_user_matches_case_insensitively() -> None:
    existing = stored("ADA@contoso.com", id=7)
    decision = plan(entra_user(user_principal_name="ada@Contoso.com"), existing)
    assert (decision.kind, decision.existing_id) == (UPDATE, 7)


def test_s2_matched_manual_user_is_linked_and_marked_as_from_entra() -> None:
    existing = stored("ada@contoso.com", id=7, first_name="Ada", last_name="Lovelace")
    user = entra_user(user_principal_name="ada@contoso.com", job_title="Countess")
    decision = plan(user, existing)
    assert decision.changes == {
        "job_title": ("", "Countess"),
        "phone": ("", "+1 555 0100"),
        "mobile": ("", "+1 555 0199"),
        "source": ("MANUAL", "ENTRA"),
    }
    assert decision.link == Link(user.id, TENANT, "ada@contoso.com", "Member", True)


def test_s2_matched_by_email_keeps_the_product_spelling_of_the_email() -> None:
    existing = stored("ADA@CONTOSO.COM", id=7)
    decision = plan(entra_user(user_principal_name="ada@contoso.com"), existing)
    assert decision.email == "ADA@CONTOSO.COM"
    assert "email" not in decision.changes


def test_s2_mail_attribute_mode_matches_by_mail() -> None:
    existing = stored("ada.lovelace@contoso.com", id=7)
    user = entra_user(user_principal_name="ada@contoso.com", mail="Ada.Lovelace@contoso.com")
    decision = plan(user, existing, config=site_config(match_attribute="MAIL"))
    assert (decision.kind, decision.existing_id) == (UPDATE, 7)


def test_s2_user_without_email_is_skipped_with_a_reason() -> None:
    decision = plan(entra_user(mail=None), config=site_config(match_attribute="MAIL"))
    assert (decision.kind, decision.reason) == (SKIP, SkipReason.NO_EMAIL)


def test_s11_user_with_invalid_email_is_skipped_with_a_reason() -> None:
    decision = plan(entra_user(user_principal_name="not an email"))
    assert (decision.kind, decision.reason) == (SKIP, SkipReason.INVALID_EMAIL)


def test_s2_guest_is_matched_by_its_mail_not_its_ext_upn() -> None:
    existing = stored("alice@fabrikam.com", id=3)
    guest = entra_user(
        user_principal_name="alice_fabrikam.com#EXT#@contoso.onmicrosoft.com",
        mail="alice@fabrikam.com",
        user_type="Guest",
    )
    assert plan(guest, existing).existing_id == 3


def test_s2_account_scope_matches_a_user_of_any_site() -> None:
    existing = stored("ada@contoso.com", id=7, site_id=2)
    user = entra_user(user_principal_name="ada@contoso.com", office_location="Paris")
    decision = plan(user, existing, config=account_config())
    assert (decision.kind, decision.existing_id, decision.site_id) == (UPDATE, 7, 2)


def test_s2_same_email_in_two_sites_resolves_to_the_routed_site() -> None:
    in_paris, in_lyon = stored("a@x.com", id=1, site_id=1), stored("a@x.com", id=2, site_id=2)
    user = entra_user(user_principal_name="a@x.com", office_location="Lyon")
    decision = plan(user, in_paris, in_lyon, config=account_config())
    assert decision.existing_id == 2


def test_s2_same_email_in_two_other_sites_is_an_ambiguous_match() -> None:
    in_paris, in_lyon = stored("a@x.com", id=1, site_id=1), stored("a@x.com", id=2, site_id=2)
    user = entra_user(user_principal_name="a@x.com", office_location=None)
    decision = plan(user, in_paris, in_lyon, config=account_config())
    assert (decision.kind, decision.reason) == (SKIP, SkipReason.AMBIGUOUS_MATCH)


# --- S4 / S6 through the planner ------------------------------------------------------------


def test_s4_matched_user_fields_are_overwritten_with_entra_values() -> None:
    user = entra_user(user_principal_name="a@x.com")
    existing = linked(user, "a@x.com", id=4, first_name="Old", job_title="Old title")
    decision = plan(user, existing)
    assert decision.kind is UPDATE
    assert decision.changes == {
        "first_name": ("Old", "Ada"),
        "job_title": ("Old title", "Engineer"),
    }
    assert decision.fields == Fields("Ada", "Lovelace", "Engineer", "+1 555 0100", "+1 555 0199")


def test_s4_empty_phone_never_erases_existing() -> None:
    user = entra_user(user_principal_name="a@x.com", business_phone=None, mobile_phone="")
    existing = linked(user, "a@x.com", phone="+33 1", mobile="+33 6")
    decision = plan(user, existing)
    assert decision.kind is UNCHANGED
    assert decision.reason is None


def test_s4_kept_phone_is_written_back_with_other_changes() -> None:
    user = entra_user(user_principal_name="a@x.com", business_phone=None, surname="King")
    existing = linked(user, "a@x.com", phone="+33 1", last_name="Lovelace")
    decision = plan(user, existing)
    assert decision.changes == {"last_name": ("Lovelace", "King")}
    assert decision.fields is not None and decision.fields.phone == "+33 1"


def test_s4_blank_job_title_in_entra_clears_the_product_value() -> None:
    user = entra_user(user_principal_name="a@x.com", job_title=None)
    decision = plan(user, linked(user, "a@x.com", job_title="Engineer"))
    assert decision.changes == {"job_title": ("Engineer", "")}


# --- S5 / W3-W5: excluded users are not touched ---------------------------------------------


def test_s5_filtered_user_is_skipped_even_when_it_matches() -> None:
    user = entra_user(user_principal_name="a@x.com", user_type="Guest")
    decision = plan(
        user, stored("a@x.com", id=4), config=site_config(user_types=frozenset({"MEMBER"}))
    )
    assert (decision.kind, decision.reason) == (SKIP, SkipReason.FILTERED_USER_TYPE)
    assert decision.fields is None and decision.link is None


def test_w4_user_outside_the_groups_is_skipped() -> None:
    config = site_config(group_filter="ALL_GROUPS")
    decision = plan(entra_user(), config=config, groups=frozenset({"someone-else"}))
    assert (decision.kind, decision.reason) == (SKIP, SkipReason.FILTERED_GROUP)


def test_w4_user_in_the_groups_is_imported() -> None:
    user = entra_user()
    config = site_config(group_filter="SELECTED", selected_group_ids=("g",))
    assert plan(user, config=config, groups=frozenset({user.id})).kind is CREATE


def test_w4_group_filter_without_member_set_raises() -> None:
    with pytest.raises(ValueError, match="member id set"):
        plan(entra_user(), config=site_config(group_filter="ALL_GROUPS"))


def test_w3_unmapped_user_is_skipped_even_when_it_matches() -> None:
    user = entra_user(user_principal_name="a@x.com", office_location="Berlin")
    existing = linked(user, "a@x.com", id=4, site_id=1, first_name="Old")
    decision = plan(user, existing, config=account_config())
    assert (decision.kind, decision.reason) == (SKIP, SkipReason.UNMAPPED)


def test_s5_filters_are_reported_before_email_problems() -> None:
    guest = entra_user(user_principal_name="x#EXT#@c.com", mail=None, user_type="Guest")
    decision = plan(guest, config=site_config(user_types=frozenset({"MEMBER"})))
    assert decision.reason is SkipReason.FILTERED_USER_TYPE


def test_s8_shared_mailbox_is_imported_like_other_users() -> None:
    mailbox = entra_user(
        user_principal_name="support@contoso.com",
        given_name=None,
        surname=None,
        display_name="Support",
        job_title=None,
        business_phone=None,
        mobile_phone=None,
        account_enabled=False,
    )
    decision = plan(mailbox)
    assert decision.kind is CREATE
    assert decision.fields == Fields("", "", "", "", "")
    assert decision.link is not None and decision.link.account_enabled is False


# --- S7: email changes ----------------------------------------------------------------------


def test_s7_email_changed_in_product_creates_new_user() -> None:
    user = entra_user(user_principal_name="ada@x.com")
    edited = replace(
        linked(user, "ada@x.com", id=4), email="ada.personal@y.com", email_key="ada.personal@y.com"
    )
    decision = plan(user, edited)
    assert decision.kind is CREATE
    assert decision.email == "ada@x.com"


def test_s7_email_changed_in_product_then_matching_another_entra_user_relinks_it() -> None:
    first = entra_user(user_principal_name="ada@x.com")
    edited = replace(linked(first, "ada@x.com", id=4), email="bob@x.com", email_key="bob@x.com")
    bob = entra_user(user_principal_name="Bob@x.com", given_name="Bob")
    decision = plan(bob, edited)
    assert (decision.kind, decision.existing_id) == (UPDATE, 4)
    assert decision.link is not None and decision.link.entra_object_id == bob.id


def test_s7_email_changed_in_entra_updates_linked_user() -> None:
    user = entra_user(user_principal_name="ada.king@x.com")
    existing = linked(user, "ada@x.com", id=4)
    decision = plan(user, existing)
    assert (decision.kind, decision.existing_id) == (UPDATE, 4)
    assert decision.changes == {"email": ("ada@x.com", "ada.king@x.com")}
    assert decision.email == "ada.king@x.com"
    assert decision.link is not None and decision.link.entra_last_email == "ada.king@x.com"


def test_s7_entra_rename_is_followed_even_when_the_old_email_is_gone() -> None:
    user = entra_user(user_principal_name="new@x.com")
    decision = plan(user, linked(user, "old@x.com", id=4), stored("other@x.com", id=5))
    assert decision.existing_id == 4


def test_s7_entra_case_only_rename_updates_the_email() -> None:
    user = entra_user(user_principal_name="Ada@X.com")
    decision = plan(user, linked(user, "ada@x.com", id=4))
    assert decision.changes == {"email": ("ada@x.com", "Ada@X.com")}


def test_s7_product_case_only_edit_keeps_the_link_and_the_edit() -> None:
    user = entra_user(user_principal_name="ada@x.com")
    existing = replace(linked(user, "ada@x.com", id=4), email="ADA@X.COM")
    decision = plan(user, existing)
    assert (decision.kind, decision.existing_id) == (UNCHANGED, 4)


def test_s7_entra_rename_onto_another_user_of_the_site_is_a_conflict() -> None:
    user = entra_user(user_principal_name="taken@x.com")
    decision = plan(user, linked(user, "ada@x.com", id=4), stored("TAKEN@x.com", id=5))
    assert (decision.kind, decision.reason, decision.existing_id) == (
        SKIP,
        SkipReason.EMAIL_CONFLICT,
        4,
    )


def test_s7_entra_rename_onto_an_email_of_another_site_is_allowed() -> None:
    user = entra_user(user_principal_name="taken@x.com", office_location="Paris")
    existing = linked(user, "ada@x.com", id=4, site_id=1)
    decision = plan(user, existing, stored("taken@x.com", id=5, site_id=2), config=account_config())
    assert (decision.kind, decision.existing_id) == (UPDATE, 4)


def test_s7_entra_rename_onto_an_email_linked_to_another_entra_user_is_a_duplicate() -> None:
    user, other = entra_user(user_principal_name="b@x.com"), entra_user()
    existing = linked(user, "a@x.com", id=4, site_id=1)
    owner = linked(other, "b@x.com", id=5, site_id=2)
    decision = plan(user, existing, owner, config=account_config())
    assert (decision.kind, decision.reason) == (SKIP, SkipReason.DUPLICATE_EMAIL)


# --- S9: sites are never re-assigned ---------------------------------------------------------


def test_s9_matched_user_keeps_its_site() -> None:
    user = entra_user(user_principal_name="a@x.com", office_location="Paris")
    decision = plan(user, stored("a@x.com", id=4, site_id=2), config=account_config())
    assert (decision.kind, decision.site_id) == (UPDATE, 2)
    assert "site_id" not in decision.changes


def test_s9_linked_user_whose_office_moved_stays_in_its_site() -> None:
    user = entra_user(user_principal_name="a@x.com", office_location="Lyon")
    decision = plan(user, linked(user, "a@x.com", id=4, site_id=1), config=account_config())
    assert (decision.kind, decision.site_id) == (UNCHANGED, 1)


# --- S10: nothing changes twice ----------------------------------------------------------------


def test_s10_synced_user_is_unchanged() -> None:
    user = entra_user(user_principal_name="a@x.com")
    decision = plan(user, linked(user, "a@x.com", id=4))
    assert (decision.kind, decision.existing_id, decision.email) == (UNCHANGED, 4, "a@x.com")
    assert decision.fields is None and decision.link is None and decision.changes == {}


def test_silent_metadata_change_is_an_update_without_visible_changes() -> None:
    user = entra_user(user_principal_name="a@x.com", account_enabled=False)
    decision = plan(user, linked(user, "a@x.com", id=4, account_enabled=True))
    assert decision.kind is UPDATE
    assert decision.changes == {}
    assert decision.link is not None and decision.link.account_enabled is False


def test_silent_user_type_change_is_an_update_without_visible_changes() -> None:
    user = entra_user(user_principal_name="a@x.com", user_type="Guest")
    decision = plan(user, linked(user, "a@x.com", id=4, user_type="Member"))
    assert (decision.kind, dict(decision.changes)) == (UPDATE, {})


# --- S11: duplicates and trims ----------------------------------------------------------------


def test_s11_duplicate_emails_differing_in_case_skip_one() -> None:
    first = entra_user(user_principal_name="Ada@x.com")
    second = entra_user(user_principal_name="ada@X.COM")
    decisions = plan_all([first, second], site_config(), ScopeIndex())
    assert [d.kind for d in decisions] == [CREATE, SKIP]
    assert decisions[1].reason is SkipReason.DUPLICATE_EMAIL


def test_s11_duplicate_winner_does_not_flip_when_page_order_changes() -> None:
    first = entra_user(user_principal_name="Ada@x.com")
    second = entra_user(user_principal_name="ada@X.COM")
    synced = linked(first, "Ada@x.com", id=4)
    decisions = plan_all([second, first], site_config(), ScopeIndex.from_users([synced]))
    assert [(d.kind, d.reason) for d in decisions] == [
        (SKIP, SkipReason.DUPLICATE_EMAIL),
        (UNCHANGED, None),
    ]


def test_s11_duplicate_matching_one_manual_user_updates_it_once() -> None:
    first = entra_user(user_principal_name="a@x.com")
    second = entra_user(user_principal_name="A@x.com")
    manual = stored("a@x.com", id=4)
    decisions = plan_all([first, second], site_config(), ScopeIndex.from_users([manual]))
    assert [(d.kind, d.existing_id) for d in decisions] == [(UPDATE, 4), (SKIP, 4)]


def test_s11_same_object_twice_in_one_run_is_planned_once() -> None:
    user = entra_user()
    decisions = plan_all([user, user], site_config(), ScopeIndex())
    assert [d.kind for d in decisions] == [CREATE, SKIP]


def test_s11_skipped_user_does_not_claim_its_email() -> None:
    guest = entra_user(user_principal_name="a@x.com", user_type="Guest")
    member = entra_user(user_principal_name="A@x.com")
    config = site_config(user_types=frozenset({"MEMBER"}))
    decisions = plan_all([guest, member], config, ScopeIndex())
    assert [d.kind for d in decisions] == [SKIP, CREATE]


def test_s11_created_user_is_visible_to_later_users_of_the_run() -> None:
    index = ScopeIndex()
    plan_all([entra_user(user_principal_name="a@x.com")], site_config(), index)
    assert len(index.candidates("a@x.com")) == 1


def test_s11_trims_are_reported_with_the_decision() -> None:
    decision = plan(entra_user(given_name="x" * 150))
    assert decision.kind is CREATE
    assert decision.trims == (Trim("first_name", TrimReason.TRUNCATED, 150),)


def test_s10_trimmed_user_is_unchanged_on_the_next_run() -> None:
    user = entra_user(user_principal_name="a@x.com", given_name="x" * 150)
    existing = linked(user, "a@x.com", id=4, first_name="x" * 100)
    decision = plan(user, existing)
    assert decision.kind is UNCHANGED
    assert decision.trims[0].field == "first_name"


# --- C5: users of another tenant's connection ------------------------------------------------


def test_c5_user_linked_to_another_tenant_in_the_target_site_is_not_taken() -> None:
    user = entra_user(user_principal_name="a@x.com")
    theirs = stored(
        "a@x.com",
        id=4,
        entra_object_id="their-obj",
        entra_tenant_id=OTHER_TENANT,
        entra_last_email="a@x.com",
    )
    decision = plan(user, theirs)
    assert (decision.kind, decision.reason) == (SKIP, SkipReason.LINKED_TO_OTHER_TENANT)


def test_c5_user_linked_to_another_tenant_elsewhere_does_not_block_creation() -> None:
    user = entra_user(user_principal_name="a@x.com", office_location="Paris")
    theirs = stored(
        "a@x.com",
        id=4,
        site_id=2,
        entra_object_id="their-obj",
        entra_tenant_id=OTHER_TENANT,
        entra_last_email="a@x.com",
    )
    decision = plan(user, theirs, config=account_config())
    assert (decision.kind, decision.site_id) == (CREATE, 1)


# --- match() directly and helpers --------------------------------------------------------------


def test_match_prefers_the_intact_link_over_an_email_match() -> None:
    user = entra_user(user_principal_name="a@x.com")
    mine = linked(user, "old@x.com", id=4, site_id=1)
    manual = stored("a@x.com", id=5, site_id=2)
    index = ScopeIndex.from_users([mine, manual])
    found = match("a@x.com", user, index, account_config(), 1)
    assert (found.user, found.by_link, found.reason) == (mine, True, None)


def test_match_without_candidates_means_create() -> None:
    found = match("a@x.com", entra_user(), ScopeIndex(), site_config(), SITE)
    assert (found.user, found.by_link, found.reason) == (None, False, None)


def test_stored_user_after_refuses_decisions_that_write_nothing() -> None:
    skipped = plan(entra_user(user_principal_name="nope"))
    with pytest.raises(ValueError, match="writes nothing"):
        stored_user_after(skipped)
    with pytest.raises(ValueError, match="needs its id"):
        stored_user_after(plan(entra_user()))


def test_skip_reasons_all_have_messages() -> None:
    for reason in SkipReason:
        assert reason.message.endswith(").")
    assert SkipReason.FILTERED_GROUP.is_filter and not SkipReason.UNMAPPED.is_filter
    for trim in TrimReason:
        assert trim.message


def test_s7_rename_conflict_reason_does_not_depend_on_row_order() -> None:
    user, other = entra_user(user_principal_name="b@x.com"), entra_user()
    existing = linked(user, "a@x.com", id=4, site_id=1)
    in_site = stored("b@x.com", id=5, site_id=1)
    owned = linked(other, "b@x.com", id=6, site_id=2)
    config = account_config()
    for rows in ([existing, in_site, owned], [owned, existing, in_site]):
        decision = plan(user, *rows, config=config)
        assert decision.reason is SkipReason.DUPLICATE_EMAIL


@pytest.mark.parametrize("object_id", ["", "x" * 65])
def test_s11_object_id_graph_should_never_send_is_skipped(object_id: str) -> None:
    decision = plan_user(entra_user(id=object_id), site_config(), ScopeIndex(), None, set())
    assert decision.kind is DecisionKind.SKIP and decision.reason is SkipReason.INVALID_ID


@pytest.mark.parametrize(
    ("raw", "stored"), [(" member ", "Member"), ("GUEST", "Guest"), (None, "Member")]
)
def test_w5_user_type_is_stored_as_graph_spells_it(raw: str | None, stored: str) -> None:
    decision = plan_user(entra_user(user_type=raw), site_config(), ScopeIndex(), None, set())
    assert decision.kind is DecisionKind.CREATE and decision.link is not None
    assert decision.link.user_type == stored
