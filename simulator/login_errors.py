"""Entra's error shapes: the token endpoint's JSON body, the authorize redirect, the error page."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any

from simulator.wire import entra_timestamp


@dataclass
class EntraError(Exception):
    """One AADSTS error. `status` is the HTTP status at the token endpoint (400, or 401)."""

    error: str
    code: int
    message: str
    status: int = 400
    suberror: str | None = None

    def description(self, correlation_id: str, trace_id: str, now: float) -> str:
        return (
            f"AADSTS{self.code}: {self.message}\r\nTrace ID: {trace_id}\r\n"
            f"Correlation ID: {correlation_id}\r\nTimestamp: {entra_timestamp(now)}"
        )

    def body(self, correlation_id: str | None = None) -> dict[str, Any]:
        """The JSON body Entra's token endpoint sends; correlation_id echoes client-request-id."""
        now = time.time()
        trace_id = str(uuid.uuid4())
        correlation_id = correlation_id or str(uuid.uuid4())
        body: dict[str, Any] = {
            "error": self.error,
            "error_description": self.description(correlation_id, trace_id, now),
            "error_codes": [self.code],
            "timestamp": entra_timestamp(now),
            "trace_id": trace_id,
            "correlation_id": correlation_id,
            "error_uri": f"https://login.microsoftonline.com/error?code={self.code}",
        }
        if self.suberror:
            body["suberror"] = self.suberror
        return body


def missing_parameter(name: str) -> EntraError:
    return EntraError(
        "invalid_request",
        900144,
        f"The request body must contain the following parameter: '{name}'.",
    )


def unknown_tenant(segment: str) -> EntraError:
    return EntraError(
        "invalid_tenant",
        90002,
        f"Tenant '{segment}' not found. Check to make sure you have the correct tenant ID and are "
        "signing into the correct cloud. Check with your subscription administrator, this may happen "
        "if there are no active subscriptions for the tenant.",
    )


def unknown_client(client_id: str, tenant_label: str) -> EntraError:
    return EntraError(
        "unauthorized_client",
        700016,
        f"Application with identifier '{client_id}' was not found in the directory '{tenant_label}'. "
        "This can happen if the application has not been installed by the administrator of the "
        "tenant or consented to by any user in the tenant. You may have sent your authentication "
        "request to the wrong tenant.",
    )


def redirect_mismatch(redirect_uri: str, client_id: str) -> EntraError:
    return EntraError(
        "invalid_request",
        50011,
        f"The redirect URI '{redirect_uri}' specified in the request does not match the redirect "
        f"URIs configured for the application '{client_id}'. Make sure the redirect URI sent in the "
        "request matches one added to your application in the Azure portal. Navigate to "
        "https://aka.ms/redirectUriMismatchError to learn more about how to fix this.",
    )


def consent_required(client_id: str, app_name: str) -> EntraError:
    return EntraError(
        "invalid_grant",
        65001,
        f"The user or administrator has not consented to use the application with ID '{client_id}' "
        f"named '{app_name}'. Send an interactive authorization request for this user and resource.",
        suberror="consent_required",
    )
