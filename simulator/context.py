"""Typed keys under which the aiohttp app holds the simulator's state and public URL."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from simulator.state import SimState


@dataclass
class Endpoint:
    """Where the simulator serves; filled in once the socket is bound (port 0 picks one)."""

    base_url: str = ""


STATE = web.AppKey("simulator_state", SimState)
ENDPOINT = web.AppKey("simulator_endpoint", Endpoint)


def state_of(request: web.Request) -> SimState:
    return request.config_dict[STATE]  # config_dict: also seen from the admin sub-app


def base_url_of(request: web.Request) -> str:
    """The plain-HTTP address the simulator really serves on."""
    return request.config_dict[ENDPOINT].base_url


def https_base_of(request: web.Request) -> str:
    """The https address msal is given: its http_client rewrites it back to base_url."""
    return "https" + base_url_of(request).removeprefix("http")
