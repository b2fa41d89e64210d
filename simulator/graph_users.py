"""Graph `/users`, `/users/$count`, `/users/{id}`, `/me` and `/organization`."""

from __future__ import annotations

import re

from simulator.directory_schema import (
    USER_DEFAULT_SELECT,
    USER_PROPERTIES,
    USER_SINGLE_ONLY,
    project,
)
from simulator.graph_filter import USER_FILTERABLE
from simulator.graph_http import (
    ORGANIZATION_READ,
    USERS_READ,
    GraphContext,
    GraphError,
    GraphRequest,
    GraphResponse,
    bad_request,
    not_found,
)
from simulator.graph_query import (
    EXPAND_PAGE,
    Entity,
    Expand,
    collection,
    context_url,
    list_options,
    matching_ids,
    page,
    parse_expand,
    parse_select,
    reject_unsupported,
)
from simulator.tenant import SimTenant
from simulator.wire import dumps

USER = Entity(
    name="User",
    type_name="microsoft.graph.user",
    catalogue=USER_PROPERTIES,
    default_select=USER_DEFAULT_SELECT,
    filterable=USER_FILTERABLE,
    searchable=frozenset(
        {"displayName", "mail", "userPrincipalName", "givenName", "surname", "jobTitle"}
    ),
    single_only=USER_SINGLE_ONLY,
)


# Relationships `$expand` accepts on users (the simulator models the manager only).
RELATIONS = ("manager",)
_MANAGER_DEFAULT = ("id", "displayName", "mail", "userPrincipalName", "jobTitle")


def manager_json(tenant: SimTenant, user_id: str, select: tuple[str, ...] | None) -> bytes | None:
    """The expanded manager of a user, or None when it has none (Graph then leaves it out)."""
    manager_id = tenant.managers.get(user_id)
    if manager_id is None or manager_id not in tenant.users:
        return None
    body = {"@odata.type": "#microsoft.graph.user"}
    body.update(project(tenant.users[manager_id], select or _MANAGER_DEFAULT, USER_PROPERTIES))
    return dumps(body)


def with_manager(tenant: SimTenant, user_id: str, raw: bytes, expand: Expand | None) -> bytes:
    """A user's JSON with its expanded manager spliced in (the cached user JSON stays as is)."""
    if expand is None:
        return raw
    manager = manager_json(tenant, user_id, expand.select)
    if manager is None:
        return raw
    sep = b"" if raw == b"{}" else b","
    return raw[:-1] + sep + b'"manager":' + manager + b"}"


async def list_users(
    context: GraphContext, request: GraphRequest, match: re.Match[str]
) -> GraphResponse:
    context.require(USERS_READ)
    options = list_options(request, USER, expand=True)
    expand = parse_expand(request, USER, RELATIONS)
    tenant = context.tenant
    top = options.top if expand is None else min(options.top, EXPAND_PAGE)
    result = page(context, request, top, lambda: matching_ids(tenant.users, options))
    # Users deleted after page one are skipped rather than shown stale.
    items = [
        with_manager(tenant, i, tenant.user_json(i, options.select), expand)
        for i in result.ids
        if i in tenant.users
    ]
    body = collection(
        context_url("users", options.select if options.explicit_select else None),
        items,
        count=result.total if options.count and "$skiptoken" not in request.params else None,
        next_link=result.next_link,
    )
    return GraphResponse(200, body)


def require_count_header(request: GraphRequest) -> None:
    if not request.eventual:
        raise bad_request("$count is not currently supported.")


async def count_users(
    context: GraphContext, request: GraphRequest, match: re.Match[str]
) -> GraphResponse:
    context.require(USERS_READ)
    require_count_header(request)
    options = list_options(request, USER)
    total = len(matching_ids(context.tenant.users, options))
    return GraphResponse(200, str(total).encode(), "text/plain")


async def get_user(
    context: GraphContext, request: GraphRequest, match: re.Match[str]
) -> GraphResponse:
    key = match["id"]
    if context.grant.kind == "delegated" and key == context.grant.user_id:
        context.require(ORGANIZATION_READ)  # User.Read suffices for oneself
    else:
        context.require(USERS_READ)
    user = context.tenant.find_user(key)
    if user is None:
        raise not_found(key)
    return _single(user, request, context.tenant)


