"""`python -m simulator`: serve simulated tenants until interrupted, printing where and what."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from typing import Literal, cast

from simulator.registration import DEMO_APP
from simulator.server import Simulator, run_simulator
from simulator.tenant import SimTenant, generate_tenant


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="simulator", description="Local stand-in for Microsoft Entra login and Graph v1.0."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--seed", type=int, default=1, help="seed of the first tenant (others +1)")
    parser.add_argument("--users", type=int, default=200, help="users per tenant")
    parser.add_argument("--profile", choices=["small", "large"], default="small")
    parser.add_argument("--tenants", type=int, default=1, help="number of tenants")
    parser.add_argument("--auto-accept", action="store_true", help="skip the consent page")
    parser.add_argument("--page-delay", type=float, default=0.0, help="seconds per Graph page")
    return parser.parse_args(argv)


def build_tenants(args: argparse.Namespace) -> list[SimTenant]:
    profile = cast(Literal["small", "large"], args.profile)
    return [
        generate_tenant(seed=args.seed + n, users=args.users, profile=profile)
        for n in range(args.tenants)
    ]


def describe(sim: Simulator) -> str:
    lines = [
        f"entrasync simulator at {sim.base_url}",
        f"  msal authority: {sim.authority('organizations')} (rewrite https -> http)",
        f"  Graph:          {sim.graph_url}",
        f"  admin API:      {sim.base_url}/_sim/tenants",
        f"  demo app:       client_id={DEMO_APP.client_id} secret={DEMO_APP.client_secret}",
        "  tenants:",
    ]
    for tenant in sim.state.tenants.values():
        lines.append(
            f"    {tenant.domain:<24} {tenant.tenant_id}  {len(tenant.users)} users, "
            f"{len(tenant.groups)} groups, admin {tenant.admin['userPrincipalName']}"
        )
    return "\n".join(lines)


async def serve(args: argparse.Namespace, stop: asyncio.Event | None = None) -> None:
    """Run until `stop` is set (or SIGINT/SIGTERM when none is given)."""
    if stop is None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.add_signal_handler(signum, stop.set)
    async with run_simulator(
        tenants=build_tenants(args), host=args.host, port=args.port, auto_accept=args.auto_accept
    ) as sim:
        sim.state.faults.page_delay = args.page_delay
        print(describe(sim), flush=True)
        await stop.wait()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        asyncio.run(serve(args))
    except KeyboardInterrupt:
        pass
    except OSError as exc:
        print(f"simulator: {exc}", file=sys.stderr)
        return 1
    return 0
