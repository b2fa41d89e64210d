#!/usr/bin/env bash
# Start a sync of a connection with curl, then poll the run until it has finished.
#
#   export ENTRASYNC_URL=http://127.0.0.1:8000 ENTRASYNC_KEY=es_...   # an ADMIN key
#   examples/sync.sh CONNECTION_ID [--dry-run]
#
# Needs bash and curl; reads JSON with jq when it is installed, else with python3 (JQ= forces
# python3). The key goes to curl through a file descriptor, never on its command line (`ps`).
# Exit status: 0 the run succeeded, 1 it failed or was cancelled, 2 the API refused a request.
set -euo pipefail

url="${ENTRASYNC_URL:-http://127.0.0.1:8000}"
url="${url%/}/graphql"
connection="${1:?usage: sync.sh CONNECTION_ID [--dry-run]}"
dry_run=false
[[ "${2:-}" == "--dry-run" ]] && dry_run=true
: "${ENTRASYNC_KEY:?set ENTRASYNC_KEY to an API key}"
JQ="${JQ-$(command -v jq || true)}"

# get PATH: print the value at PATH (like .data.startSync.run.id) of the JSON on stdin.
get() {
  if [[ -n "$JQ" ]]; then
    "$JQ" -rc "$1 | if . == null then empty else . end"
  else
    python3 -c 'import json, sys
value = json.load(sys.stdin)
for key in sys.argv[1].strip(".").split("."):
    value = value.get(key) if isinstance(value, dict) else None
print("" if value is None else value if isinstance(value, str) else json.dumps(value))' "$1"
  fi
}

# gql BODY: POST a GraphQL request body; the key is read by curl from a here-document.
gql() {
  curl -sS --max-time 30 "$url" -H 'Content-Type: application/json' \
    -H @- --data-binary "$1" <<<"Authorization: Bearer $ENTRASYNC_KEY"
}

# Global ids are base64: anything else would break the JSON we write around it.
[[ "$connection" =~ ^[A-Za-z0-9+/=_-]+$ ]] || { echo "not a connection id: $connection" >&2; exit 2; }

started=$(gql '{"query":"mutation($c: ID!, $d: Boolean!) { startSync(input: {connectionId: $c, dryRun: $d}) { __typename ... on SyncRunPayload { alreadyRunning run { id } } ... on Error { message } } }","variables":{"c":"'"$connection"'","d":'"$dry_run"'}}')
if [[ "$(get .data.startSync.__typename <<<"$started")" != "SyncRunPayload" ]]; then
  echo "error: $(get .data.startSync.message <<<"$started")$(get .errors <<<"$started")" >&2
  exit 2
fi
run=$(get .data.startSync.run.id <<<"$started")
echo "run $run (dry run: $dry_run, already running: $(get .data.startSync.alreadyRunning <<<"$started"))"

while :; do
  answer=$(gql '{"query":"query($r: ID!) { node(id: $r) { ... on SyncRun { status phase percent fetched created updated unchanged skippedByFilter skippedUnmapped errors errorMessage } } }","variables":{"r":"'"$run"'"}}')
  status=$(get .data.node.status <<<"$answer")
  case "$status" in
    SUCCEEDED|FAILED|CANCELLED) break ;;
    "") echo "error: $(get .errors <<<"$answer")" >&2; exit 2 ;;
  esac
  echo "$status $(get .data.node.phase <<<"$answer") $(get .data.node.percent <<<"$answer")%"
  sleep "${POLL_SECONDS:-1}"
done

for field in fetched created updated unchanged skippedByFilter skippedUnmapped errors; do
  printf '%s=%s ' "$field" "$(get ".data.node.$field" <<<"$answer")"
done
echo
echo "$status"
if [[ "$status" != "SUCCEEDED" ]]; then
  echo "error: $(get .data.node.errorMessage <<<"$answer")" >&2
  exit 1
fi