async def me(context: GraphContext, request: GraphRequest, match: re.Match[str]) -> GraphResponse:
    if context.grant.kind != "delegated" or context.grant.user_id is None:
        raise bad_request(
            "/me request is only valid with delegated authentication flow.", "BadRequest"
        )
    context.require(ORGANIZATION_READ)
    user = context.tenant.find_user(context.grant.user_id)
    if user is None:
        raise not_found(context.grant.user_id)
    return _single(user, request)


MAILBOX_SETTINGS_READ = frozenset({"MailboxSettings.Read", "MailboxSettings.ReadWrite"})


async def mailbox_settings(
    context: GraphContext, request: GraphRequest, match: re.Match[str]
) -> GraphResponse:
    """`GET /users/{id}/mailboxSettings`, an Exchange Online resource, hence Exchange's errors.

    The application permission MailboxSettings.Read reads every mailbox; the delegated one only
    the signed-in user's own (any other gives the same 403, as real Graph does). A user with no
    mailbox (no mail address here) answers 404 MailboxNotEnabledForRESTAPI.
    """
    user = context.tenant.find_user(match["id"])
    if not _may_read_mailbox(context, None if user is None else str(user["id"])):
        raise GraphError(
            403, "ErrorAccessDenied", "Access is denied. Check credentials and try again."
        )
    if user is None:
        raise GraphError(404, "ErrorInvalidUser", f"The requested user '{match['id']}' is invalid.")
    purpose = context.tenant.mailbox_purpose(str(user["id"]))
    if purpose is None:
        raise GraphError(
            404,
            "MailboxNotEnabledForRESTAPI",
            "The mailbox is either inactive, soft-deleted, or is hosted on-premise.",
        )
    body = {
        "@odata.context": f"https://graph.microsoft.com/v1.0/$metadata#users('{user['id']}')/mailboxSettings",
        "archiveFolder": "AAMkAGI2TGuLAAA=",
        "timeZone": "UTC",
        "automaticRepliesSetting": {
            "status": "disabled",
            "externalAudience": "all",
            "internalReplyMessage": "",
            "externalReplyMessage": "",
        },
        "language": {"locale": "en-US", "displayName": "English (United States)"},
        "workingHours": {
            "daysOfWeek": ["monday", "tuesday", "wednesday", "thursday", "friday"],
            "startTime": "08:00:00.0000000",
            "endTime": "17:00:00.0000000",
            "timeZone": {"name": "UTC"},
        },
        "userPurpose": purpose,
        "dateFormat": "M/d/yyyy",
        "timeFormat": "h:mm tt",
        "delegateMeetingMessageDeliveryOptions": "sendToDelegateOnly",
    }
    return GraphResponse(200, dumps(body))


def _may_read_mailbox(context: GraphContext, user_id: str | None) -> bool:
    grant = context.grant
    consent = context.state.grants.consent(grant.tenant_id, grant.client_id)
    if consent is None:
        return False
    pool = consent.app_roles if grant.kind == "app" else consent.delegated
    if not grant.scopes & pool & MAILBOX_SETTINGS_READ:
        return False
    return grant.kind == "app" or (user_id is not None and user_id == grant.user_id)


def _single(
    user: dict[str, object], request: GraphRequest, tenant: SimTenant | None = None
) -> GraphResponse:
    select = parse_select(request, [USER])
    expand = parse_expand(request, USER, RELATIONS) if tenant is not None else None
    if tenant is None:
        reject_unsupported(request, "$expand")
    body = {"@odata.context": context_url("users", select) + "/$entity"}
    body.update(project(user, select or USER_DEFAULT_SELECT, USER_PROPERTIES))
    raw = dumps(body)
    if tenant is not None:
        raw = with_manager(tenant, str(user["id"]), raw, expand)
    return GraphResponse(200, raw)


async def organization(
    context: GraphContext, request: GraphRequest, match: re.Match[str]
) -> GraphResponse:
    context.require(ORGANIZATION_READ)
    tenant = context.tenant
    if match["id"] and match["id"] != tenant.tenant_id:
        raise not_found(match["id"])
    org = {
        "id": tenant.tenant_id,
        "displayName": tenant.display_name,
        "tenantType": "AAD",
        "countryLetterCode": "US",
        "verifiedDomains": [
            {
                "capabilities": "Email, OfficeCommunicationsOnlineService",
                "isDefault": True,
                "isInitial": True,
                "name": tenant.domain,
                "type": "Managed",
            }
        ],
    }
    if match["id"]:
        return GraphResponse(
            200, dumps({"@odata.context": context_url("organization", None) + "/$entity", **org})
        )
    return GraphResponse(200, collection(context_url("organization", None), [dumps(org)]))
