"""`entrasync client`: talk to a running entrasync server from scripts and terminals."""

from __future__ import annotations

import argparse
import asyncio
import os
import stat
import sys
from collections.abc import Sequence
from pathlib import Path

from api.client.commands import COMMANDS
from api.client.errors import EXIT_CODES_HELP, INTERRUPTED, USAGE, ClientError
from api.client.transport import ApiClient

DEFAULT_URL = "http://127.0.0.1:8000"

DESCRIPTION = """\
Talk to a running entrasync server with an API key: list tenant connections, configure an
import from a YAML or JSON file, start a sync (or a dry run) and follow its progress, print a
run's change log, disconnect.

The API key is read from $ENTRASYNC_KEY, or from the file given with --key-file. It is never
accepted as an argument: arguments show in `ps` and in shell history. It is never printed.
"""

EPILOG = f"""\
environment:
  ENTRASYNC_URL  the server (default {DEFAULT_URL}); --url overrides it
  ENTRASYNC_KEY  the API key; --key-file overrides it

{EXIT_CODES_HELP}"""


def _global_options(parser: argparse.ArgumentParser, *, top: bool) -> None:
    """The same options before or after the command; after it, they override."""

    def default(value: object) -> object:
        return value if top else argparse.SUPPRESS

    parser.add_argument(
        "--url",
        default=default(None),
        help=f"the server's address (default: $ENTRASYNC_URL or {DEFAULT_URL})",
    )
    parser.add_argument(
        "--key-file",
        metavar="PATH",
        default=default(None),
        help="read the API key from this file (default: $ENTRASYNC_KEY); '-' reads standard input",
    )
    parser.add_argument(
        "--json",
        action="store_true",
        default=default(False),
        help="print JSON (JSON lines while following a sync) instead of tables and text",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        metavar="SECONDS",
        default=default(30.0),
        help="how long to wait for each answer of the server (default 30); following a sync "
        "is not bounded by it",
    )


def build_parser() -> argparse.ArgumentParser:
    fmt = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(
        prog="entrasync client", description=DESCRIPTION, epilog=EPILOG, formatter_class=fmt
    )
    _global_options(parser, top=True)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, help_: str, description: str = "") -> argparse.ArgumentParser:
        p = sub.add_parser(
            name,
            help=help_,
            description=description or help_,
            epilog=EXIT_CODES_HELP,
            formatter_class=fmt,
        )
        _global_options(p, top=False)
        return p

    add("connections", "list the account's tenant connections (table, or --json)")

    conf = add(
        "configure",
        "configure a connection's import from a YAML or JSON file",
        "Configure a connection's import from a file (replaces the saved configuration).\n\n"
        "The file holds ConfigureImportInput's fields: classification (OFFICE|DEPARTMENT),\n"
        "mappings (value to an existing site by name or id: `site`, `siteId`, `siteName`;\n"
        "or to a new one: `newSiteName`), groupFilter (NONE|ALL_GROUPS|SELECTED),\n"
        "selectedGroupIds, userTypes (MEMBER, GUEST), matchAttribute (UPN|MAIL).\n"
        "Example: examples/import.yaml.",
    )
    conf.add_argument("connection_id", metavar="CONNECTION_ID")
    conf.add_argument("--file", "-f", required=True, metavar="PATH", help="import.yaml or .json")

    sync = add(
        "sync",
        "start a sync (or attach to the running one) and follow its progress",
        "Start a sync of the connection, or attach to the one already running, and follow it\n"
        "to the end: a progress bar on a terminal, a line per event otherwise (JSON lines with\n"
        "--json). Ctrl-C detaches and leaves the run going, unless --cancel-on-interrupt.",
    )
    sync.add_argument("connection_id", metavar="CONNECTION_ID")
    sync.add_argument("--dry-run", action="store_true", help="plan and log only, write no user")
    sync.add_argument("--no-follow", action="store_true", help="print the run id and return")
    sync.add_argument(
        "--cancel-on-interrupt",
        action="store_true",
        help="Ctrl-C cancels the run (after its current batch) instead of detaching",
    )

    appr = add(
        "approve",
        "let a run the mass-change guard paused apply its changes, and follow it",
        "Approve a run the mass-change guard stopped (AWAITING_APPROVAL): it is queued again\n"
        "and runs once without the guard. Needs an ADMIN key. Check first what it would\n"
        "change: entrasync client changes RUN_ID (the paused run's change log).",
    )
    appr.add_argument("run_id", metavar="RUN_ID")
    appr.add_argument("--no-follow", action="store_true", help="return once approved")
    rej = add("reject", "cancel a run the mass-change guard paused (it wrote nothing)")
    rej.add_argument("run_id", metavar="RUN_ID")

    runs = add("runs", "list sync runs, oldest first")
    runs.add_argument("--connection", metavar="ID", help="only this connection's runs")
    runs.add_argument(
        "--last", type=int, metavar="N", help="only the newest N runs (1..100), still oldest first"
    )

    changes = add(
        "changes",
        "print a run's change log (field: old → new), all pages",
    )
    changes.add_argument("run_id", metavar="RUN_ID")
    changes.add_argument(
        "--action",
        choices=("CREATE", "UPDATE", "SKIP", "REMOVED", "INACTIVE", "ACTIVE", "REVIEW"),
        type=str.upper,
    )
    changes.add_argument("--reason", metavar="CODE", help="a reason code: UNMAPPED, NO_EMAIL, ...")

    pol = add(
        "policies",
        "show a connection's sync policies, or preview (and save) new ones from a file",
        "Without --file: show the connection's sync policies (filters, field rules, lifecycle).\n\n"
        "With --file: preview the policies the file holds (SyncPoliciesInput's fields, e.g.\n"
        "enabledOnly: true, excludeDomains: [partner.com], exclusionPatterns: [svc-*],\n"
        "fieldRules: [{field: department, rule: OVERWRITE}]; fields left out keep their saved\n"
        "value): a dry run followed to its end, whose change log shows what they would change.\n"
        "With --save too, they are saved once the preview succeeded. Example:\n"
        "examples/policies.yaml.",
    )
    pol.add_argument("connection_id", metavar="CONNECTION_ID")
    pol.add_argument("--file", "-f", metavar="PATH", help="policies.yaml or .json")
    pol.add_argument(
        "--save", action="store_true", help="save the policies once their preview succeeded"
    )

    disc = add(
        "disconnect",
        "disconnect a tenant (imported users stay); asks first on a terminal",
    )
    disc.add_argument("connection_id", metavar="CONNECTION_ID")
    disc.add_argument("--yes", "-y", action="store_true", help="do not ask for confirmation")
    return parser


