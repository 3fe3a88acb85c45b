"""Salted commitments for the fields of a ledger leaf that some reader may not see.

Pure Python, no Django: a bundle's openings verify offline. A leaf (format 2) keeps a field
some reader may not see (an amount, a rate, internal text, a person's e-mail address) out of
its data: the leaf carries, under "sealed", the field's audience and a commitment

    SHA-256("confiance-ledger-commitment/v1\\n" || field name || "\\n" || salt || value)

where `salt` is 32 random bytes and `value` the canonical JSON of the field's value. The
opening (salt and value) is stored beside the log and travels in a reader's bundle only if
that reader may see the field's audience. Dropping an opening (erasure) leaves the leaf, and so
every root and checkpoint, unchanged: the log still verifies, the value is gone.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from confiance.ledger.merkle import canonical_json

LEAF_VERSION = 2
SALT_SIZE = 32
COMMITMENT_LABEL = b"confiance-ledger-commitment/v1\n"
SEALED_KEY = "sealed"

# Audiences: who may see a sealed field's value. PUBLIC fields stay in the leaf as they are.
PUBLIC = "public"
PERSONAL = "personal"  # personal data (e-mail addresses, names): every reader, until erased
AMOUNTS = "amounts"  # money: provider side; clients when the workspace shows them amounts
INTERNAL = "internal"  # internal text: the provider side only
SEALED_AUDIENCES = (PERSONAL, AMOUNTS, INTERNAL)

# The default audience of a payload field by its name, for every kind of fact. A writer may
# name others (ledger_append's `confidential=`); a field not listed is public.
DEFAULT_AUDIENCES: Mapping[str, str] = {
    "by": PERSONAL,
    "person": PERSONAL,
    "owner": PERSONAL,
    "proposed_by": PERSONAL,
    "agreed_by": PERSONAL,
    "attendance": PERSONAL,
    "email": PERSONAL,
    "from": PERSONAL,
    "to": PERSONAL,
    "amount": AMOUNTS,
    "amounts": AMOUNTS,
    "rate": AMOUNTS,
    "rates": AMOUNTS,
    "daily_rate": AMOUNTS,
    "hourly_rate": AMOUNTS,
    "internal_note": INTERNAL,
    "internal_notes": INTERNAL,
}
# Kinds whose "from"/"to" are not people (a status change, a reschedule): keep them public.
PUBLIC_FIELDS_BY_KIND: Mapping[str, frozenset[str]] = {
    "commitment.status": frozenset({"from", "to"}),
    "meeting.reschedule": frozenset({"from", "to"}),
}


class SealError(ValueError):
    """An opening is malformed or does not match the leaf's commitment."""


@dataclass(frozen=True)
class Opening:
    """What opens one sealed field: its audience, the salt and the value's canonical JSON."""

    field: str
    audience: str
    salt: bytes
    value_json: str

    def as_json(self) -> dict[str, str]:
        """The opening as it travels in a bundle or the API."""
        return {"salt": base64.b64encode(self.salt).decode("ascii"), "json": self.value_json}

    @property
    def value(self) -> Any:
        return json.loads(self.value_json)


def commitment(field: str, salt: bytes, value_json: bytes) -> bytes:
    """The commitment to a field's value (see the module's docstring)."""
    return hashlib.sha256(
        COMMITMENT_LABEL + field.encode("utf-8") + b"\n" + salt + value_json
    ).digest()


def audience_of(kind: str, field: str, overrides: Mapping[str, str] | None = None) -> str:
    """The audience of `field` in a fact of `kind`: overrides, then the defaults, else public."""
    if overrides and field in overrides:
        return overrides[field]
    if field in PUBLIC_FIELDS_BY_KIND.get(kind, ()):
        return PUBLIC
    return DEFAULT_AUDIENCES.get(field, PUBLIC)


