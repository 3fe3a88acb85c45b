"""Time-based one-time passwords (RFC 6238 over RFC 4226 HOTP), framework-free.

Implemented with the standard library's hmac (a few lines, tested against the RFC's vectors)
rather than a dependency. Secrets travel as base32, as authenticator apps expect.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import struct
import time
from urllib.parse import quote, urlencode

STEP_SECONDS = 30
DIGITS = 6


def new_secret() -> str:
    """A random 160-bit secret, base32 without padding (what authenticator apps read)."""
    return base64.b32encode(secrets.token_bytes(20)).decode().rstrip("=")


def _key(secret_b32: str) -> bytes:
    padded = secret_b32.strip().replace(" ", "").upper()
    return base64.b32decode(padded + "=" * (-len(padded) % 8))


def hotp(key: bytes, counter: int, *, digits: int = DIGITS, digest: str = "sha1") -> str:
    """RFC 4226: the one-time password of `counter`."""
    mac = hmac.new(key, struct.pack(">Q", counter), getattr(hashlib, digest)).digest()
    offset = mac[-1] & 0x0F
    code = struct.unpack(">I", mac[offset : offset + 4])[0] & 0x7FFFFFFF
    return str(code % 10**digits).zfill(digits)


def totp(
    key: bytes, at: float, *, digits: int = DIGITS, digest: str = "sha1", step: int = STEP_SECONDS
) -> str:
    """RFC 6238: the password valid at Unix time `at`."""
    return hotp(key, int(at // step), digits=digits, digest=digest)


def verify(secret_b32: str, code: str, *, at: float | None = None, drift_steps: int = 1) -> bool:
    """True if `code` is the password now, or one step before or after (clocks drift)."""
    code = code.strip().replace(" ", "")
    if not (code.isdigit() and len(code) == DIGITS):
        return False
    try:
        key = _key(secret_b32)
    except (ValueError, TypeError):
        return False
    moment = time.time() if at is None else at
    return any(
        hmac.compare_digest(totp(key, moment + shift * STEP_SECONDS), code)
        for shift in range(-drift_steps, drift_steps + 1)
    )


def provisioning_uri(secret_b32: str, *, account: str, issuer: str) -> str:
    """The otpauth:// URI an authenticator app reads (typed in, or from a QR code)."""
    label = quote(f"{issuer}:{account}")
    return f"otpauth://totp/{label}?" + urlencode({"secret": secret_b32, "issuer": issuer})
