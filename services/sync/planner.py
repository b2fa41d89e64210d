"""Per-user sync decisions: match (S2, S7, S9) and plan (S3-S11) on plain data, no I/O."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType
from typing import NamedTuple

from entra.types import EntraUser
from services.sync.config import SyncConfig
from services.sync.fields import Extra, field_changes
from services.sync.reasons import SkipReason, Trim
from services.sync.review import Resolved, ReviewBook, ReviewCase, review_match
from services.sync.rules import (
    Fields,
    Link,
    apply_link,
    apply_s4,
    apply_s7_email,
    email_key,
    entra_email,
    filter_reason,
    manager_known,
    normalize_email,
    route,
    sanitize,
    sanitize_extra,
    user_type_of,
)
from services.sync.snapshot import ScopeIndex, StoredUser

ENTRA_SOURCE = "ENTRA"
MAX_OBJECT_ID = 64  # EndUser.entra_object_id; Graph ids are GUIDs
_USER_TYPE_NAMES = {"MEMBER": "Member", "GUEST": "Guest"}
_NO_CHANGES: Mapping[str, tuple[str, str]] = MappingProxyType({})


class DecisionKind(StrEnum):
    CREATE = "CREATE"
    UPDATE = "UPDATE"
    UNCHANGED = "UNCHANGED"
    SKIP = "SKIP"
    REVIEW = "REVIEW"


class Match(NamedTuple):
    """The stored user an Entra user corresponds to; `user` None and no reason means create."""

    user: StoredUser | None
    by_link: bool
    reason: SkipReason | None


_CREATE = Match(None, False, None)


class Decision(NamedTuple):
    """What a sync does with one Entra user.

    - CREATE: insert in `site_id` a user with `email`, `fields`, source ENTRA and `link`.
    - UPDATE: write `email`, `fields`, source ENTRA and `link` on `existing_id`. `changes`
      lists the user-visible differences (S4 fields, `email` on an Entra rename, `source` when a
      manual user is first matched); it is empty when only the silent `link` metadata
      (userType, accountEnabled, ids, last email) moved.
    - UNCHANGED: nothing to write (S10); `existing_id`, `site_id` and `email` say who matched.
    - SKIP: nothing to write; `reason` says why (`existing_id` is set when a user matched).
    - REVIEW: nothing to write to end users; `review` is the ambiguous case queued for an admin
      (only with the review_conflicts policy; `site_id` is the routed site).

    `changes` of a CREATE list every non-blank value as ("", value), for change logs (R8).
    `trims` lists the values S11 altered, whatever the kind.
    """

    kind: DecisionKind
    entra_id: str
    site_id: int | None = None
    existing_id: int | None = None
    email: str | None = None
    fields: Fields | None = None
    link: Link | None = None
    changes: Mapping[str, tuple[str, str]] = _NO_CHANGES
    reason: SkipReason | None = None
    trims: tuple[Trim, ...] = ()
    review: ReviewCase | None = None
    # The optional fields after a CREATE or UPDATE, when a field rule syncs any (issue 6).
    extra: Extra | None = None

    @property
    def email_key(self) -> str | None:
        return None if self.email is None else email_key(self.email)


def match(
    user_email_key: str,
    user: EntraUser,
    index: ScopeIndex,
    config: SyncConfig,
    site_id: int,
) -> Match:
    """S2, S7, S9: find the stored user for an Entra user whose email key is `user_email_key`.

    1. A user with an intact link to this object (same tenant) is it, even when Entra changed
       the email (S7 beyond: rename, not duplicate). The new address must not belong to a user
       linked to another object of this tenant (DUPLICATE_EMAIL) nor to another user of its
       site (EMAIL_CONFLICT: the per-site unique email would break).
    2. A link whose email the product changed is ignored (S7): matching falls to email.
    3. By email in the scope: a user with an intact link to another object of this tenant owns
       the address (DUPLICATE_EMAIL, whatever the page order, so re-runs never flip the
       winner, S10); users linked to another tenant belong to that connection (C5) and are
       never taken; among the rest one is the match, several (an ACCOUNT scope holds one per
       site at most) resolve to the one in `site_id`, the routed site, else AMBIGUOUS_MATCH.
    4. No match: create in `site_id`, unless another tenant's user holds the email there.

    A matched user keeps its site (S9); `site_id` only breaks ties and places creations.
    """
    tenant_id = config.tenant_id
    linked = index.linked(tenant_id, user.id)
    candidates = index.candidates(user_email_key)
    if linked is not None:
        if linked.email_key != user_email_key and candidates:
            # Ownership is checked over all candidates first so the reason is independent of
            # row order.
            if any(
                other.intact_link_tenant() == tenant_id and other.entra_object_id != user.id
                for other in candidates
            ):
                return Match(linked, True, SkipReason.DUPLICATE_EMAIL)
            if any(other.site_id == linked.site_id for other in candidates):
                return Match(linked, True, SkipReason.EMAIL_CONFLICT)
        return Match(linked, True, None)
    if not candidates:
        return _CREATE
    free: list[StoredUser] = []
    other_tenant_in_site = False
    for candidate in candidates:
        owner = candidate.intact_link_tenant()
        if owner is None:
            free.append(candidate)
        elif owner == tenant_id:
            return Match(None, False, SkipReason.DUPLICATE_EMAIL)
        elif candidate.site_id == site_id:
            other_tenant_in_site = True
    if len(free) == 1:
        return Match(free[0], False, None)
    if free:
        for candidate in free:
            if candidate.site_id == site_id:
                return Match(candidate, False, None)
        return Match(None, False, SkipReason.AMBIGUOUS_MATCH)
    if other_tenant_in_site:
        return Match(None, False, SkipReason.LINKED_TO_OTHER_TENANT)
    return _CREATE


def _skip(
    user: EntraUser,
    reason: SkipReason,
    email: str | None = None,
    stored: StoredUser | None = None,
) -> Decision:
    existing_id = None if stored is None else stored.id
    return Decision(DecisionKind.SKIP, user.id, existing_id=existing_id, email=email, reason=reason)


def plan_user(
    user: EntraUser,
    config: SyncConfig,
    index: ScopeIndex,
    group_member_ids: frozenset[str] | None,
    seen_keys: set[str],
    review: ReviewBook | None = None,
) -> Decision:
    """The decision for one Entra user; the engine calls it for every user of every page.

    Order: filters (W5, W4), routing (W3/W6), email (S2, S11), match (S7, S9), duplicates in
    this run (S11), then the S4 diff. Filtered and unmapped users are never touched (S5), even
    when they match a stored user. `seen_keys` is the run's set of email keys already planned
    (mutated here): a later Entra user with the same key is skipped as DUPLICATE_EMAIL. After a
    CREATE the engine should also `index.add(stored_user_after(decision, user_id=...))`.
    With `review` (the review_conflicts policy), ambiguous matches become REVIEW decisions and
    an admin's resolutions are followed (services/sync/review.py).
    Raises ValueError when a group filter is configured and `group_member_ids` is None.
    """
    if not user.id or len(user.id) > MAX_OBJECT_ID:
        return _skip(user, SkipReason.INVALID_ID)
    reason = filter_reason(user, config, group_member_ids)
    if reason is not None:
        return _skip(user, reason)
    site_id = route(user, config)
    if isinstance(site_id, SkipReason):
        return _skip(user, site_id)
    raw_email = entra_email(user, config.match_attribute)
    if raw_email is None:
        return _skip(user, SkipReason.NO_EMAIL)
    email = normalize_email(raw_email)
    if email is None:
        return _skip(user, SkipReason.INVALID_EMAIL)
    key = email_key(email)
    # An admin's CREATE resolution: the address may rightly exist in another site of the run.
    resolved_create = False
    if review is None:
        found = match(key, user, index, config, site_id)
    else:
        reviewed = review_match(key, user, index, config, site_id, seen_keys, review)
        if isinstance(reviewed, ReviewCase):
            return Decision(
                DecisionKind.REVIEW, user.id, site_id=site_id, email=email, review=reviewed
            )
        resolved_create = isinstance(reviewed, Resolved)
        found = _CREATE if isinstance(reviewed, Resolved) else reviewed
    stored = found.user
    if found.reason is not None:
        return _skip(user, found.reason, email, stored)
    if not resolved_create:
        if key in seen_keys:
            return _skip(user, SkipReason.DUPLICATE_EMAIL, email, stored)
        seen_keys.add(key)

    fields, trims = sanitize(user)
    plan = config.field_plan
    extra = None
    if plan.extras:  # issue 6: optional fields an admin chose to sync
        more = list(trims)
        extra = sanitize_extra(user, plan, more, config.match_attribute)
        trims = tuple(more)
    # Stored as Graph spells the two documented types, so padding or case never rewrites a user.
    user_type = _USER_TYPE_NAMES.get(user_type_of(user) or "", user.user_type)
    link = Link(user.id, config.tenant_id, email, user_type, user.account_enabled)
    if stored is None:
        if plan.not_created:  # issue 6: NOT_SYNCED fields stay blank
            fields = fields._replace(**dict.fromkeys(plan.not_created, ""))
            if trims:
                trims = tuple(t for t in trims if t.field not in plan.not_created)
        created = {"email": ("", email)}
        for name, value in zip(Fields._fields, fields, strict=True):
            if value:
                created[name] = ("", value)
        if extra is not None:
            for name, value in zip(Extra._fields, extra, strict=True):
                if value:
                    created[name] = ("", value)
        return Decision(
            DecisionKind.CREATE,
            user.id,
            site_id=site_id,
            email=email,
            fields=fields,
            link=link,
            changes=created,
            trims=trims,
            extra=extra,
        )

    old_fields = stored.fields()
    changes = apply_s4(old_fields, fields, plan.keep_when_blank, plan.fixed)
    if trims and plan.fixed:  # issue 6: values an update does not write are not trimmed either
        trims = tuple(t for t in trims if t.field not in plan.fixed)
    new_fields = old_fields
    if changes:
        new_fields = old_fields._replace(**{name: new for name, (_, new) in changes.items()})
    if extra is not None:
        if "manager_email" in plan.extra_rules and not manager_known(user):
            # A delta round that did not report the manager: nothing to compare it with.
            extra = extra._replace(manager_email=stored.manager_email)
        extra = field_changes(plan, stored.extra(), extra, changes)
    new_email = (
        apply_s7_email(stored.email, stored.entra_last_email, email)
        if found.by_link
        else stored.email
    )
    if new_email != stored.email:
        changes["email"] = (stored.email, new_email)
    if stored.source != ENTRA_SOURCE:
        changes["source"] = (stored.source, ENTRA_SOURCE)
    if not changes and apply_link(stored.link(), link) is None:
        return Decision(
            DecisionKind.UNCHANGED,
            user.id,
            site_id=stored.site_id,
            existing_id=stored.id,
            email=stored.email,
            trims=trims,
        )
    return Decision(
        DecisionKind.UPDATE,
        user.id,
        site_id=stored.site_id,
        existing_id=stored.id,
        email=new_email,
        fields=new_fields,
        link=link,
        changes=changes or _NO_CHANGES,
        trims=trims,
        extra=extra,
    )


def stored_user_after(decision: Decision, user_id: int | None = None) -> StoredUser:
    """The stored user a CREATE or UPDATE leaves behind (for `ScopeIndex.add` and tests).

    `user_id` is required for a CREATE (the new row's id, or a provisional one before the
    insert is flushed); an UPDATE keeps `existing_id`. Raises ValueError for other kinds.
    """
    if decision.kind is DecisionKind.CREATE:
        if user_id is None:
            raise ValueError("a created user needs its id")
        new_id = user_id
    elif decision.kind is DecisionKind.UPDATE and decision.existing_id is not None:
        new_id = decision.existing_id
    else:
        raise ValueError(f"a {decision.kind} decision writes nothing")
    assert decision.site_id is not None and decision.email is not None
    assert decision.fields is not None and decision.link is not None
    fields, link = decision.fields, decision.link
    after = StoredUser(
        new_id,
        decision.site_id,
        decision.email,
        email_key(decision.email),
        *fields,
        ENTRA_SOURCE,
        *link,
    )
    if decision.extra is not None:
        extra = decision.extra
        after.department, after.office = extra.department, extra.office
        after.display_name, after.manager_email = extra.display_name, extra.manager_email
    return after
