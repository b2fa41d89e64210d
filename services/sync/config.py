"""The import configuration a sync run applies (W1-W6), frozen and validated once per run."""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

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
    # classification_key(value) -> site id, derived from `mappings`.
    routes: Mapping[str, int] = field(init=False, repr=False, compare=False)

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
