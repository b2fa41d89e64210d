"""The requests session msal talks through: a default timeout, and the loopback https->http rewrite."""

from __future__ import annotations

from typing import Any

import requests
from requests.adapters import HTTPAdapter


class MsalHttpSession(requests.Session):
    """Given to msal as `http_client`.

    msal insists on https authorities (graph-and-msal.md section 6), so for the loopback
    simulator it is configured with `https://127.0.0.1:PORT` and this session sends exactly that
    origin back over plain http. Nothing else is rewritten, and proxies/netrc from the
    environment are ignored for it (`trust_env=False`) so a CI proxy never sees the traffic.
    msal only sets a timeout on sessions it builds itself, so one is applied here.
    """

    def __init__(self, *, timeout: float, rewrite_origin: str | None = None) -> None:
        super().__init__()
        self._timeout = timeout
        self._https_prefix: str | None = None
        self._http_prefix: str | None = None
        if rewrite_origin is not None:
            if not rewrite_origin.startswith("https://"):
                raise ValueError("rewrite_origin must be the https:// form")
            self._https_prefix = rewrite_origin.rstrip("/") + "/"
            self._http_prefix = "http://" + self._https_prefix[len("https://") :]
            self.trust_env = False
        # The same minimal retry msal mounts on sessions it builds itself.
        adapter = HTTPAdapter(max_retries=1)
        self.mount("http://", adapter)
        self.mount("https://", adapter)

    def request(
        self, method: str, url: str | bytes, *args: Any, **kwargs: Any
    ) -> requests.Response:
        if self._https_prefix is not None and self._http_prefix is not None:
            if isinstance(url, str) and url.startswith(self._https_prefix):
                url = self._http_prefix + url[len(self._https_prefix) :]
        kwargs.setdefault("timeout", self._timeout)
        return super().request(method, url, *args, **kwargs)
