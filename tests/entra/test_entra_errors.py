"""The error tree, the error mapping of token responses, and the pure transport helpers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from entra.config import EntraConfig, authority_origin, check_origin
from entra.errors import (
    AuthError,
    AuthUnavailable,
    ConsentRequired,
    DeltaTokenExpired,
    EntraError,
    GraphAccessDenied,
    GraphError,
    GraphUnavailable,
    ReauthRequired,
    SignInError,
    redact,
)
from entra.oauth import granted_scopes, missing_scopes, raise_redirect_error, token_error
from entra.transport import RetryPolicy, backoff_delay, parse_retry_after, query_string

JWT = "eyJ0eXAiOiJKV1QiLCJhbGciOiJub25lIn0.eyJzdWIiOiJjYW5hcnkifQ.c2lnbmF0dXJl"


def test_every_error_is_an_entra_error() -> None:
    for cls in (GraphError, GraphUnavailable, DeltaTokenExpired, AuthError, SignInError):
        assert issubclass(cls, EntraError)


def test_graph_access_denied_is_consent_required_and_keeps_graph_fields() -> None:
    err = GraphAccessDenied(
        "Insufficient privileges", status=403, code="Authorization_RequestDenied", request_id="r1"
    )
    assert isinstance(err, ConsentRequired) and isinstance(err, GraphError)
    assert (err.status, err.code, err.request_id) == (403, "Authorization_RequestDenied", "r1")
    assert "403" in str(err) and "r1" in str(err)


def test_messages_redact_jwts_and_bearer_values() -> None:
    err = GraphError(f"boom {JWT} and Bearer abc.def-secret")
    assert JWT not in str(err) and "abc.def-secret" not in str(err)
    assert JWT not in repr(err)
    assert len(redact("x" * 5000)) <= 300


@pytest.mark.parametrize(
    ("result", "expected"),
    [
        ({"error": "invalid_grant", "error_codes": [70008]}, ReauthRequired),
        ({"error": "invalid_grant", "error_description": "AADSTS50173: revoked"}, ReauthRequired),
        ({"error": "interaction_required"}, ReauthRequired),
        ({"error": "invalid_grant", "error_codes": [65001]}, ConsentRequired),
        ({"error": "invalid_grant", "suberror": "consent_required"}, ConsentRequired),
        ({"error": "consent_required"}, ConsentRequired),
        ({"error": "unauthorized_client", "error_codes": [700016]}, ConsentRequired),
        ({"error": "temporarily_unavailable"}, AuthUnavailable),
        ({"error": "invalid_client", "error_codes": [7000215]}, AuthError),
    ],
)
def test_token_errors_map_to_what_to_do(result: dict[str, object], expected: type) -> None:
    err = token_error(result, during="refreshing")
    assert type(err) is expected


def test_token_error_keeps_codes_and_correlation_id() -> None:
    err = token_error(
        {
            "error": "invalid_grant",
            "error_description": "AADSTS700082: The refresh token has expired.\r\nTrace ID: x",
            "correlation_id": "c-1",
        },
        during="refreshing",
    )
    assert err.code == "invalid_grant" and err.error_codes == (700082,)
    assert err.correlation_id == "c-1" and "Trace ID" not in str(err)


def test_redirect_error_description_is_never_echoed() -> None:
    with pytest.raises(SignInError) as info:
        raise_redirect_error("access_denied", "<script>alert(1)</script> AADSTS65004")
    assert "script" not in str(info.value)
    assert info.value.code == "access_denied" and info.value.error_codes == (65004,)
    with pytest.raises(SignInError) as bad:
        raise_redirect_error("<img src=x>", "")
    assert bad.value.code == "invalid_error"
    with pytest.raises(ConsentRequired):
        raise_redirect_error("consent_required", "AADSTS65001")


def test_missing_scopes_compares_short_and_long_forms() -> None:
    required = (
        "https://graph.microsoft.com/User.Read.All",
        "https://graph.microsoft.com/User.Read",
    )
    assert missing_scopes(required, "user.read.all User.Read openid") == ()
    assert missing_scopes(required, "https://graph.microsoft.com/User.Read") == (required[0],)
    assert missing_scopes(required, None) == ()


def test_retry_after_parses_fractional_seconds_and_http_dates() -> None:
    assert parse_retry_after("2.128") == pytest.approx(2.128)
    assert parse_retry_after("0") == 0.0
    assert parse_retry_after("-3") == 0.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    assert parse_retry_after("nan") is None
    now = datetime(2025, 1, 1, tzinfo=UTC)
    later = format_datetime(now + timedelta(seconds=7), usegmt=True)
    assert parse_retry_after(later, now=now.timestamp()) == pytest.approx(7.0)


def test_backoff_grows_and_is_capped() -> None:
    policy = RetryPolicy(base_delay=1.0, max_backoff=4.0)
    for attempt, ceiling in [(1, 1.0), (2, 2.0), (3, 4.0), (9, 4.0)]:
        delay = backoff_delay(policy, attempt)
        assert ceiling / 2 <= delay <= ceiling


def test_query_string_keeps_odata_syntax_and_encodes_spaces() -> None:
    qs = query_string({"$filter": "userType eq 'Guest'", "$search": '"displayName:a&b"'})
    assert qs == "$filter=userType%20eq%20'Guest'&$search=%22displayName:a%26b%22"


@pytest.mark.parametrize(
    ("url", "loopback"),
    [
        ("https://login.microsoftonline.com", False),
        ("http://127.0.0.1:8123", True),
        ("http://localhost:8123/", True),
    ],
)
def test_origin_rule_allows_https_and_loopback_http(url: str, loopback: bool) -> None:
    origin = check_origin(url, what="authority_host")
    assert origin.loopback is loopback
    assert origin.msal_host.startswith("https://")


@pytest.mark.parametrize(
    "url",
    ["http://login.microsoftonline.com", "http://10.0.0.1:80", "ftp://127.0.0.1", "127.0.0.1"],
)
def test_origin_rule_refuses_http_elsewhere(url: str) -> None:
    with pytest.raises(ValueError):
        check_origin(url, what="authority_host")


def test_authority_host_with_a_path_is_refused() -> None:
    with pytest.raises(ValueError):
        authority_origin(EntraConfig("c", "s", authority_host="https://login.example/tenant"))


def test_config_repr_hides_the_client_secret() -> None:
    assert "s3cret" not in repr(EntraConfig("client", "s3cret"))


def test_granted_scopes_come_back_in_the_configured_spelling() -> None:
    known = ("https://graph.microsoft.com/User.Read.All", "https://graph.microsoft.com/User.Read")
    assert granted_scopes("user.read.all openid profile Mail.Read User.Read", known) == (
        "https://graph.microsoft.com/User.Read.All",
        "https://graph.microsoft.com/Mail.Read",
        "https://graph.microsoft.com/User.Read",
    )
