"""The web console: static files under api/console/, served at /console with a strict CSP.

The console is a client of the public GraphQL API like any other (fetch with a bearer key, and
graphql-transport-ws); this module only serves its files.
"""

from __future__ import annotations

from pathlib import Path

from starlette.datastructures import MutableHeaders
from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CONSOLE_DIR = Path(__file__).with_name("console")

# No inline script or style, nothing from another origin; the API is same-origin (fetch and ws).
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self' ws: wss:; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)

HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    # Revalidate every time (ETag), so an upgraded server never runs a stale script.
    "Cache-Control": "no-cache",
}


class _SecurityHeaders:
    """Adds HEADERS to every response of the wrapped app (redirects and 404s included)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in HEADERS.items():
                    headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)


def console_routes() -> list[BaseRoute]:
    """`/console` (redirects to `/console/`) and its files."""
    files = StaticFiles(directory=CONSOLE_DIR, html=True)
    return [Mount("/console", app=_SecurityHeaders(files), name="console")]
