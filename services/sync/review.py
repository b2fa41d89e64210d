"""The conflict review queue's decisions (issue 6): ambiguous matches go to review, not a guess.

With `Policies.review_conflicts` on, the planner asks `review_match` instead of `match`:

- SEVERAL_PRODUCT_MATCHES: more than one unlinked end user of the scope holds the Entra user's
  email (an ACCOUNT scope holds one per site). The SPEC takes the one in the routed site, else
  skips AMBIGUOUS_MATCH; review takes neither.
- SAME_EMAIL_IN_ENTRA: another Entra user of this tenant has the same email, ignoring case: it
  holds an intact link to the matching end user, or came first in this run. The SPEC skips the
  later one as DUPLICATE_EMAIL; review queues it. The first one met keeps the address, as
  without review (a link, once written, owns it whatever the page order, so re-runs agree).
- SITE_DISAGREES: the one unlinked end user with the email is in another site than routing
  picks. Only a first match is reviewed: once linked, S9 keeps a user where it is and routing
  is no longer asked.

A user matched through its link (S7) is never reviewed, whatever else holds its email.

The admin's resolutions are followed by later runs: IGNORE skips the Entra user
(REVIEW_IGNORED) before any match; CREATE creates it in the routed site (EMAIL_CONFLICT when
that site holds the email already) until a link to the new user exists; LINK writes the link
columns on the chosen end user when resolved, so the ordinary link match finds it. A LINK whose
link no longer holds (the user was deleted, or its email edited) is reviewed again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Literal, NamedTuple

from entra.types import EntraUser
from services.sync.config import SyncConfig
from services.sync.reasons import SkipReason
from services.sync.snapshot import ScopeIndex, StoredUser

if TYPE_CHECKING:
    from services.sync.planner import Match

ReviewKindName = Literal["SEVERAL_PRODUCT_MATCHES", "SAME_EMAIL_IN_ENTRA", "SITE_DISAGREES"]
ResolutionName = Literal["LINK", "CREATE", "IGNORE"]


class ReviewCase(NamedTuple):
    """Why one Entra user waits for an admin: the kind, the end users concerned (provisional ids
    of this run's creations turn real once inserted) and the site routing picks."""

    kind: ReviewKindName
    candidates: tuple[StoredUser, ...]
    routed_site_id: int

    def candidate_ids(self) -> list[int]:
        return sorted({user.id for user in self.candidates if user.id > 0})


@dataclass(slots=True)
class HeldItem:
    """One stored review item as a run sees it; `id` is None for one a dry run only planned."""

    id: int | None
    open: bool
    resolution: ResolutionName | None = None
    resolved_at: datetime | None = None


class Resolved(NamedTuple):
    """What `review_match` says beyond a plain Match: follow an admin's CREATE (no duplicate
    check against this run's addresses: the email may rightly exist in another site)."""

    create: bool


RESOLVED_CREATE = Resolved(create=True)


@dataclass(slots=True)
class ReviewBook:
    """The connection's review items by Entra object id, loaded once per run (a small table).

    The run updates it as its batches are written, so that `waiting` is the number of open
    items after each batch (SyncRun.review_waiting) and a later batch sees earlier ones.
    """

    items: dict[str, HeldItem] = field(default_factory=dict)

    @property
    def waiting(self) -> int:
        return sum(1 for item in self.items.values() if item.open)

    def resolution(self, object_id: str) -> ResolutionName | None:
        item = self.items.get(object_id)
        return None if item is None or item.open else item.resolution

    def resolved_since(self, since: datetime | None) -> list[str]:
        """Entra ids whose LINK or CREATE was chosen after `since` (all of them for None): a
        delta round looks them up, since Entra did not change them."""
        return sorted(
            object_id
            for object_id, item in self.items.items()
            if not item.open
            and item.resolution in ("LINK", "CREATE")
            and (since is None or item.resolved_at is None or item.resolved_at > since)
        )


def _free(candidates: tuple[StoredUser, ...]) -> tuple[StoredUser, ...]:
    return tuple(c for c in candidates if c.intact_link_tenant() is None)


def review_match(
    user_email_key: str,
    user: EntraUser,
    index: ScopeIndex,
    config: SyncConfig,
    site_id: int,
    seen_keys: set[str],
    book: ReviewBook,
) -> Match | ReviewCase | Resolved:
    """`planner.match` with the review queue: the Match to go on with, a ReviewCase, or
    RESOLVED_CREATE. Cases and resolutions are described in the module docstring."""
    from services.sync.planner import Match, match  # the planner imports this module

    resolution = book.resolution(user.id)
    if resolution == "IGNORE":
        return Match(None, False, SkipReason.REVIEW_IGNORED)
    found = match(user_email_key, user, index, config, site_id)
    if found.by_link:
        return found
    candidates = index.candidates(user_email_key)
    if resolution == "CREATE":
        if any(c.site_id == site_id for c in candidates):
            return Match(None, False, SkipReason.EMAIL_CONFLICT)
        return RESOLVED_CREATE
    if found.reason is SkipReason.DUPLICATE_EMAIL:
        return ReviewCase("SAME_EMAIL_IN_ENTRA", candidates, site_id)
    if found.reason is SkipReason.AMBIGUOUS_MATCH:
        return ReviewCase("SEVERAL_PRODUCT_MATCHES", _free(candidates), site_id)
    if found.reason is not None:
        return found
    if found.user is not None:
        free = _free(candidates)
        if len(free) > 1:
            return ReviewCase("SEVERAL_PRODUCT_MATCHES", free, site_id)
        if found.user.site_id != site_id:
            return ReviewCase("SITE_DISAGREES", (found.user,), site_id)
    if user_email_key in seen_keys:
        return ReviewCase("SAME_EMAIL_IN_ENTRA", candidates, site_id)
    return found
