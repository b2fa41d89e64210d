"""Webhook URLs: which an admin may register, and which addresses a delivery may connect to.

The SSRF stance. A webhook makes this server send requests where an admin says, so:

- only `https://` URLs, except `http://` to loopback (localhost, 127.0.0.0/8, ::1) for local
  receivers and tests; no credentials in the URL, no fragment;
- at registration, an IP literal must be a public address (loopback when the policy allows it,
  private networks only when `allow_private_networks` is set);
- at every attempt the host name is resolved again and *every* address it resolves to must pass
  the same check; the request then goes to the checked address (the name still used for TLS
  and the Host header), so a DNS answer that changes between check and connect (rebinding)
  cannot redirect it;
- redirects are never followed, and receivers' responses are never shown beyond a status and
  a short excerpt.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass

from yarl import URL

from services.errors import InvalidInput
from services.webhooks.policy import WebhookPolicy

MAX_URL_LENGTH = 2048
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class AddressRefused(Exception):
    """The URL's host is (or resolves to) an address that webhooks may not reach."""


class ResolveFailed(Exception):
    """The URL's host name did not resolve (possibly transient: the attempt is retried)."""


@dataclass(frozen=True, slots=True)
class PinnedTarget:
    """Where one attempt goes: the URL with its host replaced by a checked address."""

    url: URL
    host_header: str
    server_hostname: str | None


def _ip(host: str) -> IPAddress | None:
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def _is_loopback_name(host: str) -> bool:
    host = host.rstrip(".").lower()
    return host == "localhost" or host.endswith(".localhost")


def address_refusal(ip: IPAddress, policy: WebhookPolicy) -> str | None:
    """Why a webhook may not connect to `ip`, or None when it may."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_loopback:
        return None if policy.allow_loopback else "loopback addresses are not allowed"
    if ip.is_link_local:
        return "link-local addresses are never allowed"
    if ip.is_multicast or ip.is_unspecified or ip.is_reserved:
        return "this address cannot receive webhooks"
    if ip.is_global:
        return None
    if ip.is_private or ip in ipaddress.ip_network("100.64.0.0/10"):
        return (
            None if policy.allow_private_networks else "private network addresses are not allowed"
        )
    return "this address cannot receive webhooks"


def clean_url(raw: str, policy: WebhookPolicy) -> str:
    """The URL as stored; raises InvalidInput("url") for one that webhooks may not use."""
    raw = raw.strip()
    if not raw or len(raw) > MAX_URL_LENGTH:
        raise InvalidInput("url", f"a webhook URL needs 1 to {MAX_URL_LENGTH} characters")
    try:
        url = URL(raw)
    except (ValueError, TypeError):
        raise InvalidInput("url", "not a valid URL") from None
    scheme = url.scheme.lower()
    if scheme not in ("http", "https") or not url.host:
        raise InvalidInput("url", "the URL must start with https:// and name a host")
    if url.user is not None or url.password is not None:
        raise InvalidInput("url", "credentials in the URL are not allowed; verify the signature")
    if url.fragment:
        raise InvalidInput("url", "the URL must not have a #fragment")
    host = url.raw_host or ""
    ip = _ip(host)
    loopback = _is_loopback_name(host) or (ip is not None and ip.is_loopback)
    if loopback and not policy.allow_loopback:
        raise InvalidInput("url", "loopback receivers are not allowed on this server")
    if scheme == "http" and not loopback:
        raise InvalidInput("url", "https is required (http only for localhost receivers)")
    if ip is not None:
        why = address_refusal(ip, policy)
        if why:
            raise InvalidInput("url", why)
    return str(url)


async def pin(url_text: str, policy: WebhookPolicy) -> PinnedTarget:
    """Resolve the URL's host and check every address (see the module docstring).

    Raises AddressRefused (final) or ResolveFailed (worth retrying).
    """
    url = URL(url_text)
    host = url.raw_host or ""
    port = url.port or (443 if url.scheme == "https" else 80)
    literal = _ip(host)
    if literal is not None:
        addresses: list[IPAddress] = [literal]
    else:
        loop = asyncio.get_running_loop()
        try:
            infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError) as exc:
            raise ResolveFailed(f"could not resolve {host}") from exc
        addresses = []
        for info in infos:
            ip = _ip(str(info[4][0]).split("%", 1)[0])
            if ip is not None and ip not in addresses:
                addresses.append(ip)
        if not addresses:
            raise ResolveFailed(f"could not resolve {host}")
    if _is_loopback_name(host) and not all(ip.is_loopback for ip in addresses):
        raise AddressRefused(f"{host} does not resolve to loopback")
    for ip in addresses:
        why = address_refusal(ip, policy)
        if why:
            raise AddressRefused(f"{host} resolves to a refused address: {why}")
    chosen = addresses[0]
    return PinnedTarget(
        url=url.with_host(str(chosen)),
        host_header=url.host_port_subcomponent or host,
        server_hostname=host if url.scheme == "https" and literal is None else None,
    )
