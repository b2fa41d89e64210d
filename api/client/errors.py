"""Exit codes of `entrasync client` and the error that carries one to the top."""

from __future__ import annotations

from typing import Any

OK = 0
RUN_FAILED = 1  # the followed run ended FAILED or CANCELLED, or waits for approval
USAGE = 2  # bad arguments, a bad file, or input the API refused (ValidationError, ...)
AUTH = 3  # the API key was refused (401) or its role may not do this
NOT_FOUND = 4  # the connection or run does not exist (or is another account's)
SERVER = 5  # the server or the network failed, or Microsoft is unavailable
INTERRUPTED = 130  # Ctrl-C (128 + SIGINT); a followed run goes on unless --cancel-on-interrupt

EXIT_CODES_HELP = """\
exit codes:
  0    success
  1    the followed run ended FAILED or CANCELLED, or was paused by the mass-change guard
  2    usage error or invalid input (a bad file, ValidationError and other refusals of the input)
  3    authentication refused (401) or permission denied (a TECHNICIAN key changing things)
  4    not found (connection, run)
  5    server or network error (also: Microsoft unavailable, rate limit not cleared)
  130  interrupted (Ctrl-C); a followed run is detached, not cancelled
"""


class ClientError(Exception):
    """A failure to report in plain words, with the exit code scripts rely on."""

    def __init__(self, exit_code: int, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.exit_code = exit_code
        self.message = message
        self.code = code  # the API's extensions.code, when it gave one


# GraphQL `extensions.code` values (request-level errors) and the exit code each one means.
_CODE_EXITS = {
    "UNAUTHENTICATED": AUTH,
    "FORBIDDEN": AUTH,
    "PERMISSION_DENIED": AUTH,
    "NOT_FOUND": NOT_FOUND,
    "BAD_REQUEST": USAGE,
    "BAD_CURSOR": USAGE,
    "BAD_PAGE_SIZE": USAGE,
    "BAD_USER_INPUT": USAGE,
    "GRAPHQL_VALIDATION_FAILED": USAGE,
    "PAYLOAD_TOO_LARGE": USAGE,
    "UNSUPPORTED_MEDIA_TYPE": USAGE,
    "METHOD_NOT_ALLOWED": USAGE,
    "RATE_LIMITED": SERVER,
    "REQUEST_TIMEOUT": SERVER,
}

# Typed mutation errors (`__typename`, all implementing Error { message }) and their exit codes.
_TYPED_EXITS = {
    "NotFoundError": NOT_FOUND,
    "PermissionDeniedError": AUTH,
    "MicrosoftUnavailableError": SERVER,
    "NotConfiguredError": SERVER,
}
# The input field each typed error is about, when it has no `field` of its own.
_TYPED_FIELDS = {
    "TooManyGroupsError": "selectedGroupIds",
    "UnknownGroupsError": "selectedGroupIds",
    "SiteNameTakenError": "mappings",
    "SiteAlreadyConnectedError": "mappings",
}


def from_graphql_errors(errors: list[Any]) -> ClientError:
    """The first request-level GraphQL error as a ClientError."""
    first = errors[0] if errors and isinstance(errors[0], dict) else {}
    message = str(first.get("message") or "the server refused the request")
    ext = first.get("extensions")
    ext = ext if isinstance(ext, dict) else {}
    code = ext.get("code") if isinstance(ext.get("code"), str) else None
    if code in _CODE_EXITS:
        exit_code = _CODE_EXITS[code]
    elif message.startswith("Variable '$") or "Cannot query field" in message:
        exit_code = USAGE  # the operation or its variables did not validate
    else:
        exit_code = SERVER
    return ClientError(exit_code, message, code=code)


def from_typed_error(result: dict[str, Any]) -> ClientError:
    """A mutation's typed error (a member of its result union other than the payload)."""
    typename = str(result.get("__typename", "Error"))
    message = str(result.get("message") or typename)
    field = result.get("field") or _TYPED_FIELDS.get(typename)
    words = typename.removesuffix("Error")
    extra = ""
    if typename == "UnknownGroupsError" and result.get("groupIds"):
        extra = f" ({', '.join(map(str, result['groupIds']))})"
    if typename == "ConnectionNotReadyError" and result.get("status"):
        extra = f" (status {result['status']})"
    text = f"{field}: {message}{extra}" if field else f"{message}{extra}"
    return ClientError(_TYPED_EXITS.get(typename, USAGE), f"{text} [{words}]", code=typename)
