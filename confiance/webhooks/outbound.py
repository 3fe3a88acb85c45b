"""Outgoing webhook requests that never reach the application's own network unless allowed.

The host is resolved once, every address it resolves to is checked (private, loopback,
link-local, multicast, reserved and unspecified addresses are refused unless
WEBHOOK_ALLOW_PRIVATE_ADDRESSES), and the connection goes to the checked address itself, so a
second resolution cannot swap in another (DNS rebinding). Redirects are never followed (the
Standard Webhooks advice: a 3xx is a failure, the URL should be updated). Every request has a
timeout, and at most MAX_ANSWER_BYTES of the answer are read.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

MAX_ANSWER_BYTES = 16 * 1024
USER_AGENT = "Confiance-Webhooks/1"


class BlockedAddressError(Exception):
    """The URL leads to an address webhooks may not reach."""


@dataclass(frozen=True)
class Answer:
    status: int | None  # None: no HTTP answer (refused, timed out, blocked)
    error: str
    body: str
    duration_ms: int
    retry_after: int | None = None


def address_allowed(address: str, allow_private: bool | None = None) -> bool:
    """May a webhook (or, with `allow_private` given, another caller) reach this IP address?"""
    if settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES if allow_private is None else allow_private:
        return True
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or not ip.is_global
    )


def host_refused(host: str, allow_private: bool | None = None) -> bool:
    """Is this host, as written in a URL, plainly a forbidden address (a private or loopback IP,
    or localhost)? Checked when the URL is saved; names are checked again at each request."""
    local = host == "localhost" or host.endswith(".localhost")
    try:
        literal = "127.0.0.1" if local else str(ipaddress.ip_address(host.strip("[]")))
    except ValueError:
        return False  # a name: resolved and checked when a request is made
    return not address_allowed(literal, allow_private)


def resolve(host: str, port: int, allow_private: bool | None = None) -> str:
    """The address to connect to; every address the host resolves to must be allowed."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as error:
        raise OSError(f"cannot resolve {host}: {error}") from None
    addresses = [str(info[4][0]) for info in infos]
    if not addresses:
        raise OSError(f"cannot resolve {host}")
    blocked = [a for a in addresses if not address_allowed(a, allow_private)]
    if blocked:
        raise BlockedAddressError(
            f"{host} resolves to a private or reserved address ({blocked[0]})"
        )
    return addresses[0]


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """HTTPS to a checked address, with the certificate checked against the URL's host name."""

    def __init__(self, address: str, host: str, port: int, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, address: str, host: str, port: int, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


def check_url(url: str) -> tuple[str, str, int, str]:
    """(scheme, host, port, path) of an http(s) URL, or ValueError."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("not an http(s) URL")
    if parts.username or parts.password:
        raise ValueError("credentials in the URL")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return parts.scheme, parts.hostname, port, path


def post(
    url: str,
    body: bytes,
    headers: dict[str, str],
    *,
    content_type: str = "application/json",
    timeout: float | None = None,
    allow_private: bool | None = None,
    max_answer: int = MAX_ANSWER_BYTES,
) -> Answer:
    """POST `body` to `url`; never raises: a failure is an Answer without a status.

    Other callers than webhooks (ledger witnesses) give their own content type, timeout and
    private-address rule.
    """
    started = time.monotonic()

    def elapsed() -> int:
        return int((time.monotonic() - started) * 1000)

    timeout = float(settings.WEBHOOK_TIMEOUT_SECONDS if timeout is None else timeout)
    try:
        scheme, host, port, path = check_url(url)
        address = resolve(host, port, allow_private)
        connection_class = _PinnedHTTPSConnection if scheme == "https" else _PinnedHTTPConnection
        connection = connection_class(address, host, port, timeout)
        try:
            connection.request(
                "POST",
                path,
                body=body,
                headers={
                    "Content-Type": content_type,
                    "User-Agent": USER_AGENT,
                    **headers,
                },
            )
            response = connection.getresponse()
            text = response.read(max_answer).decode("utf-8", "replace")
            retry_after = response.getheader("Retry-After")
            return Answer(
                status=response.status,
                error="",
                body=text,
                duration_ms=elapsed(),
                retry_after=int(retry_after) if retry_after and retry_after.isdigit() else None,
            )
        finally:
            connection.close()
    except BlockedAddressError as error:
        return Answer(status=None, error=f"blocked: {error}", body="", duration_ms=elapsed())
    except TimeoutError:
        return Answer(status=None, error="timed out", body="", duration_ms=elapsed())
    except (OSError, ValueError, http.client.HTTPException) as error:
        return Answer(
            status=None, error=f"{type(error).__name__}: {error}", body="", duration_ms=elapsed()
        )
