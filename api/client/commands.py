"""The commands of `entrasync client`: each takes the parsed arguments and an open ApiClient."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import re
import signal
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any, TextIO

from api.client import importfile
from api.client.errors import (
    INTERRUPTED,
    NOT_FOUND,
    OK,
    RUN_FAILED,
    SERVER,
    USAGE,
    ClientError,
)
from api.client.output import Progress, arrow, counts, dump_json, table, when
from api.client.transport import ApiClient

TERMINAL = ("SUCCEEDED", "FAILED", "CANCELLED")
# The mass-change guard stopped the run before it wrote anything: an admin approves or rejects.
PAUSED = "AWAITING_APPROVAL"
MAX_RECONNECTS = 3

RUN_FIELDS = """id connectionId status trigger dryRun phase fetched created updated unchanged
  skippedByFilter skippedUnmapped errors total percent errorMessage createdAt startedAt finishedAt"""
PROGRESS_FIELDS = """runId status phase dryRun fetched created updated unchanged skippedByFilter
  skippedUnmapped errors total percent errorMessage"""
CONNECTION_FIELDS = """id scope authMode status statusMessage tenantId tenantName connectedBy
  connectedAt syncIntervalMinutes nextSyncAt createdAt site { id name }
  configuration { configuredAt classification groupFilter userTypes matchAttribute }"""
# Every typed error implements Error; a union's own members add the fields our messages name.
ERROR_FIELDS = "... on Error { message }"
CONFIGURE_ERRORS = """... on ValidationError { field } ... on ConnectionNotReadyError { status }
  ... on UnknownGroupsError { groupIds }"""

CONNECTIONS = f"""query($first: Int, $after: String) {{
  tenantConnections(first: $first, after: $after) {{
    nodes {{ {CONNECTION_FIELDS} }} pageInfo {{ hasNextPage endCursor }} }} }}"""
RUNS = f"""query($connectionId: ID, $first: Int, $after: String) {{
  syncRuns(connectionId: $connectionId, first: $first, after: $after) {{
    nodes {{ {RUN_FIELDS} }} pageInfo {{ hasNextPage endCursor }} }} }}"""
LAST_RUNS = f"""query($connectionId: ID, $last: Int) {{
  syncRuns(connectionId: $connectionId, last: $last) {{ nodes {{ {RUN_FIELDS} }} }} }}"""
CHANGES = """query($runId: ID!, $action: ChangeAction, $reason: String, $first: Int, $after: String) {
  changeLog(runId: $runId, action: $action, reason: $reason, first: $first, after: $after) {
    nodes { id action entraObjectId email displayName endUserId siteId reason changes }
    pageInfo { hasNextPage endCursor } } }"""
CONFIGURE = f"""mutation($input: ConfigureImportInput!) {{ configureImport(input: $input) {{
  __typename {ERROR_FIELDS} {CONFIGURE_ERRORS}
  ... on ConfigureImportPayload {{
    connection {{ id tenantName scope }}
    configuration {{ configuredAt classification groupFilter selectedGroupIds userTypes
      matchAttribute mappings {{ value site {{ id name }} }} }} }} }} }}"""
START_SYNC = f"""mutation($input: StartSyncInput!) {{ startSync(input: $input) {{
  __typename {ERROR_FIELDS} ... on ConnectionNotReadyError {{ status }}
  ... on SyncRunPayload {{ alreadyRunning run {{ {RUN_FIELDS} }} }} }} }}"""
CANCEL_SYNC = f"""mutation($input: CancelSyncInput!) {{ cancelSync(input: $input) {{
  __typename {ERROR_FIELDS} ... on SyncRunPayload {{ run {{ id status }} }} }} }}"""
DISCONNECT = f"""mutation($input: ConnectionIdInput!) {{ disconnect(input: $input) {{
  __typename {ERROR_FIELDS} ... on ConnectionPayload {{ connection {{ {CONNECTION_FIELDS} }} }} }} }}"""
POLICY_FIELDS = """lifecycle exemptSharedMailboxes reviewConflicts fieldRules { field rule }
  enabledOnly licensedOnly includeDomains excludeDomains exclusionPatterns"""
POLICIES = f"""query($id: ID!) {{ node(id: $id) {{ __typename
  ... on TenantConnection {{ id syncPolicies {{ {POLICY_FIELDS} }} }} }} }}"""
PREVIEW_POLICIES = f"""mutation($input: PreviewSyncPoliciesInput!) {{
  previewSyncPolicies(input: $input) {{
    __typename {ERROR_FIELDS} ... on ValidationError {{ field }} ... on RunInProgressError {{ runId }}
    ... on PreviewSyncPoliciesPayload {{ run {{ {RUN_FIELDS} }} }} }} }}"""
UPDATE_POLICIES = f"""mutation($input: UpdateSyncPoliciesInput!) {{
  updateSyncPolicies(input: $input) {{
    __typename {ERROR_FIELDS} ... on ValidationError {{ field }}
    ... on ConnectionPayload {{ connection {{ id syncPolicies {{ {POLICY_FIELDS} }} }} }} }} }}"""
PROGRESS = f"subscription($runId: ID!) {{ syncProgress(runId: $runId) {{ {PROGRESS_FIELDS} }} }}"


def _out() -> TextIO:
    return sys.stdout  # looked up at each call: tests capture it


def _err(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


async def _connection(api: ApiClient, connection_id: str) -> dict[str, Any]:
    """The connection, or ClientError(NOT_FOUND)."""
    found = await api.node(connection_id, f"... on TenantConnection {{ {CONNECTION_FIELDS} }}")
    if not found or found.get("__typename") != "TenantConnection":
        raise ClientError(NOT_FOUND, f"connection {connection_id} not found")
    return found


# -- connections --------------------------------------------------------------------------


def _schedule(minutes: object) -> str:
    if not isinstance(minutes, int):
        return "off"
    if minutes % 1440 == 0:
        return f"every {minutes // 1440}d"
    if minutes % 60 == 0:
        return f"every {minutes // 60}h"
    return f"every {minutes}m"


async def connections(args: argparse.Namespace, api: ApiClient) -> int:
    rows = [c async for c in api.paginate(CONNECTIONS, "tenantConnections")]
    last: dict[str, dict[str, Any]] = {}
    if rows:  # runs come oldest first: the last one seen per connection is its latest
        async for run in api.paginate(RUNS, "syncRuns"):
            last[run["connectionId"]] = run
    for c in rows:
        c["lastRun"] = last.get(c["id"])
    out = _out()
    if args.json:
        dump_json(rows, out)
        return OK
    if not rows:
        out.write("no tenant connections\n")
        return OK
    table(
        ("ID", "SCOPE", "SITE", "STATUS", "TENANT", "CONFIGURED", "SCHEDULE", "LAST RUN"),
        [
            (
                c["id"],
                c["scope"],
                (c.get("site") or {}).get("name") or "-",
                c["status"],
                c["tenantName"] or c.get("tenantId") or "-",
                "yes" if (c.get("configuration") or {}).get("configuredAt") else "no",
                _schedule(c.get("syncIntervalMinutes")),
                _run_summary(c["lastRun"]),
            )
            for c in rows
        ],
        out,
    )
    return OK


def _run_summary(run: dict[str, Any] | None) -> str:
    if not run:
        return "-"
    dry = " (dry run)" if run.get("dryRun") else ""
    return f"{run['status']}{dry} {when(run.get('finishedAt') or run.get('createdAt'))}"


# -- configure ----------------------------------------------------------------------------


async def configure(args: argparse.Namespace, api: ApiClient) -> int:
    variables = {"input": await importfile.build_input(api, args.connection_id, args.file)}
    payload = await api.mutate("configureImport", CONFIGURE, variables, "ConfigureImportPayload")
    out = _out()
    if args.json:
        dump_json(
            {"connection": payload["connection"], "configuration": payload["configuration"]}, out
        )
        return OK
    conf = payload["configuration"]
    conn = payload["connection"]
    out.write(f"configured {conn['id']} ({conn['tenantName'] or conn['scope']})\n")
    if conf.get("classification"):
        out.write(f"  classification: {conf['classification']}\n")
    for m in conf.get("mappings") or []:
        site = m.get("site") or {}
        out.write(f"  {m['value']}{arrow(out)}{site.get('name', '?')} ({site.get('id', '?')})\n")
    groups = conf["groupFilter"]
    if conf.get("selectedGroupIds"):
        groups += f" ({len(conf['selectedGroupIds'])} groups)"
    out.write(f"  groups: {groups}\n")
    out.write(f"  user types: {', '.join(conf['userTypes'])}\n")
    out.write(f"  match attribute: {conf['matchAttribute']}\n")
    return OK


# -- sync ---------------------------------------------------------------------------------


def _as_progress(run: dict[str, Any]) -> dict[str, Any]:
    keys = PROGRESS_FIELDS.split()
    return {"runId": run["id"], **{k: run.get(k) for k in keys if k != "runId"}}


async def _follow(api: ApiClient, run_id: str, progress: Progress) -> dict[str, Any]:
    """Show each progress event until the run ends; returns the last one (terminal).

    A dropped websocket is opened again (the subscription starts with the current state).
    """
    failures = 0
    while True:
        try:
            async for data in api.subscribe(PROGRESS, {"runId": run_id}):
                failures = 0
                event: dict[str, Any] = data["syncProgress"]
                progress.event(event)
                if event["status"] in TERMINAL or event["status"] == PAUSED:
                    return event
        except ClientError as exc:
            if exc.exit_code != SERVER or failures >= MAX_RECONNECTS:
                raise
            failures += 1
            await asyncio.sleep(min(2.0**failures, 10.0))
            continue
        # Completed without a final state (a restarting server): read the run itself.
        run = await api.node(run_id, f"... on SyncRun {{ {RUN_FIELDS} }}")
        if run is None:
            raise ClientError(NOT_FOUND, f"run {run_id} not found")
        if run["status"] in TERMINAL or run["status"] == PAUSED:
            final = _as_progress(run)
            progress.event(final)
            return final


async def _interruptible(
    make: Callable[[], Awaitable[dict[str, Any]]], interrupts: list[int]
) -> dict[str, Any] | None:
    """Await `make()`; None when Ctrl-C came (counted in interrupts[0])."""
    loop = asyncio.get_running_loop()
    task = asyncio.ensure_future(make())
    seen = interrupts[0]

    def on_sigint() -> None:
        interrupts[0] += 1
        task.cancel()

    installed = False
    with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
        loop.add_signal_handler(signal.SIGINT, on_sigint)
        installed = True
    try:
        return await task
    except asyncio.CancelledError:
        if interrupts[0] == seen:
            raise  # cancelled from outside, not by Ctrl-C
        return None
    finally:
        if installed:
            loop.remove_signal_handler(signal.SIGINT)


async def sync(args: argparse.Namespace, api: ApiClient) -> int:
    out = _out()
    variables = {"input": {"connectionId": args.connection_id, "dryRun": args.dry_run}}
    payload = await api.mutate("startSync", START_SYNC, variables, "SyncRunPayload")
    run, attached = payload["run"], payload["alreadyRunning"]
    run_id = run["id"]
    kind = "dry run" if run["dryRun"] else "sync"
    if args.json:
        dump_json({"type": "started", "alreadyRunning": attached, "run": run}, out, lines=True)
    elif attached:
        note = ""
        if run["dryRun"] != args.dry_run:
            note = " (not a dry run)" if args.dry_run else " (a dry run)"
        _err(f"a run of this connection is already going on{note}: following {run_id}")
    else:
        _err(f"started {kind} {run_id}")
    if args.no_follow:
        if not args.json:
            out.write(f"{run_id}\n")
        return OK

    tty = out.isatty()
    progress = Progress(out, tty=tty, json_lines=args.json)
    started = time.monotonic()
    interrupts = [0]
    try:
        final = await _interruptible(lambda: _follow(api, run_id, progress), interrupts)
        if final is None and args.cancel_on_interrupt:
            progress.done()
            _err(f"cancelling {run_id} after its current batch (Ctrl-C again to detach)")
            await api.mutate(
                "cancelSync", CANCEL_SYNC, {"input": {"runId": run_id}}, "SyncRunPayload"
            )
            final = await _interruptible(lambda: _follow(api, run_id, progress), interrupts)
    finally:
        progress.done()
    if final is None:
        _err(f"detached; the run goes on: entrasync client runs, or follow it with its id {run_id}")
        return INTERRUPTED

    elapsed = time.monotonic() - started
    status = final["status"]
    if status == PAUSED:
        return _paused(run_id, final, args.json, out)
    if args.json:
        dump_json({"type": "finished", **final}, out, lines=True)
    else:
        dry = " (dry run)" if final.get("dryRun") else ""
        out.write(f"run {run_id} {status}{dry} in {elapsed:.1f}s\n  {counts(final)}\n")
        if status == "SUCCEEDED":
            what = "what would change" if final.get("dryRun") else "the change log"
            out.write(f"  {what}: entrasync client changes {run_id}\n")
        out.flush()
    if status != "SUCCEEDED":
        reason = final.get("errorMessage") or status.lower()
        _err(f"error: the run ended {status}: {reason}")
        return RUN_FAILED
    return OK


def _paused(run_id: str, final: dict[str, Any], json_lines: bool, out: TextIO) -> int:
    if json_lines:
        dump_json({"type": "paused", **final}, out, lines=True)
    else:
        out.write(f"run {run_id} {PAUSED}: the mass-change guard stopped it before any write\n")
        out.write(f"  would change: {counts(final)}\n")
        out.write(f"  who and how: entrasync client changes {run_id}\n")
        out.write(
            f"  then: entrasync client approve {run_id}  (or: entrasync client reject {run_id})\n"
        )
        out.flush()
    _err(f"error: run {run_id} is waiting for an admin's approval")
    return RUN_FAILED


APPROVE = f"""mutation($input: SyncRunApprovalInput!) {{ approveSyncRun(input: $input) {{
  __typename {ERROR_FIELDS} ... on SyncRunPayload {{ run {{ {RUN_FIELDS} }} }} }} }}"""
REJECT = f"""mutation($input: SyncRunApprovalInput!) {{ rejectSyncRun(input: $input) {{
  __typename {ERROR_FIELDS} ... on SyncRunPayload {{ run {{ {RUN_FIELDS} }} }} }} }}"""


async def approve(args: argparse.Namespace, api: ApiClient) -> int:
    """Let a paused run apply its changes, and follow it to the end like `sync`."""
    payload = await api.mutate(
        "approveSyncRun", APPROVE, {"input": {"runId": args.run_id}}, "SyncRunPayload"
    )
    _err(f"approved {args.run_id}: it runs again, without the mass-change guard")
    if args.no_follow:
        return OK
    out = _out()
    progress = Progress(out, tty=out.isatty(), json_lines=args.json)
    try:
        final = await _follow(api, payload["run"]["id"], progress)
    finally:
        progress.done()
    status = final["status"]
    if args.json:
        dump_json({"type": "finished", **final}, out, lines=True)
    else:
        out.write(f"run {args.run_id} {status}\n  {counts(final)}\n")
        out.flush()
    if status != "SUCCEEDED":
        _err(f"error: the run ended {status}: {final.get('errorMessage') or status.lower()}")
        return RUN_FAILED
    return OK


async def reject(args: argparse.Namespace, api: ApiClient) -> int:
    """Cancel a paused run; it wrote nothing."""
    await api.mutate("rejectSyncRun", REJECT, {"input": {"runId": args.run_id}}, "SyncRunPayload")
    _out().write(f"rejected {args.run_id}: cancelled, nothing was written\n")
    return OK


# -- runs and changes ---------------------------------------------------------------------


async def runs(args: argparse.Namespace, api: ApiClient) -> int:
    variables: dict[str, Any] = {}
    if args.connection:
        await _connection(api, args.connection)
        variables["connectionId"] = args.connection
    if args.last is not None:
        if not 1 <= args.last <= 100:
            raise ClientError(USAGE, "--last must be between 1 and 100")
        page = (await api.execute(LAST_RUNS, {**variables, "last": args.last}))["syncRuns"]
        rows = list(page["nodes"])
    else:
        rows = [r async for r in api.paginate(RUNS, "syncRuns", variables)]
    out = _out()
    if args.json:
        dump_json(rows, out)
        return OK
    if not rows:
        out.write("no runs\n")
        return OK
    table(
        ("RUN", "CONNECTION", "STATUS", "TRIGGER", "DRY", "STARTED", "FINISHED", "COUNTS"),
        [
            (
                r["id"],
                r["connectionId"],
                r["status"],
                r["trigger"],
                "yes" if r["dryRun"] else "no",
                when(r.get("startedAt")),
                when(r.get("finishedAt")),
                f"+{r['created']} ~{r['updated']} ={r['unchanged']}"
                f" skip {r['skippedByFilter'] + r['skippedUnmapped']} err {r['errors']}",
            )
            for r in rows
        ],
        out,
    )
    return OK


def _shown(value: object) -> str:
    if value is None:
        return "(none)"
    text = str(value)
    return repr(text) if text == "" or text != text.strip() else text


def _changes_cell(changes: object, out: TextIO) -> str:
    """One line per field: `field: old → new`; other notes (trims) as they are."""
    if not isinstance(changes, dict) or not changes:
        return ""
    sep = arrow(out)
    lines = []
    for field, value in changes.items():
        if field != "trims" and isinstance(value, list) and len(value) == 2:
            lines.append(f"{field}: {_shown(value[0])}{sep}{_shown(value[1])}")
        elif isinstance(value, list):
            lines.append(f"{field}: {'; '.join(map(str, value))}")
        else:
            lines.append(f"{field}: {value}")
    return "\n".join(lines)


async def changes(args: argparse.Namespace, api: ApiClient) -> int:
    variables: dict[str, Any] = {"runId": args.run_id}
    if args.action:
        variables["action"] = args.action
    if args.reason:
        variables["reason"] = args.reason
    rows = [c async for c in api.paginate(CHANGES, "changeLog", variables)]
    out = _out()
    if args.json:
        dump_json(rows, out)
        return OK
    if not rows:
        out.write("no changes\n")
        return OK
    table(
        ("ACTION", "EMAIL", "NAME", "REASON", "CHANGES"),
        [
            (
                c["action"],
                c["email"] or "-",
                c["displayName"],
                c["reason"] or "",
                _changes_cell(c["changes"], out),
            )
            for c in rows
        ],
        out,
    )
    return OK


# -- disconnect ---------------------------------------------------------------------------


def _confirm(question: str) -> bool:
    print(f"{question} [y/N] ", end="", file=sys.stderr, flush=True)
    answer = sys.stdin.readline()
    return answer.strip().lower() in ("y", "yes")


async def disconnect(args: argparse.Namespace, api: ApiClient) -> int:
    conn = await _connection(api, args.connection_id)
    if not args.yes:
        if not sys.stdin.isatty():
            raise ClientError(USAGE, "disconnect needs confirmation: pass --yes in scripts")
        tenant = conn["tenantName"] or conn.get("tenantId") or "this tenant"
        question = (
            f"Disconnect {tenant} ({args.connection_id})? Its stored sign-in is deleted and its "
            "schedule and running sync stop; imported users stay."
        )
        if not _confirm(question):
            _err("not disconnected")
            return USAGE
    payload = await api.mutate(
        "disconnect", DISCONNECT, {"input": {"id": args.connection_id}}, "ConnectionPayload"
    )
    out = _out()
    if args.json:
        dump_json(payload["connection"], out)
    else:
        c = payload["connection"]
        out.write(
            f"disconnected {c['id']} ({c['tenantName'] or c['scope']}); imported users stay\n"
        )
    return OK


# -- sync policies --------------------------------------------------------------------------


def _write_policies(policies: dict[str, Any], out: TextIO) -> None:
    rules = ", ".join(f"{r['field']} {r['rule']}" for r in policies["fieldRules"])
    for label, value in (
        ("enabled accounts only", "yes" if policies["enabledOnly"] else "no"),
        ("licensed accounts only", "yes" if policies["licensedOnly"] else "no"),
        ("include domains", ", ".join(policies["includeDomains"]) or "-"),
        ("exclude domains", ", ".join(policies["excludeDomains"]) or "-"),
        ("exclusion patterns", ", ".join(policies["exclusionPatterns"]) or "-"),
        ("field rules", rules),
        ("lifecycle", policies["lifecycle"]),
    ):
        out.write(f"  {label}: {value}\n")


async def policies(args: argparse.Namespace, api: ApiClient) -> int:
    """Show the saved sync policies; with --file, preview them (a dry run, followed to its end),
    and with --save too, save them with that preview once it succeeded."""
    out = _out()
    if args.file is None:
        if args.save:
            raise ClientError(USAGE, "--save needs --file: the policies to preview and save")
        found = await api.node(
            args.connection_id, f"... on TenantConnection {{ syncPolicies {{ {POLICY_FIELDS} }} }}"
        )
        if not found or found.get("__typename") != "TenantConnection":
            raise ClientError(NOT_FOUND, f"connection {args.connection_id} not found")
        if args.json:
            dump_json(found["syncPolicies"], out)
        else:
            out.write(f"sync policies of {args.connection_id}\n")
            _write_policies(found["syncPolicies"], out)
        return OK
    # The file's keys in camelCase (snake_case accepted, as in import files); the server
    # validates the values and answers typed errors.
    wanted = {
        re.sub(r"_([a-z])", lambda m: m.group(1).upper(), str(k)): v
        for k, v in importfile.read_file(args.file).items()
    }
    variables = {"input": {"connectionId": args.connection_id, "policies": wanted}}
    payload = await api.mutate(
        "previewSyncPolicies", PREVIEW_POLICIES, variables, "PreviewSyncPoliciesPayload"
    )
    run_id = payload["run"]["id"]
    if not args.json:
        _err(f"started preview {run_id}")
    progress = Progress(out, tty=out.isatty(), json_lines=args.json)
    try:
        final = await _follow(api, run_id, progress)
    finally:
        progress.done()
    if final["status"] != "SUCCEEDED":
        reason = final.get("errorMessage") or final["status"].lower()
        _err(f"error: the preview ended {final['status']}: {reason}; nothing was saved")
        return RUN_FAILED
    saved = None
    if args.save:
        variables["input"]["previewRunId"] = run_id
        saved = await api.mutate(
            "updateSyncPolicies", UPDATE_POLICIES, variables, "ConnectionPayload"
        )
    if args.json:
        dump_json(
            {"preview": final, "saved": saved["connection"]["syncPolicies"] if saved else None}, out
        )
        return OK
    out.write(f"preview {run_id}: {counts(final)}\n")
    out.write(f"  what would change: entrasync client changes {run_id}\n")
    if saved is None:
        out.write("  not saved: run again with --save to preview and save these policies\n")
    else:
        out.write(f"saved the sync policies of {args.connection_id}\n")
        _write_policies(saved["connection"]["syncPolicies"], out)
    return OK


COMMANDS: dict[str, Callable[[argparse.Namespace, ApiClient], Awaitable[int]]] = {
    "connections": connections,
    "configure": configure,
    "sync": sync,
    "approve": approve,
    "reject": reject,
    "runs": runs,
    "changes": changes,
    "disconnect": disconnect,
    "policies": policies,
}
