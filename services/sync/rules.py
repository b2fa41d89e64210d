"""The sync's pure rules (S2, S4, S7, S11, W3-W6), one function each, on plain data."""

from __future__ import annotations

import unicodedata
from typing import NamedTuple

from entra.types import EntraUser, ManagerRef
from services.sync.config import SyncConfig, UserType, classification_key
from services.sync.fields import Extra, FieldPlan
from services.sync.reasons import SkipReason, Trim, TrimReason

# Column sizes of models.end_user.EndUser, repeated here so that this package stays free of
# Tortoise; tests/services/sync pins them against the model.
MAX_EMAIL = 320
MAX_LENGTHS: dict[str, int] = {
    "first_name": 100,
    "last_name": 100,
    "job_title": 200,
    "phone": 64,
    "mobile": 64,
    # The optional fields (issue 6), synced only when their field rule says so.
    "department": 200,
    "office": 200,
    "display_name": 256,
    "manager_email": 320,
}
# S4: an empty Entra value never erases what the product has in these fields.
KEEP_WHEN_EMPTY = frozenset({"phone", "mobile"})
# Control characters that separate words: replaced by a space rather than gluing words together.
_SPACING_CONTROLS = frozenset("\t\n\r\x0b\x0c\x1c\x1d\x1e\x1f\x85")


class Fields(NamedTuple):
    """The user-visible fields S4 keeps in sync, as the product stores them ("" when empty)."""

    first_name: str
    last_name: str
    job_title: str
    phone: str
    mobile: str


_LIMITS = tuple(MAX_LENGTHS[name] for name in Fields._fields)
_SMALLEST_LIMIT = min(_LIMITS)


class Link(NamedTuple):
    """Sync metadata written silently next to the fields: who this user is in Entra (S7)."""

    entra_object_id: str
    entra_tenant_id: str
    # The email Entra gave last time: tells an Entra-side rename from a product-side edit (S7).
    entra_last_email: str
    user_type: str | None
    account_enabled: bool | None


def normalize_email(value: str | None) -> str | None:
    """S2/S11: the email as stored, or None when it is obviously not an address.

    Surrounding whitespace is dropped and non-ASCII text is NFC-normalised; case is kept (the
    key below ignores it). Rejected: not exactly one `@`, nothing before or after it, whitespace
    or control characters inside, more than 320 characters (the column size, also of the key).
    """
    if value is None:
        return None
    text = value.strip()
    ascii_only = text.isascii()
    if not ascii_only:
        text = unicodedata.normalize("NFC", text)
    if (
        len(text) > MAX_EMAIL
        or text.count("@") != 1
        or text[0] == "@"
        or text[-1] == "@"
        or " " in text
        # isprintable() is False for every other whitespace, control and format character.
        or not text.isprintable()
    ):
        return None
    # Case folding can lengthen non-ASCII text ("ß" -> "ss"), and the key has the same column size.
    if not ascii_only and len(text.casefold()) > MAX_EMAIL:
        return None
    return text


def email_key(email: str) -> str:
    """S2: the case-insensitive key emails are matched and kept unique by (EndUser.email_key).

    Every writer of EndUser.email_key must use this function: the planner trusts the stored
    column, because the database's per-site unique index is on it.
    """
    text = email.strip()
    if not text.isascii():
        text = unicodedata.normalize("NFC", text)
    return text.casefold()


def entra_email(user: EntraUser, match_attribute: str) -> str | None:
    """S2: the raw email a user is matched by, or None when it has none.

    `UPN` mode uses userPrincipalName, except for a guest's `#EXT#` UPN
    (`alice_fabrikam.com#EXT#@contoso.onmicrosoft.com`): that is not a deliverable address and
    cannot be decoded reliably (the `_` may be part of the local part), so the guest's `mail`
    (its real address) is used instead. `MAIL` mode uses `mail`. Blank counts as missing.
    """
    return address_of(user.mail, user.user_principal_name, match_attribute)


def address_of(mail: str | None, upn: str | None, match_attribute: str) -> str | None:
    """`entra_email` on the two properties (also used for a user's manager, issue 6)."""
    if match_attribute == "MAIL":
        value = mail
    else:
        value = upn
        if value is not None and "#" in value and "#ext#" in value.casefold():
            value = mail
    if value is None or not value.strip():
        return None
    return value


def manager_address(manager: ManagerRef, match_attribute: str) -> str:
    """Issue 6's managerEmail: the manager's email as the product would store it for the manager
    itself (S2: the match attribute, normalised), so that it names the manager's own end user;
    "" for no manager or one without a usable address. An organizational contact as manager has
    no UPN: its mail stands in under either match attribute."""
    upn = manager.user_principal_name
    if upn is None and manager.mail is not None:
        upn = manager.mail
    email = normalize_email(address_of(manager.mail, upn, match_attribute))
    return email or ""


