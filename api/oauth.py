"""The browser side of the connect flow: Microsoft redirects here with code and state (C2)."""

from __future__ import annotations

import html

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from services.connections import complete_admin_consent, complete_connect
from services.errors import DomainError
from services.runtime import Runtime

_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>entrasync</title>
<style>body{{font-family:system-ui,sans-serif;max-width:36rem;margin:4rem auto;color:#222}}
.ok{{color:#0a6b2d}}.err{{color:#a4000f}}</style></head>
<body><h1 class="{cls}">{title}</h1><p>{text}</p></body></html>"""


def _page(title: str, text: str, *, ok: bool, status: int = 200) -> HTMLResponse:
    body = _PAGE.format(cls="ok" if ok else "err", title=html.escape(title), text=html.escape(text))
    return HTMLResponse(
        body,
        status_code=status,
        headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"},
    )


_PARAMS = {
    "code",
    "state",
    "error",
    "error_description",
    "session_state",
    "admin_consent",
    "tenant",
    "scope",
}


def _params(request: Request) -> dict[str, str]:
    return {k: v[:4096] for k, v in request.query_params.items() if k in _PARAMS}


def _connected(tenant: str | None) -> HTMLResponse:
    name = tenant or "the tenant"
    return _page(
        "Connected", f"entrasync is connected to {name}. You can close this window.", ok=True
    )


async def oauth_callback(request: Request) -> Response:
    """Complete a sign-in started with startConnect; the single-use state is the proof.

    For an app-only connection the browser goes on to Microsoft's admin consent.
    """
    rt: Runtime = request.app.state.runtime
    try:
        conn, next_url = await complete_connect(rt, None, _params(request))
    except DomainError as exc:
        return _page("Not connected", exc.message, ok=False, status=400)
    if next_url is not None:
        return RedirectResponse(next_url, status_code=302, headers={"Cache-Control": "no-store"})
    return _connected(conn.tenant_name or conn.entra_tenant_id)


async def admin_consent_callback(request: Request) -> Response:
    """Complete an app-only connection after Microsoft's admin consent."""
    rt: Runtime = request.app.state.runtime
    try:
        conn = await complete_admin_consent(rt, _params(request))
    except DomainError as exc:
        return _page("Not connected", exc.message, ok=False, status=400)
    return _connected(conn.tenant_name or conn.entra_tenant_id)
