"""Standard Webhooks signatures (symmetric scheme, `v1`): pure Python, no Django.

A secret is 32 random bytes shown as `whsec_` + base64. The signed content is
`{webhook-id}.{webhook-timestamp}.{body}`; the signature is HMAC-SHA256 of it under the secret's
bytes, sent as `v1,<base64>` in the `webhook-signature` header. The id stays the same across
retries (the receiver's idempotency key); the timestamp is that of each attempt.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

SECRET_PREFIX = "whsec_"  # noqa: S105 (a prefix, not a secret)
SECRET_BYTES = 32  # the specification allows 24 to 64


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def new_message_id() -> str:
    # Only [A-Za-z0-9_-]: never a full stop, which would make the signed content ambiguous.
    return "msg_" + secrets.token_urlsafe(18)


def _key(secret: str) -> bytes:
    if not secret.startswith(SECRET_PREFIX):
        raise ValueError("A webhook secret starts with whsec_.")
    return base64.b64decode(secret[len(SECRET_PREFIX) :])


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` header's value for this message and attempt."""
    if "." in message_id:
        raise ValueError("A message id may not contain a full stop.")
    content = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(_key(secret), content, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def headers(secret: str, message_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The three headers the specification names, for one attempt."""
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secret, message_id, timestamp, body),
    }
