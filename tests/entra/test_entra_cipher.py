"""TokenCipher: AES-256-GCM bound to its owner row, with key rotation."""

from __future__ import annotations

import base64
import os

import pytest

from entra.cipher import TokenCipher, generate_key
from entra.errors import CipherError, EntraError

OWNER = "tenant_connection:1"


def _keyring(*kids: str) -> dict[str, bytes]:
    return {kid: os.urandom(32) for kid in kids}


def test_round_trip_and_format() -> None:
    cipher = TokenCipher(_keyring("k1"), "k1")
    token = cipher.encrypt(b'{"RefreshToken": {}}', bound_to=OWNER)
    assert token.startswith("v1.k1.")
    assert cipher.decrypt(token, bound_to=OWNER) == b'{"RefreshToken": {}}'


def test_nonce_is_random_so_equal_plaintexts_differ() -> None:
    cipher = TokenCipher(_keyring("k1"), "k1")
    assert cipher.encrypt(b"same", bound_to=OWNER) != cipher.encrypt(b"same", bound_to=OWNER)


def test_ciphertext_copied_to_another_row_does_not_decrypt() -> None:
    cipher = TokenCipher(_keyring("k1"), "k1")
    token = cipher.encrypt(b"secret cache", bound_to="tenant_connection:1")
    with pytest.raises(CipherError):
        cipher.decrypt(token, bound_to="tenant_connection:2")


@pytest.mark.parametrize("position", [6, 10, 20, -1])
def test_tampered_ciphertext_is_refused(position: int) -> None:
    cipher = TokenCipher(_keyring("k1"), "k1")
    token = cipher.encrypt(b"secret cache", bound_to=OWNER)
    body = bytearray(base64.urlsafe_b64decode(token.split(".")[2] + "=="))
    body[position] ^= 0x01
    forged = "v1.k1." + base64.urlsafe_b64encode(bytes(body)).rstrip(b"=").decode()
    with pytest.raises(CipherError):
        cipher.decrypt(forged, bound_to=OWNER)


@pytest.mark.parametrize(
    "token", ["", "garbage", "v2.k1.AAAA", "v1..AAAA", "v1.k1.", "v1.k1.!!!!", "v1.k1.AAAA"]
)
def test_malformed_values_raise_cipher_error(token: str) -> None:
    cipher = TokenCipher(_keyring("k1"), "k1")
    with pytest.raises(CipherError):
        cipher.decrypt(token, bound_to=OWNER)


def test_unknown_key_id_is_refused_and_named() -> None:
    old = TokenCipher(_keyring("k0"), "k0")
    token = old.encrypt(b"x", bound_to=OWNER)
    cipher = TokenCipher(_keyring("k1"), "k1")
    with pytest.raises(CipherError, match="k0"):
        cipher.decrypt(token, bound_to=OWNER)


def test_key_id_swap_does_not_decrypt_under_another_key() -> None:
    keys = _keyring("k1", "k2")
    cipher = TokenCipher(keys, "k1")
    token = cipher.encrypt(b"x", bound_to=OWNER)
    with pytest.raises(CipherError):
        cipher.decrypt(token.replace("v1.k1.", "v1.k2.", 1), bound_to=OWNER)


def test_rotation_reencrypts_under_primary_and_old_values_keep_working() -> None:
    keys = _keyring("k1")
    before = TokenCipher(keys, "k1")
    old_token = before.encrypt(b"cache v1", bound_to=OWNER)

    keys_after = {"k2": os.urandom(32), **keys}
    after = TokenCipher(keys_after, "k2")
    assert after.decrypt(old_token, bound_to=OWNER) == b"cache v1"
    assert after.needs_rotation(old_token)

    rotated = after.rotate(old_token, bound_to=OWNER)
    assert after.key_id(rotated) == "k2"
    assert not after.needs_rotation(rotated)
    assert after.decrypt(rotated, bound_to=OWNER) == b"cache v1"
    assert after.rotate(rotated, bound_to=OWNER) == rotated

    # Once k1 leaves the keyring, only rotated values still decrypt.
    only_new = TokenCipher({"k2": keys_after["k2"]}, "k2")
    assert only_new.decrypt(rotated, bound_to=OWNER) == b"cache v1"
    with pytest.raises(CipherError):
        only_new.decrypt(old_token, bound_to=OWNER)


def test_rotate_refuses_a_value_bound_elsewhere() -> None:
    keys = _keyring("k1")
    token = TokenCipher(keys, "k1").encrypt(b"x", bound_to="tenant_connection:9")
    after = TokenCipher({"k2": os.urandom(32), **keys}, "k2")
    with pytest.raises(CipherError):
        after.rotate(token, bound_to=OWNER)


def test_from_setting_first_key_is_primary() -> None:
    k2, k1 = generate_key(), base64.b64encode(os.urandom(32)).decode()  # url-safe and standard
    cipher = TokenCipher.from_setting(f"k2:{k2}, k1:{k1}")
    assert cipher.primary_kid == "k2"
    legacy = TokenCipher.from_setting(f"k1:{k1}").encrypt(b"x", bound_to=OWNER)
    assert cipher.decrypt(legacy, bound_to=OWNER) == b"x"


def test_generate_key_is_32_random_bytes() -> None:
    a, b = generate_key(), generate_key()
    assert a != b
    assert len(base64.urlsafe_b64decode(a + "=")) == 32


@pytest.mark.parametrize(
    "setting",
    ["", "k1", "k1:", "k1:not base64!", "k1:" + generate_key()[:20], "bad.kid:" + generate_key()],
)
def test_bad_settings_raise_value_error(setting: str) -> None:
    with pytest.raises(ValueError):
        TokenCipher.from_setting(setting)


def test_duplicate_kid_in_setting_is_refused() -> None:
    with pytest.raises(ValueError, match="twice"):
        TokenCipher.from_setting(f"k1:{generate_key()},k1:{generate_key()}")


def test_primary_must_be_in_keyring() -> None:
    with pytest.raises(ValueError):
        TokenCipher(_keyring("k1"), "k2")


def test_key_material_never_in_repr_or_errors() -> None:
    key = generate_key()
    cipher = TokenCipher.from_setting(f"k1:{key}")
    assert key not in repr(cipher)
    with pytest.raises(ValueError) as info:
        TokenCipher.from_setting(f"k1:{key[:20]}")
    assert key[:20] not in str(info.value)


def test_cipher_error_is_an_entra_error() -> None:
    assert issubclass(CipherError, EntraError)
