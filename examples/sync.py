#!/usr/bin/env python3
"""Preview, then import: a dry run of a connection's sync, what it would change, then the real run.

Only the Python standard library (urllib): the GraphQL API is a POST of JSON to /graphql with
`Authorization: Bearer <key>`. Runs are followed by polling `node(id)`; for live progress use
the `syncProgress` subscription (graphql-transport-ws), as `entrasync client sync` does.

    export ENTRASYNC_URL=http://127.0.0.1:8000 ENTRASYNC_KEY=es_...   # an ADMIN key
    python3 examples/sync.py CONNECTION_ID            # dry run, changes, then the real run
    python3 examples/sync.py CONNECTION_ID --dry-run  # stop after the preview

Exit status: 0 done, 1 a run did not succeed, 2 the API refused a request.
"""

from __future__ import annotations

import json
import os
import sys
import time
import urllib.error
import urllib.request
from typing import Any

URL = os.environ.get("ENTRASYNC_URL", "http://127.0.0.1:8000").rstrip("/") + "/graphql"
KEY = os.environ.get("ENTRASYNC_KEY", "")  # never put the key on the command line

RUN = "id status dryRun fetched created updated unchanged skippedByFilter skippedUnmapped errors errorMessage"


def gql(query: str, **variables: Any) -> dict[str, Any]:
    """POST one operation; returns `data`, or exits with the server's message."""
    request = urllib.request.Request(  # noqa: S310 (the URL is the operator's own server)
        URL,
        data=json.dumps({"query": query, "variables": variables}).encode(),
        headers={"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            body = json.load(response)
    except urllib.error.HTTPError as exc:  # 401, 429, ...: the body says why
        body = json.load(exc)
    if body.get("errors"):
        sys.exit(f"error: {body['errors'][0]['message']}")
    data: dict[str, Any] = body["data"]
    return data


def start(connection_id: str, dry_run: bool) -> dict[str, Any]:
    result = gql(
        f"""mutation($c: ID!, $dry: Boolean!) {{ startSync(input: {{connectionId: $c, dryRun: $dry}}) {{
          __typename ... on SyncRunPayload {{ alreadyRunning run {{ {RUN} }} }}
          ... on Error {{ message }} }} }}""",
        c=connection_id,
        dry=dry_run,
    )["startSync"]
    if result["__typename"] != "SyncRunPayload":  # a typed error: NotFoundError, ...
        print(f"error: {result['__typename']}: {result['message']}", file=sys.stderr)
        sys.exit(2)
    if result["alreadyRunning"]:
        print("a run was already going on: waiting for it instead", file=sys.stderr)
    run: dict[str, Any] = result["run"]
    return run


def wait(run_id: str) -> dict[str, Any]:
    while True:
        run: dict[str, Any] = gql(
            f"query($id: ID!) {{ node(id: $id) {{ ... on SyncRun {{ {RUN} }} }} }}", id=run_id
        )["node"]
        if run["status"] in ("SUCCEEDED", "FAILED", "CANCELLED"):
            return run
        time.sleep(0.5)


def changes(run_id: str) -> list[dict[str, Any]]:
    """Every entry of the run's change log (Relay pages, opaque cursors)."""
    entries: list[dict[str, Any]] = []
    after = None
    while True:
        page = gql(
            """query($run: ID!, $after: String) { changeLog(runId: $run, after: $after) {
                 nodes { action email reason changes } pageInfo { hasNextPage endCursor } } }""",
            run=run_id,
            after=after,
        )["changeLog"]
        entries += page["nodes"]
        if not page["pageInfo"]["hasNextPage"]:
            return entries
        after = page["pageInfo"]["endCursor"]


def report(run: dict[str, Any]) -> None:
    kind = "dry run" if run["dryRun"] else "sync"
    print(
        f"{kind} {run['status']}: fetched {run['fetched']}, created {run['created']}, "
        f"updated {run['updated']}, unchanged {run['unchanged']}, "
        f"skipped {run['skippedByFilter'] + run['skippedUnmapped']}, errors {run['errors']}"
    )
    if run["status"] != "SUCCEEDED":
        print(f"error: {run['errorMessage']}", file=sys.stderr)
        sys.exit(1)


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    if len(args) != 1 or not KEY:
        sys.exit(__doc__)
    connection_id = args[0]

    preview = wait(start(connection_id, dry_run=True)["id"])
    report(preview)
    for entry in changes(preview["id"]):
        if entry["action"] == "SKIP":
            print(f"  would skip   {entry['email'] or '(no email)'}: {entry['reason']}")
        else:
            fields = ", ".join(
                f"{k}: {v[0]!r} -> {v[1]!r}" for k, v in entry["changes"].items() if k != "trims"
            )
            print(f"  would {entry['action'].lower():6} {entry['email']}: {fields}")
    if "--dry-run" in sys.argv:
        return

    report(wait(start(connection_id, dry_run=False)["id"]))


if __name__ == "__main__":
    main()
