"""App registrations known to the simulated Entra (client id, secret, exact redirect URIs, permissions)."""

from __future__ import annotations

from dataclasses import dataclass

# What the product asks for; Entra grants an app's configured permissions on `/.default`.
DEFAULT_DELEGATED: tuple[str, ...] = ("User.Read", "User.Read.All", "GroupMember.Read.All")
DEFAULT_APPLICATION: tuple[str, ...] = ("User.Read.All", "GroupMember.Read.All")


@dataclass
class AppRegistration:
    """One app registration; redirect URIs are matched exactly, as Entra does."""

    client_id: str
    client_secret: str
    redirect_uris: list[str]
    display_name: str = "entrasync"
    delegated_permissions: tuple[str, ...] = DEFAULT_DELEGATED
    application_permissions: tuple[str, ...] = DEFAULT_APPLICATION


DEMO_APP = AppRegistration(
    client_id="11111111-2222-3333-4444-555555555555",
    client_secret="demo-secret-not-real",
    redirect_uris=[
        "http://127.0.0.1:8000/oauth/callback",
        "http://localhost:8000/oauth/callback",
        "http://127.0.0.1:8000/connect/callback",
        "http://localhost:8000/connect/callback",
        "http://127.0.0.1:8000/oauth/adminconsent",
        "http://localhost:8000/oauth/adminconsent",
    ],
    display_name="entrasync demo",
)