def user_type_of(user: EntraUser) -> UserType | None:
    """W5: the Entra userType as a configuration value; None for a type Graph does not document.

    A missing userType is a Member: Graph returns it only on $select and leaves it null on some
    old and synced-from-AD objects, which are organisation members.
    """
    raw = user.user_type
    if raw is None:
        return "MEMBER"
    folded = raw.strip().casefold()
    if folded in ("member", ""):
        return "MEMBER"
    if folded == "guest":
        return "GUEST"
    return None


def filter_reason(
    user: EntraUser, config: SyncConfig, group_member_ids: frozenset[str] | None
) -> SkipReason | None:
    """W4/W5: why the connection's filters exclude this user, or None when it passes.

    `group_member_ids` is the transitive member set the engine computed for ALL_GROUPS or
    SELECTED (nested groups count, W4); it is ignored for NONE. Raises ValueError when a group
    filter is configured and no set is given. accountEnabled is not a filter (S8: shared
    mailboxes, often disabled, are imported like other users) unless the connection opted in to
    enabled accounts only: the opt-in filters of `policy_filter_reason` come after W4 and W5.
    """
    user_type = user_type_of(user)
    if user_type is None or user_type not in config.user_types:
        return SkipReason.FILTERED_USER_TYPE
    if config.group_filter != "NONE":
        if group_member_ids is None:
            raise ValueError(f"group filter {config.group_filter} needs the member id set")
        if user.id not in group_member_ids:
            return SkipReason.FILTERED_GROUP
    if config.user_filters is not None:
        return policy_filter_reason(user, config)
    return None


def policy_filter_reason(user: EntraUser, config: SyncConfig) -> SkipReason | None:
    """Issue 6: why the connection's opt-in filters exclude this user, or None (always None when
    they are all off). `filter_reason` applies them after W4 and W5.

    - enabled accounts only: accountEnabled false is FILTERED_DISABLED (unknown passes).
    - licensed accounts only: no assignedLicenses is FILTERED_UNLICENSED (a delta item leaves
      out a list never set, so unknown counts as unlicensed).
    - domains: the domain of the match email (S2; case-insensitive) must be an included one when
      any is given, and must not be an excluded one; FILTERED_DOMAIN. A user without an email
      passes (the planner skips it as NO_EMAIL).
    - exclusion patterns: shell-style globs, case-insensitive, on userPrincipalName, mail and
      displayName; any match is FILTERED_PATTERN.
    """
    filters = config.user_filters
    if filters is None:
        return None
    if filters.enabled_only and user.account_enabled is False:
        return SkipReason.FILTERED_DISABLED
    if filters.licensed_only and user.licensed is not True:
        return SkipReason.FILTERED_UNLICENSED
    if filters.include_domains or filters.exclude_domains:
        email = entra_email(user, config.match_attribute)
        at = -1 if email is None else email.rfind("@")
        if email is not None and at >= 0:
            domain = email[at + 1 :].strip().casefold()
            if filters.include_domains and domain not in filters.include_domains:
                return SkipReason.FILTERED_DOMAIN
            if domain in filters.exclude_domains:
                return SkipReason.FILTERED_DOMAIN
    pattern = filters.pattern
    if pattern is not None:
        for value in (user.user_principal_name, user.mail, user.display_name):
            if value and pattern.match(value.strip()):
                return SkipReason.FILTERED_PATTERN
    return None


def route(user: EntraUser, config: SyncConfig) -> int | SkipReason:
    """W1-W3, W6: the site a *new* user is created in, or UNMAPPED.

    A site-level connection sends everyone to its site (W6). An account-level one looks up the
    officeLocation or department value by `classification_key` (trimmed, case-insensitive;
    blank is `Undefined`). Matched users keep their site (S9), but an unmapped user is not
    imported at all (W3), so routing gates updates as well as creations.
    """
    if config.scope == "SITE":
        assert config.site_id is not None  # SyncConfig guarantees it for SITE scope.
        return config.site_id
    value = user.office_location if config.classification == "OFFICE" else user.department
    site_id = config.routes.get(classification_key(value))
    return SkipReason.UNMAPPED if site_id is None else site_id


def _clean(name: str, value: str, trims: list[Trim]) -> str:
    text = unicodedata.normalize("NFC", value)
    if not text.isprintable():
        kept: list[str] = []
        removed = False
        for char in text:
            # Cc: controls (NUL breaks PostgreSQL text); Cs: lone surrogates, unencodable in UTF-8.
            category = unicodedata.category(char)
            if category == "Cc" or category == "Cs":
                removed = True
                if char in _SPACING_CONTROLS:
                    kept.append(" ")
            else:
                kept.append(char)
        if removed:
            trims.append(Trim(name, TrimReason.CONTROL_CHARACTERS, len(value)))
            text = "".join(kept)
    text = text.strip()
    limit = MAX_LENGTHS[name]
    if len(text) > limit:
        trims.append(Trim(name, TrimReason.TRUNCATED, len(value)))
        text = text[:limit].rstrip()
    return text


