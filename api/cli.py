"""The `entrasync` command: serve, worker, scheduler, migrate, accounts, api-keys, demo, simulator."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence

from api.db import DatabaseNotMigrated, close_database, migrate, open_database
from api.logs import configure_logging
from api.settings import Settings
from models import AccountMode, Role


def _serve(settings: Settings) -> int:
    import uvicorn

    from api.app import create_app, server_options

    # Refuse an unmigrated database before binding the port, with the message a person needs.
    asyncio.run(_check_database(settings))
    uvicorn.run(
        create_app(settings), host=settings.host, port=settings.port, **server_options(settings)
    )
    return 0


async def _check_database(settings: Settings) -> None:
    """Raises DatabaseNotMigrated when migrations are pending."""
    await open_database(settings.resolved_database_url)
    await close_database()


async def _migrate(settings: Settings) -> int:
    applied = await migrate(settings.resolved_database_url)
    print(f"applied {len(applied)} migration(s)" + (f": {', '.join(applied)}" if applied else ""))
    return 0


async def _create_account(settings: Settings, name: str, mode: str) -> int:
    from services.api_keys import create_account

    await open_database(settings.resolved_database_url)
    try:
        account = await create_account(name, AccountMode(mode))
    finally:
        await close_database()
    print(account.id)
    return 0


async def _create_key(settings: Settings, account: int, role: str, name: str) -> int:
    from services.api_keys import create_api_key
    from services.errors import NotFound

    await open_database(settings.resolved_database_url)
    try:
        issued = await create_api_key(account, Role(role), name)
    except NotFound:
        print(f"entrasync: account {account} not found", file=sys.stderr)
        return 2
    finally:
        await close_database()
    # Printed once, never stored in clear: the caller must keep it.
    print(issued.secret)
    return 0


async def _scheduler(settings: Settings) -> int:
    """A standalone scheduler process (R4); several may run at once (see services/scheduler.py)."""
    import signal

    from api.runtime import open_runtime
    from services.scheduler import run_scheduler

    await open_database(settings.resolved_database_url)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        async with open_runtime(settings) as rt:
            print(f"scheduler running every {settings.scheduler_interval_seconds:g}s", flush=True)
            await run_scheduler(rt, every=settings.scheduler_interval_seconds, stop=stop)
    finally:
        await close_database()
    return 0


async def _worker(settings: Settings, concurrency: int | None) -> int:
    """A worker process: executes the runs that API processes queue in Redis (R1, R6)."""
    import signal

    from api.worker import run_worker

    if not settings.redis_url:
        print("entrasync: the worker needs ENTRASYNC_REDIS_URL (the run queue)", file=sys.stderr)
        return 2
    if concurrency is not None:
        settings = settings.model_copy(update={"worker_concurrency": concurrency})
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await run_worker(settings, stop)
    return 0


async def _rotate_key(settings: Settings) -> int:
    """C3: re-encrypt stored tokens under the first key of ENTRASYNC_ENCRYPTION_KEY."""
    from api.runtime import ConfigurationError, load_cipher
    from services.keys import rotate_token_encryption

    try:
        cipher = load_cipher(settings)
    except ConfigurationError as exc:
        print(f"entrasync: {exc}", file=sys.stderr)
        return 2
    await open_database(settings.resolved_database_url)
    try:
        count = await rotate_token_encryption(cipher)
    finally:
        await close_database()
    print(f"re-encrypted {count} value(s) under key {cipher.primary_kid}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="entrasync", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("serve", help="run the API server (ENTRASYNC_* settings)")
    sub.add_parser("migrate", help="apply pending database migrations")
    sub.add_parser(
        "rotate-key",
        help="re-encrypt stored tokens under the first ENTRASYNC_ENCRYPTION_KEY key (then drop the old ones)",
    )
    sub.add_parser(
        "scheduler",
        help="run the sync scheduler alone (with ENTRASYNC_SCHEDULER=off on API processes)",
    )

    worker = sub.add_parser(
        "worker",
        help="execute queued sync runs (ENTRASYNC_WORKERS=external on API processes; needs Redis)",
    )
    worker.add_argument(
        "--concurrency",
        type=int,
        choices=range(1, 65),
        metavar="N",
        help="runs executed at once (default: ENTRASYNC_WORKER_CONCURRENCY, 4)",
    )

    accounts = sub.add_parser("accounts", help="manage accounts").add_subparsers(
        dest="action", required=True
    )
    create = accounts.add_parser("create", help="create an account and print its id")
    create.add_argument("--name", required=True)
    create.add_argument(
        "--mode", choices=[m.value for m in AccountMode], default=AccountMode.IT_DEPARTMENT.value
    )

    keys = sub.add_parser("api-keys", help="manage API keys").add_subparsers(
        dest="action", required=True
    )
    key = keys.add_parser("create", help="create an API key and print it (shown once)")
    key.add_argument("--account", type=int, required=True)
    key.add_argument("--role", choices=[r.value for r in Role], default=Role.ADMIN.value)
    key.add_argument("--name", default="")

    demo = sub.add_parser(
        "demo", help="run the server on SQLite with a demo account and a simulated tenant"
    )
    demo.add_argument("--port", type=int, default=8000)
    demo.add_argument("--simulator-port", type=int, default=8765)
    demo.add_argument("--users", type=int, default=250)
    demo.add_argument("--data-dir", default="data/demo")

    sub.add_parser("client", help="talk to a running server with an API key (see `client --help`)")
    sim = sub.add_parser("simulator", help="run the Microsoft simulator", add_help=False)
    sim.add_argument("args", nargs=argparse.REMAINDER)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["client"]:  # the API client has its own parser and exit codes (api/client/)
        from api.client import main as client_main

        return client_main(argv[1:])
    args = build_parser().parse_args(argv)
    settings = Settings()
    configure_logging(json_format=settings.json_logs, level=settings.log_level)
    try:
        if args.command == "serve":
            return _serve(settings)
        if args.command == "scheduler":
            return asyncio.run(_scheduler(settings))
        if args.command == "worker":
            return asyncio.run(_worker(settings, args.concurrency))
        if args.command == "migrate":
            return asyncio.run(_migrate(settings))
        if args.command == "rotate-key":
            return asyncio.run(_rotate_key(settings))
        if args.command == "accounts":
            return asyncio.run(_create_account(settings, args.name, args.mode))
        if args.command == "api-keys":
            return asyncio.run(_create_key(settings, args.account, args.role, args.name))
        if args.command == "demo":
            from api.demo import run_demo

            return run_demo(
                port=args.port,
                simulator_port=args.simulator_port,
                users=args.users,
                data_dir=args.data_dir,
            )
        if args.command == "simulator":
            from simulator.cli import main as simulator_main

            return int(simulator_main(args.args))
    except DatabaseNotMigrated as exc:
        print(f"entrasync: {exc}", file=sys.stderr)
        return 2
    return 1


if __name__ == "__main__":
    raise SystemExit(main())
