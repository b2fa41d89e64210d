"""The Microsoft Graph client entrasync needs: users, delta rounds, groups, members, $batch."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from types import TracebackType
from typing import Any

import aiohttp

from entra.batch import BATCH_LIMIT, run_batch
from entra.errors import (
    EntraError,
    GraphError,
    GraphNotFound,
    GraphRequestError,
    GraphUnavailable,
)
from entra.tokens import TokenSource
from entra.transport import (
    RETRY_STATUSES,
    RetryPolicy,
    Transport,
    segment,
)
from entra.types import (
    EXPAND_PAGE,
    MANAGER_SELECT,
    USER_SELECT,
    BatchRequest,
    BatchResponse,
    DeltaPage,
    EntraGroup,
    EntraUser,
    GroupLookup,
    MailboxPurposes,
    Organization,
    RemovedUser,
    parse_manager,
)

log = logging.getLogger(__name__)

DEFAULT_RETRY = RetryPolicy()
GROUP_SELECT: tuple[str, ...] = ("id", "displayName", "mail", "securityEnabled", "groupTypes")
_USER_TYPE = "#microsoft.graph.user"
_GROUP_TYPE = "#microsoft.graph.group"
_GUID = re.compile(r"^[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
_EVENTUAL = {"ConsistencyLevel": "eventual"}
_EXPAND_MANAGER = f"manager($select={','.join(MANAGER_SELECT)})"


def _dict(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise GraphError(f"Graph returned a malformed {what}")
    return value


def _items(page: dict[str, Any]) -> list[dict[str, Any]]:
    value = page.get("value")
    if not isinstance(value, list):
        raise GraphError("Graph returned a page without a value list")
    return [item for item in value if isinstance(item, dict) and isinstance(item.get("id"), str)]


def _next(page: dict[str, Any]) -> str | None:
    link = page.get("@odata.nextLink")
    return link if isinstance(link, str) and link else None


def parse_group(item: Mapping[str, Any]) -> EntraGroup:
    """Build an EntraGroup from a Graph group object."""
    types = item.get("groupTypes")
    security = item.get("securityEnabled")
    mail = item.get("mail")
    return EntraGroup(
        id=str(item["id"]),
        display_name=str(item.get("displayName") or ""),
        mail=mail if isinstance(mail, str) else None,
        security_enabled=security if isinstance(security, bool) else None,
        group_types=tuple(t for t in types if isinstance(t, str))
        if isinstance(types, list)
        else (),
    )


def _search_term(text: str) -> str:
    # $search wraps the term in double quotes; drop characters that would end or escape them.
    return "".join(ch for ch in text if ch not in '"\\').strip()


class GraphClient:
    """Async Graph v1.0 client over a borrowed aiohttp session.

    Use as `async with GraphClient(session, graph_url=..., token=...) as graph:`; leaving the
    block never closes the session, which belongs to whoever created it. Every method raises the
    GraphError subtypes of entra.errors (see there for which to catch) and the AuthError
    subtypes of the token source; aiohttp exceptions never escape. Paging links are followed
    verbatim and only to the configured Graph host, so a bearer token never goes elsewhere.
    """

    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        graph_url: str,
        token: TokenSource,
        retry: RetryPolicy = DEFAULT_RETRY,
    ) -> None:
        """Raise ValueError if `graph_url` is http on a host other than 127.0.0.1/localhost."""
        self._t = Transport(session, graph_url=graph_url, token=token, retry=retry)
        self._retry = retry
        self._closed = False

    def __repr__(self) -> str:
        return f"GraphClient(graph_url={self._t.url('')!s})"

    async def __aenter__(self) -> GraphClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._closed = True

    async def _get(self, url: Any, headers: Mapping[str, str] | None = None) -> dict[str, Any]:
        if self._closed:
            raise RuntimeError("GraphClient is closed")
        return _dict(await self._t.request("GET", url, headers=headers), "response")

    async def _pages(
        self, first: Any, headers: Mapping[str, str] | None = None
    ) -> AsyncIterator[dict[str, Any]]:
        # Headers such as ConsistencyLevel are not carried by nextLinks: resend them each page.
        url = first
        while True:
            page = await self._get(url, headers)
            yield page
            link = _next(page)
            if link is None:
                return
            url = self._t.link(link)

    # -- tenant and users -------------------------------------------------------------------

    async def organization(self) -> Organization:
        """The signed-in tenant (delegated: needs User.Read; app-only: Organization.Read.All)."""
        page = await self._get(
            self._t.url("/organization", {"$select": "id,displayName,verifiedDomains"})
        )
        items = _items(page)
        if not items:
            raise GraphError("Graph returned no organization")
        org = items[0]
        domains = org.get("verifiedDomains")
        names = (
            tuple(str(d["name"]) for d in domains if isinstance(d, dict) and d.get("name"))
            if isinstance(domains, list)
            else ()
        )
        return Organization(
            tenant_id=str(org["id"]),
            display_name=str(org.get("displayName") or ""),
            verified_domains=names,
        )

    async def iter_user_pages(
        self,
        *,
        select: Sequence[str] = USER_SELECT,
        top: int = 999,
        filter: str | None = None,
        advanced: bool = False,
        manager: bool = False,
    ) -> AsyncIterator[list[EntraUser]]:
        """Pages of `/users` (a page may be empty). `advanced` adds ConsistencyLevel: eventual and
        $count=true, which filters such as `endsWith` or `ne` need. `manager` expands each
        user's manager (id, mail, UPN) into `EntraUser.manager`; Graph then pages by at most
        100 users whatever `top` says. Raises ValueError for `top` outside 1..999 and for
        `manager` with `advanced` (Graph refuses $expand in advanced queries), and the
        GraphError subtypes.
        """
        if not 1 <= top <= 999:
            raise ValueError("top must be between 1 and 999")
        if manager and advanced:
            raise ValueError("Graph does not expand the manager in advanced queries")
        params = {
            "$select": ",".join(select),
            "$top": str(min(top, EXPAND_PAGE) if manager else top),
        }
        if manager:
            params["$expand"] = _EXPAND_MANAGER
        if filter:
            params["$filter"] = filter
        headers = None
        if advanced:
            params["$count"] = "true"
            headers = _EVENTUAL
        async for page in self._pages(self._t.url("/users", params), headers):
            yield [
                EntraUser.from_graph(
                    item,
                    manager=parse_manager(item, expanded=True, fresh=True) if manager else None,
                )
                for item in _items(page)
            ]

    async def get_user(
        self, key: str, *, select: Sequence[str] = USER_SELECT, manager: bool = False
    ) -> EntraUser | None:
        """One user by object id or userPrincipalName (`/users/{key}`), or None when Graph does
        not know it (404); `manager` expands its manager as `iter_user_pages` does. Raises the
        other GraphError subtypes."""
        params = {"$select": ",".join(select)}
        if manager:
            params["$expand"] = _EXPAND_MANAGER
        url = self._t.url(f"/users/{segment(key)}", params)
        try:
            item = await self._get(url)
        except GraphNotFound:
            return None
        if not isinstance(item.get("id"), str):
            raise GraphError("Graph returned a user without an id")
        boss = parse_manager(item, expanded=True, fresh=True) if manager else None
        return EntraUser.from_graph(item, manager=boss)

    async def find_user_by_mail(
        self, mail: str, *, select: Sequence[str] = USER_SELECT, manager: bool = False
    ) -> EntraUser | None:
        """The first user whose `mail` is `mail` (Graph compares without case), or None."""
        quoted = mail.replace("'", "''")
        found: list[EntraUser] = []
        async for page in self.iter_user_pages(
            select=select, top=2, filter=f"mail eq '{quoted}'", manager=manager
        ):
            found.extend(page)
        return found[0] if found else None

    async def count_users(self, filter: str | None = None) -> int:
        """`/users/$count` (an eventually consistent advanced query). Raises GraphError subtypes."""
        params = {"$filter": filter} if filter else None
        body = await self._t.request(
            "GET", self._t.url("/users/$count", params), headers=_EVENTUAL, text=True
        )
        try:
            return int(str(body).strip().lstrip("\ufeff"))
        except ValueError:
            raise GraphError("Graph returned a non-numeric $count") from None

    async def delta_pages(
        self, delta_link: str | None, *, select: Sequence[str] = USER_SELECT, manager: bool = False
    ) -> AsyncIterator[DeltaPage]:
        """One delta round over `/users/delta`, starting fresh when `delta_link` is None (R9).

        `select` applies to a fresh round only (it is encoded in the links). Changed users come
        in full representation: every selected property that has ever been set is present, and
        a property missing from an item was never set, so `EntraUser.from_graph` reading absent
        as None is exact. The last page carries the next `delta_link`; store it only after the
        whole round was applied. `manager` reads `manager@delta` into `EntraUser.manager` (ids
        only, see `parse_manager`): pass it when the round's link was taken with `manager` in
        its `select`. Raises DeltaTokenExpired (start over with None) and the other GraphError
        subtypes.
        """
        fresh = delta_link is None
        if delta_link is None:
            url = self._t.url("/users/delta", {"$select": ",".join(select)} if select else None)
        else:
            url = self._t.link(delta_link)
        while True:
            page = await self._get(url)
            users: list[EntraUser] = []
            removed: list[RemovedUser] = []
            for item in _items(page):
                mark = item.get("@removed")
                if isinstance(mark, dict):
                    removed.append(RemovedUser(id=item["id"], reason=str(mark.get("reason", ""))))
                else:
                    boss = parse_manager(item, expanded=False, fresh=fresh) if manager else None
                    users.append(EntraUser.from_graph(item, manager=boss))
            link = _next(page)
            if link is not None:
                yield DeltaPage(users=users, removed=removed, delta_link=None)
                url = self._t.link(link)
                continue
            final = page.get("@odata.deltaLink")
            if not isinstance(final, str) or not final:
                raise GraphError("Graph ended a delta round without a deltaLink")
            yield DeltaPage(users=users, removed=removed, delta_link=final)
            return

    # -- groups -----------------------------------------------------------------------------

    async def groups_page(
        self, *, search: str | None = None, cursor: str | None = None, top: int = 100
    ) -> tuple[list[EntraGroup], str | None]:
        """One page of groups for the wizard, and the cursor of the next page (or None).

        `cursor` is opaque to callers (it is Graph's nextLink, checked to point at Graph).
        Raises ValueError for `top` outside 1..999, and the GraphError subtypes.
        """
        if not 1 <= top <= 999:
            raise ValueError("top must be between 1 and 999")
        if cursor is not None:
            url = self._t.link(cursor)
        else:
            params = {"$select": ",".join(GROUP_SELECT), "$top": str(top)}
            term = _search_term(search or "")
            if term:
                params["$search"] = f'"displayName:{term}"'
            url = self._t.url("/groups", params)
        page = await self._get(url, _EVENTUAL)  # $search needs it; harmless without
        return [parse_group(item) for item in _items(page)], _next(page)

    async def iter_groups(
        self, *, search: str | None = None, top: int = 999
    ) -> AsyncIterator[list[EntraGroup]]:
        """Every page of groups (optionally matching `search`). Raises like `groups_page`."""
        cursor: str | None = None
        while True:
            groups, cursor = await self.groups_page(search=search, cursor=cursor, top=top)
            yield groups
            if cursor is None:
                return

    async def get_groups(self, ids: Iterable[str]) -> GroupLookup:
        """Look groups up by id through `$batch`; unknown ids are listed in `missing`.

        Raises GraphUnavailable if some lookups stay throttled, and other GraphError subtypes.
        """
        asked = list(dict.fromkeys(ids))
        # Group ids are GUIDs; anything else is unknown without asking (Graph would 400 on it).
        unique = [gid for gid in asked if _GUID.match(gid)]
        requests = [
            BatchRequest(
                id=str(n),
                url=f"/groups/{segment(gid)}?$select={','.join(GROUP_SELECT)}",
            )
            for n, gid in enumerate(unique)
        ]
        groups: list[EntraGroup] = []
        for resp in await self.batch(requests):
            if resp.status == 200 and isinstance(resp.body, dict) and "id" in resp.body:
                groups.append(parse_group(resp.body))
            elif resp.status in RETRY_STATUSES:
                raise GraphUnavailable(
                    "Graph kept throttling group look-ups", status=resp.status, attempts=0
                )
            elif resp.status != 404:
                raise GraphRequestError("Graph refused a group look-up", status=resp.status)
        found = {g.id.lower() for g in groups}
        missing = [gid for gid in asked if gid.lower() not in found]
        return GroupLookup(groups=groups, missing=missing)

    async def transitive_user_ids(self, group_id: str) -> set[str]:
        """Ids of the users in a group, nested groups included (W4 is transitive).

        Raises GraphNotFound if the group does not exist, and the other GraphError subtypes.
        """
        return await self._ids_of(f"/groups/{segment(group_id)}/transitiveMembers", _USER_TYPE)

    async def transitive_group_ids(self, user_id: str) -> set[str]:
        """Ids of the groups a user belongs to, nested groups included
        (`/users/{id}/transitiveMemberOf`; directory roles and administrative units are left
        out). Raises GraphNotFound if the user does not exist, and the other GraphError subtypes.
        """
        return await self._ids_of(f"/users/{segment(user_id)}/transitiveMemberOf", _GROUP_TYPE)

    async def _ids_of(self, path: str, odata_type: str) -> set[str]:
        """The ids of the `odata_type` objects a paged directory-object listing holds."""
        url = self._t.url(path, {"$select": "id", "$top": "999"})
        ids: set[str] = set()
        async for page in self._pages(url):
            ids.update(i["id"] for i in _items(page) if i.get("@odata.type") == odata_type)
        return ids

    async def transitive_user_ids_many(
        self, group_ids: Iterable[str], *, concurrency: int = 4, ignore_missing: bool = False
    ) -> set[str]:
        """Union of `transitive_user_ids` over groups, `concurrency` groups at a time.

        With `ignore_missing`, deleted groups count as empty instead of raising GraphNotFound.
        """
        gate = asyncio.Semaphore(max(1, concurrency))
        union: set[str] = set()

        async def one(gid: str) -> None:
            async with gate:
                try:
                    union.update(await self.transitive_user_ids(gid))
                except GraphNotFound:
                    if not ignore_missing:
                        raise
                    log.info("group %s no longer exists; counted as empty", gid)

        try:
            async with asyncio.TaskGroup() as tg:
                for gid in dict.fromkeys(group_ids):
                    tg.create_task(one(gid))
        except* EntraError as group:
            # Callers catch entra errors, not ExceptionGroups: surface the first failure.
            raise group.exceptions[0] from None
        return union

    async def mailbox_purposes(
        self, user_ids: Iterable[str], *, concurrency: int = 4
    ) -> MailboxPurposes:
        """`userPurpose` of these users' mailboxes, from `GET /users/{id}/mailboxSettings`
        through `$batch` (20 per call, `concurrency` calls at once). Each user's outcome is in
        the result, never raised; raises the transport's GraphError subtypes for an envelope
        that fails beyond the retry policy.
        """
        ids = list(dict.fromkeys(user_ids))
        chunks = [ids[i : i + BATCH_LIMIT] for i in range(0, len(ids), BATCH_LIMIT)]
        gate = asyncio.Semaphore(max(1, concurrency))
        purposes: dict[str, str] = {}
        no_mailbox: set[str] = set()
        denied: set[str] = set()
        failed: set[str] = set()

        async def one(chunk: list[str]) -> None:
            requests = [
                BatchRequest(id=str(n), url=f"/users/{segment(uid)}/mailboxSettings")
                for n, uid in enumerate(chunk)
            ]
            async with gate:
                answers = await self.batch(requests)
            for uid, resp in zip(chunk, answers, strict=True):
                body = resp.body if isinstance(resp.body, dict) else {}
                purpose = body.get("userPurpose")
                if resp.status == 200 and isinstance(purpose, str):
                    purposes[uid] = purpose
                elif resp.status == 404:
                    no_mailbox.add(uid)
                elif resp.status == 403:
                    denied.add(uid)
                else:
                    failed.add(uid)

        try:
            async with asyncio.TaskGroup() as tg:
                for chunk in chunks:
                    tg.create_task(one(chunk))
        except* EntraError as group:
            raise group.exceptions[0] from None
        return MailboxPurposes(
            purposes, frozenset(no_mailbox), frozenset(denied), frozenset(failed)
        )

    # -- $batch -----------------------------------------------------------------------------

    async def batch(self, requests: Sequence[BatchRequest]) -> list[BatchResponse]:
        """Run sub-requests through `$batch`, 20 per call, answers in the order given.

        Sub-requests answered 429/5xx are sent again after the longest Retry-After among them,
        within the retry policy; any still failing are returned with their status. Raises
        ValueError for duplicate ids (Graph compares them case-insensitively), GraphError if a
        response is missing, and the transport's GraphError subtypes for the envelope.
        """
        if self._closed:
            raise RuntimeError("GraphClient is closed")
        return await run_batch(self._t, self._retry, requests)
