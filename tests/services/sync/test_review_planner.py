"""The review queue's decisions on plain data: each ambiguous case, linked users, resolutions."""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import replace

from entra.types import EntraUser
from services.sync import (
    Decision,
    DecisionKind,
    ScopeIndex,
    SkipReason,
    StoredUser,
    SyncConfig,
    plan_user,
    stored_user_after,
)
from services.sync.config import Policies
from services.sync.review import HeldItem, ReviewBook

from .data import OTHER_TENANT, account_config, entra_user, linked, site_config, stored

REVIEW_ON = Policies(review_conflicts=True)


def reviewing(config: SyncConfig) -> SyncConfig:
    return replace(config, policies=REVIEW_ON)


def plan(
    user: EntraUser,
    *rows: StoredUser,
    config: SyncConfig,
    book: ReviewBook | None = None,
) -> Decision:
    review = book if book is not None or not config.policies.review_conflicts else ReviewBook()
    return plan_user(user, config, ScopeIndex.from_users(rows), None, set(), review)


def plan_run(
    users: Iterable[EntraUser], rows: Iterable[StoredUser], config: SyncConfig, book: ReviewBook
) -> list[Decision]:
    """One run's planning as the engine drives it (one seen-set, creations indexed)."""
    index = ScopeIndex.from_users(rows)
    seen: set[str] = set()
    provisional = itertools.count(-1, -1)
    decisions = []
    for user in users:
        decision = plan_user(user, config, index, None, seen, book)
        if decision.kind is DecisionKind.CREATE:
            index.add(stored_user_after(decision, next(provisional)))
        decisions.append(decision)
    return decisions


def resolved(user: EntraUser, resolution: str) -> ReviewBook:
    return ReviewBook({user.id: HeldItem(1, open=False, resolution=resolution)})  # type: ignore[arg-type]


# --- with the policy off, the SPEC's choices ---------------------------------------------------


def test_review_off_routed_site_wins_among_several_matches() -> None:
    user = entra_user(user_principal_name="a@x.com", office_location="Paris")
    decision = plan(
        user,
        stored("a@x.com", id=1, site_id=1),
        stored("a@x.com", id=2, site_id=2),
        config=account_config(),
    )
    assert (decision.kind, decision.existing_id) == (DecisionKind.UPDATE, 1)


def test_review_off_matched_user_in_another_site_is_updated_where_it_is() -> None:
    user = entra_user(user_principal_name="a@x.com", office_location="Paris")
    decision = plan(user, stored("a@x.com", id=2, site_id=2), config=account_config())
    assert (decision.kind, decision.existing_id, decision.site_id) == (DecisionKind.UPDATE, 2, 2)


# --- the three cases ------------------------------------------------------------------------


def test_review_several_product_matches_even_when_one_is_in_the_routed_site() -> None:
    user = entra_user(user_principal_name="a@x.com", office_location="Paris")
    rows = (stored("a@x.com", id=1, site_id=1), stored("A@x.com", id=2, site_id=2))
    decision = plan(user, *rows, config=reviewing(account_config()))
    assert decision.kind is DecisionKind.REVIEW
    assert decision.review is not None
    assert decision.review.kind == "SEVERAL_PRODUCT_MATCHES"
    assert decision.review.candidate_ids() == [1, 2]
    assert (decision.review.routed_site_id, decision.site_id) == (1, 1)
    assert decision.existing_id is None and decision.fields is None


def test_review_several_product_matches_none_in_the_routed_site() -> None:
    user = entra_user(user_principal_name="a@x.com", office_location="Paris")
    rows = (stored("a@x.com", id=4, site_id=2), stored("a@x.com", id=5, site_id=3))
    assert plan(user, *rows, config=account_config()).reason is SkipReason.AMBIGUOUS_MATCH
    decision = plan(user, *rows, config=reviewing(account_config()))
    assert decision.review is not None and decision.review.kind == "SEVERAL_PRODUCT_MATCHES"
    assert decision.review.candidate_ids() == [4, 5]


def test_review_site_disagrees_on_a_first_match_only() -> None:
    user = entra_user(user_principal_name="a@x.com", office_location="Paris")
    config = reviewing(account_config())
    decision = plan(user, stored("a@x.com", id=2, site_id=2), config=config)
    assert decision.review is not None and decision.review.kind == "SITE_DISAGREES"
    assert decision.review.candidate_ids() == [2]
    # Once linked, S9 keeps the user where it is: no review however routing changes.
    decision = plan(user, linked(user, "a@x.com", id=2, site_id=2), config=config)
    assert (decision.kind, decision.existing_id) == (DecisionKind.UNCHANGED, 2)


def test_review_same_email_in_entra_when_another_entra_user_owns_it() -> None:
    owner, other = (
        entra_user(user_principal_name="a@x.com"),
        entra_user(user_principal_name="A@X.com"),
    )
    rows = (linked(owner, "a@x.com", id=7),)
    assert plan(other, *rows, config=site_config()).reason is SkipReason.DUPLICATE_EMAIL
    decision = plan(other, *rows, config=reviewing(site_config()))
    assert decision.review is not None and decision.review.kind == "SAME_EMAIL_IN_ENTRA"
    assert decision.review.candidate_ids() == [7]