def read_key(key_file: str | None) -> str:
    """The API key from --key-file or $ENTRASYNC_KEY. Raises ClientError(USAGE)."""
    if key_file is not None:
        if key_file == "-":
            text = sys.stdin.readline()
        else:
            path = Path(key_file)
            try:
                mode = path.stat().st_mode
                text = path.read_text(encoding="utf-8")
            except OSError as exc:
                raise ClientError(
                    USAGE, f"cannot read the key file {key_file}: {exc.strerror or exc}"
                ) from None
            except UnicodeDecodeError:
                raise ClientError(USAGE, f"the key file {key_file} is not UTF-8 text") from None
            if mode & (stat.S_IRWXG | stat.S_IRWXO):
                print(
                    f"warning: {key_file} is readable by other users; chmod 600 it",
                    file=sys.stderr,
                )
        lines = text.strip().splitlines()
        key = lines[0].strip() if lines else ""
        if not key:
            raise ClientError(USAGE, f"the key file {key_file} is empty")
        return key
    key = os.environ.get("ENTRASYNC_KEY", "").strip()
    if not key:
        raise ClientError(USAGE, "no API key: set ENTRASYNC_KEY or pass --key-file PATH")
    return key


async def amain(argv: Sequence[str] | None = None) -> int:
    """Run one command; returns the exit code (also for usage errors and --help)."""
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # argparse: --help (0) or a usage error (2)
        return exc.code if isinstance(exc.code, int) else USAGE
    try:
        if not args.timeout > 0:
            raise ClientError(USAGE, "--timeout must be more than 0 seconds")
        url = args.url or os.environ.get("ENTRASYNC_URL") or DEFAULT_URL
        key = read_key(args.key_file)
        async with ApiClient(url, key, args.timeout) as api:
            return await COMMANDS[args.command](args, api)
    except ClientError as exc:
        print(f"entrasync client: {exc.message}", file=sys.stderr, flush=True)
        return exc.exit_code


def main(argv: Sequence[str] | None = None) -> int:
    try:
        return asyncio.run(amain(argv))
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return INTERRUPTED
