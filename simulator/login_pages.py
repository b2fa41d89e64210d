"""The few HTML pages a browser sees on the simulated login: consent, error, and form_post."""

from __future__ import annotations

from html import escape

from aiohttp import web

_STYLE = """
body{font-family:"Segoe UI",system-ui,sans-serif;background:#f2f2f2;margin:0}
main{max-width:440px;margin:48px auto;background:#fff;padding:36px 44px;box-shadow:0 2px 6px #0003}
h1{font-size:22px;font-weight:600;margin:8px 0 16px} .who{color:#555;font-size:14px}
ul{padding-left:20px} li{margin:6px 0} .sim{color:#a4262c;font-size:12px;margin-top:24px}
button{font-size:15px;padding:6px 24px;margin-right:8px;border:1px solid #8a8886;background:#fff}
button.primary{background:#0067b8;color:#fff;border-color:#0067b8} select{font-size:15px;padding:4px}
pre{white-space:pre-wrap;font-size:12px;background:#faf9f8;padding:8px}
"""


def _page(title: str, body: str, status: int = 200) -> web.Response:
    html = (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>'
        f"<style>{_STYLE}</style></head><body><main>{body}"
        '<p class="sim">Simulated Microsoft sign-in (entrasync simulator). No real account is used.</p>'
        "</main></body></html>"
    )
    return web.Response(text=html, content_type="text/html", status=status)


def consent_page(
    *,
    action: str,
    pending_id: str,
    app_name: str,
    permissions: list[str],
    signed_in_as: str,
    tenants: list[tuple[str, str]] | None,
    selected: str | None,
    admin: bool,
) -> web.Response:
    """Accept/Cancel page; `tenants` (id, label) adds a tenant picker for organizations/common."""
    items = "".join(f"<li>{escape(p)}</li>" for p in permissions) or "<li>Sign you in</li>"
    picker = ""
    if tenants:
        options = "".join(
            f'<option value="{escape(tid)}"{" selected" if tid == selected else ""}>{escape(label)}</option>'
            for tid, label in tenants
        )
        picker = f'<p><label>Organization <select name="tenant">{options}</select></label></p>'
    scope_note = "on behalf of your organization" if admin else "for your account"
    body = (
        f'<p class="who">Signed in as {escape(signed_in_as)}</p>'
        f"<h1>Permissions requested</h1><p><b>{escape(app_name)}</b> would like to, {scope_note}:</p>"
        f'<ul>{items}</ul><form method="post" action="{escape(action)}">'
        f'<input type="hidden" name="pending" value="{escape(pending_id)}">{picker}'
        '<button class="primary" name="decision" value="accept" type="submit">Accept</button>'
        '<button name="decision" value="cancel" type="submit">Cancel</button></form>'
    )
    return _page("Permissions requested", body)


def error_page(description: str, status: int = 400) -> web.Response:
    """What Entra shows instead of redirecting when the redirect URI itself can't be trusted."""
    body = (
        f"<h1>Sorry, but we're having trouble signing you in.</h1><pre>{escape(description)}</pre>"
    )
    return _page("Sign in error", body, status=status)


def form_post_page(redirect_uri: str, params: dict[str, str]) -> web.Response:
    """`response_mode=form_post`: an auto-submitting form that POSTs the result to the app."""
    fields = "".join(
        f'<input type="hidden" name="{escape(k)}" value="{escape(v)}">' for k, v in params.items()
    )
    body = (
        f'<form method="post" action="{escape(redirect_uri)}" id="f">{fields}'
        '<noscript><button type="submit">Continue</button></noscript></form>'
        "<script>document.getElementById('f').submit()</script>"
    )
    return _page("Working...", body)
