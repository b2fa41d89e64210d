"""Masks what msal's own debug log leaves readable: the authorization code and PKCE verifier."""

from __future__ import annotations

import logging
import re

# msal.token_cache logs every token event at DEBUG, masking tokens and the client secret but not
# `code` and `code_verifier` (msal 1.39). They are redeemed by then, but C3 says no credential
# material in logs at all.
_FIELDS = re.compile(r'("(?:code|code_verifier|assertion)"\s*:\s*")[^"]*(")')
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*")
_LOGGERS = (
    "msal.token_cache",
    "msal.application",
    "msal.authority",
    "msal.telemetry",
    "msal.oauth2cli.oauth2",
    "msal.oauth2cli.oidc",
)


class MsalRedactingFilter(logging.Filter):
    """Rewrites a record's message with code/verifier values and JWTs masked."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            return True
        masked = _JWT.sub("********", _FIELDS.sub(r"\1********\2", message))
        if masked != message:
            record.msg, record.args = masked, ()
        return True


def install_msal_log_redaction() -> None:
    """Attach the filter to msal's loggers once (logger filters see only their own records)."""
    for name in _LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, MsalRedactingFilter) for f in logger.filters):
            logger.addFilter(MsalRedactingFilter())
