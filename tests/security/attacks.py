"""The isolation attacks (A4): one GraphQL call each, made with account B's ADMIN key on one of
account A's objects and again on an id that never existed; both answers must be identical."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from schema.ids import encode_id
from tests.security.world import World

NEVER = 10**9  # a primary key no test ever reaches

RESULT = "__typename ... on Error { message }"
NODE = """query($id: ID!) { node(id: $id) {
  id
  ... on Site { name }
  ... on EndUser { email firstName }
  ... on TenantConnection { tenantId tenantName configuration { mappings { value } } }
  ... on SyncRun { status created }
} }"""


def _gid(type_name: str, pk: int) -> str:
    return encode_id(type_name, pk)


@dataclass(frozen=True)
class Attack:
    name: str  # test id: the attack and the answer it gets
    query: str
    variables: Callable[[World, bool], dict[str, Any]]  # (world, foreign?) -> variables
    expect: Callable[[dict[str, Any]], bool]  # what a missing object looks like

    def vars(self, world: World, foreign: bool) -> dict[str, Any]:
        return self.variables(world, foreign)


def _pick(foreign: bool, pk: int) -> int:
    return pk if foreign else NEVER


def _typename(field: str, name: str) -> Callable[[dict[str, Any]], bool]:
    return lambda body: ((body.get("data") or {}).get(field) or {}).get("__typename") == name


def _null_node(body: dict[str, Any]) -> bool:
    return body == {"data": {"node": None}}


def _empty(field: str) -> Callable[[dict[str, Any]], bool]:
    return lambda body: ((body.get("data") or {}).get(field) or {}).get("edges") == []


def _not_found_error(body: dict[str, Any]) -> bool:
    errors = body.get("errors") or []
    return body.get("data") is None and [e["extensions"]["code"] for e in errors] == ["NOT_FOUND"]


def _mutation(field: str, input_body: str) -> str:
    return f"mutation($id: ID!) {{ {field}(input: {input_body}) {{ {RESULT} }} }}"


ATTACKS: list[Attack] = [
    # -- global ids through node, one per node type
    Attack(
        "node_site_reads_null",
        NODE,
        lambda w, f: {"id": _gid("Site", _pick(f, w.a_site.id))},
        _null_node,
    ),
    Attack(
        "node_end_user_reads_null",
        NODE,
        lambda w, f: {"id": _gid("EndUser", _pick(f, w.a_user.id))},
        _null_node,
    ),
    Attack(
        "node_tenant_connection_reads_null",
        NODE,
        lambda w, f: {"id": _gid("TenantConnection", _pick(f, w.a_conn.id))},
        _null_node,
    ),
    Attack(
        "node_sync_run_reads_null",
        NODE,
        lambda w, f: {"id": _gid("SyncRun", _pick(f, w.a_run.id))},
        _null_node,
    ),
    # -- every mutation's id inputs
    Attack(
        "update_site_gets_not_found_error",
        _mutation("updateSite", '{id: $id, name: "owned by B"}'),
        lambda w, f: {"id": _gid("Site", _pick(f, w.a_site.id))},
        _typename("updateSite", "NotFoundError"),
    ),
    Attack(
        "create_end_user_in_site_gets_not_found_error",
        _mutation("createEndUser", '{siteId: $id, email: "plant@attacker-b.example"}'),
        lambda w, f: {"id": _gid("Site", _pick(f, w.a_site.id))},
        _typename("createEndUser", "NotFoundError"),
    ),
    Attack(
        "update_end_user_gets_not_found_error",
        _mutation("updateEndUser", '{id: $id, email: "hijack@attacker-b.example"}'),
        lambda w, f: {"id": _gid("EndUser", _pick(f, w.a_user.id))},
        _typename("updateEndUser", "NotFoundError"),
    ),
    Attack(
        "delete_end_user_gets_not_found_error",
        _mutation("deleteEndUser", "{id: $id}"),
        lambda w, f: {"id": _gid("EndUser", _pick(f, w.a_user.id))},
        _typename("deleteEndUser", "NotFoundError"),
    ),
    Attack(
        "start_connect_for_site_gets_not_found_error",
        _mutation("startConnect", "{scope: SITE, siteId: $id}"),
        lambda w, f: {"id": _gid("Site", _pick(f, w.a_site.id))},
        _typename("startConnect", "NotFoundError"),
    ),
    Attack(
        "start_connect_reauthorising_connection_gets_not_found_error",
        _mutation("startConnect", "{connectionId: $id}"),
        lambda w, f: {"id": _gid("TenantConnection", _pick(f, w.a_conn.id))},
        _typename("startConnect", "NotFoundError"),
    ),
    Attack(
        "complete_connect_with_victims_state_gets_sign_in_failed_error",
        "mutation($code: String!, $state: String!) { completeConnect(input: {code: $code, state: $state}) { "
        + RESULT
        + " } }",
        lambda w, f: {
            "code": w.a_sign_in["code"],
            "state": w.a_sign_in["state"] if f else "never-issued-state",
        },
        _typename("completeConnect", "SignInFailedError"),
    ),
    Attack(
        "configure_import_of_connection_gets_not_found_error",
        _mutation(
            "configureImport",
            '{connectionId: $id, classification: OFFICE, mappings: [{value: "Paris", newSiteName: "B loot"}]}',
        ),
        lambda w, f: {"id": _gid("TenantConnection", _pick(f, w.a_conn.id))},
        _typename("configureImport", "NotFoundError"),
    ),
    Attack(
        "configure_import_mapping_to_victims_site_gets_not_found_error",
        "mutation($c: ID!, $id: ID!) { configureImport(input: {connectionId: $c, classification: OFFICE,"
        ' mappings: [{value: "Paris", siteId: $id}]}) { ' + RESULT + " } }",
        lambda w, f: {
            "c": _gid("TenantConnection", w.b_conn.id),
            "id": _gid("Site", _pick(f, w.a_site.id)),
        },
        _typename("configureImport", "NotFoundError"),
    ),
    Attack(
        "start_sync_gets_not_found_error",
        _mutation("startSync", "{connectionId: $id}"),
        lambda w, f: {"id": _gid("TenantConnection", _pick(f, w.a_conn.id))},
        _typename("startSync", "NotFoundError"),
    ),
    Attack(
        "start_dry_run_gets_not_found_error",
        _mutation("startSync", "{connectionId: $id, dryRun: true}"),
        lambda w, f: {"id": _gid("TenantConnection", _pick(f, w.a_conn.id))},
        _typename("startSync", "NotFoundError"),
    ),
    Attack(
        "cancel_sync_gets_not_found_error",
        _mutation("cancelSync", "{runId: $id}"),
        lambda w, f: {"id": _gid("SyncRun", _pick(f, w.a_run.id))},
        _typename("cancelSync", "NotFoundError"),
    ),
    Attack(
        "set_sync_schedule_gets_not_found_error",
        _mutation("setSyncSchedule", "{connectionId: $id, intervalMinutes: 5}"),
        lambda w, f: {"id": _gid("TenantConnection", _pick(f, w.a_conn.id))},
        _typename("setSyncSchedule", "NotFoundError"),
    ),
    Attack(
        "disconnect_gets_not_found_error",
        _mutation("disconnect", "{id: $id}"),
        lambda w, f: {"id": _gid("TenantConnection", _pick(f, w.a_conn.id))},
        _typename("disconnect", "NotFoundError"),
    ),
    Attack(
        "check_connection_gets_not_found_error",
        _mutation("checkConnection", "{id: $id}"),
        lambda w, f: {"id": _gid("TenantConnection", _pick(f, w.a_conn.id))},
        _typename("checkConnection", "NotFoundError"),
    ),
    # -- list filters
    Attack(
        "end_users_filtered_by_site_list_nothing",
        "query($id: ID!) { endUsers(filter: {siteId: $id}) { edges { node { email } } } }",
        lambda w, f: {"id": _gid("Site", _pick(f, w.a_site.id))},
        _empty("endUsers"),
    ),
    Attack(
        "end_users_filtered_by_victims_entra_object_id_list_nothing",
        "query($id: String!) { endUsers(filter: {entraObjectId: $id}) { edges { node { email } } } }",
        lambda w, f: {"id": "a-oid-1" if f else "never-an-object-id"},
        _empty("endUsers"),
    ),
    Attack(
        "end_users_searched_for_victims_email_list_nothing",
        "query($s: String!) { endUsers(filter: {search: $s}) { edges { node { email } } } }",
        lambda w, f: {"s": "ceo@victim-a" if f else "never-an-email"},
        _empty("endUsers"),
    ),
    Attack(
        "sync_runs_filtered_by_connection_list_nothing",
        "query($id: ID!) { syncRuns(connectionId: $id) { edges { node { id status } } } }",
        lambda w, f: {"id": _gid("TenantConnection", _pick(f, w.a_conn.id))},
        _empty("syncRuns"),
    ),
    Attack(
        "change_log_of_run_gets_not_found",
        "query($id: ID!) { changeLog(runId: $id) { edges { node { email changes } } } }",
        lambda w, f: {"id": _gid("SyncRun", _pick(f, w.a_run.id))},
        _not_found_error,
    ),
    # -- the wizard's directory look-ups
    Attack(
        "directory_values_get_not_found_error",
        "query($id: ID!) { directoryValues(connectionId: $id, classification: OFFICE) { "
        + RESULT
        + " ... on DirectoryValues { values { value userCount } } } }",
        lambda w, f: {"id": _gid("TenantConnection", _pick(f, w.a_conn.id))},
        _typename("directoryValues", "NotFoundError"),
    ),
    Attack(
        "directory_groups_get_not_found_error",
        "query($id: ID!) { directoryGroups(connectionId: $id) { "
        + RESULT
        + " ... on DirectoryGroups { groups { id displayName } } } }",
        lambda w, f: {"id": _gid("TenantConnection", _pick(f, w.a_conn.id))},
        _typename("directoryGroups", "NotFoundError"),
    ),
    Attack(
        "directory_user_types_get_not_found_error",
        "query($id: ID!) { directoryUserTypes(connectionId: $id) { "
        + RESULT
        + " ... on UserTypeCounts { members guests } } }",
        lambda w, f: {"id": _gid("TenantConnection", _pick(f, w.a_conn.id))},
        _typename("directoryUserTypes", "NotFoundError"),
    ),
]