def test_review_same_email_in_entra_within_one_run_reviews_the_later_one() -> None:
    first, later = (
        entra_user(user_principal_name="a@x.com"),
        entra_user(user_principal_name="A@x.com"),
    )
    decisions = plan_run([first, later], [], reviewing(site_config()), ReviewBook())
    assert decisions[0].kind is DecisionKind.CREATE
    assert decisions[1].kind is DecisionKind.REVIEW
    assert decisions[1].review is not None and decisions[1].review.kind == "SAME_EMAIL_IN_ENTRA"


def test_review_never_applies_to_a_user_matched_by_its_link() -> None:
    user = entra_user(user_principal_name="a@x.com", office_location="Paris")
    rows = (linked(user, "a@x.com", id=3, site_id=3), stored("a@x.com", id=4, site_id=1))
    decision = plan(user, *rows, config=reviewing(account_config()))
    assert (decision.kind, decision.existing_id) == (DecisionKind.UNCHANGED, 3)


def test_review_leaves_unambiguous_cases_to_the_spec() -> None:
    user = entra_user(user_principal_name="a@x.com", office_location="Paris")
    config = reviewing(account_config())
    assert plan(user, config=config).kind is DecisionKind.CREATE
    assert plan(user, stored("a@x.com", id=1, site_id=1), config=config).kind is DecisionKind.UPDATE
    other_tenant = stored(
        "a@x.com",
        id=1,
        site_id=1,
        entra_object_id="x",
        entra_tenant_id=OTHER_TENANT,
        entra_last_email="a@x.com",
    )
    decision = plan(user, other_tenant, config=config)
    assert decision.reason is SkipReason.LINKED_TO_OTHER_TENANT


# --- resolutions -----------------------------------------------------------------------------


def test_resolution_ignore_skips_with_its_own_reason() -> None:
    user = entra_user(user_principal_name="a@x.com", office_location="Paris")
    rows = (stored("a@x.com", id=1, site_id=1), stored("a@x.com", id=2, site_id=2))
    decision = plan(user, *rows, config=reviewing(account_config()), book=resolved(user, "IGNORE"))
    assert (decision.kind, decision.reason) == (DecisionKind.SKIP, SkipReason.REVIEW_IGNORED)
    # Filters still come first: an ignored user that is filtered out counts as filtered.
    guest = replace(user, user_type="Guest")
    config = reviewing(account_config(user_types=frozenset({"MEMBER"})))
    assert (
        plan(guest, config=config, book=resolved(user, "IGNORE")).reason
        is SkipReason.FILTERED_USER_TYPE
    )


def test_resolution_create_creates_in_the_routed_site() -> None:
    user = entra_user(user_principal_name="a@x.com", office_location="Paris")
    rows = (stored("a@x.com", id=4, site_id=2), stored("a@x.com", id=5, site_id=3))
    decision = plan(user, *rows, config=reviewing(account_config()), book=resolved(user, "CREATE"))
    assert (decision.kind, decision.site_id) == (DecisionKind.CREATE, 1)


def test_resolution_create_skips_email_conflict_when_the_routed_site_holds_it() -> None:
    user = entra_user(user_principal_name="a@x.com", office_location="Paris")
    rows = (stored("a@x.com", id=1, site_id=1), stored("a@x.com", id=2, site_id=2))
    decision = plan(user, *rows, config=reviewing(account_config()), book=resolved(user, "CREATE"))
    assert (decision.kind, decision.reason) == (DecisionKind.SKIP, SkipReason.EMAIL_CONFLICT)


def test_resolution_create_is_not_a_duplicate_of_the_same_email_in_another_site() -> None:
    owner = entra_user(user_principal_name="a@x.com", office_location="Lyon")
    created = entra_user(user_principal_name="A@x.com", office_location="Paris")
    rows = [linked(owner, "a@x.com", id=3, site_id=2)]
    config = reviewing(account_config())
    for order in ([owner, created], [created, owner]):
        decisions = {
            d.entra_id: d for d in plan_run(order, rows, config, resolved(created, "CREATE"))
        }
        assert decisions[owner.id].kind is DecisionKind.UNCHANGED
        assert (decisions[created.id].kind, decisions[created.id].site_id) == (
            DecisionKind.CREATE,
            1,
        )


def test_resolution_create_after_the_creation_matches_by_link() -> None:
    user = entra_user(user_principal_name="a@x.com", office_location="Paris")
    rows = (linked(user, "a@x.com", id=9, site_id=1), stored("a@x.com", id=2, site_id=2))
    decision = plan(user, *rows, config=reviewing(account_config()), book=resolved(user, "CREATE"))
    assert (decision.kind, decision.existing_id) == (DecisionKind.UNCHANGED, 9)


def test_open_item_is_reviewed_again_and_a_broken_link_reopens_the_case() -> None:
    user = entra_user(user_principal_name="a@x.com", office_location="Paris")
    rows = (stored("a@x.com", id=1, site_id=1), stored("a@x.com", id=2, site_id=2))
    config = reviewing(account_config())
    book = ReviewBook({user.id: HeldItem(1, open=True)})
    assert plan(user, *rows, config=config, book=book).kind is DecisionKind.REVIEW
    # LINK wrote the link; once the product changes that email, the case is back.
    assert plan(user, *rows, config=config, book=resolved(user, "LINK")).kind is DecisionKind.REVIEW