def sanitize(user: EntraUser) -> tuple[Fields, tuple[Trim, ...]]:
    """S11: the user's S4 fields made storable, with a Trim for every value that was altered.

    Text is NFC-normalised and stripped; control characters and lone surrogates are removed
    (spacing controls become a space); values longer than the column are cut. Missing names
    stay blank, shared mailboxes included (S8 imports them "like other users"; displayName is
    not split into names). Phone is businessPhones[0].
    """
    first, last, title, phone, mobile = raw_values = (
        user.given_name,
        user.surname,
        user.job_title,
        user.business_phone,
        user.mobile_phone,
    )
    # Hot path (every user of every run): one check of all values together when, as usual,
    # they are plain printable ASCII short enough for the smallest column.
    joined = f"{first or ''}{last or ''}{title or ''}{phone or ''}{mobile or ''}"
    if len(joined) <= _SMALLEST_LIMIT and joined.isascii() and joined.isprintable():
        return Fields(
            first.strip() if first else "",
            last.strip() if last else "",
            title.strip() if title else "",
            phone.strip() if phone else "",
            mobile.strip() if mobile else "",
        ), ()
    trims: list[Trim] = []
    values: list[str] = []
    for name, limit, value in zip(Fields._fields, _LIMITS, raw_values, strict=True):
        if not value:
            values.append("")
        elif value.isascii() and value.isprintable() and len(value) <= limit:
            values.append(value.strip())  # the common case: nothing to normalise, remove or cut
        else:
            values.append(_clean(name, value, trims))
    return Fields._make(values), tuple(trims) if trims else ()


def apply_s4(
    stored: Fields,
    incoming: Fields,
    keep_when_empty: frozenset[str] = KEEP_WHEN_EMPTY,
    fixed: frozenset[str] = frozenset(),
) -> dict[str, tuple[str, str]]:
    """S4/S6: the user-visible fields a sync changes on a matched user, as {field: (old, new)}.

    Entra's value overwrites the product's, a blank one included (a removed job title is
    removed), except that a blank phone or mobile never erases one the product has.

    Issue 6's field rules pass their own sets (`FieldPlan`): `keep_when_empty` the fields a blank
    never erases (KEEP_WHEN_BLANK), `fixed` those an update never writes (CREATE_ONLY,
    NOT_SYNCED). The defaults are the S4 rules above.
    """
    if stored == incoming:
        return {}
    changes: dict[str, tuple[str, str]] = {}
    for name, old, new in zip(Fields._fields, stored, incoming, strict=True):
        if old != new and (new or name not in keep_when_empty) and name not in fixed:
            changes[name] = (old, new)
    return changes


def sanitize_extra(
    user: EntraUser, plan: FieldPlan, trims: list[Trim], match_attribute: str = "UPN"
) -> Extra:
    """S11 for the optional fields a connection syncs (`plan.extras`): made storable like the
    S4 fields, a Trim added to `trims` for each altered value; the others are "". The manager's
    email is `manager_address` ("" when the manager is unknown: see `manager_known`)."""
    values = {"department": "", "office": "", "display_name": "", "manager_email": ""}
    for name in plan.extras:
        if name == "department":
            raw = user.department
        elif name == "office":
            raw = user.office_location
        elif name == "display_name":
            raw = user.display_name
        else:
            manager = user.manager
            if manager is not None and manager.resolved:
                values[name] = manager_address(manager, match_attribute)
            continue
        values[name] = _clean(name, raw, trims) if raw else ""
    return Extra(**values)


def manager_known(user: EntraUser) -> bool:
    """Whether Graph said who the user's manager is (issue 6). Not when a delta round left the
    manager out (unchanged) or named one by an id the sync could not resolve: the stored
    manager's email is then kept whatever the rule."""
    return user.manager is not None and user.manager.resolved


def apply_s7_email(stored_email: str, last_entra_email: str | None, incoming_email: str) -> str:
    """S7 (beyond): the email a user linked to this Entra object should have after the sync.

    When Entra's email differs from the one it gave last time, Entra renamed the user and the
    new address wins. Otherwise the product's email stays, so a case-only edit made in the
    product survives (email is matched without case and is not an S4 field).
    """
    if incoming_email != last_entra_email:
        return incoming_email
    return stored_email


def apply_link(stored: Link | None, incoming: Link) -> Link | None:
    """The sync metadata to write silently (object id, tenant, last email, userType, enabled).

    None when nothing differs. Kept apart from `apply_s4` so that change logs (R8) list only
    the fields a person sees.
    """
    return None if stored == incoming else incoming