def seal(
    kind: str,
    fields: Mapping[str, object],
    *,
    overrides: Mapping[str, str] | None = None,
    random_bytes: Callable[[int], bytes] = os.urandom,
) -> tuple[dict[str, object], list[Opening]]:
    """Split `fields` into the leaf's public fields plus its "sealed" map, and the openings."""
    plain: dict[str, object] = {}
    sealed: dict[str, dict[str, str]] = {}
    openings: list[Opening] = []
    for name, value in fields.items():
        audience = audience_of(kind, name, overrides)
        if audience == PUBLIC:
            plain[name] = value
            continue
        if audience not in SEALED_AUDIENCES:
            raise ValueError(f"unknown audience {audience!r} for field {name!r}")
        salt = random_bytes(SALT_SIZE)
        value_json = canonical_json(value)
        sealed[name] = {
            "audience": audience,
            "commitment": base64.b64encode(commitment(name, salt, value_json)).decode("ascii"),
        }
        openings.append(Opening(name, audience, salt, value_json.decode("utf-8")))
    if sealed:
        plain[SEALED_KEY] = sealed
    return plain, openings


def sealed_fields(leaf: Mapping[str, object]) -> dict[str, tuple[str, bytes]]:
    """{field: (audience, commitment)} of a format-2 leaf; raises SealError if malformed."""
    raw = leaf.get(SEALED_KEY, {})
    if not isinstance(raw, Mapping):
        raise SealError("'sealed' is not an object")
    out: dict[str, tuple[str, bytes]] = {}
    for name, item in raw.items():
        if not isinstance(item, Mapping):
            raise SealError(f"sealed field {name!r} is not an object")
        audience = item.get("audience")
        if audience not in SEALED_AUDIENCES:
            raise SealError(f"sealed field {name!r} has unknown audience {audience!r}")
        digest = _b64(item.get("commitment"), f"commitment of {name!r}")
        if len(digest) != 32:
            raise SealError(f"commitment of {name!r} is not a 32-byte hash")
        out[str(name)] = (str(audience), digest)
    return out


def _b64(value: object, what: str) -> bytes:
    if not isinstance(value, str):
        raise SealError(f"{what} is not a base64 string")
    try:
        return base64.b64decode(value.encode("ascii"), validate=True)
    except (UnicodeEncodeError, binascii.Error):
        raise SealError(f"{what} is not valid base64") from None


def parse_opening(field: str, audience: str, raw: object) -> Opening:
    """An opening as found in a bundle ({"salt", "json"}); raises SealError if malformed."""
    if not isinstance(raw, Mapping):
        raise SealError(f"opening of {field!r} is not an object")
    salt = _b64(raw.get("salt"), f"salt of {field!r}")
    if len(salt) != SALT_SIZE:
        raise SealError(f"salt of {field!r} is not {SALT_SIZE} bytes")
    value_json = raw.get("json")
    if not isinstance(value_json, str):
        raise SealError(f"opening of {field!r} has no 'json' string")
    try:
        canonical = canonical_json(json.loads(value_json))
    except (ValueError, TypeError, RecursionError):
        raise SealError(f"opening of {field!r} is not valid JSON") from None
    if canonical != value_json.encode("utf-8"):
        raise SealError(f"opening of {field!r} is not canonical JSON")
    return Opening(field, audience, salt, value_json)


def check_opening(field: str, expected: bytes, opening: Opening) -> bool:
    """Whether `opening` opens the commitment `expected` of `field`."""
    return commitment(field, opening.salt, opening.value_json.encode("utf-8")) == expected


def open_leaf(leaf: Mapping[str, object], openings: Mapping[str, Opening]) -> dict[str, object]:
    """The fact as its reader sees it: public fields plus the opened ones (no "sealed").

    Openings are assumed checked (bundle verification does it); a sealed field without an
    opening is absent from the result.
    """
    view = {key: value for key, value in leaf.items() if key != SEALED_KEY}
    for name, opening in openings.items():
        view[name] = opening.value
    return view
