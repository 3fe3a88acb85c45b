"""TOTP (RFC 6238) against the published test vectors of its appendix B, and RFC 4226's HOTP."""

from __future__ import annotations

import base64

import pytest

from confiance.core import totp

SHA1_KEY = b"12345678901234567890"
SHA256_KEY = b"12345678901234567890123456789012"
SHA512_KEY = b"1234567890123456789012345678901234567890123456789012345678901234"

# RFC 6238 appendix B: (time, TOTP SHA-1, SHA-256, SHA-512), eight digits.
VECTORS = [
    (59, "94287082", "46119246", "90693936"),
    (1111111109, "07081804", "68084774", "25091201"),
    (1111111111, "14050471", "67062674", "99943326"),
    (1234567890, "89005924", "91819424", "93441116"),
    (2000000000, "69279037", "90698825", "38618901"),
    (20000000000, "65353130", "77737706", "47863826"),
]


@pytest.mark.parametrize(("at", "sha1", "sha256", "sha512"), VECTORS)
def test_rfc6238_vectors(at: int, sha1: str, sha256: str, sha512: str) -> None:
    assert totp.totp(SHA1_KEY, at, digits=8, digest="sha1") == sha1
    assert totp.totp(SHA256_KEY, at, digits=8, digest="sha256") == sha256
    assert totp.totp(SHA512_KEY, at, digits=8, digest="sha512") == sha512


def test_rfc4226_hotp_vectors() -> None:
    expected = ["755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583"]
    assert [totp.hotp(SHA1_KEY, n) for n in range(8)] == expected


def test_verify_accepts_one_step_of_drift_and_nothing_else() -> None:
    secret = base64.b32encode(SHA1_KEY).decode()
    now = 1111111111
    code = totp.totp(SHA1_KEY, now)
    assert totp.verify(secret, code, at=now)
    assert totp.verify(secret, code, at=now + 30)
    assert totp.verify(secret, f"{code[:3]} {code[3:]}", at=now)
    assert not totp.verify(secret, code, at=now + 90)
    assert not totp.verify(secret, "12345", at=now)
    assert not totp.verify(secret, "abcdef", at=now)
    assert not totp.verify("not base32!", code, at=now)


def test_a_new_secret_is_160_bits_of_base32_and_its_uri_names_the_account() -> None:
    secret = totp.new_secret()
    assert len(base64.b32decode(secret + "=" * (-len(secret) % 8))) == 20
    uri = totp.provisioning_uri(secret, account="a@b.test", issuer="Confiance")
    assert uri.startswith("otpauth://totp/Confiance%3Aa%40b.test?secret=" + secret)
