"""Issue 6's managerEmail in delta rounds: manager ids from `manager@delta` resolved to addresses.

`/users/delta` cannot expand the manager: it names the manager by id only. Before a delta
round's batch is planned, each id is resolved, without a round trip per user, from (1) the users
of the same round, (2) the end users of the scope linked to that Entra object (their
`entra_last_email` is the address Entra gave under the connection's match attribute), and
(3) one batched Graph look-up by id for the rest (`/users?$filter=id in (...)`). An id none of
them knows (an organizational contact as manager, or one deleted meanwhile) stays unresolved,
and the planner then leaves the stored manager's email as it is.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterable
from dataclasses import replace

from entra.graph import GraphClient
from entra.types import MANAGER_SELECT, EntraUser, ManagerRef
from models import TenantConnection
from services.sync.config import SyncConfig
from services.sync.delta import Chunk, users_by_id
from services.sync.scope import IN_CHUNK, scope_of

log = logging.getLogger("entrasync.sync")


def _unresolved(users: Iterable[EntraUser]) -> set[str]:
    return {
        u.manager.id
        for u in users
        if u.manager is not None and u.manager.id and not u.manager.resolved
    }


class ManagerResolver:
    """Resolves the manager ids of a round's batches; one per round.

    With `remember` (delta rounds), every user of the round is kept as a possible manager of a
    later batch's users (id, mail and UPN only). Full rounds expand the manager on /users and
    need nothing but a fallback.
    """

    def __init__(
        self,
        conn: TenantConnection,
        config: SyncConfig,
        graph: GraphClient,
        *,
        remember: bool = True,
    ) -> None:
        self._conn = conn
        self._config = config
        self._graph = graph
        self._remember = remember
        self._known: dict[str, ManagerRef] = {}
        self.looked_up = 0  # ids asked of Graph (for tests and logs)

    async def resolve(self, users: list[EntraUser]) -> list[EntraUser]:
        """The users with every manager id resolved that can be. Raises the GraphError
        subtypes of the look-up by id."""
        if self._remember:
            for user in users:
                self._known[user.id] = ManagerRef(user.id, user.mail, user.user_principal_name)
        wanted = _unresolved(users)
        if not wanted:
            return users
        found = {i: self._known[i] for i in wanted if i in self._known}
        missing = wanted - found.keys()
        if missing:
            found.update(await self._stored(missing))
            missing -= found.keys()
        if missing:
            found.update(await self._look_up(missing))
            missing -= found.keys()
        if missing:
            log.info(
                "%d managers not found by id; their reports keep their manager's email",
                len(missing),
            )
        return [
            replace(u, manager=found[u.manager.id])
            if u.manager is not None and u.manager.id in found and not u.manager.resolved
            else u
            for u in users
        ]

    async def _stored(self, ids: set[str]) -> dict[str, ManagerRef]:
        """Managers that are end users of the scope linked to this tenant: the address Entra gave
        them last (under the match attribute, as the planner derives it)."""
        wanted = sorted(ids)
        by_mail = self._config.match_attribute == "MAIL"
        found: dict[str, ManagerRef] = {}
        for start in range(0, len(wanted), IN_CHUNK):
            rows = await (
                scope_of(self._conn)
                .filter(
                    entra_tenant_id=self._config.tenant_id,
                    entra_object_id__in=wanted[start : start + IN_CHUNK],
                    entra_last_email__not_isnull=True,
                )
                .values_list("entra_object_id", "entra_last_email")
            )
            for object_id, address in rows:
                found[str(object_id)] = (
                    ManagerRef(str(object_id), mail=str(address))
                    if by_mail
                    else ManagerRef(str(object_id), user_principal_name=str(address))
                )
        return found

    async def _look_up(self, ids: set[str]) -> dict[str, ManagerRef]:
        self.looked_up += len(ids)
        found: dict[str, ManagerRef] = {}
        async for batch in users_by_id(self._graph, sorted(ids), MANAGER_SELECT):
            for user in batch:
                found[user.id] = ManagerRef(user.id, user.mail, user.user_principal_name)
                if self._remember:
                    self._known[user.id] = found[user.id]
        return found


async def resolve_managers(
    source: AsyncIterator[Chunk], resolver: ManagerResolver
) -> AsyncIterator[Chunk]:
    """The chunks of `source` with their users' manager ids resolved."""
    async for chunk in source:
        if chunk.users:
            chunk = replace(chunk, users=await resolver.resolve(chunk.users))
        yield chunk
